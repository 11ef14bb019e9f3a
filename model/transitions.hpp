#pragma once

// The job state machine (docs/semantics.md §3) and the failure rules (§9, §10)
// as pure functions from (job, configs, event, now) to the next job state.
//
// Each function returns the complete next document; the caller journals it in
// one WriteBatch. None of them reads a clock.

#include <optional>
#include <string>
#include <string_view>

#include "model/job.hpp"
#include "model/retry.hpp"
#include "model/task_status.hpp"

namespace conveyor::model {

/// Payload's per-job result of a run call.
enum class run_status : std::uint8_t {
  success,
  error,                     ///< failed, will retry
  error_reached_max_retries, ///< final: failed, cancelled or unregistered
  /// Not Payload's: the attempt was lost (its process or worker stopped,
  /// or the node stopped) and the job is pending again with nothing
  /// consumed. It did not fail, so a RunJobsResult leaves it out of
  /// jobStatus (docs/semantics.md §6).
  interrupted,
};

/// "success" | "error" | "error-reached-max-retries" | "interrupted"
std::string_view to_string(run_status s);

struct transition {
  job next;
  run_status status = run_status::success;
};

/// Error JSON as Payload writes it: {name, cancelled: false, message, stack}.
json error_json(std::string_view name, std::string_view message,
                std::string_view stack = {});

/// queued or waiting, depending on whether wait_until lies after now.
job_status pending_status(const job& j, time_ms now);

/// Pending (not terminal, no live lease) and wait_until unset or strictly
/// before now (docs/semantics.md §5, §6).
bool is_claimable(const job& j, time_ms now);

/// Transition 2: takes a lease with fencing `token` until `lease_until`.
job claim(job j, std::string token, time_ms lease_until, time_ms now);

/// Transition 9 / crash recovery: the lease is dropped and the job is pending
/// again with nothing consumed (total_tried, log and error unchanged).
job release(job j, time_ms now);

/// The job was running when its process stopped without a clean shutdown
/// (found on recovery) or when its worker node vanished. Like release --
/// nothing consumed -- but counted in `interruptions`: the `max`-th one is a
/// final failure with error {name: "JobInterrupted"}, so a job that kills its
/// process every time cannot crash-loop the node forever (Sidekiq's and
/// Oban's poison-pill rule). max <= 0: no limit.
transition interrupt(job j, std::int32_t max, time_ms now);

/// Transition 3: appends a succeeded task attempt (only the log changes;
/// updatedAt is untouched, as in Payload).
job append_success(job j, log_entry entry);

/// Transition 4: completed_at = now, total_tried + 1, lease cleared.
transition complete(job j, time_ms now);

/// What the runner knows about a failed task attempt.
struct task_failure {
  std::string log_entry_id;
  std::string task_slug;
  std::string task_id;
  json input = json::object();
  json error; ///< error_json(...)
  time_ms executed_at = 0;
  std::optional<task_ref> parent;
  retry_config merged_retries; ///< merge_retries(task config, call site)
  /// Status of (slug, id) before this attempt; nullopt on the first attempt.
  std::optional<task_state> previous;
  std::string stderr_tail; ///< for the log entry
};

/// The failed log entry of `f`, ended at `now`.
log_entry failed_entry(const task_failure& f, time_ms now);

/// docs/semantics.md §10 (task error escaped the workflow handler): pushes a
/// failed log entry, then decides retry vs final from the task's and the
/// workflow's
/// retry limits, and computes wait_until from both backoffs.
transition fail_task(job j, const std::optional<retry_config>& workflow_retries,
                     const task_failure& failure, time_ms now);

/// docs/semantics.md §10 (an error outside any task): no log entry; error is
/// set even when the job will retry; final when the workflow has no retries or
/// total_tried reached its attempts.
transition fail_workflow(job j,
                         const std::optional<retry_config>& workflow_retries,
                         json error, time_ms now);

/// docs/semantics.md §11: cancelled, error {cancelled: true[, message]},
/// wait_until and lease cleared, total_tried unchanged. A job that is already
/// terminal is returned unchanged (a job has exactly one terminal state).
transition cancel(job j, std::optional<std::string> message, time_ms now);

/// docs/semantics.md §10: the slug is not registered -> final failure after
/// one attempt with error {message}.
transition fail_unregistered(job j, std::string message, time_ms now);

} // namespace conveyor::model
