// The clean stop (docs/semantics.md §13): running tasks get
// runtime_options::stop_grace to finish, those left are interrupted (no
// failure, no retry), and no step whose success was journaled runs again —
// including the finished steps of a parallel await whose siblings still run.

#include <boost/test/unit_test.hpp>

#include <future>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace stop_test {

struct fixture : runtime_fixture {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();

  fixture() {
    options.continuous = true;
    options.delete_job_on_complete = false;
    add_task({.slug = "fast", .handler = [this](task_context&) {
                bump("fast");
                return json{{"fast", true}};
              }});
    // The first attempt works until its stop token flips; later ones end
    // at once.
    add_task({.slug = "stubborn", .handler = [this](task_context& ctx) {
                bump("stubborn");
                if (count("stubborn") == 1)
                  testing::eventually([&] { return ctx.stop_requested(); });
                return json::object();
              }});
    // Finishes when the test releases it.
    add_task({.slug = "gated", .handler = [this](task_context&) {
                bump("gated");
                released.wait_for(std::chrono::seconds(30));
                return json::object();
              }});
    add_workflow(
      {.slug = "pair", .handler = [](workflow_context& wf) -> workflow {
         co_await wf.all(wf.task("fast", "a"), wf.task("stubborn", "b"));
       }});
  }

  /// The job's journaled log holds a success of task `id`.
  bool journaled_success(model::job_id job, const std::string& id) {
    for (auto& e : jobs->get(job).value("log", json::array()))
      if (e.value("taskID", "") == id && e.value("state", "") == "succeeded")
        return true;
    return false;
  }

  static bool stopped_within(std::future<void>& f,
                             std::chrono::seconds deadline) {
    return f.wait_for(deadline) == std::future_status::ready;
  }
};

} // namespace stop_test

BOOST_FIXTURE_TEST_SUITE(stop_tests, stop_test::fixture)
using namespace stop_test;

BOOST_AUTO_TEST_CASE(a_parallel_success_is_journaled_while_its_sibling_runs) {
  options.stop_grace = std::chrono::milliseconds{0};
  start();
  auto id = queue_workflow("pair");
  BOOST_TEST_REQUIRE(
    testing::eventually([&] { return journaled_success(id, "a"); }));
  BOOST_TEST(count("stubborn") == 1); // still running: the await is open
  restart();                          // grace 0: "b" is interrupted
  auto done = bounded_wait(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(count("fast") == 1); // journaled, so never run again
  BOOST_TEST(count("stubborn") == 2);
  BOOST_TEST(done["interruptions"] == 1);
  BOOST_TEST(done["totalTried"] == 1);
}

BOOST_AUTO_TEST_CASE(a_clean_stop_lets_running_tasks_finish_within_the_grace) {
  start();
  auto id = queue_task("gated");
  BOOST_TEST_REQUIRE(testing::eventually([&] { return count("gated") == 1; }));
  auto stopped = std::async(std::launch::async, [&] { stop(); });
  BOOST_TEST(testing::stays_false(
    [&] {
      return stopped.wait_for(std::chrono::seconds(0))
             == std::future_status::ready;
    },
    std::chrono::milliseconds(300)));
  release.set_value();
  BOOST_TEST_REQUIRE(stopped_within(stopped, std::chrono::seconds(30)));
  start();
  auto done = jobs->get(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(!done.contains("interruptions"));
  BOOST_TEST(count("gated") == 1);
}

BOOST_AUTO_TEST_CASE(tasks_left_when_the_grace_ends_are_interrupted) {
  options.stop_grace = std::chrono::milliseconds{50};
  options.continuous = true;
  start();
  auto id = queue_task("stubborn");
  BOOST_TEST_REQUIRE(
    testing::eventually([&] { return count("stubborn") == 1; }));
  stop();
  options.continuous = false; // look at the job before it runs again
  start();
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "queued");
  BOOST_TEST(j["interruptions"] == 1);
  BOOST_TEST(j["totalTried"] == 0); // no retry consumed
  BOOST_TEST(j["hasError"] == false);
  BOOST_TEST(!j.contains("processingUntil"));
  jobs->run();
  BOOST_TEST(jobs->get(id)["status"] == "completed");
  BOOST_TEST(count("stubborn") == 2);
}

BOOST_AUTO_TEST_CASE(a_stopping_node_starts_no_new_job) {
  start();
  auto first = queue_task("gated");
  BOOST_TEST_REQUIRE(testing::eventually([&] { return count("gated") == 1; }));
  client direct{sys, rt->supervisor()};
  auto stopped = std::async(std::launch::async, [&] { rt->stop(); });
  // Draining (the gated task holds it open): run() is refused, not
  // answered empty...
  BOOST_TEST_REQUIRE(testing::eventually([&] {
    try {
      direct.run({});
      return false;
    } catch (const request_error& e) {
      return e.code() == errc::unavailable;
    }
  }));
  // ... a new job is accepted (durable) but does not start.
  queue_request req;
  req.task = "fast";
  auto second = client::id_of(direct.queue(req));
  BOOST_TEST(testing::stays_false([&] { return count("fast") > 0; },
                                  std::chrono::milliseconds(300)));
  release.set_value();
  BOOST_TEST_REQUIRE(stopped_within(stopped, std::chrono::seconds(30)));
  jobs.reset();
  rt.reset();
  start();
  BOOST_TEST(jobs->get(first)["status"] == "completed");
  BOOST_TEST(bounded_wait(second)["status"] == "completed");
  BOOST_TEST(count("fast") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
