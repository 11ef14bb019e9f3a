#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "model/transitions.hpp"
#include "persistence/job_records.hpp"
#include "persistence/journal.hpp"
#include "persistence/key_codec.hpp"
#include "support/temp_dir.hpp"

using namespace conveyor;
using persistence::write_batch;

namespace {

model::job make_job(model::job_id id, std::string queue = "default",
                    std::int32_t priority = 0) {
  model::job j;
  j.id = id;
  j.task_slug = "t";
  j.queue = std::move(queue);
  j.priority = priority;
  j.input = {{"n", id}};
  j.created_at = 1000 + static_cast<model::time_ms>(id);
  j.updated_at = j.created_at;
  return j;
}

std::unique_ptr<persistence::journal> open(const std::string& dir) {
  auto j = persistence::open_rocksdb_journal({dir, persistence::durability::sync});
  BOOST_REQUIRE_MESSAGE(j, (j ? "" : j.error().message));
  return std::move(*j);
}

void commit(persistence::journal& db, write_batch b) {
  auto st = db.commit(std::span<const write_batch>{&b, 1});
  BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

void insert(persistence::journal& db, const model::job& j) {
  write_batch b;
  persistence::add_job_write(b, j, nullptr);
  commit(db, std::move(b));
}

std::vector<model::job_id> ready(persistence::journal& db,
                                 const std::string& q) {
  auto ids = db.ready_ids(q, 100);
  BOOST_REQUIRE(ids);
  return *ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rocksdb_journal_tests)

BOOST_AUTO_TEST_CASE(ready_index_orders_by_priority_then_fifo) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  insert(*db, make_job(1));
  insert(*db, make_job(2, "default", 5));
  insert(*db, make_job(3));
  insert(*db, make_job(4, "default", -1));
  insert(*db, make_job(5, "default", 5));
  BOOST_TEST(ready(*db, "default") == (std::vector<model::job_id>{2, 5, 1, 3, 4}),
             boost::test_tools::per_element());
  auto two = db->ready_ids("default", 2);
  BOOST_REQUIRE(two);
  BOOST_TEST(two->size() == 2u);
}

BOOST_AUTO_TEST_CASE(queue_prefixes_do_not_overlap) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  insert(*db, make_job(1, "a"));
  insert(*db, make_job(2, "ab"));
  insert(*db, make_job(3, "a", 1000));
  BOOST_TEST(ready(*db, "a") == (std::vector<model::job_id>{3, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "ab") == (std::vector<model::job_id>{2}),
             boost::test_tools::per_element());
  BOOST_TEST(ready(*db, "b").empty());
}

BOOST_AUTO_TEST_CASE(due_index_is_a_seek_up_to_now) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  auto a = make_job(1);
  a.wait_until = 5000;
  auto b = make_job(2);
  b.wait_until = 3000;
  auto c = make_job(3);
  c.wait_until = 9000;
  for (auto& j : {a, b, c})
    insert(*db, j);
  auto due = db->due_ids(5000, 10);
  BOOST_REQUIRE(due);
  BOOST_TEST(*due == (std::vector<model::job_id>{2, 1}),
             boost::test_tools::per_element());
  auto none = db->due_ids(2999, 10);
  BOOST_REQUIRE(none);
  BOOST_TEST(none->empty());
}

BOOST_AUTO_TEST_CASE(transitions_move_index_keys_atomically) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  auto j = make_job(7);
  insert(*db, j);
  // Retry with backoff: still ready-indexed, now also delayed.
  auto waiting = j;
  waiting.wait_until = 4000;
  waiting.total_tried = 1;
  {
    write_batch b;
    persistence::add_job_write(b, waiting, &j);
    commit(*db, std::move(b));
  }
  BOOST_TEST(ready(*db, "default").size() == 1u);
  BOOST_TEST(db->due_ids(4000, 10)->size() == 1u);
  // Final failure: document kept, both index keys gone, in one batch.
  auto failed = waiting;
  failed.status = model::job_status::failed;
  failed.has_error = true;
  {
    write_batch b;
    persistence::add_job_write(b, failed, &waiting);
    commit(*db, std::move(b));
  }
  BOOST_TEST(ready(*db, "default").empty());
  BOOST_TEST(db->due_ids(10000, 10)->empty());
  auto loaded = db->load(7);
  BOOST_REQUIRE(loaded && *loaded);
  BOOST_TEST((**loaded == failed));
}

