// onFail fires when a task's error escapes the workflow handler, once per
// such attempt (docs/semantics.md §7): not for an error the workflow
// catches, not for a nested sub-task (its failure is its parent's).

#include <boost/test/unit_test.hpp>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace hooks_test {

struct fixture : runtime_fixture {
  fixture() {
    options.delete_job_on_complete = false;
    add_task(
      {.slug = "breaks",
       .handler = [](task_context&) -> json {
         throw std::runtime_error("broken");
       },
       .retries = model::retry_config{.attempts = 1},
       .on_fail = [this](const task_hook_args&) { bump("breaks:onFail"); }});
    add_task(
      {.slug = "ok", .handler = [](task_context&) { return json::object(); }});
    // Runs "breaks" as a nested sub-task: its failure is the parent's.
    add_task(
      {.slug = "parent",
       .handler = [](task_context& ctx) -> json {
         return ctx.task("breaks", "child");
       },
       .on_fail = [this](const task_hook_args&) { bump("parent:onFail"); }});
    add_workflow(
      {.slug = "catches", .handler = [](workflow_context& wf) -> workflow {
         bool failed = false;
         try {
           co_await wf.task("breaks", "1");
         } catch (const std::exception&) {
           failed = true; // handled: the workflow goes on
         }
         if (failed)
           co_await wf.task("ok", "2");
       }});
    add_workflow(
      {.slug = "escapes", .handler = [](workflow_context& wf) -> workflow {
         co_await wf.task("breaks", "1");
       }});
  }

  /// Hooks run on a worker thread, queued before the failure is journaled:
  /// wait for `n` calls, then there must be no more.
  bool hook_count_is(const std::string& name, int n) {
    return testing::eventually([&] { return count(name) >= n; })
           && count(name) == n;
  }
};

} // namespace hooks_test

BOOST_FIXTURE_TEST_SUITE(hook_tests, hooks_test::fixture)
using namespace hooks_test;

BOOST_AUTO_TEST_CASE(on_fail_runs_for_each_attempt_whose_error_escapes) {
  start();
  auto id = queue_workflow("escapes");
  run_until_empty();
  BOOST_TEST(jobs->get(id)["status"] == "failed");
  BOOST_TEST(hook_count_is("breaks:onFail", 2)); // two attempts
}

BOOST_AUTO_TEST_CASE(on_fail_does_not_run_for_an_error_the_workflow_caught) {
  start();
  auto id = queue_workflow("catches");
  run_until_empty();
  BOOST_TEST(jobs->get(id)["status"] == "completed");
  BOOST_TEST(testing::stays_false([&] { return count("breaks:onFail") > 0; },
                                  std::chrono::milliseconds(200)));
}

BOOST_AUTO_TEST_CASE(a_nested_failure_calls_the_parents_on_fail_only) {
  start();
  auto id = queue_task("parent");
  run_until_empty();
  BOOST_TEST(jobs->get(id)["status"] == "failed");
  BOOST_TEST(hook_count_is("parent:onFail", 1));
  BOOST_TEST(count("breaks:onFail") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
