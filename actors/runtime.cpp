// conveyor::start and the runtime handle.

#include <future>
#include <set>

#include "actors/env.hpp"
#include "actors/errors.hpp"
#include "actors/remote/remote_pool.hpp"
#include "actors/supervisor.hpp"
#include "actors/worker_pool.hpp"
#include "conveyor/remote.hpp"
#include "model/cron.hpp"
#include "model/processing_order.hpp"
#include "model/transitions.hpp"
#include "persistence/job_records.hpp"

namespace conveyor {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<json>("nlohmann::json");
  cfg.add_message_type<queue_request>("conveyor::queue_request");
  cfg.add_message_type<run_request>("conveyor::run_request");
  cfg.add_message_type<find_request>("conveyor::find_request");
  cfg.add_message_type<cancel_request>("conveyor::cancel_request");
  cfg.add_message_type<schedules_request>("conveyor::schedules_request");
  cfg.add_message_type<count_request>("conveyor::count_request");
  cfg.add_message_type<remote_task>("conveyor::remote_task");
  cfg.add_message_type<remote_result>("conveyor::remote_result");
  cfg.add_message_type<worker_node_actor>("conveyor::worker_node_actor");
  cfg.add_message_type<session_actor>("conveyor::session_actor");
  cfg.add_message_type<door_actor>("conveyor::door_actor");
  cfg.add_message_type<std::vector<std::string>>("std::vector<std::string>");
  cfg.add_message_type<std::vector<std::uint64_t>>(
    "std::vector<std::uint64_t>");
  actors::register_error_category(cfg);
}

namespace {

/// Counts the interruption of every job that was running when the previous
/// process stopped without a clean shutdown, journals the result in one
/// commit before anything runs (so a job that kills its process every time
/// is counted every time), and takes jobs that reached the limit out of
/// their queues as failed.
model::status apply_interruptions(persistence::journal& db,
                                  persistence::recovered_state& rec,
                                  const runtime_options& options,
                                  model::time_ms now) {
  if (rec.interrupted.empty())
    return model::ok();
  std::set<model::job_id> ids(rec.interrupted.begin(), rec.interrupted.end());
  persistence::write_batch batch;
  std::vector<model::job> failed;
  for (auto& [queue, jobs] : rec.pending) {
    std::vector<model::job> keep;
    for (auto& j : jobs) {
      if (!ids.count(j.id)) {
        keep.push_back(std::move(j));
        continue;
      }
      auto t = model::interrupt(j, options.max_interruptions, now);
      persistence::add_job_write(batch, t.next, &j);
      if (model::is_terminal(t.next.status))
        failed.push_back(std::move(t.next));
      else
        keep.push_back(std::move(t.next));
    }
    jobs = std::move(keep);
  }
  if (batch.empty())
    return model::ok(); // none of them is still pending (e.g. completed)
  if (auto st = db.commit(std::span<const persistence::write_batch>{&batch, 1});
      !st)
    return st;
  if (options.on_terminal)
    for (const auto& j : failed)
      options.on_terminal(j);
  return model::ok();
}

model::status check_options(const runtime_options& o) {
  auto bad = [](std::string m) {
    return model::make_error(model::errc::invalid_input, std::move(m));
  };
  if (o.data_dir.empty())
    return bad("data_dir: must not be empty");
  if (o.workers < 1)
    return bad("workers: must be at least 1");
  if (o.max_interruptions < 0)
    return bad("max_interruptions: must be 0 (no limit) or more");
  if (!model::is_processing_order(o.processing_order))
    return bad("processing_order: '" + o.processing_order
               + "' (supported: createdAt, -createdAt)");
  for (auto& [name, q] : o.queues) {
    if (q.concurrency < 1)
      return bad("queues." + name + ".concurrency: must be at least 1");
    if (!q.processing_order.empty()
        && !model::is_processing_order(q.processing_order))
      return bad("queues." + name + ".processing_order: '" + q.processing_order
                 + "' (supported: createdAt, -createdAt)");
  }
  if (o.lease.count() < 1)
    return bad("lease: must be positive");
  if (o.stop_grace.count() < 0 || o.stop_grace > std::chrono::hours{24})
    return bad("stop_grace: must be between 0 and 24 h");
  if (auto st = model::check_limits(o.limits); !st)
    return st;
  for (std::size_t i = 0; i < o.auto_run.size(); ++i) {
    auto& a = o.auto_run[i];
    auto at = "auto_run[" + std::to_string(i) + "].";
    if (auto c = model::cron_expr::parse(a.cron); !c)
      return bad(at + "cron: " + c.error().message);
    if (a.limit < 1)
      return bad(at + "limit: must be at least 1");
    if (!a.all_queues && !actors::valid_queue_name(a.queue))
      return bad(at + "queue: '" + a.queue + "' is not a queue name");
  }
  return model::ok();
}

/// Prometheus' cumulative view of a set of bucket counts; `scale` turns
/// the counted unit into the shown one (nanoseconds into seconds).
template <std::size_t N>
histogram_figures figures_of(const actors::bucket_counts<N>& b, double scale) {
  histogram_figures out;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= N; ++i) {
    auto n = b.counts[i].load(std::memory_order_relaxed);
    running += n;
    if (i < N) {
      out.bounds.push_back(static_cast<double>(b.bounds[i]) * scale);
      out.cumulative.push_back(running);
    }
  }
  out.count = running;
  out.sum = static_cast<double>(b.sum.load(std::memory_order_relaxed)) * scale;
  return out;
}

