// The journal's durability promise against real RocksDB, under a simulated
// power cut and injected I/O failures (support/fault_fs.hpp):
// - an acknowledged (sync-mode) commit survives a power cut;
// - an unacknowledged write survives whole or not at all, never as half a
//   batch (a document without its ready key or the reverse);
// - a failed fsync or append is never reported as success, and the journal
//   stays failed afterwards.

#include <boost/test/unit_test.hpp>

#include <rocksdb/env.h>

#include <filesystem>
#include <functional>
#include <set>

#include "persistence/job_records.hpp"
#include "persistence/journal.hpp"
#include "persistence/rocksdb_journal.hpp"
#include "support/fault_fs.hpp"
#include "support/temp_dir.hpp"

using namespace conveyor;
using persistence::write_batch;

namespace {

constexpr const char* queue = "cut";

/// A fault file system and the Env the journal runs on. The Env must
/// outlive every journal opened with it.
struct fault_env {
  std::shared_ptr<testing::fault_fs> fs = std::make_shared<testing::fault_fs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
};

model::job make_job(model::job_id id) {
  model::job j;
  j.id = id;
  j.task_slug = "t";
  j.queue = queue;
  // Documents of different sizes: log records (and cuts inside them) vary.
  j.input = {{"n", id}, {"pad", std::string(40 + (id * 37) % 300, 'x')}};
  j.created_at = 1000 + static_cast<model::time_ms>(id);
  j.updated_at = j.created_at;
  return j;
}

write_batch batch_of(const model::job& j) {
  write_batch b;
  persistence::add_job_write(b, j, nullptr);
  return b;
}

std::unique_ptr<persistence::journal> open_on(fault_env& fe,
                                              const std::string& dir) {
  auto j = persistence::open_rocksdb_journal(
    {dir, persistence::durability::sync}, fe.env.get());
  BOOST_REQUIRE_MESSAGE(j, (j ? "" : j.error().message));
  return std::move(*j);
}

/// commit() = acknowledged: durable once it returns OK.
void commit_job(persistence::journal& db, const model::job& j) {
  auto b = batch_of(j);
  auto st = db.commit(std::span<const write_batch>{&b, 1});
  BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

/// write() = applied but not acknowledged: no fsync.
void write_job(persistence::journal& db, const model::job& j) {
  auto b = batch_of(j);
  auto st = db.write(std::span<const write_batch>{&b, 1});
  BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
}

model::status try_commit(persistence::journal& db, const model::job& j) {
  auto b = batch_of(j);
  return db.commit(std::span<const write_batch>{&b, 1});
}

/// A power-cut copy of `db_dir` in `root`/`name`: only synced bytes.
std::string cut(const fault_env& fe, const testing::temp_dir& root,
                const std::string& db_dir, const std::string& name) {
  auto to = root.sub(name);
  std::filesystem::create_directory(to);
  fe.fs->power_cut_copy(db_dir, to);
  return to;
}

/// Opens `dir` with the plain journal (what a restart after the cut does)
/// and checks: every acknowledged job is there with its exact document; the
/// unacknowledged ones, in write order, are each whole (document and ready
/// key) or absent, survivors form a prefix (the log replays in order), and
/// nothing else is indexed. Returns how many unacknowledged jobs survived.
std::size_t check_survivors(const std::string& dir,
                            const std::vector<model::job>& acked,
                            const std::vector<model::job>& unacked) {
  auto opened = persistence::open_rocksdb_journal({dir});
  BOOST_REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().message));
  auto& db = **opened;
  auto ready = db.ready_ids(queue, 1'000'000);
  BOOST_REQUIRE(ready);
  std::set<model::job_id> indexed(ready->begin(), ready->end());
  for (const auto& j : acked) {
    BOOST_TEST_CONTEXT("acknowledged job " << j.id) {
      auto loaded = db.load(j.id);
      BOOST_REQUIRE(loaded);
      BOOST_REQUIRE(loaded->has_value());
      BOOST_TEST((**loaded == j));
      BOOST_TEST(indexed.count(j.id) == 1u);
    }
  }
  std::size_t survivors = 0;
  bool gap = false;
  for (const auto& j : unacked) {
    BOOST_TEST_CONTEXT("unacknowledged job " << j.id) {
      auto loaded = db.load(j.id);
      BOOST_REQUIRE(loaded);
      bool doc = loaded->has_value();
      BOOST_TEST(doc == (indexed.count(j.id) == 1u)); // never half a batch
      if (doc) {
        BOOST_TEST((**loaded == j));
        BOOST_TEST(!gap); // a later write survived an earlier lost one
        ++survivors;
      } else {
        gap = true;
      }
    }
  }
  BOOST_TEST(indexed.size() == acked.size() + survivors);
  auto rec = db.recover(0);
  BOOST_REQUIRE_MESSAGE(rec, (rec ? "" : rec.error().message));
  BOOST_TEST(rec->pending[queue].size() == indexed.size());
  if (!indexed.empty())
    BOOST_TEST(rec->next_id > *indexed.rbegin());
  return survivors;
}

