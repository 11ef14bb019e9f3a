// Leases (docs/semantics.md §13): a running job's processingUntil moves
// forward while its attempt is alive, in process and on a worker node that
// heartbeats; an attempt on a worker that stops heartbeating is lost when
// the lease runs out (pending again, counted as an interruption) and the
// worker is told to stop it.

#include <boost/test/unit_test.hpp>

#include <future>
#include <mutex>

#include "conveyor/remote.hpp"
#include "model/time.hpp"
#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::testing::eventually;
using conveyor::testing::runtime_fixture;

namespace lease_test {

constexpr auto lease = 300ms;

struct fixture : runtime_fixture {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> entered{false};

  fixture() {
    // Leases are wall-clock timers here: the real clock.
    options.clock = [] {
      using namespace std::chrono;
      return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
        .count();
    };
    options.lease = lease;
    options.continuous = true;
    options.delete_job_on_complete = false;
    auto hold = [this](task_context&) {
      entered = true;
      // Bounded: a test that never releases fails instead of hanging.
      released.wait_for(30s);
      return json::object();
    };
    add_task({.slug = "hold", .handler = hold});
    add_task({.slug = "far", .handler = {}, .remote = true});
  }

  ~fixture() {
    try {
      release.set_value();
    } catch (const std::future_error&) {
    }
  }

  model::time_ms processing_until(model::job_id id) {
    auto doc = jobs->get(id);
    if (!doc.contains("processingUntil"))
      return 0;
    return model::parse_iso8601(doc["processingUntil"].get<std::string>())
      .value_or(0);
  }

  /// Waits until the job's lease was renewed past two whole leases after
  /// the first one seen: it outlived its lease twice and is still running.
  void expect_renewed_twice(model::job_id id) {
    model::time_ms first = 0;
    BOOST_TEST_REQUIRE(eventually([&] {
      first = processing_until(id);
      return first > 0;
    }));
    BOOST_TEST(eventually(
      [&] { return processing_until(id) >= first + 2 * lease.count(); }));
    BOOST_TEST(jobs->get(id)["status"] == "running");
  }
};

/// A worker node that takes attempts and never answers nor heartbeats (a
/// hung process whose connection stays up); it records what it is told.
struct silent_worker {
  std::mutex m;
  std::vector<remote_task> taken;
  std::vector<std::pair<std::uint64_t, std::string>> cancels;

  worker_node_actor spawn(caf::actor_system& sys) {
    // `this` through spawn: CAF 0.17 trips over a function actor spawned
    // without arguments (UBSan: null reference in init_fun_factory).
    auto a = sys.spawn(
      [](caf::event_based_actor*, silent_worker* w) -> caf::behavior {
        return {
          [w](run_task_atom, remote_task& t) {
            std::lock_guard g{w->m};
            w->taken.push_back(std::move(t));
          },
          [w](cancel_task_atom, std::uint64_t job, const std::string& l) {
            std::lock_guard g{w->m};
            w->cancels.emplace_back(job, l);
          },
        };
      },
      this);
    return caf::actor_cast<worker_node_actor>(a);
  }

  std::size_t cancelled() {
    std::lock_guard g{m};
    return cancels.size();
  }
};

} // namespace lease_test

BOOST_FIXTURE_TEST_SUITE(lease_tests, lease_test::fixture)
using namespace lease_test;

BOOST_AUTO_TEST_CASE(a_long_task_in_process_keeps_moving_its_lease) {
  start();
  auto id = queue_task("hold");
  expect_renewed_twice(id);
  release.set_value();
  auto done = bounded_wait(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(!done.contains("interruptions"));
}

BOOST_AUTO_TEST_CASE(a_heartbeating_worker_keeps_its_attempt_past_the_lease) {
  start();
  auto wreg = std::make_shared<registry>();
  BOOST_TEST_REQUIRE(
    bool(wreg->add_task({.slug = "far", .handler = [this](task_context&) {
                           entered = true;
                           released.wait_for(30s);
                           return json{{"done", true}};
                         }})));
  auto node = spawn_worker_node(sys, wreg, 1, 50ms);
  caf::anon_send(rt->remote_workers(), register_worker_atom::value, node,
                 std::vector<std::string>{"*"},
                 std::vector<std::string>{"far"});
  auto id = queue_task("far");
  BOOST_TEST_REQUIRE(eventually([&] { return entered.load(); }));
  expect_renewed_twice(id);
  release.set_value();
  auto done = bounded_wait(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(!done.contains("interruptions"));
  BOOST_TEST(done["totalTried"] == 1);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_silent_worker_loses_its_attempt_when_the_lease_ends) {
  options.max_interruptions = 2;
  start();
  silent_worker silent;
  auto w = silent.spawn(sys);
  caf::anon_send(rt->remote_workers(), register_worker_atom::value, w,
                 std::vector<std::string>{"*"},
                 std::vector<std::string>{"far"});
  auto id = queue_task("far");
  // Lost once (pending again, interruption 1), sent again, lost again: the
  // second interruption fails it for good. No retry was consumed.
  auto done = bounded_wait(id);
  BOOST_TEST(done["status"] == "failed");
  BOOST_TEST(done["error"]["name"] == "JobInterrupted");
  BOOST_TEST(done["interruptions"] == 2);
  // Each lost attempt was called off on the worker, by its own lease.
  BOOST_TEST_REQUIRE(eventually([&] { return silent.cancelled() >= 2; }));
  std::lock_guard g{silent.m};
  BOOST_TEST(silent.taken.size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    BOOST_TEST(silent.cancels[i].first == id);
    BOOST_TEST(silent.cancels[i].second == silent.taken[i].lease_token);
  }
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
