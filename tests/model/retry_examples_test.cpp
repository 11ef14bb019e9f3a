// The worked retry examples of docs/semantics.md §10, simulated: a workflow
// of two tasks run repeatedly through the failure rules with a fake clock.

#include "transitions_support.hpp"

using namespace conveyor::model;
using namespace conveyor::model::test_support;

namespace {
// ---- workflow simulation ---------------------------------------------------

/// One `tasks.X(id)` call inside the simulated workflow handler.
struct sim_task {
  std::string slug;
  std::string id;
  std::optional<retry_config> config;    ///< the registered task's retries
  std::optional<retry_config> call_site; ///< retries given at the call
  std::function<bool(int run)> succeeds; ///< run: 1-based executions so far
  int runs = 0;
};

struct sim_result {
  job final;
  std::vector<job> history;         ///< job after each attempt
  std::vector<run_status> statuses; ///< run status of each attempt
  std::vector<time_ms> starts;      ///< handler start times
  std::vector<time_ms> backoffs;    ///< wait_until - failure time per retry
  int executions = 0;
};

bool always(int) {
  return true;
}
bool never(int) {
  return false;
}

/// One execution of the workflow handler (docs/semantics.md §7, §8): tasks run
/// in order; a completed task is restored unless shouldRestore is false; the
/// first failing task ends the attempt (a task error, §10); a throw outside
/// any task is a workflow-level error (§10); otherwise the job completes.
transition run_handler(job j, std::vector<sim_task>& tasks,
                       const std::optional<retry_config>& wf_retries,
                       bool handler_throws, time_ms& now) {
  task_status_map status = derive_task_status(j.log);
  for (sim_task& task : tasks) {
    const retry_config merged = merge_retries(task.config, task.call_site);
    const task_state* prev = find_task_state(status, task.slug, task.id);
    if (prev && prev->complete && merged.should_restore.value_or(true))
      continue; // restored from taskStatus: no handler call, no log entry
    const time_ms executed_at = now;
    now += 1; // the task handler takes a millisecond
    ++task.runs;
    const std::string entry_id = task.slug + "#" + std::to_string(j.log.size());
    if (task.succeeds(task.runs)) {
      log_entry e;
      e.id = entry_id;
      e.executed_at = executed_at;
      e.completed_at = now;
      e.task_slug = task.slug;
      e.task_id = task.id;
      e.output = {{"run", task.runs}};
      j = append_success(std::move(j), e);
      apply_log_entry(status, j.log.back());
      continue;
    }
    task_failure f;
    f.log_entry_id = entry_id;
    f.task_slug = task.slug;
    f.task_id = task.id;
    f.error = error_json("Error", task.slug + " failed");
    f.executed_at = executed_at;
    f.merged_retries = merged;
    if (prev)
      f.previous = *prev;
    return fail_task(std::move(j), wf_retries, f, now);
  }
  if (handler_throws)
    return fail_workflow(std::move(j), wf_retries,
                         error_json("Error", "handler threw"), now);
  return complete(std::move(j), now);
}

/// Claims and runs the job until it is terminal, jumping the fake clock past
/// every wait_until, and checks the per-attempt invariants on the way.
sim_result simulate(std::vector<sim_task>& tasks,
                    const std::optional<retry_config>& wf_retries,
                    bool handler_throws = false, int max_executions = 50) {
  sim_result out;
  job j = queued_job();
  time_ms now = t0;
  while (!is_terminal(j.status) && out.executions < max_executions) {
    if (j.wait_until && *j.wait_until >= now)
      now = *j.wait_until + 1;
    BOOST_TEST_REQUIRE(is_claimable(j, now));
    j = claim(std::move(j), "tok-" + std::to_string(out.executions),
              now + lease, now);
    ++out.executions;
    out.starts.push_back(now);
    transition t =
      run_handler(std::move(j), tasks, wf_retries, handler_throws, now);
    j = std::move(t.next);

    BOOST_TEST_REQUIRE(j.total_tried == out.executions);
    BOOST_TEST_REQUIRE(!j.processing_until.has_value());
    BOOST_TEST_REQUIRE(!j.processing_token.has_value());
    BOOST_TEST_REQUIRE(j.updated_at == now);
    BOOST_TEST_REQUIRE(j.has_error == (j.status == job_status::failed));
    const run_status expected_status =
      j.status == job_status::completed ? run_status::success
      : j.status == job_status::failed  ? run_status::error_reached_max_retries
                                        : run_status::error;
    BOOST_TEST_REQUIRE(name(t.status) == name(expected_status));
    if (t.status == run_status::error) {
      BOOST_TEST_REQUIRE(j.wait_until.has_value());
      out.backoffs.push_back(*j.wait_until - now);
    }
    out.history.push_back(j);
    out.statuses.push_back(t.status);
  }
  out.final = j;
  return out;
}

/// The two-task workflow of the worked examples: task "1" always succeeds,
/// task "2" always fails; both get the same task retries.
std::vector<sim_task> two_tasks(std::optional<retry_config> task_retries) {
  return {
    sim_task{"first", "1", task_retries, std::nullopt, always},
    sim_task{"second", "2", task_retries, std::nullopt, never},
  };
}

/// Common checks for a workflow that ended because task "2" failed for good.
void check_failed_on_second(const sim_result& r, int executions) {
  BOOST_TEST(r.executions == executions);
  BOOST_TEST(name(r.final.status) == "failed");
  BOOST_TEST(r.final.has_error);
  BOOST_TEST(r.final.total_tried == executions);
  BOOST_TEST(r.final.error["message"] == "second failed");
  BOOST_TEST(name(r.statuses.back()) == "error-reached-max-retries");
  auto status = derive_task_status(r.final.log);
  BOOST_TEST(find_task_state(status, "second", "2")->total_tried == executions);
  BOOST_TEST(!find_task_state(status, "second", "2")->complete);
}

} // namespace

