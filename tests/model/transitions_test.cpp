#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "model/task_status.hpp"
#include "model/transitions.hpp"

using namespace conveyor::model;

/// JSON equality with both sides printed on failure (BOOST_TEST would
/// otherwise treat json as a container and compare element by element).
#define CHECK_JSON_EQ(a, b) \
  BOOST_TEST(((a) == (b)), (a).dump() << " != " << (b).dump())

namespace {

constexpr time_ms t0 = 1'700'000'000'000;
constexpr time_ms lease = 60'000;

std::string name(job_status s) { return std::string(to_string(s)); }
std::string name(run_status s) { return std::string(to_string(s)); }

retry_config attempts(std::int32_t n) {
  retry_config c;
  c.attempts = n;
  return c;
}

retry_config with_backoff(std::optional<std::int32_t> n, backoff_type type,
                          time_ms delay) {
  retry_config c;
  c.attempts = n;
  c.backoff = backoff{type, delay};
  return c;
}

job queued_job() {
  job j;
  j.id = 7;
  j.workflow_slug = "wf";
  j.created_at = t0;
  j.updated_at = t0;
  return j;
}

job running_job(time_ms now = t0) {
  return claim(queued_job(), "tok", now + lease, now);
}

task_failure failure_of(std::string slug, std::string id,
                        retry_config merged = {},
                        std::optional<task_state> previous = std::nullopt) {
  task_failure f;
  f.log_entry_id = "e-" + slug + "-" + id;
  f.task_slug = std::move(slug);
  f.task_id = std::move(id);
  f.input = {{"n", 1}};
  f.error = error_json("Error", "boom", "stack...");
  f.executed_at = t0 - 5;
  f.merged_retries = std::move(merged);
  f.previous = std::move(previous);
  return f;
}

task_state previous_state(std::int32_t tried, bool complete = false) {
  task_state s;
  s.task_slug = "t";
  s.total_tried = tried;
  s.complete = complete;
  return s;
}

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
  std::vector<job> history;           ///< job after each attempt
  std::vector<run_status> statuses;   ///< run status of each attempt
  std::vector<time_ms> starts;        ///< handler start times
  std::vector<time_ms> backoffs;      ///< wait_until - failure time per retry
  int executions = 0;
};

bool always(int) { return true; }
bool never(int) { return false; }

/// One execution of the workflow handler (spec §3.5): tasks run in order;
/// a completed task is restored unless shouldRestore is false; the first
/// failing task ends the attempt (§3.6 A); a throw outside any task is a
/// workflow-level error (§3.6 B); otherwise the job completes.
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
    transition t = run_handler(std::move(j), tasks, wf_retries, handler_throws, now);
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

BOOST_AUTO_TEST_SUITE(transitions_test)

// ---- spec §2.4 transitions, one by one --------------------------------------

BOOST_AUTO_TEST_CASE(t1_new_job_defaults_are_pending) {
  job j = queued_job();
  BOOST_TEST(j.total_tried == 0);
  BOOST_TEST(!j.has_error);
  BOOST_TEST(j.queue == "default");
  BOOST_TEST(name(j.status) == "queued");
  BOOST_TEST(is_claimable(j, t0 + 1));
  BOOST_TEST(name(pending_status(j, t0)) == "queued");
}

BOOST_AUTO_TEST_CASE(delayed_job_waits_until_strictly_after_wait_until) {
  job j = queued_job();
  j.wait_until = t0 + 100;
  BOOST_TEST(name(pending_status(j, t0)) == "waiting");
  BOOST_TEST(name(pending_status(j, t0 + 99)) == "waiting");
  BOOST_TEST(name(pending_status(j, t0 + 100)) == "queued");
  BOOST_TEST(!is_claimable(j, t0 + 99));
  BOOST_TEST(!is_claimable(j, t0 + 100)); // spec §3.2: strictly < now
  BOOST_TEST(is_claimable(j, t0 + 101));
}