bool has_sst(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator{dir})
    if (e.path().extension() == ".sst")
      return true;
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(fault_fs_tests)

BOOST_AUTO_TEST_CASE(acknowledged_writes_survive_a_power_cut) {
  testing::temp_dir root;
  fault_env fe;
  auto dir = root.sub("db");
  auto db = open_on(fe, dir);
  std::vector<model::job> acked;
  model::job_id next = 1;
  std::uint64_t log_syncs = 0; // commits and sync() calls: one fsync each
  // Leaves 3 unacknowledged writes behind, cuts, checks the copy, then
  // syncs them so they join the acknowledged set.
  auto cut_and_check = [&](const std::string& name) {
    std::vector<model::job> unacked;
    for (int i = 0; i < 3; ++i) {
      unacked.push_back(make_job(next++));
      write_job(*db, unacked.back());
    }
    // Not vacuous: the unacknowledged writes are in the file, unsynced.
    BOOST_TEST(fe.fs->unsynced_bytes(dir) > 0u);
    auto copy = cut(fe, root, dir, name);
    // Nothing synced them (no flush ran): none may survive, and the check
    // still requires each to be whole or absent.
    BOOST_TEST_CONTEXT("cut " << name << " after " << acked.size() << " acks")
    BOOST_TEST(check_survivors(copy, acked, unacked) == 0u);
    auto st = db->sync();
    BOOST_REQUIRE_MESSAGE(st, (st ? "" : st.error().message));
    ++log_syncs;
    acked.insert(acked.end(), unacked.begin(), unacked.end());
    return copy;
  };
  for (std::size_t point : {1u, 10u, 200u}) {
    while (acked.size() < point) {
      acked.push_back(make_job(next++));
      commit_job(*db, acked.back());
      ++log_syncs;
    }
    cut_and_check("cut-" + std::to_string(point));
  }
  // A clean close flushes the memtables into SST files (and deletes the old
  // log); then reopen on the same fault FS and cut again, so the copy needs
  // the SSTs, the MANIFEST and CURRENT to be durable, not just the log.
  db.reset();
  db = open_on(fe, dir);
  for (int i = 0; i < 20; ++i) {
    acked.push_back(make_job(next++));
    commit_job(*db, acked.back());
    ++log_syncs;
  }
  auto copy = cut_and_check("cut-after-flush");
  BOOST_TEST(has_sst(copy));
  // Every commit and sync() reached the log as a Sync (fdatasync), never an
  // Fsync. There are more syncs than we asked for: a flush first syncs the
  // log it closes (fault_fs.hpp, "What RocksDB 7.8.3 was seen doing").
  auto counts = fe.fs->counts();
  BOOST_TEST(counts.wal_sync >= log_syncs);
  BOOST_TEST(counts.wal_fsync == 0u);
  BOOST_TEST(counts.other_sync > 0u);
}

BOOST_AUTO_TEST_CASE(a_torn_unsynced_tail_is_dropped_not_fatal) {
  testing::temp_dir root;
  fault_env fe;
  auto dir = root.sub("db");
  auto db = open_on(fe, dir);
  std::vector<model::job> acked;
  std::vector<model::job> unacked;
  model::job_id next = 1;
  for (int i = 0; i < 30; ++i) {
    acked.push_back(make_job(next++));
    commit_job(*db, acked.back());
  }
  for (int i = 0; i < 6; ++i) {
    unacked.push_back(make_job(next++));
    write_job(*db, unacked.back());
  }
  // The log is the file holding the unsynced appends.
  std::string log;
  testing::fault_fs::unsynced tail;
  for (const auto& e : std::filesystem::directory_iterator{dir}) {
    auto t = fe.fs->unsynced_tail(e.path().string());
    if (e.path().extension() == ".log" && t && !t->append_ends.empty()) {
      log = e.path().string();
      tail = *t;
    }
  }
  BOOST_REQUIRE(!log.empty());
  BOOST_REQUIRE(tail.append_ends.size() >= unacked.size());
  BOOST_TEST_CONTEXT("only the synced bytes")
  BOOST_TEST(check_survivors(cut(fe, root, dir, "cut-synced"), acked, unacked)
             == 0u);
  // Cut inside each unsynced append (a torn record) and right after it.
  // Survivors only grow with the bytes kept, and every write is whole at
  // some append end: none needs a later write's bytes to be recovered.
  std::set<std::size_t> whole_at_end;
  std::size_t previous = 0;
  auto begin = tail.durable;
  for (auto end : tail.append_ends) {
    for (auto at : {begin + (end - begin) / 2, end}) {
      BOOST_TEST_CONTEXT("log cut at byte " << at << " of " << end) {
        auto copy = root.sub("cut-" + std::to_string(at));
        std::filesystem::create_directory(copy);
        fe.fs->power_cut_copy(dir, copy, {{log, at}});
        auto survivors = check_survivors(copy, acked, unacked);
        BOOST_TEST(survivors >= previous);
        previous = survivors;
        if (at == end)
          whole_at_end.insert(survivors);
      }
    }
    begin = end;
  }
  BOOST_TEST(previous == unacked.size()); // the whole tail: all replay
  for (std::size_t n = 1; n <= unacked.size(); ++n)
    BOOST_TEST(whole_at_end.count(n) == 1u, "write " << n << " never whole");
}

