#include "model/transitions.hpp"

#include <algorithm>
#include <utility>

namespace conveyor::model {

namespace {

void clear_lease(job& j) {
  j.processing_until.reset();
  j.processing_token.reset();
}

/// A terminal job never changes again (Payload's before-change hook keeps a
/// cancellation sticky; we extend that to every terminal state). A late write
/// from a worker that lost the race is answered with the existing outcome.
transition unchanged(job j) {
  run_status s = j.status == job_status::completed
                   ? run_status::success
                   : run_status::error_reached_max_retries;
  return {std::move(j), s};
}

/// wait_until if it still lies in the future, else nothing: a stale wait
/// must not delay a retry (docs/semantics.md §9).
std::optional<time_ms> future_wait(const job& j, time_ms now) {
  if (j.wait_until && *j.wait_until > now)
    return j.wait_until;
  return std::nullopt;
}

time_ms later(std::optional<time_ms> a, time_ms b) {
  return a ? std::max(*a, b) : b;
}

/// Common tail of every finished attempt (success or failure).
void finish_attempt(job& j, time_ms now) {
  ++j.total_tried;
  clear_lease(j);
  j.updated_at = now;
}

/// Writes the retry-or-final outcome of a failed attempt.
transition settle_failure(job j, bool final_failure, time_ms wait_until,
                          time_ms now) {
  finish_attempt(j, now);
  j.has_error = final_failure;
  if (final_failure) {
    j.status = job_status::failed;
    return {std::move(j), run_status::error_reached_max_retries};
  }
  j.wait_until = wait_until;
  j.status = pending_status(j, now);
  return {std::move(j), run_status::error};
}

} // namespace

log_entry failed_entry(const task_failure& f, time_ms now) {
  log_entry e;
  e.id = f.log_entry_id;
  e.executed_at = f.executed_at;
  e.completed_at = now;
  e.task_slug = f.task_slug;
  e.task_id = f.task_id;
  e.input = f.input;
  e.output = json::object();
  e.state = log_state::failed;
  e.error = f.error;
  e.parent = f.parent;
  e.stderr_tail = f.stderr_tail;
  return e;
}

std::string_view to_string(run_status s) {
  switch (s) {
  case run_status::success:
    return "success";
  case run_status::error:
    return "error";
  case run_status::error_reached_max_retries:
    return "error-reached-max-retries";
  case run_status::interrupted:
    return "interrupted";
  }
  return "unknown";
}

json error_json(std::string_view name, std::string_view message,
                std::string_view stack) {
  return json{{"name", name},
              {"cancelled", false},
              {"message", message},
              {"stack", stack}};
}

job_status pending_status(const job& j, time_ms now) {
  return j.wait_until && *j.wait_until > now ? job_status::waiting
                                             : job_status::queued;
}

bool is_claimable(const job& j, time_ms now) {
  if (is_terminal(j.status))
    return false;
  if (j.processing_until && *j.processing_until > now)
    return false; // a live lease: someone is running it
  return !j.wait_until || *j.wait_until < now;
}

job claim(job j, std::string token, time_ms lease_until, time_ms now) {
  j.processing_token = std::move(token);
  j.processing_until = lease_until;
  j.status = job_status::running;
  j.updated_at = now;
  return j;
}

job release(job j, time_ms now) {
  clear_lease(j);
  if (!is_terminal(j.status))
    j.status = pending_status(j, now);
  j.updated_at = now;
  return j;
}

transition interrupt(job j, std::int32_t max, time_ms now) {
  if (is_terminal(j.status))
    return unchanged(std::move(j));
  ++j.interruptions;
  if (max <= 0 || j.interruptions < max)
    return {release(std::move(j), now), run_status::interrupted};
  auto message = "the job was running when its process or worker stopped "
                 + std::to_string(j.interruptions)
                 + " times; it is not started again (limit "
                 + std::to_string(max) + ")";
  j.error = error_json("JobInterrupted", message);
  j.wait_until.reset();
  return settle_failure(std::move(j), true, 0, now);
}

job append_success(job j, log_entry entry) {
  entry.state = log_state::succeeded;
  j.log.push_back(std::move(entry));
  return j;
}

transition complete(job j, time_ms now) {
  if (is_terminal(j.status))
    return unchanged(std::move(j));
  finish_attempt(j, now);
  j.completed_at = now;
  j.wait_until.reset();
  j.status = job_status::completed;
  return {std::move(j), run_status::success};
}

transition fail_task(job j, const std::optional<retry_config>& workflow_retries,
                     const task_failure& failure, time_ms now) {
  if (is_terminal(j.status))
    return unchanged(std::move(j));
  // The failed attempt is recorded whatever the outcome
  // (docs/semantics.md §10).
  j.log.push_back(failed_entry(failure, now));

  const std::int32_t prev_tried =
    failure.previous ? failure.previous->total_tried : 0;
  const bool prev_complete = failure.previous && failure.previous->complete;
  // A re-executed completed task (shouldRestore=false) skips the task limit:
  // only the workflow cap below can stop it.
  const std::int32_t max_retries =
    max_task_retries(failure.merged_retries, workflow_retries);
  if (!prev_complete && prev_tried >= max_retries) {
    j.error = failure.error;
    return settle_failure(std::move(j), true, now, now);
  }

  time_ms wait = later(future_wait(j, now),
                       backoff_until(failure.merged_retries.backoff, prev_tried,
                                     now, jitter_draw(j.id, j.total_tried)));
  bool final_failure = false;
  if (workflow_retries) {
    if (workflow_retries->attempts
        && j.total_tried >= *workflow_retries->attempts)
      final_failure = true;
    else
      wait =
        std::max(wait, backoff_until(workflow_retries->backoff, j.total_tried,
                                     now, jitter_draw(j.id, j.total_tried)));
  }
  // Payload leaves the error "undefined" on a retry; we clear it so a stale
  // error never describes a job that is still going to run.
  j.error = final_failure ? failure.error : json();
  return settle_failure(std::move(j), final_failure, wait, now);
}

transition fail_workflow(job j,
                         const std::optional<retry_config>& workflow_retries,
                         json error, time_ms now) {
  if (is_terminal(j.status))
    return unchanged(std::move(j));
  // Visible even while retrying: users read error.message on a pending job.
  j.error = std::move(error);
  // No retries configured => final. A retries object without attempts counts
  // as 0 attempts (as in max_task_retries), so it never retries forever.
  const bool final_failure =
    !workflow_retries
    || j.total_tried >= workflow_retries->attempts.value_or(0);
  time_ms wait = now;
  if (!final_failure)
    wait = later(future_wait(j, now),
                 backoff_until(workflow_retries->backoff, j.total_tried, now,
                               jitter_draw(j.id, j.total_tried)));
  return settle_failure(std::move(j), final_failure, wait, now);
}

transition cancel(job j, std::optional<std::string> message, time_ms now) {
  // Nothing to cancel, and the job will not run (again) either way.
  if (is_terminal(j.status))
    return {std::move(j), run_status::error_reached_max_retries};
  j.completed_at.reset();
  j.error = json{{"cancelled", true}};
  if (message)
    j.error["message"] = std::move(*message);
  j.has_error = true;
  j.wait_until.reset();
  clear_lease(j);
  j.status = job_status::cancelled;
  j.updated_at = now;
  return {std::move(j), run_status::error_reached_max_retries};
}

transition fail_unregistered(job j, std::string message, time_ms now) {
  if (is_terminal(j.status))
    return unchanged(std::move(j));
  finish_attempt(j, now);
  j.error = json{{"message", std::move(message)}};
  j.has_error = true;
  j.status = job_status::failed;
  return {std::move(j), run_status::error_reached_max_retries};
}

} // namespace conveyor::model
