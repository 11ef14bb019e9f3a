#include "transitions_support.hpp"

using namespace conveyor::model;
using namespace conveyor::model::test_support;

BOOST_AUTO_TEST_SUITE(transitions_test)

// ---- docs/semantics.md §3 transitions, one by one --------------------------

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
  BOOST_TEST(
    !is_claimable(j, t0 + 100)); // docs/semantics.md §5: strictly < now
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
  transition t =
    fail_task(j, std::nullopt,
              failure_of("t", "1", attempts(2), previous_state(2)), t0 + 100);
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
  CHECK_JSON_EQ(t.next.error,
                json({{"cancelled", true}, {"message", "no longer needed"}}));

  t = cancel(running_job(), std::nullopt, t0 + 1);
  BOOST_TEST(name(t.next.status) == "cancelled");
  BOOST_TEST(!t.next.processing_until.has_value());
  BOOST_TEST(!t.next.processing_token.has_value());
  BOOST_TEST(t.next.total_tried == 0);
}

BOOST_AUTO_TEST_CASE(cancelled_running_job_stays_cancelled) {
  // The worker finishes its current task after the cancel; its writes must
  // not resurrect the job (docs/semantics.md §3: a terminal state is final).
  job j = cancel(running_job(), std::nullopt, t0 + 1).next;
  log_entry e;
  e.task_slug = "t";
  e.task_id = "1";
  j = append_success(j, e);
  const job cancelled = j;
  transition done = complete(j, t0 + 2);
  BOOST_TEST((done.next == cancelled));
  BOOST_TEST(name(done.status) == "error-reached-max-retries");
  transition failed =
    fail_task(j, attempts(5), failure_of("t", "2", attempts(5)), t0 + 3);
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

BOOST_AUTO_TEST_CASE(interruptions_release_until_the_limit_then_fail) {
  job j = running_job();
  j.total_tried = 1;
  auto first = interrupt(j, 3, t0 + 10);
  BOOST_TEST(first.next.interruptions == 1);
  BOOST_TEST(name(first.next.status) == "queued");
  BOOST_TEST(first.next.total_tried == 1); // nothing consumed
  BOOST_TEST(!first.next.has_error);
  BOOST_TEST(is_claimable(first.next, t0 + 11));
  BOOST_TEST(to_string(first.status) == "interrupted");

  auto second =
    interrupt(claim(first.next, "tok-B", t0 + lease, t0 + 20), 3, t0 + 30);
  BOOST_TEST(second.next.interruptions == 2);
  BOOST_TEST(name(second.next.status) == "queued");

  auto third =
    interrupt(claim(second.next, "tok-C", t0 + lease, t0 + 40), 3, t0 + 50);
  BOOST_TEST(third.next.interruptions == 3);
  BOOST_TEST(name(third.next.status) == "failed");
  BOOST_TEST(third.next.has_error);
  BOOST_TEST(third.next.error["name"] == "JobInterrupted");
  BOOST_TEST(!third.next.processing_token.has_value());
  BOOST_TEST(!third.next.completed_at.has_value());
  BOOST_TEST(to_string(third.status) == "error-reached-max-retries");
  BOOST_TEST(!is_claimable(third.next, t0 + 60));
  // Terminal stays terminal.
  auto again = interrupt(third.next, 3, t0 + 70);
  BOOST_TEST((again.next == third.next));
}

BOOST_AUTO_TEST_CASE(interruptions_without_a_limit_never_fail) {
  job j = running_job();
  for (int i = 0; i < 50; ++i)
    j = interrupt(claim(j, "tok", t0 + lease, t0), 0, t0 + 1).next;
  BOOST_TEST(j.interruptions == 50);
  BOOST_TEST(name(j.status) == "queued");
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
  for (job_status s :
       {job_status::completed, job_status::failed, job_status::cancelled}) {
    j.status = s;
    BOOST_TEST(!is_claimable(j, t0 + 1), name(s));
  }
}

// ---- task errors (docs/semantics.md §10), details --------------------------

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
  BOOST_TEST(fail_task(j, std::nullopt, failure_of("t", "1", cfg), t0)
               .next.wait_until.value_or(0)
             == t0 + 5000);
  j.wait_until = t0 + 50; // earlier than the backoff: backoff wins
  BOOST_TEST(fail_task(j, std::nullopt, failure_of("t", "1", cfg), t0)
               .next.wait_until.value_or(0)
             == t0 + 100);
  j.wait_until = t0 - 5000; // stale: dropped
  BOOST_TEST(fail_task(j, std::nullopt, failure_of("t", "1", attempts(5)), t0)
               .next.wait_until.value_or(0)
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
  transition t =
    fail_task(j, attempts(2), failure_of("t", "1", attempts(9)), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(t.next.has_error);
  CHECK_JSON_EQ(t.next.error, error_json("Error", "boom", "stack..."));
  j.total_tried = 1;
  BOOST_TEST(
    name(
      fail_task(j, attempts(2), failure_of("t", "1", attempts(9)), t0).status)
    == "error");
}

BOOST_AUTO_TEST_CASE(workflow_retries_without_attempts) {
  // Inherited task attempts are 0, so an undefined task limit is final...
  retry_config wf = with_backoff(std::nullopt, backoff_type::fixed, 700);
  BOOST_TEST(name(fail_task(running_job(), wf, failure_of("t", "1"), t0).status)
             == "error-reached-max-retries");
  // ...but there is no job-level cap, and the workflow backoff applies.
  transition t =
    fail_task(running_job(), wf, failure_of("t", "1", attempts(3)), t0);
  BOOST_TEST(name(t.status) == "error");
  BOOST_TEST(t.next.wait_until.value_or(0) == t0 + 700);
}

BOOST_AUTO_TEST_CASE(previously_completed_task_skips_the_task_limit) {
  // shouldRestore=false re-ran a task that had succeeded; its failure is
  // limited only by the workflow cap (docs/semantics.md §10).
  transition t =
    fail_task(running_job(), std::nullopt,
              failure_of("t", "1", attempts(0), previous_state(3, true)), t0);
  BOOST_TEST(name(t.status) == "error");
  job j = running_job();
  j.total_tried = 1;
  t = fail_task(j, attempts(1),
                failure_of("t", "1", attempts(0), previous_state(3, true)), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
}

// ---- workflow-level errors (docs/semantics.md §10) -------------------------

BOOST_AUTO_TEST_CASE(workflow_error_without_retries_is_final) {
  transition t = fail_workflow(running_job(), std::nullopt,
                               error_json("TypeError", "x is undefined"), t0);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(name(t.next.status) == "failed");
  BOOST_TEST(t.next.has_error);
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(t.next.log.empty());
  BOOST_TEST(t.next.error["name"] == "TypeError");
  // A retries object without attempts also means no retries.
  t = fail_workflow(running_job(),
                    with_backoff(std::nullopt, backoff_type::fixed, 10),
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

// ---- slug not registered (docs/semantics.md §10) ---------------------------

BOOST_AUTO_TEST_CASE(unregistered_slug_fails_once) {
  transition t =
    fail_unregistered(running_job(), "Workflow 'wf' is not registered", t0 + 3);
  BOOST_TEST(name(t.status) == "error-reached-max-retries");
  BOOST_TEST(name(t.next.status) == "failed");
  CHECK_JSON_EQ(t.next.error,
                json({{"message", "Workflow 'wf' is not registered"}}));
  BOOST_TEST(t.next.has_error);
  BOOST_TEST(t.next.total_tried == 1);
  BOOST_TEST(!t.next.processing_until.has_value());
  BOOST_TEST(!t.next.processing_token.has_value());
  BOOST_TEST(t.next.updated_at == t0 + 3);
  BOOST_TEST(t.next.log.empty());
}

BOOST_AUTO_TEST_CASE(error_json_and_run_status_names) {
  CHECK_JSON_EQ(error_json("Error", "m", "s"), json({{"name", "Error"},
                                                     {"cancelled", false},
                                                     {"message", "m"},
                                                     {"stack", "s"}}));
  BOOST_TEST(to_string(run_status::success) == "success");
  BOOST_TEST(to_string(run_status::error) == "error");
  BOOST_TEST(to_string(run_status::error_reached_max_retries)
             == "error-reached-max-retries");
}

BOOST_AUTO_TEST_SUITE_END()