BOOST_AUTO_TEST_CASE(erase_removes_document_and_indexes_but_keeps_idempotency) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  auto j = make_job(3);
  j.idempotency_key = "order-42";
  j.wait_until = 100;
  insert(*db, j);
  {
    write_batch b;
    persistence::add_job_erase(b, j);
    commit(*db, std::move(b));
  }
  BOOST_TEST(!*db->load(3));
  BOOST_TEST(ready(*db, "default").empty());
  BOOST_TEST(db->due_ids(1000, 10)->empty());
  auto key = db->find_idempotency_key("order-42");
  BOOST_REQUIRE(key && *key);
  BOOST_TEST(**key == 3u);
}

BOOST_AUTO_TEST_CASE(reopen_after_clean_close_keeps_everything_and_id_mark) {
  testing::temp_dir dir;
  {
    auto db = open(dir.path());
    insert(*db, make_job(1));
    auto last = make_job(2);
    insert(*db, last);
    write_batch b;
    persistence::add_job_erase(b, last); // highest id deleted
    commit(*db, std::move(b));
  }
  auto db = open(dir.path());
  auto rec = db->recover(0);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->next_id == 3u); // never reuses the deleted job's id
  BOOST_REQUIRE(rec->pending.count("default"));
  BOOST_TEST(rec->pending["default"].size() == 1u);
  BOOST_TEST(rec->pending["default"].front().id == 1u);
}

BOOST_AUTO_TEST_CASE(recovery_releases_leases_without_consuming_a_retry) {
  testing::temp_dir dir;
  {
    auto db = open(dir.path());
    auto j = make_job(1, "q");
    insert(*db, j);
    auto running = model::claim(j, "token-1", 999999, 2000);
    write_batch b;
    persistence::add_job_write(b, running, &j);
    commit(*db, std::move(b));
  }
  auto db = open(dir.path());
  auto rec = db->recover(3000);
  BOOST_REQUIRE(rec);
  auto& js = rec->pending["q"];
  BOOST_REQUIRE(js.size() == 1u);
  BOOST_TEST(!js[0].processing_token);
  BOOST_TEST(!js[0].processing_until);
  BOOST_TEST(js[0].total_tried == 0);
  BOOST_TEST(!model::is_terminal(js[0].status));
  BOOST_TEST(model::is_claimable(js[0], 3000));
}

BOOST_AUTO_TEST_CASE(second_open_of_a_directory_is_refused_as_locked) {
  testing::temp_dir dir;
  auto first = open(dir.path());
  auto second = persistence::open_rocksdb_journal({dir.path()});
  BOOST_REQUIRE(!second);
  BOOST_TEST(second.error().code == model::errc::storage);
  BOOST_TEST(second.error().message.find("locked") != std::string::npos,
             second.error().message);
}

namespace {

/// Runs the writer child (a separate process: a forked child of a threaded
/// process may only exec) until it acknowledged `n` jobs, then kill -9s it.
/// Returns every id it acknowledged, including those that arrived while the
/// kill landed.
std::set<model::job_id> write_then_kill(const std::string& dir, std::size_t n) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  auto pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::execl(CONVEYOR_JOURNAL_WRITER, CONVEYOR_JOURNAL_WRITER, dir.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  FILE* in = ::fdopen(fds[0], "r");
  std::set<model::job_id> acked;
  unsigned long id = 0;
  while (acked.size() < n && std::fscanf(in, "%lu", &id) == 1)
    acked.insert(id);
  ::kill(pid, SIGKILL);
  while (std::fscanf(in, "%lu", &id) == 1)
    acked.insert(id);
  std::fclose(in);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST_REQUIRE(WIFSIGNALED(status));
  return acked;
}

} // namespace

