// Queue controls beyond Payload: pause and resume (durable), and the
// concurrency limit changed at runtime.

#include <boost/test/unit_test.hpp>

#include <thread>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace queue_controls_test {

struct fixture : runtime_fixture {

  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<bool> release{false};

  fixture() {
    options.delete_job_on_complete = false;
    add_task({.slug = "t", .handler = [this](task_context&) {
                bump("t");
                return json::object();
              }});
    // Counts how many run at once, until released.
    add_task({.slug = "hold", .handler = [this](task_context&) {
                auto now = ++running;
                for (int p = peak;
                     now > p && !peak.compare_exchange_weak(p, now);)
                  ;
                testing::eventually([this] { return release.load(); });
                --running;
                return json::object();
              }});
  }
};

} // namespace queue_controls_test

BOOST_FIXTURE_TEST_SUITE(queue_controls_tests, queue_controls_test::fixture)
using namespace queue_controls_test;

BOOST_AUTO_TEST_CASE(a_paused_queue_starts_nothing_until_resumed) {
  start();
  BOOST_TEST(jobs->pause("default")["paused"] == true);
  auto id = queue_task("t");
  BOOST_TEST(jobs->run().value("noJobsRemaining", false));
  BOOST_TEST(jobs->run_by_id(id).value("noJobsRemaining", false));
  BOOST_TEST(count("t") == 0);
  jobs->pause("default", false);
  jobs->run();
  BOOST_TEST(count("t") == 1);
}

BOOST_AUTO_TEST_CASE(pause_survives_a_restart) {
  options.continuous = true;
  start();
  jobs->pause("default");
  auto id = queue_task("t");
  restart();
  BOOST_TEST(testing::stays_false([&] { return count("t") > 0; },
                                  std::chrono::milliseconds(50)));
  BOOST_TEST(jobs->get(id)["status"] == "queued");
  jobs->pause("default", false);
  BOOST_TEST(jobs->wait(id)["status"] == "completed");
  restart();
  auto again = queue_task("t");
  BOOST_TEST(jobs->wait(again)["status"] == "completed"); // resume was durable
}

BOOST_AUTO_TEST_CASE(the_concurrency_limit_changes_at_runtime) {
  options.continuous = true;
  options.queues["default"].concurrency = 1;
  start();
  std::vector<model::job_id> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(queue_task("hold"));
  BOOST_TEST_REQUIRE(testing::eventually([&] { return running >= 1; }));
  BOOST_TEST(testing::stays_false([&] { return running > 1; },
                                  std::chrono::milliseconds(30)));
  BOOST_TEST(jobs->set_concurrency("default", 3)
             == (json{{"queue", "default"}, {"concurrency", 3}}));
  BOOST_TEST_REQUIRE(testing::eventually([&] { return running >= 3; }));
  BOOST_TEST(peak.load() == 3);
  release = true;
  for (auto id : ids)
    BOOST_TEST(jobs->wait(id)["status"] == "completed");
  BOOST_CHECK_THROW(jobs->set_concurrency("default", 0), request_error);
}

// The worker pool wakes one worker at a time and each woken worker wakes the
// next while work is queued: a burst of blocking tasks still gets every
// worker.
BOOST_AUTO_TEST_CASE(a_burst_of_blocking_tasks_gets_every_worker) {
  options.continuous = true;
  options.workers = 6;
  options.queues["default"].concurrency = 6;
  start();
  std::vector<queue_request> burst(6);
  for (auto& r : burst)
    r.task = "hold";
  auto queued = jobs->queue_bulk(burst);
  BOOST_TEST_REQUIRE(testing::eventually([&] { return running >= 6; }));
  BOOST_TEST(peak.load() == 6);
  release = true;
  for (auto& j : queued)
    BOOST_TEST(jobs->wait(client::id_of(j))["status"] == "completed");
}

BOOST_AUTO_TEST_SUITE_END()
