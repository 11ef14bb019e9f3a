// Poison pills: a job that takes down whatever runs it. A worker node that
// vanishes mid-task releases the job with nothing consumed, but counted; at
// max_interruptions the job fails for good instead of killing every worker
// in turn. (Crash recovery of the serve process: persistence tests and
// tests/e2e/restart_test.sh.)

#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

#include "conveyor/remote.hpp"
#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace interruption_test {

struct fixture : runtime_fixture {
  std::atomic<int> entered{0};
  std::atomic<bool> release_handler{false};

  fixture() {
    options.continuous = true;
    options.delete_job_on_complete = false;
    add_task({.slug = "poison", .handler = {}, .remote = true});
  }

  /// A worker node serving "poison" whose handler blocks until the test
  /// lets it go (the node is killed meanwhile).
  worker_node_actor start_worker() {
    auto wreg = std::make_shared<registry>();
    auto st = wreg->add_task(
      {.slug = "poison", .handler = [this](task_context&) {
         ++entered;
         testing::eventually([this] { return release_handler.load(); });
         return json::object();
       }});
    BOOST_TEST_REQUIRE(bool(st));
    auto node = spawn_worker_node(sys, wreg, 1);
    caf::anon_send(rt->remote_workers(), register_worker_atom::value, node,
                   std::vector<std::string>{"*"},
                   std::vector<std::string>{"poison"});
    return node;
  }

  /// Starts a worker, waits until the job's task entered its handler there,
  /// then kills the node as a crashing process would die.
  void lose_a_worker_to(int nth_entry) {
    auto node = start_worker();
    testing::eventually([&] { return entered >= nth_entry; });
    BOOST_TEST_REQUIRE(entered.load() == nth_entry);
    caf::anon_send_exit(node, caf::exit_reason::kill);
  }
};

} // namespace interruption_test

BOOST_FIXTURE_TEST_SUITE(interruption_tests, interruption_test::fixture)
using namespace interruption_test;

BOOST_AUTO_TEST_CASE(a_job_that_kills_its_workers_fails_at_the_limit) {
  options.max_interruptions = 3;
  start();
  auto id = queue_task("poison");
  for (int n = 1; n <= 2; ++n) {
    lose_a_worker_to(n);
    // Pending again, counted, nothing consumed.
    json doc;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      doc = jobs->get(id);
    } while (doc.value("interruptions", 0) < n
             && std::chrono::steady_clock::now() < deadline);
    BOOST_TEST(doc.value("interruptions", 0) == n);
    BOOST_TEST(doc["totalTried"] == 0);
    BOOST_TEST(doc["hasError"] == false);
  }
  lose_a_worker_to(3);
  auto done = bounded_wait(id);
  release_handler = true;
  BOOST_TEST(done["status"] == "failed");
  BOOST_TEST(done["hasError"] == true);
  BOOST_TEST(done["error"]["name"] == "JobInterrupted");
  BOOST_TEST(done["interruptions"] == 3);
  BOOST_TEST(entered.load() == 3);
}

BOOST_AUTO_TEST_CASE(without_a_limit_a_lost_worker_only_releases) {
  options.max_interruptions = 0;
  start();
  auto id = queue_task("poison");
  for (int n = 1; n <= 3; ++n)
    lose_a_worker_to(n);
  // A healthy worker finally runs it.
  release_handler = true;
  start_worker();
  auto done = bounded_wait(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(done["interruptions"] == 3);
  BOOST_TEST(done["totalTried"] == 1);
}

BOOST_AUTO_TEST_CASE(a_run_leaves_out_a_job_lost_to_a_dead_worker) {
  options.continuous = false;
  start();
  auto id = queue_task("poison");
  auto ran = std::async(std::launch::async, [&] { return jobs->run({}); });
  lose_a_worker_to(1);
  BOOST_TEST_REQUIRE(
    (ran.wait_for(std::chrono::seconds(30)) == std::future_status::ready));
  auto res = ran.get();
  // It did not fail: no "error" entry, but it is still to be run.
  BOOST_TEST(!res["jobStatus"].contains(std::to_string(id)), res.dump());
  BOOST_TEST(res["remainingJobsFromQueried"] == 1);
  auto doc = jobs->get(id);
  BOOST_TEST(doc["status"] == "queued");
  BOOST_TEST(doc["interruptions"] == 1);
  release_handler = true;
}

BOOST_AUTO_TEST_SUITE_END()
