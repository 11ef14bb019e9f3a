// Workflows as coroutines: restore, retries at task and workflow level
// (docs/semantics.md §7 to §10), nested and parallel tasks, restart recovery.

#include <boost/test/unit_test.hpp>

#include <thread>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;
using model::retry_config;

namespace workflow_test {

struct fixture : runtime_fixture {

  fixture() {
    options.delete_job_on_complete = false;
    add_task({.slug = "ok", .handler = [this](task_context& ctx) {
                bump("ok:" + ctx.task_id());
                return json{{"echo", ctx.input()}};
              }});
    add_task({.slug = "fails", .handler = [this](task_context& ctx) -> json {
                bump("fails:" + ctx.task_id());
                throw std::runtime_error("failed");
              }});
  }
};

json job(runtime_fixture& f, model::job_id id) {
  return f.jobs->get(id);
}

} // namespace workflow_test

BOOST_FIXTURE_TEST_SUITE(workflow_tests, workflow_test::fixture)
using namespace workflow_test;

BOOST_AUTO_TEST_CASE(task_two_sees_task_one_output_via_input_and_status) {
  add_workflow(
    {.slug = "updatePost", .handler = [](workflow_context& wf) -> workflow {
       json first = {{"v", "hello"}};
       auto out = co_await wf.task("ok", "1", {first});
       auto seen = wf.task_status().at("ok").at("1").output;
       json second = {{"a", out}, {"b", seen}};
       co_await wf.task("ok", "2", {second});
     }});
  start();
  auto id = queue_workflow("updatePost");
  jobs->run();
  auto j = job(*this, id);
  BOOST_TEST(j["status"] == "completed");
  auto two = j["taskStatus"]["ok"]["2"]["output"]["echo"];
  BOOST_TEST(two["a"]["echo"]["v"] == "hello");
  BOOST_TEST(two["b"]["echo"]["v"] == "hello");
  BOOST_TEST(j["log"].size() == 2u);
}

// The worked examples of docs/semantics.md §10, end to end.
struct table_row {
  std::optional<retry_config> wf;
  std::optional<retry_config> task;
  int executions;
};

BOOST_AUTO_TEST_CASE(retry_table_of_spec_3_6) {
  std::vector<table_row> rows{
    {std::nullopt, retry_config{.attempts = 3}, 4},
    {retry_config{.attempts = 2}, retry_config{.attempts = 3}, 3},
    {retry_config{.attempts = 0}, retry_config{.attempts = 3}, 1},
    {std::nullopt, std::nullopt, 1},
    {retry_config{.attempts = 2}, std::nullopt, 3},
    {retry_config{.attempts = 2}, retry_config{.attempts = 0}, 1},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    BOOST_TEST_CONTEXT("row " << i) {
      runtime_fixture f;
      f.options.delete_job_on_complete = false;
      f.add_task({.slug = "ok", .handler = [&f](task_context& ctx) {
                    f.bump("ok:" + ctx.task_id());
                    return json::object();
                  }});
      f.add_task({.slug = "fails", .handler = [&f](task_context&) -> json {
                    f.bump("fails");
                    throw std::runtime_error("failed");
                  }});
      auto task_retries = rows[i].task;
      f.add_workflow(
        {.slug = "wf",
         .handler = [&f, task_retries](workflow_context& wf) -> workflow {
           f.bump("wf");
           co_await wf.task("ok", "1");
           co_await wf.task("fails", "2", {json::object(), task_retries});
         },
         .retries = rows[i].wf});
      f.start();
      auto id = f.queue_workflow("wf");
      f.run_until_empty();
      BOOST_TEST(f.count("wf") == rows[i].executions);
      BOOST_TEST(f.count("ok:1") == 1); // restored on every retry
      auto j = f.jobs->get(id);
      BOOST_TEST(j["hasError"] == true);
      BOOST_TEST(j["status"] == "failed");
      BOOST_TEST(j["totalTried"] == rows[i].executions);
    }
  }
}

BOOST_AUTO_TEST_CASE(workflow_level_error_without_retries_is_final) {
  add_workflow(
    {.slug = "throws", .handler = [this](workflow_context&) -> workflow {
       bump("throws");
       throw std::runtime_error("boom");
       co_return;
     }});
  start();
  auto id = queue_workflow("throws");
  auto res = jobs->run();
  BOOST_TEST(res["jobStatus"][std::to_string(id)]["status"]
             == "error-reached-max-retries");
  auto j = job(*this, id);
  BOOST_TEST(j["totalTried"] == 1);
  BOOST_TEST(j["hasError"] == true);
  BOOST_TEST(j["error"]["message"] == "boom");
  BOOST_TEST(!j.contains("processingUntil"));
}