BOOST_AUTO_TEST_CASE(acknowledged_sync_writes_survive_kill_9) {
  testing::temp_dir dir;
  auto acked = write_then_kill(dir.path(), 300);
  BOOST_TEST_REQUIRE(acked.size() >= 300u);
  auto db = open(dir.path());
  std::size_t lost = 0;
  for (auto a : acked) {
    auto j = db->load(a);
    BOOST_REQUIRE(j);
    if (!j->has_value())
      ++lost;
  }
  BOOST_TEST(lost == 0u);
  auto rec = db->recover(0);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->next_id > *acked.rbegin());
}

BOOST_AUTO_TEST_CASE(recovery_names_jobs_running_at_a_crash_not_at_a_clean_stop) {
  testing::temp_dir dir;
  auto acked = write_then_kill(dir.path(), 100);
  {
    auto db = open(dir.path());
    auto rec = db->recover(0);
    BOOST_REQUIRE(rec);
    std::set<model::job_id> interrupted(rec->interrupted.begin(),
                                        rec->interrupted.end());
    for (auto id : acked)
      if (id % 10 == 0)
        BOOST_TEST(interrupted.count(id) == 1u, id);
    for (auto id : interrupted)
      BOOST_TEST(id % 10 == 0u, id); // only jobs stored as running
    // Released in what recovery hands the queues.
    for (const auto& j : rec->pending.at("default"))
      BOOST_TEST(!j.processing_token.has_value(), j.id);
  } // a clean close
  auto db = open(dir.path());
  auto rec = db->recover(0);
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->interrupted.empty());
}

BOOST_AUTO_TEST_CASE(corruption_in_the_middle_of_the_log_refuses_to_open) {
  testing::temp_dir dir;
  BOOST_REQUIRE(write_then_kill(dir.path(), 500).size() >= 500u);
  // The killed writer left its log unflushed: flip one byte in its middle.
  std::string log;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().extension() == ".log" && e.file_size() > log.size())
      log = e.path().string();
  BOOST_REQUIRE(!log.empty());
  auto size = std::filesystem::file_size(log);
  BOOST_REQUIRE(size > 1000);
  {
    std::fstream f{log, std::ios::in | std::ios::out | std::ios::binary};
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }
  auto reopened = persistence::open_rocksdb_journal({dir.path()});
  BOOST_REQUIRE(!reopened); // never opens silently with a prefix
  BOOST_TEST(reopened.error().code == model::errc::storage);
  BOOST_TEST(reopened.error().message.find("orruption") != std::string::npos,
             reopened.error().message);
}

BOOST_AUTO_TEST_CASE(a_corrupt_document_is_an_error_not_a_crash) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  write_batch b;
  b.ops.push_back({persistence::column::jobs, persistence::job_key(9),
                   std::string{"{\"id\": [[[[ not json"}});
  commit(*db, std::move(b));
  auto j = db->load(9);
  BOOST_REQUIRE(!j);
  BOOST_TEST(j.error().code == model::errc::storage);
  BOOST_TEST(j.error().message.starts_with(
    "corrupt record in column 'jobs' at key 0000000000000009: "));
}

BOOST_AUTO_TEST_CASE(key_decoders_check_lengths) {
  using namespace persistence;
  BOOST_TEST(!job_key_id("").has_value());
  BOOST_TEST(!job_key_id("1234567").has_value());
  BOOST_TEST(!job_key_id("123456789").has_value());
  BOOST_TEST(job_key_id(job_key(42)).value() == 42u);
  BOOST_TEST(!ready_key_id("").has_value());
  BOOST_TEST(!ready_key_id(std::string(12, '\0')).has_value());
  BOOST_TEST(!ready_key_id(std::string("q\0short", 7)).has_value());
  BOOST_TEST(!ready_key_id(std::string(13, 'x')).has_value()); // no NUL
  auto rk = ready_key("q", 5, 77);
  BOOST_TEST(ready_key_id(rk).value() == 77u);
  BOOST_TEST(std::string(ready_key_queue(rk).value()) == "q");
  BOOST_TEST(!ready_key_id(rk.substr(1)).has_value()); // empty queue
  BOOST_TEST(!delayed_key_time("short").has_value());
  BOOST_TEST(!delayed_key_id(std::string(17, 'x')).has_value());
  BOOST_TEST(delayed_key_time(delayed_key(-5, 3)).value() == -5);
  BOOST_TEST(delayed_key_id(delayed_key(-5, 3)).value() == 3u);
  BOOST_TEST(!read_u64("1234567").has_value());
  BOOST_TEST(!read_u32("123").has_value());
  BOOST_TEST(hex(std::string("\x01\xab", 2)) == "01ab");
}