BOOST_AUTO_TEST_SUITE(retry_examples_test)
// ---- worked examples of docs/semantics.md §10, simulated -------------------

BOOST_AUTO_TEST_CASE(example_wf_undefined_task_3) {
  auto tasks = two_tasks(attempts(3));
  sim_result r = simulate(tasks, std::nullopt);
  check_failed_on_second(r, 4);
  BOOST_TEST(tasks[0].runs == 1); // restored 3 times
  BOOST_TEST(tasks[1].runs == 4);
  BOOST_TEST(r.final.log.size() == 5u);
  // Retrying attempts show no error; only the final one sets it.
  for (std::size_t i = 0; i + 1 < r.history.size(); ++i)
    BOOST_TEST(r.history[i].error.is_null());
}

BOOST_AUTO_TEST_CASE(example_wf_2_task_3_is_capped_by_the_workflow) {
  auto tasks = two_tasks(attempts(3));
  sim_result r = simulate(tasks, attempts(2));
  check_failed_on_second(r, 3);
  BOOST_TEST(tasks[0].runs == 1);
}

BOOST_AUTO_TEST_CASE(example_wf_0_task_3) {
  auto tasks = two_tasks(attempts(3));
  check_failed_on_second(simulate(tasks, attempts(0)), 1);
}

BOOST_AUTO_TEST_CASE(example_no_retries_anywhere) {
  auto tasks = two_tasks(std::nullopt);
  check_failed_on_second(simulate(tasks, std::nullopt), 1);
}

BOOST_AUTO_TEST_CASE(example_wf_2_task_undefined_inherits) {
  auto tasks = two_tasks(std::nullopt);
  sim_result r = simulate(tasks, attempts(2));
  check_failed_on_second(r, 3);
  BOOST_TEST(tasks[0].runs == 1);
}

BOOST_AUTO_TEST_CASE(example_wf_2_task_0) {
  auto tasks = two_tasks(attempts(0));
  check_failed_on_second(simulate(tasks, attempts(2)), 1);
}

BOOST_AUTO_TEST_CASE(example_handler_throws_wf_undefined) {
  std::vector<sim_task> none;
  sim_result r = simulate(none, std::nullopt, true);
  BOOST_TEST(r.executions == 1);
  BOOST_TEST(r.final.total_tried == 1);
  BOOST_TEST(r.final.has_error);
  BOOST_TEST(name(r.final.status) == "failed");
  BOOST_TEST(r.final.error["message"] == "handler threw");
  BOOST_TEST(r.final.log.empty());
}

BOOST_AUTO_TEST_CASE(example_handler_throws_wf_1) {
  std::vector<sim_task> none;
  sim_result r = simulate(none, attempts(1), true);
  BOOST_TEST(r.executions == 2);
  BOOST_TEST(r.final.total_tried == 2);
  BOOST_TEST(r.final.has_error);
  // While retrying the error is already visible, with hasError false.
  BOOST_TEST(!r.history[0].has_error);
  BOOST_TEST(r.history[0].error["message"] == "handler threw");
}

BOOST_AUTO_TEST_CASE(example_inline_task_exponential_backoff) {
  std::vector<sim_task> tasks = {
    sim_task{"inline", "retry-me", std::nullopt,
             with_backoff(4, backoff_type::exponential, 300),
             [](int run) { return run == 5; }}};
  sim_result r = simulate(tasks, std::nullopt);
  BOOST_TEST(r.executions == 5);
  BOOST_TEST(name(r.final.status) == "completed");
  BOOST_TEST(r.final.total_tried == 5);
  BOOST_TEST(!r.final.has_error);
  auto status = derive_task_status(r.final.log);
  const task_state* s = find_task_state(status, "inline", "retry-me");
  BOOST_TEST_REQUIRE(s != nullptr);
  BOOST_TEST(s->total_tried == 5);
  BOOST_TEST(s->complete);

  const std::vector<time_ms> expected = {300, 600, 1200, 2400};
  BOOST_TEST(r.backoffs == expected, boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(r.starts.size() == 5u);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const time_ms gap = r.starts[i + 1] - r.starts[i];
    BOOST_TEST(gap >= expected[i]);
    BOOST_TEST(gap <= expected[i] + 5); // and not much more
  }
}

