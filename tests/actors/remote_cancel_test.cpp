// Cancelling a job whose step runs on a remote worker node (in process here:
// the same protocol a `conveyor worker` speaks over the network).

#include <boost/test/unit_test.hpp>

#include <thread>

#include "conveyor/remote.hpp"
#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace remote_cancel_test {

struct fixture : runtime_fixture {

  std::atomic<bool> entered{false};
  std::atomic<bool> saw_stop{false};

  fixture() {
    options.continuous = true;
    options.delete_job_on_complete = false;
    // The serve side only declares the task remote.
    add_task({.slug = "far", .handler = {}, .remote = true});
  }

  /// A worker node serving "far": works until its stop token flips.
  void start_worker() {
    auto wreg = std::make_shared<registry>();
    auto st = wreg->add_task(
      {.slug = "far", .handler = [this](task_context& ctx) {
         entered = true;
         // Bounded, so a cancel that never arrives fails the test (saw_stop
         // stays false) instead of hanging it.
         testing::eventually([&] { return ctx.stop_requested(); },
                             std::chrono::seconds(10));
         if (!ctx.stop_requested())
           return json::object();
         saw_stop = true;
         throw job_cancelled{"stopped on request"};
       }});
    BOOST_TEST_REQUIRE(bool(st));
    auto node = spawn_worker_node(sys, wreg, 2);
    caf::anon_send(rt->remote_workers(), register_worker_atom::value, node,
                   std::vector<std::string>{"*"},
                   std::vector<std::string>{"far"});
  }
};

} // namespace remote_cancel_test

BOOST_FIXTURE_TEST_SUITE(remote_cancel_tests, remote_cancel_test::fixture)
using namespace remote_cancel_test;

BOOST_AUTO_TEST_CASE(a_cancel_reaches_the_task_on_the_worker_node) {
  start();
  start_worker();
  auto id = queue_task("far");
  BOOST_TEST_REQUIRE(testing::eventually([&] { return entered.load(); }));
  jobs->cancel_by_id(id);
  auto done = jobs->wait(id);
  BOOST_TEST(done["status"] == "cancelled");
  BOOST_TEST(saw_stop.load());
}

BOOST_AUTO_TEST_CASE(a_cancel_ends_an_attempt_still_waiting_for_a_worker) {
  start(); // no worker node ever registers
  auto id = queue_task("far");
  // Wait until the attempt is running (its lease taken), then cancel.
  BOOST_TEST_REQUIRE(
    testing::eventually([&] { return jobs->get(id)["status"] == "running"; }));
  jobs->cancel_by_id(id);
  // Without a worker the attempt would wait forever: bound the wait.
  BOOST_TEST(bounded_wait(id, std::chrono::seconds(10))["status"]
             == "cancelled");
  BOOST_TEST(!entered.load());
}

BOOST_AUTO_TEST_SUITE_END()