// Policy (FORMAT.md, Recovery): a record that cannot be decoded at start is
// reported as corruption naming its column and key, and start refuses;
// never a crash, never a silently dropped job.
BOOST_AUTO_TEST_CASE(recovery_names_a_short_ready_key) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  write_batch b;
  b.ops.push_back({persistence::column::ready, std::string("q\0\x01", 3),
                   std::string{}});
  commit(*db, std::move(b));
  auto rec = db->recover(0);
  BOOST_REQUIRE(!rec);
  BOOST_TEST(rec.error().code == model::errc::storage);
  BOOST_TEST(rec.error().message
             == "corrupt record in column 'ready' at key 710001: not a ready key");
}

BOOST_AUTO_TEST_CASE(recovery_names_a_document_that_does_not_decode) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  // What an earlier version stored for --wait-until '+999999-12-31T23:59-23:59'.
  auto j = make_job(11);
  write_batch b;
  persistence::add_job_write(b, j, nullptr);
  b.ops.front().value = R"({"id":"11","queue":"default","taskSlug":"t",)"
                        R"("createdAt":"2026-01-01T00:00:00.000Z",)"
                        R"("updatedAt":"2026-01-01T00:00:00.000Z",)"
                        R"("waitUntil":"+1000000-01-01T23:58:00.000Z"})";
  commit(*db, std::move(b));
  auto rec = db->recover(0);
  BOOST_REQUIRE(!rec);
  BOOST_TEST(rec.error().message.starts_with(
    "corrupt record in column 'jobs' at key 000000000000000b: waitUntil: "));
}

BOOST_AUTO_TEST_CASE(listing_deep_stored_data_is_bounded) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  const std::size_t depth = 50'000;
  std::string doc = R"({"id":"3","queue":"default","taskSlug":"t",)"
                    R"("createdAt":"2026-01-01T00:00:00.000Z",)"
                    R"("updatedAt":"2026-01-01T00:00:00.000Z","meta":)";
  for (std::size_t i = 0; i < depth; ++i)
    doc += R"({"d":)";
  doc += "1" + std::string(depth, '}') + "}";
  write_batch b;
  b.ops.push_back({persistence::column::jobs, persistence::job_key(3), doc});
  commit(*db, std::move(b));
  auto st = db->scan_jobs(0, [](const model::job&) { return true; });
  BOOST_REQUIRE(!st);
  BOOST_TEST(st.error().message.starts_with(
    "corrupt record in column 'jobs' at key 0000000000000003: "));
  BOOST_TEST(st.error().message.find("nesting deeper than") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(short_index_values_and_keys_are_corruption) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  write_batch b;
  b.ops.push_back({persistence::column::idempotency, "key-1", std::string("abc")});
  b.ops.push_back({persistence::column::delayed, "tiny", std::string("q")});
  commit(*db, std::move(b));
  auto idem = db->find_idempotency_key("key-1");
  BOOST_REQUIRE(!idem);
  BOOST_TEST(idem.error().message.find("6b65792d31") != std::string::npos);
  auto due = db->due_ids(0, 10);
  BOOST_REQUIRE(!due);
  BOOST_TEST(due.error().message
             == "corrupt record in column 'delayed' at key 74696e79: "
                "not a delayed key (16 bytes)");
}

BOOST_AUTO_TEST_SUITE_END()
