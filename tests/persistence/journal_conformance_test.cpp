// The journal conformance suite: what every store backend must do, written
// against the abstract interface in persistence/journal.hpp only. Each case
// runs once per backend in `backends`; a new backend adds a store type with
// a fresh, empty storage per instance and an open() that may be called again
// after the previous journal was destroyed (a clean stop and restart).
//
// Backend-specific behaviour (RocksDB's lock file, its log, kill -9 and
// damaged records) is tested next to the backend (rocksdb_journal_test.cpp).

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "model/transitions.hpp"
#include "persistence/job_records.hpp"
#include "persistence/journal.hpp"
#include "support/sample_job.hpp"
#include "support/temp_dir.hpp"

using namespace conveyor;
using persistence::durability;
using persistence::write_batch;
using ids = std::vector<model::job_id>;

namespace {

/// The embedded default: a RocksDB journal in a fresh directory.
struct rocksdb_store {
  testing::temp_dir dir;
  std::unique_ptr<persistence::journal>
  open(durability mode = durability::sync) {
    auto j = persistence::open_rocksdb_journal({dir.path(), mode});
    BOOST_REQUIRE_MESSAGE(j, (j ? "" : j.error().message));
    return std::move(*j);
  }
};

using backends = boost::mpl::list<rocksdb_store>;

using testing::sample_job;

void commit(persistence::journal& db, write_batch b) {
  auto st = db.commit(std::span<const write_batch>{&b, 1});
  BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

void insert(persistence::journal& db, const model::job& j,
            std::string_view idempotency_index = {}) {
  write_batch b;
  persistence::add_job_write(b, j, nullptr, idempotency_index);
  commit(db, std::move(b));
}

void update(persistence::journal& db, const model::job& after,
            const model::job& before) {
  write_batch b;
  persistence::add_job_write(b, after, &before);
  commit(db, std::move(b));
}

ids ready(persistence::journal& db, const std::string& q,
          std::size_t limit = 100) {
  auto r = db.ready_ids(q, limit);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return *r;
}

ids due(persistence::journal& db, model::time_ms now, std::size_t limit = 100) {
  auto r = db.due_ids(now, limit);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return *r;
}

std::optional<model::job> load(persistence::journal& db, model::job_id id) {
  auto r = db.load(id);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return *r;
}

persistence::recovered_state recover(persistence::journal& db,
                                     model::time_ms now = 0) {
  auto r = db.recover(now);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return std::move(*r);
}

ids pending_ids(const persistence::recovered_state& rec, const std::string& q) {
  ids out;
  if (auto it = rec.pending.find(q); it != rec.pending.end())
    for (const auto& j : it->second)
      out.push_back(j.id);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(journal_conformance)

BOOST_AUTO_TEST_CASE_TEMPLATE(a_stored_document_loads_back_equal, Store,
                              backends) {
  Store store;
  auto db = store.open();
  auto j = sample_job(4);
  j.meta = {{"deep", {{"list", {1, 2, 3}}}}};
  j.log.push_back({});
  j.log.back().task_slug = "t";
  j.log.back().task_id = "1";
  insert(*db, j);
  auto back = load(*db, 4);
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == j));
  BOOST_TEST(!load(*db, 5).has_value());
  BOOST_TEST((db->mode() == durability::sync));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(ready_orders_by_priority_then_id_with_a_limit,
                              Store, backends) {
  Store store;
  auto db = store.open();
  insert(*db, sample_job(1));
  insert(*db, sample_job(2, "default", 5));
  insert(*db, sample_job(3));
  insert(*db, sample_job(4, "default", -1));
  insert(*db, sample_job(5, "default", 5));
  insert(*db,
         sample_job(6, "default", std::numeric_limits<std::int32_t>::max()));
  insert(*db,
         sample_job(7, "default", std::numeric_limits<std::int32_t>::min()));
  BOOST_TEST(ready(*db, "default") == (ids{6, 2, 5, 1, 3, 4, 7}),
             boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "default", 2) == (ids{6, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "default", 0).empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(queues_never_see_each_others_jobs, Store,
                              backends) {
  Store store;
  auto db = store.open();
  insert(*db, sample_job(1, "a"));
  insert(*db, sample_job(2, "ab"));
  insert(*db, sample_job(3, "a", 1000));
  insert(*db, sample_job(4, "A"));
  BOOST_TEST(ready(*db, "a") == (ids{3, 1}), boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "ab") == (ids{2}), boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "A") == (ids{4}), boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "b").empty());
  BOOST_TEST(ready(*db, "").empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(due_lists_waiting_jobs_up_to_now_earliest_first,
                              Store, backends) {
  Store store;
  auto db = store.open();
  auto wait = [](model::job j, model::time_ms at) {
    j.wait_until = at;
    return j;
  };
  insert(*db, wait(sample_job(1), 5000));
  insert(*db, wait(sample_job(2), 3000));
  insert(*db, wait(sample_job(3, "other"), 9000));
  insert(*db, wait(sample_job(4, "other"), 3000)); // same time: by id
  insert(*db, wait(sample_job(5), -20));           // before the epoch
  insert(*db, sample_job(6));                      // no wait: never due-listed
  BOOST_TEST(due(*db, 5000) == (ids{5, 2, 4, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(due(*db, 5000, 2) == (ids{5, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(due(*db, -21).empty());
  BOOST_TEST(due(*db, 9000).size() == 5u);
  // Waiting jobs are still ready-listed: a queue sees them and skips them
  // until due.
  BOOST_TEST(ready(*db, "default").size() == 4u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(each_write_moves_the_index_entries_with_the_job,
                              Store, backends) {
  Store store;
  auto db = store.open();
  auto j = sample_job(7);
  insert(*db, j);
  // Retry with backoff: still ready, now also due at 4000.
  auto waiting = j;
  waiting.wait_until = 4000;
  waiting.total_tried = 1;
  update(*db, waiting, j);
  BOOST_TEST(ready(*db, "default") == (ids{7}),
             boost::test_tools::per_element());
  BOOST_TEST(due(*db, 4000) == (ids{7}), boost::test_tools::per_element());
  // Waiting longer: the old due entry goes.
  auto later = waiting;
  later.wait_until = 8000;
  update(*db, later, waiting);
  BOOST_TEST(due(*db, 7999).empty());
  BOOST_TEST(due(*db, 8000) == (ids{7}), boost::test_tools::per_element());
  // A new priority and queue move the ready entry.
  auto moved = later;
  moved.priority = 3;
  moved.queue = "other";
  moved.wait_until.reset();
  update(*db, moved, later);
  BOOST_TEST(ready(*db, "default").empty());
  BOOST_TEST(ready(*db, "other") == (ids{7}), boost::test_tools::per_element());
  BOOST_TEST(due(*db, 100000).empty());
  // Final failure: the document stays, every index entry goes.
  auto failed = moved;
  failed.status = model::job_status::failed;
  failed.has_error = true;
  failed.wait_until = 9000; // a terminal job is never due, wait or not
  update(*db, failed, moved);
  BOOST_TEST(ready(*db, "other").empty());
  BOOST_TEST(due(*db, 100000).empty());
  auto loaded = load(*db, 7);
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded == failed));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(
  erase_removes_the_job_but_keeps_its_idempotency_entry, Store, backends) {
  Store store;
  auto db = store.open();
  auto j = sample_job(3);
  j.idempotency_key = "order-42";
  j.wait_until = 100;
  insert(*db, j);
  write_batch b;
  persistence::add_job_erase(b, j);
  commit(*db, std::move(b));
  BOOST_TEST(!load(*db, 3).has_value());
  BOOST_TEST(ready(*db, "default").empty());
  BOOST_TEST(due(*db, 1000).empty());
  auto key = db->find_idempotency_key("order-42");
  BOOST_REQUIRE(key);
  BOOST_REQUIRE(key->has_value());
  BOOST_TEST(**key == 3u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(idempotency_entries_are_scoped_and_written_once,
                              Store, backends) {
  Store store;
  auto db = store.open();
  auto a = sample_job(1, "q");
  a.idempotency_key = "k";
  auto b = sample_job(2, "q");
  b.idempotency_key = "k";
  auto ia = persistence::idempotency_index("q", "alice", "k");
  auto ib = persistence::idempotency_index("q", "bob", "k");
  BOOST_TEST(ia != ib);
  BOOST_TEST(persistence::idempotency_index("q", "ab", "c")
             != persistence::idempotency_index("qa", "b", "c"));
  insert(*db, a, ia);
  insert(*db, b, ib);
  BOOST_TEST(
    (db->find_idempotency_key(ia).value() == std::optional<model::job_id>{1}));
  BOOST_TEST(
    (db->find_idempotency_key(ib).value() == std::optional<model::job_id>{2}));
  BOOST_TEST(!db->find_idempotency_key("k").value().has_value());
  // Only a new job records its key: later writes of the job leave it alone.
  auto running = model::claim(a, "lease", 9999, 2000);
  update(*db, running, a);
  BOOST_TEST(
    (db->find_idempotency_key(ia).value() == std::optional<model::job_id>{1}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(meta_values_are_set_replaced_and_deleted, Store,
                              backends) {
  Store store;
  auto db = store.open();
  BOOST_TEST(!db->get_meta("m").value().has_value());
  write_batch b;
  persistence::add_meta_write(b, "m", "1");
  persistence::add_meta_write(b, "m", "2"); // later op in a batch wins
  persistence::add_meta_write(b, "binary", std::string("a\0b", 3));
  commit(*db, std::move(b));
  BOOST_TEST((db->get_meta("m").value() == std::optional<std::string>{"2"}));
  BOOST_TEST((db->get_meta("binary").value()
              == std::optional<std::string>(std::string("a\0b", 3))));
  write_batch del;
  persistence::add_meta_write(del, "m", std::nullopt);
  commit(*db, std::move(del));
  BOOST_TEST(!db->get_meta("m").value().has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(scan_visits_jobs_in_id_order_after_a_mark, Store,
                              backends) {
  Store store;
  auto db = store.open();
  for (model::job_id id : {5, 1, 300, 2, 256})
    insert(*db, sample_job(id));
  auto failed = sample_job(7);
  failed.status = model::job_status::failed;
  insert(*db, failed); // terminal jobs are scanned too
  ids seen;
  auto all = [&](const model::job& j) {
    seen.push_back(j.id);
    return true;
  };
  BOOST_REQUIRE(db->scan_jobs(0, all));
  BOOST_TEST(seen == (ids{1, 2, 5, 7, 256, 300}),
             boost::test_tools::per_element());
  seen.clear();
  BOOST_REQUIRE(db->scan_jobs(5, all));
  BOOST_TEST(seen == (ids{7, 256, 300}), boost::test_tools::per_element());
  seen.clear();
  BOOST_REQUIRE(db->scan_jobs(0, [&](const model::job& j) {
    seen.push_back(j.id);
    return seen.size() < 2;
  }));
  BOOST_TEST(seen == (ids{1, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(
  a_group_of_batches_and_split_write_sync_both_apply, Store, backends) {
  Store store;
  auto db = store.open();
  std::vector<write_batch> group(3);
  for (model::job_id id = 1; id <= 3; ++id)
    persistence::add_job_write(group[id - 1], sample_job(id), nullptr);
  BOOST_REQUIRE(db->commit(group));
  BOOST_TEST(ready(*db, "default") == (ids{1, 2, 3}),
             boost::test_tools::per_element());
  std::vector<write_batch> next(1);
  persistence::add_job_write(next[0], sample_job(4), nullptr);
  BOOST_REQUIRE(db->write(next));
  BOOST_TEST(load(*db, 4).has_value()); // visible before the sync
  BOOST_REQUIRE(db->sync());
  BOOST_REQUIRE(db->commit(std::span<const write_batch>{})); // nothing to do
  BOOST_TEST(ready(*db, "default").size() == 4u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_restart_keeps_everything_and_never_reuses_an_id,
                              Store, backends) {
  Store store;
  {
    auto db = store.open();
    insert(*db, sample_job(1));
    auto last = sample_job(2);
    insert(*db, last);
    write_batch b;
    persistence::add_job_erase(b, last); // the highest id, deleted
    commit(*db, std::move(b));
  }
  auto db = store.open();
  auto rec = recover(*db);
  BOOST_TEST(rec.next_id == 3u);
  BOOST_TEST(pending_ids(rec, "default") == (ids{1}),
             boost::test_tools::per_element());
  BOOST_TEST(rec.previous_stop_clean);
  BOOST_TEST(rec.interrupted.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(recovery_lists_active_jobs_per_queue_in_order,
                              Store, backends) {
  Store store;
  {
    auto db = store.open();
    insert(*db, sample_job(1, "a"));
    insert(*db, sample_job(2, "b", 9));
    insert(*db, sample_job(3, "a", 2));
    auto waiting = sample_job(4, "b");
    waiting.wait_until = 50'000;
    insert(*db, waiting);
    auto done = sample_job(5, "a");
    done.status = model::job_status::completed;
    insert(*db, done);
    write_batch pause;
    persistence::add_meta_write(pause, persistence::paused_key("b"), "1");
    persistence::add_meta_write(pause, "paused-not-a-queue", "1");
    commit(*db, std::move(pause));
  }
  auto db = store.open();
  auto rec = recover(*db);
  BOOST_TEST(pending_ids(rec, "a") == (ids{3, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(pending_ids(rec, "b") == (ids{2, 4}),
             boost::test_tools::per_element());
  BOOST_TEST(rec.pending.size() == 2u);
  BOOST_TEST(rec.paused == (std::vector<std::string>{"b"}),
             boost::test_tools::per_element());
  BOOST_TEST(rec.next_id == 6u);
  BOOST_TEST(
    (rec.pending["b"][1].wait_until == std::optional<model::time_ms>{50'000}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(
  recovery_releases_leases_without_consuming_a_retry, Store, backends) {
  Store store;
  {
    auto db = store.open();
    auto j = sample_job(1, "q");
    insert(*db, j);
    update(*db, model::claim(j, "token-1", 999999, 2000), j);
  }
  auto db = store.open();
  auto rec = recover(*db, 3000);
  auto& js = rec.pending["q"];
  BOOST_REQUIRE(js.size() == 1u);
  BOOST_TEST(!js[0].processing_token);
  BOOST_TEST(!js[0].processing_until);
  BOOST_TEST(js[0].total_tried == 0);
  BOOST_TEST(!model::is_terminal(js[0].status));
  BOOST_TEST(model::is_claimable(js[0], 3000));
  // Stopped cleanly: the lease was the operator's stop, not an interruption.
  BOOST_TEST(rec.interrupted.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(async_durability_stores_the_same_way, Store,
                              backends) {
  Store store;
  {
    auto db = store.open(durability::async);
    BOOST_TEST((db->mode() == durability::async));
    insert(*db, sample_job(1));
    BOOST_REQUIRE(db->sync());
  }
  auto db = store.open();
  BOOST_TEST(load(*db, 1).has_value());
  BOOST_TEST(ready(*db, "default") == (ids{1}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
