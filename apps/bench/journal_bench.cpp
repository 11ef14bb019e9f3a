// journal: the cost of durability. One writer with one fsync per write,
// against 64 concurrent requesters through the group-committing journal
// actor.

#include "actors/journal_actor.hpp"
#include "apps/bench/common.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::bench {

namespace {

model::job sample_job(model::job_id id) {
  model::job j;
  j.id = id;
  j.task_slug = "noop";
  j.input = {{"n", id}, {"text", "a small but realistic input payload"}};
  j.created_at = wall_ms();
  j.updated_at = j.created_at;
  return j;
}

persistence::write_batch batch_for(model::job_id id) {
  persistence::write_batch b;
  persistence::add_job_write(b, sample_job(id), nullptr);
  return b;
}

std::shared_ptr<persistence::journal>
open_at(const std::string& dir,
        persistence::durability mode = persistence::durability::sync) {
  auto db = persistence::open_rocksdb_journal({dir, mode});
  if (!db)
    throw std::runtime_error(db.error().message);
  return std::shared_ptr<persistence::journal>{std::move(*db)};
}

double unbatched_rate(const std::string& dir, std::size_t writes) {
  auto db = open_at(dir);
  // Batches are encoded before the clock starts, on both sides: this
  // measures the journal, not JSON encoding.
  std::vector<persistence::write_batch> batches;
  for (std::size_t i = 1; i <= writes; ++i)
    batches.push_back(batch_for(i));
  auto t0 = clock::now();
  for (auto& b : batches)
    if (!db->commit(std::span<const persistence::write_batch>{&b, 1}))
      throw std::runtime_error("write failed");
  return static_cast<double>(writes) / seconds_since(t0);
}

using done_atom = caf::atom_constant<caf::atom("done")>;

/// Sends `count` commits one after another, then reports to `report_to`.
caf::behavior
requester(caf::event_based_actor* self, const actors::journal_actor& j,
          const std::shared_ptr<std::vector<persistence::write_batch>>& batches,
          const caf::actor& report_to) {
  auto count = batches->size();
  // The loop holds itself only through pending replies (no cycle).
  auto next = std::make_shared<std::function<void(std::size_t)>>();
  std::weak_ptr<std::function<void(std::size_t)>> weak = next;
  *next = [=](std::size_t i) {
    if (i == count) {
      self->send(report_to, done_atom::value);
      self->quit();
      return;
    }
    auto strong = weak.lock();
    self
      ->request(j, caf::infinite, actors::commit_atom::value,
                std::move((*batches)[i]))
      .then([=](std::uint64_t) { (*strong)(i + 1); });
  };
  (*next)(0);
  return {[](const caf::unit_t&) {}};
}

struct group_result {
  double rate;
  double per_fsync;
  double per_write;
  double fsync_us;
};

group_result group_rate(const std::string& dir, std::size_t requesters,
                        std::size_t per_requester,
                        persistence::durability mode) {
  auto db = open_at(dir, mode);
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto stats = std::make_shared<actors::journal_stats>();
  auto j = actors::spawn_journal_actor(sys, db, stats);
  caf::scoped_actor self{sys};
  std::vector<std::shared_ptr<std::vector<persistence::write_batch>>> work;
  for (std::size_t r = 0; r < requesters; ++r) {
    auto mine = std::make_shared<std::vector<persistence::write_batch>>();
    // The runtime takes job ids from one counter, so concurrent writers'
    // ids interleave in arrival order: requester r's i-th write gets the id
    // it would get from that counter with every requester in step.
    for (std::size_t i = 0; i < per_requester; ++i)
      mine->push_back(batch_for(1 + i * requesters + r));
    work.push_back(std::move(mine));
  }
  auto t0 = clock::now();
  for (std::size_t r = 0; r < requesters; ++r)
    sys.spawn(requester, j, work[r], caf::actor{self});
  std::size_t done = 0;
  self->receive_for(done, requesters)([](done_atom) {});
  auto elapsed = seconds_since(t0);
  caf::anon_send_exit(j, caf::exit_reason::user_shutdown);
  auto total = static_cast<double>(requesters * per_requester);
  auto batches = static_cast<double>(stats->batches);
  return {total / elapsed, batches / static_cast<double>(stats->syncs),
          batches / static_cast<double>(stats->groups),
          static_cast<double>(stats->sync_ns) / 1000.0
            / static_cast<double>(std::max<std::uint64_t>(stats->syncs, 1))};
}

} // namespace

json run_journal(const options& opt) {
  scratch_dir dir{opt.dir};
  auto unbatched_writes = std::min<std::size_t>(opt.jobs, 2000);
  auto unbatched = unbatched_rate(dir.path() + "/unbatched", unbatched_writes);
  constexpr std::size_t requesters = 64;
  auto per = std::max<std::size_t>(opt.jobs / requesters, 50);
  // The unbatched side always fsyncs; `--durability async` shows what the
  // group side costs without fsync (the journal's own CPU limit).
  auto group =
    group_rate(dir.path() + "/group", requesters, per, opt.durability);
  return json{
    {"workload", "journal"},
    {"durability", durability_name(opt)},
    {"unbatched_writes", unbatched_writes},
    {"unbatched_sync_writes_per_s", std::round(unbatched)},
    {"group_commit_requesters", requesters},
    {"group_commit_writes", requesters * per},
    {"group_commit_writes_per_s", std::round(group.rate)},
    {"avg_writes_per_fsync", std::round(group.per_fsync * 10) / 10},
    {"avg_fsync_us", std::round(group.fsync_us)},
    {"avg_writes_per_log_write", std::round(group.per_write * 10) / 10},
    {"group_commit_speedup", std::round(group.rate / unbatched * 10) / 10}};
}

} // namespace conveyor::bench
