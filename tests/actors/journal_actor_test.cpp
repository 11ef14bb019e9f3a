// The journal actor's group commit, against a journal whose fsync the test
// holds and releases: every requester is answered only after an fsync that
// covers its batch; requests that arrive during an fsync share the next one;
// a failed fsync fails its requesters and every later one.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include "actors/journal_actor.hpp"
#include "conveyor/runtime.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::actors {
namespace journal_actor_test {

using persistence::write_batch;

/// Records what was written and what was made durable. sync() blocks while
/// the gate is closed.
class gated_journal final : public persistence::journal {
public:
  explicit gated_journal(persistence::durability mode) : mode_(mode) {}

  model::status commit(std::span<const write_batch> batches) override {
    if (auto st = write(batches); !st)
      return st;
    return sync();
  }

  model::status write(std::span<const write_batch> batches) override {
    std::lock_guard guard{mutex_};
    if (fail_next_write_) {
      fail_next_write_ = false;
      return model::make_error(model::errc::storage, "injected write error");
    }
    for (const auto& b : batches)
      written_.push_back(std::get<persistence::put_meta>(b.ops.front()).key);
    ++writes_;
    changed_.notify_all();
    return model::ok();
  }

  model::status sync() override {
    std::unique_lock lock{mutex_};
    ++syncs_;
    changed_.notify_all();
    // Only what was written before the fsync started is covered by it.
    auto covered = written_.size();
    changed_.wait(lock, [this] { return open_; });
    if (fail_syncs_)
      return model::make_error(model::errc::storage, "injected fsync error");
    for (std::size_t i = 0; i < covered; ++i)
      durable_.insert(written_[i]);
    return model::ok();
  }

  void open_gate(bool open) {
    std::lock_guard guard{mutex_};
    open_ = open;
    changed_.notify_all();
  }

  void fail_syncs(bool fail) {
    std::lock_guard guard{mutex_};
    fail_syncs_ = fail;
  }

  void fail_next_write() {
    std::lock_guard guard{mutex_};
    fail_next_write_ = true;
  }

  /// Waits until `pred` holds for (written batches, fsync calls); false if
  /// it still does not after a generous deadline (a broken journal actor
  /// fails the test instead of hanging it).
  template <class Pred>
  bool wait_until(Pred pred) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, std::chrono::seconds{30},
                             [&] { return pred(written_.size(), syncs_); });
  }

  bool durable(const std::string& key) {
    std::lock_guard guard{mutex_};
    return durable_.count(key) > 0;
  }

  int syncs() {
    std::lock_guard guard{mutex_};
    return syncs_;
  }

  int writes() {
    std::lock_guard guard{mutex_};
    return writes_;
  }

  persistence::durability mode() const override { return mode_; }

  // Reads are not used by the journal actor.
  model::expected<std::optional<model::job>> load(model::job_id) override {
    return std::optional<model::job>{};
  }
  model::status
  scan_jobs(model::job_id,
            const std::function<bool(const model::job&)>&) override {
    return model::ok();
  }
  model::expected<std::vector<model::job_id>> ready_ids(const std::string&,
                                                        std::size_t) override {
    return std::vector<model::job_id>{};
  }
  model::expected<std::vector<model::job_id>> due_ids(model::time_ms,
                                                      std::size_t) override {
    return std::vector<model::job_id>{};
  }
  model::expected<std::optional<std::string>>
  get_meta(const std::string&) override {
    return std::optional<std::string>{};
  }
  model::expected<std::optional<model::job_id>>
  find_idempotency_key(const std::string&) override {
    return std::optional<model::job_id>{};
  }
  model::expected<persistence::recovered_state>
  recover(model::time_ms) override {
    return persistence::recovered_state{};
  }

private:
  persistence::durability mode_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> written_;
  std::set<std::string> durable_;
  int syncs_ = 0;
  int writes_ = 0;
  bool open_ = true;
  bool fail_syncs_ = false;
  bool fail_next_write_ = false;
};

write_batch batch(const std::string& key) {
  write_batch b;
  persistence::add_meta_write(b, key, "v");
  return b;
}

/// Commits one batch, then tells `reply_to` (key, ok, durable by then).
caf::behavior committer(caf::event_based_actor* self, journal_actor journal,
                        std::shared_ptr<gated_journal> db, std::string key,
                        caf::actor reply_to) {
  self->request(journal, caf::infinite, commit_atom::value, batch(key))
    .then(
      [=](std::uint64_t) {
        self->send(reply_to, key, true, db->durable(key));
        self->quit();
      },
      [=](caf::error&) {
        self->send(reply_to, key, false, db->durable(key));
        self->quit();
      });
  return {[](caf::unit_t) {}};
}