class runtime_impl final : public runtime {
public:
  runtime_impl(supervisor_actor sup, caf::actor remote, access_rules access,
               std::shared_future<void> closed, std::chrono::milliseconds grace,
               std::shared_ptr<const actors::journal_stats> journal)
      : sup_(std::move(sup)), remote_(std::move(remote)),
        access_(std::move(access)), closed_(std::move(closed)), grace_(grace),
        journal_(std::move(journal)) {}

  journal_figures journal() const override {
    return {.group_size = figures_of(journal_->group_sizes, 1.0),
            .fsync_seconds = figures_of(journal_->sync_durations, 1e-9)};
  }

  ~runtime_impl() override { stop(); }

  supervisor_actor supervisor() const override { return sup_; }
  caf::actor remote_workers() const override { return remote_; }
  const access_rules& access() const override { return access_; }

  std::future<void> clock_changed() override {
    auto done = std::make_shared<std::promise<void>>();
    auto ready = done->get_future();
    if (!sup_) {
      done->set_value();
      return ready;
    }
    // Sent from this thread first, so the change reaches the supervisor
    // before anything the caller sends next (tests rely on that order);
    // its answer goes nowhere.
    caf::anon_send(sup_, clock_changed_atom::value);
    // A short-lived actor asks again and waits for the answer (the
    // caller's thread may be one of the system's, which must never block).
    // Whichever arrives first fires the due ticks; the other finds none
    // due, and the answer comes once every tick is over either way.
    auto& sys = caf::actor_cast<caf::abstract_actor*>(sup_)->home_system();
    // Arguments go through spawn, not a capture: CAF 0.17 dereferences a
    // null argument tuple for a function actor spawned without any.
    sys.spawn(
      [](caf::event_based_actor* self, const supervisor_actor& sup,
         const std::shared_ptr<std::promise<void>>& done) {
        self->request(sup, caf::infinite, clock_changed_atom::value)
          .then([done](bool) { done->set_value(); },
                [done](caf::error&) { done->set_value(); });
      },
      sup_, done);
    return ready;
  }

  void stop() override {
    if (stopped_)
      return;
    stopped_ = true;
    drain();
    caf::anon_send_exit(sup_, caf::exit_reason::user_shutdown);
    sup_ = nullptr;
    remote_ = nullptr;
    // The journal closes when the last actor holding it is gone (running
    // handlers finish first). Only then may the directory be reopened.
    closed_.wait();
  }

private:
  /// Waits until no job runs: finished within the grace, or interrupted
  /// (journaled as such) after it. Bounded even if the journal hangs.
  void drain() {
    caf::scoped_actor self{sup_->home_system()};
    self
      ->request(sup_, grace_ + std::chrono::minutes{1}, drain_atom::value,
                static_cast<std::int64_t>(grace_.count()))
      .receive([](bool) {},
               [](const caf::error&) {
                 // Timed out or the supervisor is gone: stop regardless;
                 // the next start recovers whatever is left running.
               });
  }

  supervisor_actor sup_;
  caf::actor remote_;
  access_rules access_;
  std::shared_future<void> closed_;
  std::chrono::milliseconds grace_;
  std::shared_ptr<const actors::journal_stats> journal_;
  bool stopped_ = false;
};

} // namespace

model::expected<std::unique_ptr<runtime>>
start(caf::actor_system& sys, std::shared_ptr<const registry> reg,
      runtime_options options) {
  if (!reg)
    return model::make_error(model::errc::invalid_input, "registry is null");
  if (auto st = check_options(options); !st)
    return st.error();
  if (!options.clock)
    options.clock = actors::system_now;
  auto opened =
    persistence::open_rocksdb_journal({options.data_dir, options.durability});
  if (!opened)
    return opened.error();
  auto closed = std::make_shared<std::promise<void>>();
  std::shared_future<void> closed_future = closed->get_future().share();
  std::shared_ptr<persistence::journal> db{opened->release(),
                                           [closed](persistence::journal* j) {
                                             delete j;
                                             closed->set_value();
                                           }};
  auto recovered = db->recover(options.clock());
  if (!recovered)
    return recovered.error();
  auto running =
    persistence::running_set::open(options.data_dir + "/running.slots");
  if (!running)
    return running.error();
  // Jobs the crashed process had claimed, even those none of whose steps
  // reached the journal. After a clean stop, running jobs were stopped by
  // the operator: nothing is counted.
  if (!recovered->previous_stop_clean)
    for (auto id : (*running)->left_over())
      recovered->interrupted.push_back(id);
  if (auto st = apply_interruptions(*db, *recovered, options, options.clock());
      !st)
    return st.error();
  auto env = std::make_shared<actors::runtime_env>();
  env->reg = std::move(reg);
  env->db = db;
  env->options = std::move(options);
  env->next_id = recovered->next_id;
  env->started_at = env->options.clock();
  auto journal_stats = std::make_shared<actors::journal_stats>();
  env->journal = actors::spawn_journal_actor(sys, db, journal_stats);
  env->running = std::move(*running);
  env->tasks = std::make_shared<actors::task_pool>();
  env->pool =
    actors::spawn_worker_pool(sys, env, env->tasks, env->options.workers);
  env->remote = caf::actor_cast<caf::actor>(
    actors::spawn_remote_pool(sys, std::make_shared<actors::remote_stats>(),
                              env->options.clock, env->options.lease));
  db.reset();
  auto sup = actors::spawn_supervisor(sys, env, std::move(*recovered));
  return std::unique_ptr<runtime>{std::make_unique<runtime_impl>(
    std::move(sup), env->remote, env->options.access, std::move(closed_future),
    env->options.stop_grace, std::move(journal_stats))};
}

} // namespace conveyor