BOOST_AUTO_TEST_CASE(t2_claim_takes_a_lease) {
  job j = claim(queued_job(), "tok-A", t0 + lease, t0 + 1);
  BOOST_TEST(name(j.status) == "running");
  BOOST_TEST(j.processing_token.value_or("") == "tok-A");
  BOOST_TEST(j.processing_until.value_or(0) == t0 + lease);
  BOOST_TEST(j.updated_at == t0 + 1);
  BOOST_TEST(j.total_tried == 0);
  BOOST_TEST(!is_claimable(j, t0 + 2));
  BOOST_TEST(!is_claimable(j, t0 + lease - 1));
}

BOOST_AUTO_TEST_CASE(t3_append_success_changes_only_the_log) {
  const job before = running_job();
  log_entry e;
  e.id = "e1";
  e.task_slug = "t";
  e.task_id = "1";
  e.output = {{"x", 1}};
  e.state = log_state::failed; // forced: this transition records successes
  job after = append_success(before, e);
  BOOST_TEST_REQUIRE(after.log.size() == 1u);
  BOOST_TEST((after.log[0].state == log_state::succeeded));
  CHECK_JSON_EQ(after.log[0].output, json({{"x", 1}}));
  after.log.clear();
  BOOST_TEST((after == before)); // updatedAt untouched, as in Payload
}

BOOST_AUTO_TEST_CASE(t4_complete) {
  job j = running_job();
  j.wait_until = t0 - 10;
  transition t = complete(j, t0 + 500);
  BOOST_TEST(name(t.status) == "success");
  BOOST_TEST(name(t.next.status) == "completed");
  BOOST_TEST(t.next.completed_at.value_or(0) == t0 + 500);
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(!t.next.processing_until.has_value());
  BOOST_TEST(!t.next.processing_token.has_value());
  BOOST_TEST(!t.next.wait_until.has_value());
  BOOST_TEST(!t.next.has_error);
  BOOST_TEST(t.next.updated_at == t0 + 500);
  BOOST_TEST(!is_claimable(t.next, t0 + 10'000'000));
}

BOOST_AUTO_TEST_CASE(t5_retryable_task_failure) {
  job j = running_job();
  j.error = error_json("Error", "earlier workflow error");
  j.log.push_back(log_entry{});
  task_failure f = failure_of("t", "1", attempts(2));
  f.parent = task_ref{"outer", "o"};
  transition t = fail_task(j, std::nullopt, f, t0 + 100);

  BOOST_TEST(name(t.status) == "error");
  const job& n = t.next;
  BOOST_TEST_REQUIRE(n.log.size() == 2u);
  const log_entry& e = n.log.back();
  BOOST_TEST(e.id == "e-t-1");
  BOOST_TEST(e.executed_at == t0 - 5);
  BOOST_TEST(e.completed_at == t0 + 100);
  BOOST_TEST(e.task_slug == "t");
  BOOST_TEST(e.task_id == "1");
  CHECK_JSON_EQ(e.input, json({{"n", 1}}));
  CHECK_JSON_EQ(e.output, json::object());
  BOOST_TEST((e.state == log_state::failed));
  CHECK_JSON_EQ(e.error, f.error);
  BOOST_TEST((e.parent == task_ref{"outer", "o"}));

  BOOST_TEST(n.error.is_null()); // cleared on retry (our decision)
  BOOST_TEST(!n.has_error);
  BOOST_TEST(n.total_tried == 1);
  BOOST_TEST(!n.processing_until.has_value());
  BOOST_TEST(!n.processing_token.has_value());
  BOOST_TEST(n.wait_until.value_or(0) == t0 + 100); // no backoff: now
  BOOST_TEST(name(n.status) == "queued");
  BOOST_TEST(n.updated_at == t0 + 100);
  BOOST_TEST(is_claimable(n, t0 + 101));
}

BOOST_AUTO_TEST_CASE(t6_final_task_failure) {
  job j = running_job();
  j.wait_until = t0 + 999'999; // untouched by a final failure
  transition t = fail_task(j, std::nullopt,
                           failure_of("t", "1", attempts(2), previous_state(2)),
                           t0 + 100);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(name(t.next.status) == "failed");
  BOOST_TEST(t.next.has_error);
  CHECK_JSON_EQ(t.next.error, error_json("Error", "boom", "stack..."));
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(t.next.log.size() == 1u);
  BOOST_TEST(!t.next.processing_until.has_value());
  BOOST_TEST(!t.next.completed_at.has_value());
  BOOST_TEST(!is_claimable(t.next, t0 + 10'000'000));
}

