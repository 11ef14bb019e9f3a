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
#include "persistence/rocksdb_journal.hpp"
#include "support/sample_job.hpp"
#include "support/temp_dir.hpp"

using namespace conveyor;
using persistence::write_batch;

namespace {

using testing::sample_job;

std::unique_ptr<persistence::journal> open(const std::string& dir) {
  auto j =
    persistence::open_rocksdb_journal({dir, persistence::durability::sync});
  BOOST_REQUIRE_MESSAGE(j, (j ? "" : j.error().message));
  return std::move(*j);
}

void commit(persistence::journal& db, write_batch b) {
  auto st = db.commit(std::span<const write_batch>{&b, 1});
  BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

void raw(persistence::journal& db,
         std::initializer_list<persistence::raw_write> ops) {
  std::vector<persistence::raw_write> v(ops);
  auto st = persistence::write_raw(db, v);
  BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

} // namespace

BOOST_AUTO_TEST_SUITE(rocksdb_journal_tests)

// What every backend must do is in journal_conformance_test.cpp; these are
// RocksDB's own: its lock, its log, kill -9 and damaged records.

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

BOOST_AUTO_TEST_CASE(
  recovery_names_jobs_running_at_a_crash_not_at_a_clean_stop) {
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
  raw(*db, {{persistence::column::jobs, persistence::job_key(9),
             std::string{"{\"id\": [[[[ not json"}}});
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
  raw(*db,
      {{persistence::column::ready, std::string("q\0\x01", 3), std::string{}}});
  auto rec = db->recover(0);
  BOOST_REQUIRE(!rec);
  BOOST_TEST(rec.error().code == model::errc::storage);
  BOOST_TEST(
    rec.error().message
    == "corrupt record in column 'ready' at key 710001: not a ready key");
}

BOOST_AUTO_TEST_CASE(recovery_names_a_document_that_does_not_decode) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  // What an earlier version stored for --wait-until
  // '+999999-12-31T23:59-23:59'.
  auto j = sample_job(11);
  write_batch b;
  persistence::add_job_write(b, j, nullptr);
  std::get<persistence::put_job>(b.ops.front()).document =
    R"({"id":"11","queue":"default","taskSlug":"t",)"
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
  raw(*db, {{persistence::column::jobs, persistence::job_key(3), doc}});
  auto st = db->scan_jobs(0, [](const model::job&) { return true; });
  BOOST_REQUIRE(!st);
  BOOST_TEST(st.error().message.starts_with(
    "corrupt record in column 'jobs' at key 0000000000000003: "));
  BOOST_TEST(st.error().message.find("nesting deeper than")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(short_index_values_and_keys_are_corruption) {
  testing::temp_dir dir;
  auto db = open(dir.path());
  raw(*db, {{persistence::column::idempotency, "key-1", std::string("abc")},
            {persistence::column::delayed, "tiny", std::string("q")}});
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