BOOST_AUTO_TEST_CASE(workflow_level_exponential_backoff) {
  std::vector<sim_task> none;
  sim_result r =
    simulate(none, with_backoff(3, backoff_type::exponential, 1000), true);
  BOOST_TEST(r.executions == 4);
  const std::vector<time_ms> expected = {1000, 2000, 4000};
  BOOST_TEST(r.backoffs == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(should_restore_false_re_executes_completed_tasks) {
  auto tasks = two_tasks(attempts(3));
  tasks[0].config->should_restore = false;
  sim_result r = simulate(tasks, attempts(2));
  check_failed_on_second(r, 3);
  BOOST_TEST(tasks[0].runs == 3);
  auto status = derive_task_status(r.final.log);
  BOOST_TEST(find_task_state(status, "first", "1")->total_tried == 3);
  BOOST_TEST(find_task_state(status, "first", "1")->complete);
}

BOOST_AUTO_TEST_CASE(call_site_should_restore_overrides_task_config) {
  auto tasks = two_tasks(attempts(3));
  retry_config no_restore;
  no_restore.should_restore = false;
  tasks[0].call_site = no_restore;
  check_failed_on_second(simulate(tasks, std::nullopt), 4);
  BOOST_TEST(tasks[0].runs == 4);
}

BOOST_AUTO_TEST_CASE(re_executed_task_failure_is_limited_only_by_the_workflow) {
  // Task "first" succeeds once, then fails whenever it is re-executed. It has
  // retries 0, yet its failures are not final: it already completed once.
  auto make = [] {
    auto tasks = two_tasks(attempts(3));
    tasks[0].config = attempts(0);
    tasks[0].config->should_restore = false;
    tasks[0].succeeds = [](int run) { return run == 1; };
    return tasks;
  };
  auto tasks = make();
  sim_result r = simulate(tasks, attempts(2));
  BOOST_TEST(r.executions == 3);
  BOOST_TEST(tasks[0].runs == 3);
  BOOST_TEST(tasks[1].runs == 1);
  BOOST_TEST_REQUIRE(r.statuses.size() == 3u);
  BOOST_TEST(name(r.statuses[1]) == "error"); // retries 0 did not end it
  BOOST_TEST(name(r.statuses[2]) == "error-reached-max-retries");
  BOOST_TEST(r.final.error["message"] == "first failed");

  // Without a workflow cap nothing ever stops it (Payload behaviour,
  // docs/semantics.md §10): the job keeps retrying.
  auto uncapped = make();
  sim_result forever = simulate(uncapped, std::nullopt, false, 20);
  BOOST_TEST(forever.executions == 20);
  BOOST_TEST(!is_terminal(forever.final.status));
}

BOOST_AUTO_TEST_CASE(successful_workflow_runs_each_task_once) {
  std::vector<sim_task> tasks = {
    sim_task{"first", "1", std::nullopt, std::nullopt, always},
    sim_task{"second", "2", std::nullopt, std::nullopt, always},
  };
  sim_result r = simulate(tasks, std::nullopt);
  BOOST_TEST(r.executions == 1);
  BOOST_TEST(name(r.final.status) == "completed");
  BOOST_TEST(r.final.log.size() == 2u);
  BOOST_TEST(r.final.error.is_null());
}

BOOST_AUTO_TEST_CASE(flaky_task_restores_earlier_outputs) {
  std::vector<sim_task> tasks = {
    sim_task{"first", "1", attempts(5), std::nullopt, always},
    sim_task{"second", "2", attempts(5), std::nullopt,
             [](int run) { return run == 3; }},
  };
  sim_result r = simulate(tasks, std::nullopt);
  BOOST_TEST(r.executions == 3);
  BOOST_TEST(tasks[0].runs == 1);
  BOOST_TEST(name(r.final.status) == "completed");
  BOOST_TEST(r.final.total_tried == 3);
  auto status = derive_task_status(r.final.log);
  CHECK_JSON_EQ(find_task_state(status, "first", "1")->output,
                json({{"run", 1}}));
  CHECK_JSON_EQ(find_task_state(status, "second", "2")->output,
                json({{"run", 3}}));
}

BOOST_AUTO_TEST_SUITE_END()