BOOST_AUTO_TEST_CASE(t7_cancel_pending_delayed_and_running_jobs) {
  job pending = queued_job();
  pending.total_tried = 2;
  transition t = cancel(pending, std::nullopt, t0 + 5);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(name(t.next.status) == "cancelled");
  CHECK_JSON_EQ(t.next.error, json({{"cancelled", true}}));
  BOOST_TEST(t.next.has_error);
  BOOST_TEST(t.next.total_tried == 2); // not an attempt
  BOOST_TEST(!t.next.completed_at.has_value());
  BOOST_TEST(t.next.updated_at == t0 + 5);
  BOOST_TEST(!is_claimable(t.next, t0 + 10'000'000));

  job delayed = queued_job();
  delayed.wait_until = t0 + 60'000;
  delayed.status = job_status::waiting;
  t = cancel(delayed, "no longer needed", t0);
  BOOST_TEST(!t.next.wait_until.has_value());
  CHECK_JSON_EQ(t.next.error, json({{"cancelled", true}, {"message", "no longer needed"}}));

  t = cancel(running_job(), std::nullopt, t0 + 1);
  BOOST_TEST(name(t.next.status) == "cancelled");
  BOOST_TEST(!t.next.processing_until.has_value());
  BOOST_TEST(!t.next.processing_token.has_value());
  BOOST_TEST(t.next.total_tried == 0);
}

BOOST_AUTO_TEST_CASE(cancelled_running_job_stays_cancelled) {
  // The worker finishes its current task after the cancel; its writes must
  // not resurrect the job (spec §2.1: cancellation is sticky).
  job j = cancel(running_job(), std::nullopt, t0 + 1).next;
  log_entry e;
  e.task_slug = "t";
  e.task_id = "1";
  j = append_success(j, e);
  const job cancelled = j;
  transition done = complete(j, t0 + 2);
  BOOST_TEST((done.next == cancelled));
  BOOST_TEST(name(done.status) == "error-reached-max-retries");
  transition failed = fail_task(j, attempts(5), failure_of("t", "2", attempts(5)), t0 + 3);
  BOOST_TEST((failed.next == cancelled));
  transition wf = fail_workflow(j, attempts(5), error_json("E", "m"), t0 + 3);
  BOOST_TEST((wf.next == cancelled));
  BOOST_TEST(name(wf.status) == "error-reached-max-retries");
}

BOOST_AUTO_TEST_CASE(cancel_of_terminal_jobs_changes_nothing) {
  const job completed = complete(running_job(), t0 + 1).next;
  const job failed = fail_unregistered(running_job(), "gone", t0 + 1).next;
  const job cancelled = cancel(queued_job(), "first", t0 + 1).next;
  for (const job& j : {completed, failed, cancelled}) {
    transition t = cancel(j, "second", t0 + 50);
    BOOST_TEST((t.next == j), name(j.status));
    BOOST_TEST(name(t.next.status) == name(j.status));
    BOOST_TEST(name(t.status) == "error-reached-max-retries");
  }
}

BOOST_AUTO_TEST_CASE(t8_release_returns_a_claimed_job_unconsumed) {
  job j = running_job();
  j.error = error_json("Error", "from an earlier attempt");
  j.total_tried = 3;
  j.log.push_back(log_entry{});
  job r = release(j, t0 + 10);
  BOOST_TEST(name(r.status) == "queued");
  BOOST_TEST(!r.processing_until.has_value());
  BOOST_TEST(!r.processing_token.has_value());
  BOOST_TEST(r.total_tried == 3);
  BOOST_TEST(r.log.size() == 1u);
  CHECK_JSON_EQ(r.error, j.error);
  BOOST_TEST(r.updated_at == t0 + 10);
  BOOST_TEST(is_claimable(r, t0 + 11));

  j.wait_until = t0 + 1000;
  BOOST_TEST(name(release(j, t0 + 10).status) == "waiting");
}