namespace {

/// How the failing job is made durable: commit() (one call), or write()
/// then sync(), as the journal actor's group commit does.
enum class via { commit, write_then_sync };

/// What the failure tests share: 5 acknowledged jobs, then job 6 that an
/// injected fault fails (`inject` flips the switch on and returns the text
/// the error must carry), then the switch goes off again and the journal
/// must still refuse commit, write and sync. Checked on a power-cut copy
/// and on the directory itself after a normal close and reopen.
void fails_and_stays_failed(
  via path,
  const std::function<std::string(testing::fault_fs&, bool on)>& inject) {
  testing::temp_dir root;
  fault_env fe;
  auto dir = root.sub("db");
  auto db = open_on(fe, dir);
  std::vector<model::job> acked;
  for (model::job_id id = 1; id <= 5; ++id) {
    acked.push_back(make_job(id));
    commit_job(*db, acked.back());
  }
  auto failed = make_job(6);
  auto text = inject(*fe.fs, true);
  auto fail = [&]() -> model::status {
    if (path == via::commit)
      return try_commit(*db, failed);
    auto fb = batch_of(failed);
    auto written = db->write(std::span<const write_batch>{&fb, 1});
    return written ? db->sync() : written; // an append fails the write
  };
  auto st = fail();
  BOOST_REQUIRE(!st);
  BOOST_TEST(st.error().code == model::errc::storage);
  BOOST_TEST(st.error().message.find(text) != std::string::npos,
             st.error().message);
  inject(*fe.fs, false);
  // The device works again, but the kernel may have dropped the pages the
  // failed fsync covered: a later successful fsync would prove nothing.
  // The journal's own guard must answer, not only RocksDB's background
  // error: that one is RocksDB's policy (DB::Resume() clears it), and a
  // SyncWAL after a failed log write does not even return an error with
  // Debian's librocksdb, which is built with assertions: it aborts the
  // process (assert sync_without_flush_called_ in WritableFileWriter).
  auto refused = [](const model::status& st) {
    return !st
           && st.error().message.find("read-only after an earlier")
                != std::string::npos;
  };
  BOOST_TEST(refused(try_commit(*db, make_job(7))));
  auto b = batch_of(make_job(8));
  BOOST_TEST(refused(db->write(std::span<const write_batch>{&b, 1})));
  BOOST_TEST(refused(db->sync()));
  // Job 6 is whole or absent. After a failed fsync its bytes are still in
  // the file (the page cache), so a plain reopen replays it: it comes back
  // although its commit failed. An error means "unknown", not "not
  // applied", across a restart (a retry needs an idempotency key). Jobs 7
  // and 8 were refused before reaching RocksDB: always absent.
  auto check = [&](const std::string& where) {
    auto survived = check_survivors(where, acked, {failed});
    BOOST_TEST_MESSAGE(where << ": the failed job 6 "
                             << (survived ? "survived" : "is absent"));
    auto reopened = persistence::open_rocksdb_journal({where});
    BOOST_REQUIRE(reopened);
    BOOST_TEST(!*(*reopened)->load(7));
    BOOST_TEST(!*(*reopened)->load(8));
  };
  BOOST_TEST_CONTEXT("power-cut copy") check(cut(fe, root, dir, "cut"));
  db.reset();
  BOOST_TEST_CONTEXT("reopened after close") check(dir);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_failed_fsync_fails_the_commit_and_every_later_one) {
  for (auto path : {via::commit, via::write_then_sync}) {
    BOOST_TEST_CONTEXT((path == via::commit ? "commit" : "write, sync"))
    fails_and_stays_failed(path, [](testing::fault_fs& fs, bool on) {
      fs.fail_syncs(on);
      return std::string{"injected fsync failure"};
    });
  }
}

BOOST_AUTO_TEST_CASE(
  a_failed_append_fails_the_commit_and_changes_nothing_acknowledged) {
  for (auto path : {via::commit, via::write_then_sync}) {
    for (bool torn : {false, true}) {
      BOOST_TEST_CONTEXT(
        (path == via::commit ? "commit" : "write, sync")
        << (torn ? ", half the record written" : ", nothing written"))
      fails_and_stays_failed(path, [torn](testing::fault_fs& fs, bool on) {
        fs.fail_appends(on, torn);
        return std::string{"injected append failure"};
      });
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
