// autoRun crons (docs/semantics.md §18) driven by the injected clock: the
// test moves the clock and tells the runtime (clock_changed), no sleeping for
// a cron.

#include <boost/test/unit_test.hpp>

#include <thread>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::testing::runtime_fixture;

namespace auto_run_test {

struct fixture : runtime_fixture {

  std::mutex log_mutex;
  std::vector<std::string> lines;
  std::atomic<int> should_calls{0};
  std::atomic<bool> release{false};
  std::atomic<int> slow_started{0};

  fixture() {
    // Ticks reach a real node a little after the second, not exactly on it
    // (jobs become due once the clock is past their waitUntil).
    now += 200;
    options.log = [this](const std::string& line) {
      std::lock_guard guard{log_mutex};
      lines.push_back(line);
    };
    add_task({.slug = "t", .handler = [this](task_context&) {
                bump("t");
                return json::object();
              }});
    add_task({.slug = "slow", .handler = [this](task_context&) {
                ++slow_started;
                testing::eventually([this] { return release.load(); });
                return json::object();
              }});
  }

  void every_second(const std::string& queue = "default") {
    auto_run_entry e;
    e.cron = "* * * * * *";
    e.queue = queue;
    options.auto_run.push_back(e);
  }

  /// Moves the clock one second and lets the crons see it.
  void tick() {
    now += 1000;
    rt->clock_changed();
  }

  /// Returns once the scheduler handled everything sent before: passes and
  /// clock changes reach it through the supervisor, in order.
  void barrier() { jobs->handle_schedules({"no-schedules-here", false}); }

  int log_count(const std::string& needle) {
    std::lock_guard guard{log_mutex};
    int n = 0;
    for (auto& l : lines)
      n += l.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  /// Liveness only: fails the test, showing the log, if `pred` stays false
  /// past the deadline of testing::eventually.
  template <class Pred>
  void eventually(Pred pred, const char* what) {
    if (testing::eventually(pred))
      return;
    {
      std::lock_guard guard{log_mutex};
      for (auto& l : lines)
        BOOST_TEST_MESSAGE("log: " << l);
    }
    BOOST_TEST_REQUIRE(false, what);
  }
};

} // namespace auto_run_test

BOOST_FIXTURE_TEST_SUITE(auto_run_tests, auto_run_test::fixture)
using namespace auto_run_test;

// docs/semantics.md §18: a job queued to the cron's queue is run by the cron
// alone.
BOOST_AUTO_TEST_CASE(the_cron_alone_runs_a_queued_job) {
  every_second("autorunSecond");
  start();
  auto id = queue_task("t", json::object(), "autorunSecond");
  tick();
  auto done = jobs->wait(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(count("t") == 1);
}

// docs/semantics.md §18: a tick that fails does not stop the cron.
BOOST_AUTO_TEST_CASE(a_failing_tick_does_not_stop_the_cron) {
  every_second();
  options.should_auto_run = [this] {
    if (++should_calls == 1)
      throw std::runtime_error("database unavailable");
    return true;
  };
  start();
  tick();
  barrier();
  eventually([&] { return log_count("database unavailable") == 1; },
             "the failing tick was logged");
  auto id = queue_task("t");
  tick();
  BOOST_TEST(jobs->wait(id)["status"] == "completed");
  BOOST_TEST(should_calls >= 2);
}

BOOST_AUTO_TEST_CASE(a_tick_never_overlaps_the_previous_one) {
  every_second();
  options.should_auto_run = [this] {
    ++should_calls;
    return true;
  };
  start();
  auto id = queue_task("slow");
  tick();
  eventually([&] { return slow_started == 1; }, "the first tick started slow");
  // The scheduler reads the clock when the change reaches it: one change
  // at a time.
  tick();
  barrier();
  tick();
  barrier();
  BOOST_TEST(log_count("tick skipped") == 2);
  BOOST_TEST(should_calls == 1);
  release = true;
  BOOST_TEST(jobs->wait(id)["status"] == "completed");
  // The first tick ends once its run() answered; then ticks fire again.
  eventually(
    [&] {
      tick();
      barrier();
      return should_calls >= 2;
    },
    "ticks fire again after the slow one");
}

// runtime::clock_changed() can be awaited: its future is ready once the
// tick it fired has scheduled and run, not before.
BOOST_AUTO_TEST_CASE(clock_changed_is_ready_once_its_tick_is_over) {
  every_second();
  start();
  auto fast = queue_task("t");
  now += 1000;
  BOOST_TEST((rt->clock_changed().wait_for(30s) == std::future_status::ready));
  // No waiting here: the tick's run() finished the job before answering.
  BOOST_TEST(count("t") == 1);
  BOOST_TEST(log_count(": ran ") == 1);
  BOOST_TEST(jobs->wait(fast)["status"] == "completed");

  auto slow = queue_task("slow");
  now += 1000;
  auto settled = rt->clock_changed();
  eventually([&] { return slow_started == 1; }, "the tick started slow");
  // The tick's run() is still waiting for the slow job.
  BOOST_TEST((settled.wait_for(0s) == std::future_status::timeout));
  release = true;
  BOOST_TEST((settled.wait_for(30s) == std::future_status::ready));
  BOOST_TEST(jobs->wait(slow)["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(should_auto_run_false_stops_the_cron_for_good) {
  every_second();
  options.should_auto_run = [this] {
    ++should_calls;
    return false;
  };
  start();
  tick();
  barrier();
  eventually([&] { return log_count("stopped") == 1; }, "the cron stopped");
  queue_task("t");
  for (int i = 0; i < 5; ++i)
    tick();
  barrier();
  BOOST_TEST(should_calls == 1);
  BOOST_TEST(count("t") == 0);
}

// A tick handles the schedules of its queue, then runs: a per-second
// schedule gets its job run by the cron, one per tick, none twice.
BOOST_AUTO_TEST_CASE(ticks_schedule_then_run) {
  std::mutex m;
  std::vector<model::time_ms> ran;
  add_task({.slug = "report",
            .handler =
              [&](task_context& ctx) {
                std::lock_guard guard{m};
                ran.push_back(ctx.job().wait_until.value_or(0));
                return json::object();
              },
            .schedule = {{.cron = "* * * * * *", .queue = "default"}}});
  every_second();
  start();
  // Gives the first tick something to run: every tick then logs "ran".
  queue_task("t");
  const auto t0 = now.load() - 200;
  for (int k = 1; k <= 10; ++k) {
    tick();
    // One tick at a time: the next one waits until this one's run answered.
    eventually([&] { return log_count(": ran ") == k; }, "the tick ran");
  }
  // The first tick queued the job of tick 2; every later tick ran its own.
  std::lock_guard guard{m};
  BOOST_TEST_REQUIRE(ran.size() == 9u);
  for (int k = 2; k <= 10; ++k)
    BOOST_TEST(ran[k - 2] == t0 + k * 1000);
}

BOOST_AUTO_TEST_CASE(a_bad_auto_run_entry_refuses_to_start) {
  auto_run_entry e;
  e.cron = "* * * *";
  options.auto_run.push_back(e);
  auto started = conveyor::start(sys, reg, options);
  BOOST_TEST_REQUIRE(!started);
  BOOST_TEST(started.error().message.find("auto_run[0].cron")
             != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