BOOST_AUTO_TEST_CASE(t9_expired_lease_is_claimable_without_any_write) {
  const job j = running_job(t0);
  BOOST_TEST(!is_claimable(j, t0 + lease - 1));
  BOOST_TEST(is_claimable(j, t0 + lease)); // processingUntil <= now
  // Another worker takes it over with a new token.
  job taken = claim(j, "tok-B", t0 + 2 * lease, t0 + lease);
  BOOST_TEST(taken.processing_token.value_or("") == "tok-B");
  BOOST_TEST(taken.total_tried == 0);
}

BOOST_AUTO_TEST_CASE(terminal_jobs_are_never_claimable) {
  job j = queued_job();
  for (job_status s : {job_status::completed, job_status::failed, job_status::cancelled}) {
    j.status = s;
    BOOST_TEST(!is_claimable(j, t0 + 1), name(s));
  }
}

// ---- §3.6 A details ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(task_backoff_uses_previous_attempts_of_the_task) {
  auto cfg = with_backoff(5, backoff_type::exponential, 100);
  transition t = fail_task(running_job(), std::nullopt,
                           failure_of("t", "1", cfg, previous_state(2)), t0);
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 400);
  BOOST_TEST(name(t.next.status) == "waiting");
}

BOOST_AUTO_TEST_CASE(future_wait_until_is_kept_and_stale_one_dropped) {
  auto cfg = with_backoff(5, backoff_type::fixed, 100);
  job j = running_job();
  j.wait_until = t0 + 5000; // later than the backoff: kept
  BOOST_TEST(fail_task(j, std::nullopt, failure_of("t", "1", cfg), t0).next.wait_until.value_or(0)
             == t0 + 5000);
  j.wait_until = t0 + 50; // earlier than the backoff: backoff wins
  BOOST_TEST(fail_task(j, std::nullopt, failure_of("t", "1", cfg), t0).next.wait_until.value_or(0)
             == t0 + 100);
  j.wait_until = t0 - 5000; // stale: dropped
  BOOST_TEST(fail_task(j, std::nullopt, failure_of("t", "1", attempts(5)), t0).next.wait_until.value_or(0)
             == t0);
}

BOOST_AUTO_TEST_CASE(workflow_backoff_uses_job_total_tried_and_later_wins) {
  job j = running_job();
  j.total_tried = 3;
  auto wf = with_backoff(10, backoff_type::exponential, 100); // 100 * 2^3
  auto task = with_backoff(5, backoff_type::fixed, 300);
  transition t = fail_task(j, wf, failure_of("t", "1", task), t0);
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 800);
  task = with_backoff(5, backoff_type::fixed, 3000);
  t = fail_task(j, wf, failure_of("t", "1", task), t0);
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 3000);
}

BOOST_AUTO_TEST_CASE(workflow_cap_makes_a_retryable_task_failure_final) {
  job j = running_job();
  j.total_tried = 2;
  transition t = fail_task(j, attempts(2), failure_of("t", "1", attempts(9)), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(t.next.has_error);
  CHECK_JSON_EQ(t.next.error, error_json("Error", "boom", "stack..."));
  j.total_tried = 1;
  BOOST_TEST(name(fail_task(j, attempts(2), failure_of("t", "1", attempts(9)), t0).status)
             == "error");
}

BOOST_AUTO_TEST_CASE(workflow_retries_without_attempts) {
  // Inherited task attempts are 0, so an undefined task limit is final...
  retry_config wf = with_backoff(std::nullopt, backoff_type::fixed, 700);
  BOOST_TEST(name(fail_task(running_job(), wf, failure_of("t", "1"), t0).status)
             == "error-reached-max-retries");
  // ...but there is no job-level cap, and the workflow backoff applies.
  transition t = fail_task(running_job(), wf, failure_of("t", "1", attempts(3)), t0);
  BOOST_TEST(name(t.status) == "error");
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 700);
}