BOOST_AUTO_TEST_CASE(workflow_level_error_with_one_retry_runs_twice) {
  add_workflow({.slug = "throws",
                .handler = [this](workflow_context&) -> workflow {
                  bump("throws");
                  throw std::runtime_error("boom");
                  co_return;
                },
                .retries = retry_config{.attempts = 1}});
  start();
  auto id = queue_workflow("throws");
  auto first = jobs->run();
  BOOST_TEST(first["jobStatus"][std::to_string(id)]["status"] == "error");
  BOOST_TEST(first["remainingJobsFromQueried"] == 1);
  BOOST_TEST(job(*this, id)["error"]["message"]
             == "boom"); // set while retrying
  BOOST_TEST(job(*this, id)["hasError"] == false);
  run_until_empty();
  auto j = job(*this, id);
  BOOST_TEST(j["totalTried"] == 2);
  BOOST_TEST(j["hasError"] == true);
  BOOST_TEST(count("throws") == 2);
}

BOOST_AUTO_TEST_CASE(task_error_is_logged_with_its_message) {
  add_task({.slug = "ThrowError",
            .handler = [](task_context&) -> json {
              throw std::runtime_error("failed");
            },
            .retries = retry_config{.attempts = 0}});
  start();
  auto id = queue_task("ThrowError");
  jobs->run();
  auto j = job(*this, id);
  BOOST_TEST(j["hasError"] == true);
  BOOST_REQUIRE(j["log"].size() == 1u);
  BOOST_TEST(j["log"][0]["state"] == "failed");
  BOOST_TEST(j["log"][0]["error"]["message"] == "failed");
  BOOST_TEST(j["error"]["message"] == "failed");
}

BOOST_AUTO_TEST_CASE(exponential_backoff_of_an_inline_task) {
  std::vector<model::time_ms> attempts;
  add_workflow({.slug = "backoff",
                .handler = [this, &attempts](workflow_context& wf) -> workflow {
                  co_await wf.inline_task(
                    "1",
                    [this, &attempts](task_context&) -> json {
                      attempts.push_back(now.load());
                      if (attempts.size() < 5)
                        throw std::runtime_error("not yet");
                      return json::object();
                    },
                    {json::object(),
                     retry_config{.attempts = 4,
                                  .backoff = model::backoff{
                                    model::backoff_type::exponential, 300}}});
                }});
  start();
  auto id = queue_workflow("backoff");
  for (int i = 0; i < 200 && attempts.size() < 5; ++i) {
    jobs->run();
    now += 100; // the clock moves in small steps: backoff decides when
  }
  auto j = job(*this, id);
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(j["totalTried"] == 5);
  BOOST_TEST(j["taskStatus"]["inline"]["1"]["totalTried"] == 5);
  BOOST_REQUIRE(attempts.size() == 5u);
  std::vector<model::time_ms> min_gap{300, 600, 1200, 2400};
  for (std::size_t i = 0; i < 4; ++i)
    BOOST_TEST(attempts[i + 1] - attempts[i] > min_gap[i]);
}

BOOST_AUTO_TEST_CASE(unregistered_slug_fails_permanently_after_one_attempt) {
  add_task({.slug = "soon-removed",
            .handler = [](task_context&) { return json::object(); }});
  start();
  auto id = queue_task("soon-removed");
  stop();
  reg = std::make_shared<registry>(); // a deploy removed the task
  start();
  auto res = jobs->run();
  BOOST_TEST(res["jobStatus"][std::to_string(id)]["status"]
             == "error-reached-max-retries");
  auto j = job(*this, id);
  BOOST_TEST(j["hasError"] == true);
  BOOST_TEST(j["totalTried"] == 1);
  BOOST_TEST(j["error"]["message"].get<std::string>().find("not registered")
             != std::string::npos);
  BOOST_TEST(jobs->run().value("noJobsRemaining", false));
}

BOOST_AUTO_TEST_CASE(calling_an_unknown_task_is_a_final_workflow_error) {
  add_workflow(
    {.slug = "calls-missing", .handler = [](workflow_context& wf) -> workflow {
       co_await wf.task("missing", "1");
     }});
  start();
  auto id = queue_workflow("calls-missing");
  jobs->run();
  auto j = job(*this, id);
  BOOST_TEST(j["hasError"] == true);
  BOOST_TEST(j["totalTried"] == 1);
}