struct journal_fixture {
  struct config : caf::actor_system_config {
    config() {
      register_types(*this);
      set("scheduler.max-threads", 2);
    }
  };
  config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<gated_journal> db;
  journal_actor journal;

  explicit journal_fixture(
    persistence::durability mode = persistence::durability::sync)
      : db(std::make_shared<gated_journal>(mode)),
        journal(spawn_journal_actor(sys, db)) {}

  ~journal_fixture() {
    db->open_gate(true);
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }

  /// What each of `keys`' requesters saw when its answer arrived.
  struct answer {
    bool ok = false;
    bool durable_when_answered = false;
  };

  /// Sends one commit per key, all at once, and waits for every answer.
  std::map<std::string, answer>
  commit_all(const std::vector<std::string>& keys,
             std::function<void()> meanwhile = {}) {
    caf::scoped_actor self{sys};
    caf::actor reply_to{self};
    for (const auto& k : keys)
      sys.spawn(committer, journal, db, k, reply_to);
    if (meanwhile)
      meanwhile();
    std::map<std::string, answer> out;
    std::size_t received = 0;
    self->receive_for(received, keys.size())(
      [&](const std::string& k, bool ok, bool durable) {
        out[k] = answer{ok, durable};
      });
    return out;
  }
};

std::vector<std::string> keys(int n, const std::string& prefix = "k") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

} // namespace journal_actor_test

BOOST_AUTO_TEST_SUITE(journal_actor_tests)
using namespace journal_actor_test;

BOOST_FIXTURE_TEST_CASE(every_answer_comes_after_an_fsync_that_covers_it,
                        journal_fixture) {
  auto answers = commit_all(keys(64));
  BOOST_TEST(answers.size() == 64u);
  for (const auto& [k, a] : answers) {
    BOOST_TEST(a.ok, k);
    BOOST_TEST(a.durable_when_answered, k);
  }
  BOOST_TEST(db->syncs() >= 1);
}

BOOST_FIXTURE_TEST_CASE(requests_during_an_fsync_share_the_next_one,
                        journal_fixture) {
  db->open_gate(false);
  auto answers = commit_all(keys(64), [&] {
    // Every batch is written while the first fsync is held: the journal
    // thread keeps writing while the disk is busy.
    BOOST_TEST(db->wait_until([](std::size_t written, int syncs) {
      return written == 64 && syncs >= 1;
    }));
    BOOST_TEST(db->syncs() == 1);
    db->open_gate(true);
  });
  for (const auto& [k, a] : answers) {
    BOOST_TEST(a.ok, k);
    BOOST_TEST(a.durable_when_answered, k);
  }
  // The held fsync covered what was written before it started; one more
  // covers everything that arrived meanwhile.
  BOOST_TEST(db->syncs() <= 2);
  BOOST_TEST(db->writes() < 64);
}

BOOST_FIXTURE_TEST_CASE(a_failed_fsync_fails_its_requesters_and_every_later_one,
                        journal_fixture) {
  db->fail_syncs(true);
  auto first = commit_all(keys(8, "a"));
  for (const auto& [k, a] : first) {
    BOOST_TEST(!a.ok, k);
    BOOST_TEST(!a.durable_when_answered, k);
  }
  auto syncs = db->syncs();
  // An fsync that succeeds after a failed one proves nothing (the kernel
  // may have dropped the dirty pages): later requests fail without one.
  db->fail_syncs(false);
  auto later = commit_all(keys(8, "b"));
  for (const auto& [k, a] : later)
    BOOST_TEST(!a.ok, k);
  BOOST_TEST(db->syncs() == syncs);
}

BOOST_FIXTURE_TEST_CASE(a_failed_write_fails_only_its_group, journal_fixture) {
  db->fail_next_write();
  auto failed = commit_all({"x"});
  BOOST_TEST(!failed["x"].ok);
  auto next = commit_all({"y"});
  BOOST_TEST(next["y"].ok);
  BOOST_TEST(next["y"].durable_when_answered);
  BOOST_TEST(!db->durable("x"));
}

struct async_journal_fixture : journal_fixture {
  async_journal_fixture() : journal_fixture(persistence::durability::async) {}
};

BOOST_FIXTURE_TEST_CASE(async_mode_answers_after_the_write_without_fsync,
                        async_journal_fixture) {
  db->open_gate(false); // an fsync would block forever
  auto answers = commit_all(keys(16));
  for (const auto& [k, a] : answers)
    BOOST_TEST(a.ok, k);
  BOOST_TEST(db->syncs() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace conveyor::actors