BOOST_AUTO_TEST_CASE(previously_completed_task_skips_the_task_limit) {
  // shouldRestore=false re-ran a task that had succeeded; its failure is
  // limited only by the workflow cap (spec §1.3).
  transition t = fail_task(running_job(), std::nullopt,
                           failure_of("t", "1", attempts(0), previous_state(3, true)), t0);
  BOOST_TEST(name(t.status) == "error");
  job j = running_job();
  j.total_tried = 1;
  t = fail_task(j, attempts(1), failure_of("t", "1", attempts(0), previous_state(3, true)), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
}

// ---- §3.6 B -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(workflow_error_without_retries_is_final) {
  transition t = fail_workflow(running_job(), std::nullopt, error_json("TypeError", "x is undefined"), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(name(t.next.status) == "failed");
  BOOST_TEST(t.next.has_error);
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(t.next.log.empty());
  BOOST_TEST(t.next.error["name"] == "TypeError");
  // A retries object without attempts also means no retries.
  t = fail_workflow(running_job(), with_backoff(std::nullopt, backoff_type::fixed, 10),
                    error_json("E", "m"), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
}

BOOST_AUTO_TEST_CASE(workflow_error_sets_error_even_when_retrying) {
  job j = running_job();
  j.wait_until = t0 + 9000;
  auto wf = with_backoff(2, backoff_type::exponential, 1000);
  transition t = fail_workflow(j, wf, error_json("Error", "flaky"), t0);
  BOOST_TEST(name(t.status) == "error");
  BOOST_TEST(!t.next.has_error);
  BOOST_TEST(t.next.error["message"] == "flaky");
  BOOST_TEST(t.next.log.empty());
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 9000); // future wait kept
  BOOST_TEST(name(t.next.status) == "waiting");
  BOOST_TEST(!t.next.processing_token.has_value());

  j = t.next;
  j.wait_until.reset();
  t = fail_workflow(j, wf, error_json("Error", "flaky"), t0); // 1000 * 2^1
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 2000);
  t = fail_workflow(t.next, wf, error_json("Error", "flaky"), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(t.next.total_tried == 3);
}

// ---- §3.4 step 2 --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unregistered_slug_fails_once) {
  transition t = fail_unregistered(running_job(), "Workflow 'wf' is not registered", t0 + 3);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(name(t.next.status) == "failed");
  CHECK_JSON_EQ(t.next.error, json({{"message", "Workflow 'wf' is not registered"}}));
  BOOST_TEST(t.next.has_error);
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(!t.next.processing_until.has_value());
  BOOST_TEST(!t.next.processing_token.has_value());
  BOOST_TEST(t.next.updated_at == t0 + 3);
  BOOST_TEST(t.next.log.empty());
}

BOOST_AUTO_TEST_CASE(error_json_and_run_status_names) {
  CHECK_JSON_EQ(error_json("Error", "m", "s"),
                json({{"name", "Error"}, {"cancelled", false}, {"message", "m"}, {"stack", "s"}}));
  BOOST_TEST(to_string(run_status::success) == "success");
  BOOST_TEST(to_string(run_status::error) == "error");
  BOOST_TEST(to_string(run_status::error_reached_max_retries) == "error-reached-max-retries");
}

// ---- spec §3.6 worked examples, simulated ---------------------------------------

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
  std::vector<sim_task> tasks = {sim_task{
    "inline", "retry-me", std::nullopt,
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
  sim_result r = simulate(none, with_backoff(3, backoff_type::exponential, 1000), true);
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

  // Without a workflow cap nothing ever stops it (Payload behaviour, spec
  // §1.3): the job keeps retrying.
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
    sim_task{"second", "2", attempts(5), std::nullopt, [](int run) { return run == 3; }},
  };
  sim_result r = simulate(tasks, std::nullopt);
  BOOST_TEST(r.executions == 3);
  BOOST_TEST(tasks[0].runs == 1);
  BOOST_TEST(name(r.final.status) == "completed");
  BOOST_TEST(r.final.total_tried == 3);
  auto status = derive_task_status(r.final.log);
  CHECK_JSON_EQ(find_task_state(status, "first", "1")->output, json({{"run", 1}}));
  CHECK_JSON_EQ(find_task_state(status, "second", "2")->output, json({{"run", 3}}));
}

BOOST_AUTO_TEST_SUITE_END()
