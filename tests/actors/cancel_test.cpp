// Cancellation (docs/semantics.md §11), the stop token, and races between
// cancel and completion.

#include <boost/test/unit_test.hpp>

#include <future>
#include <random>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;
using model::retry_config;

namespace cancel_test {

// Burns CPU for `us` microseconds. The race below needs work and cancel
// offsets of a chosen length; they are the input under test, not a wait for
// something, so they spin on the clock instead of sleeping.
void busy_for(int us) {
  const auto until =
    std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

struct fixture : runtime_fixture {

  std::promise<void> entered;
  std::shared_future<void> entered_future = entered.get_future().share();

  fixture() { options.delete_job_on_complete = false; }

  /// A workflow of 4 tasks; the first signals `entered` and then works until
  /// its stop token flips (a cooperative long task).
  void add_long_workflow() {
    add_workflow({.slug = "long",
                  .handler = [this](workflow_context& wf) -> workflow {
                    for (int i = 1; i <= 4; ++i) {
                      co_await wf.inline_task(std::to_string(i),
                                              [this, i](task_context& ctx) {
                                                bump("step");
                                                if (i == 1) {
                                                  entered.set_value();
                                                  testing::eventually([&] {
                                                    return ctx.stop_requested();
                                                  });
                                                }
                                                return json{{"step", i}};
                                              });
                    }
                  },
                  .retries = retry_config{.attempts = 4}});
  }

  void expect_cancelled(model::job_id id) {
    auto j = jobs->get(id);
    BOOST_TEST(j["status"] == "cancelled");
    BOOST_TEST(!j.contains("completedAt"));
    BOOST_TEST(j["hasError"] == true);
    BOOST_TEST(j["error"]["cancelled"] == true);
    BOOST_TEST(!j.contains("processingUntil"));
    BOOST_TEST(!j.contains("processingToken"));
    BOOST_TEST(!j.contains("waitUntil"));
  }
};

} // namespace cancel_test

BOOST_FIXTURE_TEST_SUITE(cancel_tests, cancel_test::fixture)
using namespace cancel_test;

BOOST_AUTO_TEST_CASE(cancel_by_id_stops_a_running_workflow_between_steps) {
  add_long_workflow();
  start();
  auto id = queue_workflow("long");
  auto runner = std::async(std::launch::async, [&] {
    client mine{sys, rt->supervisor()};
    return mine.run();
  });
  entered_future.wait();
  BOOST_TEST(jobs->get(id)["status"] == "running");
  BOOST_TEST(jobs->get(id).contains("processingToken"));
  auto cancelled = jobs->cancel_by_id(id); // returns once journaled
  BOOST_TEST(cancelled["status"] == "cancelled");
  auto res = runner.get();
  BOOST_TEST(res["jobStatus"][std::to_string(id)]["status"]
             == "error-reached-max-retries");
  expect_cancelled(id);
  // The step that was running finished and is logged; no later step ran.
  BOOST_TEST(count("step") == 1);
  BOOST_TEST(jobs->get(id)["log"].size() == 1u);
  BOOST_TEST(jobs->run().value("noJobsRemaining", false));
  BOOST_TEST(jobs->get(id)["totalTried"] == 0);
}

BOOST_AUTO_TEST_CASE(cancel_with_where_stops_a_running_workflow) {
  add_long_workflow();
  options.continuous = true;
  start();
  auto id = queue_workflow("long");
  entered_future.wait();
  cancel_request req;
  req.where = {{"id", {{"exists", true}}}};
  auto res = jobs->cancel(req);
  BOOST_TEST(res["cancelled"] == json::array({std::to_string(id)}));
  expect_cancelled(id);
  BOOST_TEST(count("step") == 1);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_pending_job_and_queue_scope) {
  add_task(
    {.slug = "t", .handler = [](task_context&) { return json::object(); }});
  start();
  auto a = queue_task("t", json::object(), "a");
  auto b = queue_task("t", json::object(), "b");
  cancel_request req;
  req.where = {{"id", {{"exists", true}}}};
  req.queue = "a";
  jobs->cancel(req);
  expect_cancelled(a);
  BOOST_TEST(jobs->get(b)["status"] == "queued");
  run_request run;
  run.queue = "a";
  BOOST_TEST(jobs->run(run).value("noJobsRemaining", false));
}

BOOST_AUTO_TEST_CASE(a_workflow_cancels_itself_whatever_its_retries) {
  add_workflow({.slug = "plain-error",
                .handler = [](workflow_context&) -> workflow {
                  throw std::runtime_error("Failed, not cancelled");
                  co_return;
                },
                .retries = retry_config{.attempts = 4}});
  add_workflow({.slug = "self-cancel",
                .handler = [](workflow_context&) -> workflow {
                  throw job_cancelled("stop here");
                  co_return;
                },
                .retries = retry_config{.attempts = 4}});
  start();
  auto plain = queue_workflow("plain-error");
  auto res = jobs->run();
  BOOST_TEST(res["jobStatus"][std::to_string(plain)]["status"] == "error");
  BOOST_TEST(res["remainingJobsFromQueried"] == 1);
  auto j = jobs->get(plain);
  BOOST_TEST(j["error"]["message"] == "Failed, not cancelled");
  BOOST_TEST(j["totalTried"] == 1);
  BOOST_TEST(j["hasError"] == false);
  jobs->cancel_by_id(plain);
  auto id = queue_workflow("self-cancel");
  res = jobs->run();
  BOOST_TEST(res["jobStatus"][std::to_string(id)]["status"]
             == "error-reached-max-retries");
  BOOST_TEST(res["remainingJobsFromQueried"] == 0);
  expect_cancelled(id);
  BOOST_TEST(jobs->get(id)["error"]["message"] == "stop here");
  BOOST_TEST(jobs->get(id)["totalTried"] == 0);
  BOOST_TEST(jobs->run().value("noJobsRemaining", false));
}

BOOST_AUTO_TEST_CASE(a_task_cancels_itself_whatever_its_retries) {
  add_task({.slug = "SelfCancel",
            .handler = [](task_context& ctx) -> json {
              if (ctx.input().value("shouldCancel", false))
                throw job_cancelled("cancelled by the task");
              throw std::runtime_error("Failed, not cancelled");
            },
            .retries = retry_config{.attempts = 4}});
  start();
  auto plain = queue_task("SelfCancel");
  jobs->run();
  auto j = jobs->get(plain);
  BOOST_TEST(j["hasError"] == false);
  BOOST_REQUIRE(j["log"].size() == 1u);
  BOOST_TEST(j["log"][0]["error"]["message"] == "Failed, not cancelled");
  jobs->cancel_by_id(plain);
  auto id = queue_task("SelfCancel", {{"shouldCancel", true}});
  auto res = jobs->run();
  BOOST_TEST(res["jobStatus"][std::to_string(id)]["status"]
             == "error-reached-max-retries");
  expect_cancelled(id);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_terminal_job_changes_nothing) {
  add_task(
    {.slug = "ok", .handler = [](task_context&) { return json::object(); }});
  add_task({.slug = "bad", .handler = [](task_context&) -> json {
              throw std::runtime_error("x");
            }});
  start();
  auto done = queue_task("ok");
  auto failed = queue_task("bad");
  jobs->run();
  auto before_done = jobs->get(done);
  auto before_failed = jobs->get(failed);
  BOOST_TEST(jobs->cancel_by_id(done)["status"] == "completed");
  BOOST_TEST(jobs->cancel_by_id(failed)["status"] == "failed");
  BOOST_TEST(jobs->get(done) == before_done);
  BOOST_TEST(jobs->get(failed) == before_failed);
  BOOST_CHECK_THROW(jobs->cancel_by_id(999'999), request_error);
}

// Cancel races completion at random offsets: every job ends in exactly one
// terminal state, cancel answers with that state, and it never changes.
BOOST_AUTO_TEST_CASE(cancel_races_completion) {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("CONVEYOR_SEED"))
    seed = static_cast<unsigned>(std::stoul(s));
  BOOST_TEST_MESSAGE("CONVEYOR_SEED=" << seed);
  std::mt19937 rng{seed};
  add_task({.slug = "short", .handler = [](task_context& ctx) {
              busy_for(ctx.input().at("us").get<int>());
              return json::object();
            }});
  options.continuous = true;
  start();
  std::uniform_int_distribution<int> work_us{0, 1500}, wait_us{0, 2000};
  int completed = 0, cancelled = 0;
  for (int i = 0; i < 150; ++i) {
    BOOST_TEST_CONTEXT("CONVEYOR_SEED=" << seed << " round " << i) {
      auto id = queue_task("short", {{"us", work_us(rng)}});
      busy_for(wait_us(rng));
      auto first = jobs->cancel_by_id(id);
      auto second = jobs->cancel_by_id(id);
      auto final_doc = jobs->wait(id);
      auto status = final_doc["status"].get<std::string>();
      BOOST_TEST((status == "completed" || status == "cancelled"));
      BOOST_TEST(first["status"] == status);
      BOOST_TEST(second["status"] == status);
      BOOST_TEST(jobs->get(id)["status"] == status);
      (status == "completed" ? completed : cancelled)++;
    }
  }
  BOOST_TEST_MESSAGE("completed " << completed << ", cancelled " << cancelled);
}

BOOST_AUTO_TEST_SUITE_END()