BOOST_AUTO_TEST_CASE(successful_sub_tasks_are_not_retried) {
  add_workflow({.slug = "nested",
                .handler = [this](workflow_context& wf) -> workflow {
                  co_await wf.inline_task(
                    "parent", [this](task_context& ctx) -> json {
                      ctx.inline_task("sub1", [this](task_context&) {
                        bump("sub1");
                        return json{{"v", 1}};
                      });
                      ctx.inline_task("sub2", [this](task_context&) -> json {
                        bump("sub2");
                        throw std::runtime_error("sub2 fails");
                      });
                      return json::object();
                    });
                },
                .retries = retry_config{.attempts = 3}});
  start();
  auto id = queue_workflow("nested");
  run_until_empty();
  BOOST_TEST(count("sub1") == 1);
  BOOST_TEST(count("sub2") == 4);
  auto j = job(*this, id);
  BOOST_TEST(j["hasError"] == true);
  // The sub-task's success is logged with its parent.
  bool found = false;
  for (auto& e : j["log"])
    if (e["taskID"] == "sub1") {
      found = true;
      BOOST_TEST(e["parent"]["taskID"] == "parent");
    }
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(parallel_failures_are_all_recorded) {
  add_workflow(
    {.slug = "fanout", .handler = [](workflow_context& wf) -> workflow {
       co_await wf.all(wf.task("ok", "a"), wf.task("fails", "b"),
                       wf.task("fails", "c"));
     }});
  start();
  auto id = queue_workflow("fanout");
  jobs->run();
  auto j = job(*this, id);
  BOOST_TEST(j["hasError"] == true);
  std::set<std::string> failed, succeeded;
  for (auto& e : j["log"])
    (e["state"] == "failed" ? failed : succeeded)
      .insert(e["taskID"].get<std::string>());
  BOOST_TEST(failed == (std::set<std::string>{"b", "c"}));
  BOOST_TEST(succeeded == (std::set<std::string>{"a"}));
  BOOST_TEST(count("ok:a") == 1);
}

BOOST_AUTO_TEST_CASE(parallel_steps_return_outputs_in_order) {
  json seen;
  add_workflow(
    {.slug = "fanout", .handler = [&seen](workflow_context& wf) -> workflow {
       json one = {{"i", 1}}, two = {{"i", 2}};
       auto outs =
         co_await wf.all(wf.task("ok", "x", {one}), wf.task("ok", "y", {two}));
       seen = outs;
     }});
  start();
  queue_workflow("fanout");
  jobs->run();
  BOOST_TEST(seen[0]["echo"]["i"] == 1);
  BOOST_TEST(seen[1]["echo"]["i"] == 2);
}

BOOST_AUTO_TEST_CASE(should_restore_false_runs_a_succeeded_task_again) {
  add_task({.slug = "again",
            .handler =
              [this](task_context&) {
                bump("again");
                return json::object();
              },
            .retries = retry_config{.attempts = 2, .should_restore = false}});
  add_workflow({.slug = "wf2",
                .handler = [](workflow_context& wf) -> workflow {
                  co_await wf.task("again", "1");
                  co_await wf.task("fails", "2");
                },
                .retries = retry_config{.attempts = 1}});
  start();
  queue_workflow("wf2");
  run_until_empty();
  BOOST_TEST(count("again") == 2);
}

BOOST_AUTO_TEST_CASE(
  a_running_job_resumes_after_restart_without_rerunning_steps) {
  std::atomic<bool> entered{false};
  add_task({.slug = "blocks-once",
            .handler = [this, &entered](task_context& ctx) -> json {
              bump("blocks-once");
              if (count("blocks-once") == 1) {
                entered = true;
                // Hold the step until the runtime goes away under it.
                testing::eventually([&] { return ctx.stop_requested(); });
                throw std::runtime_error("interrupted");
              }
              return json{{"second", true}};
            }});
  add_workflow(
    {.slug = "three", .handler = [](workflow_context& wf) -> workflow {
       co_await wf.task("ok", "1");
       co_await wf.task("blocks-once", "2");
       co_await wf.task("ok", "3");
     }});
  options.continuous = true;
  options.stop_grace = std::chrono::milliseconds{0}; // interrupt at once
  start();
  auto id = queue_workflow("three");
  BOOST_TEST_REQUIRE(testing::eventually([&] { return entered.load(); }));
  stop(); // step 1 is journaled, step 2 is in flight
  start();
  auto j = jobs->wait(id);
  BOOST_TEST(j["status"] == "completed");
  auto full = jobs->get(id);
  BOOST_TEST(full["totalTried"] == 1); // the interruption consumed nothing
  BOOST_TEST(count("ok:1") == 1);
  BOOST_TEST(count("blocks-once") == 2);
  BOOST_TEST(count("ok:3") == 1);
}

BOOST_AUTO_TEST_CASE(continuous_mode_runs_jobs_without_run_calls) {
  options.continuous = true;
  start();
  std::vector<model::job_id> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(queue_task("ok", {{"i", i}}));
  for (auto id : ids)
    BOOST_TEST(jobs->wait(id)["status"] == "completed");
  BOOST_TEST(count("ok:1") == 20);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(step_input_tests, workflow_test::fixture)
using namespace workflow_test;

BOOST_AUTO_TEST_CASE(a_step_input_that_breaks_the_task_schema_fails_the_step) {
  add_task({.slug = "typed",
            .handler =
              [this](task_context&) {
                bump("typed");
                return json::object();
              },
            .input_schema = json{{"type", "object"}, {"required", {"path"}}}});
  add_workflow(
    {.slug = "wrong-input", .handler = [](workflow_context& wf) -> workflow {
       json in = {{"file", "x"}};
       co_await wf.task("typed", "1", {in});
     }});
  start();
  auto id = queue_workflow("wrong-input");
  jobs->run();
  auto j = job(*this, id);
  BOOST_TEST(j["status"] == "failed");
  BOOST_TEST(count("typed") == 0); // the handler never saw the bad input
  BOOST_REQUIRE(j["log"].size() == 1u);
  BOOST_TEST(j["log"][0]["error"]["name"] == "InvalidInput");
}

BOOST_AUTO_TEST_SUITE_END()
