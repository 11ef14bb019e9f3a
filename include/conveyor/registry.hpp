#pragma once

// Tasks and workflows, defined in C++ and handed to conveyor::start.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/errors.hpp"
#include "conveyor/workflow.hpp"
#include "model/error.hpp"
#include "model/retry.hpp"
#include "model/schedule.hpp"
#include "model/task_status.hpp"

namespace conveyor {

/// Arguments of onSuccess / onFail and of a shouldRestore predicate.
struct task_hook_args {
  const json& input;
  const model::job& job;
  /// Status of this (slug, id) before the attempt; nullptr on the first.
  const model::task_state* task_status;
};

/// Runs a nested task from inside a task handler (blocking). Provided by the
/// runtime.
using nested_runner =
  std::function<json(const std::string& slug, const std::string& id,
                     task_handler inline_handler, task_options opts)>;

/// Where a running step reports what it is doing; the runtime provides it
/// (GET /v1/jobs/{id} shows it under "live" while the job runs). Called from
/// the step's worker thread; never blocks.
class step_reporter {
public:
  virtual ~step_reporter() = default;
  virtual void progress(double fraction, std::string_view message) = 0;
  virtual void append_tail(std::string_view text) = 0;
};

/// What a task handler sees. Lives on the worker thread for one attempt.
class task_context {
public:
  task_context(json input, const model::job& job, std::string slug,
               std::string id, std::shared_ptr<const std::atomic<bool>> stop,
               nested_runner nested,
               std::shared_ptr<step_reporter> reporter = nullptr)
      : input_(std::move(input)), job_(job), slug_(std::move(slug)),
        id_(std::move(id)), stop_(std::move(stop)), nested_(std::move(nested)),
        reporter_(std::move(reporter)) {}

  const json& input() const { return input_; }
  /// The job as it was when this attempt started.
  const model::job& job() const { return job_; }
  const std::string& task_slug() const { return slug_; }
  const std::string& task_id() const { return id_; }

  /// Flips to true the moment a cancel for this job arrives, so a long task
  /// can stop early (throw job_cancelled, or return what it has).
  bool stop_requested() const {
    return stop_ && stop_->load(std::memory_order_relaxed);
  }

  /// Runs registered task `slug` as a sub-task of this one
  /// (docs/semantics.md §7): restored from the log if it already succeeded,
  /// else executed here and
  /// its attempt logged with this task as parent. Throws task_failed.
  json task(const std::string& slug, const std::string& id,
            task_options opts = {}) {
    return nested_(slug, id, nullptr, std::move(opts));
  }
  json inline_task(const std::string& id, task_handler handler,
                   task_options opts = {}) {
    return nested_("inline", id, std::move(handler), std::move(opts));
  }

  /// Reports how far this step is: `fraction` in [0, 1] (clamped; NaN is
  /// ignored) and a short message (cut to 200 bytes). Readers see the
  /// latest value at once; events about it go out at most every 100 ms,
  /// and the latest always does. Cheap: call it as often as you like.
  void progress(double fraction, std::string_view message = {}) const {
    if (reporter_)
      reporter_->progress(fraction, message);
  }
  /// Appends to this step's live tail (what a command task writes to
  /// stderr): readers see its last 8 KiB while the step runs, and its last
  /// 2 KiB stay in the step's log entry ("stderrTail").
  void append_tail(std::string_view text) const {
    if (reporter_)
      reporter_->append_tail(text);
  }

private:
  json input_;
  const model::job& job_;
  std::string slug_;
  std::string id_;
  std::shared_ptr<const std::atomic<bool>> stop_;
  nested_runner nested_;
  std::shared_ptr<step_reporter> reporter_;
};

/// Job-level concurrency (Payload's `concurrency`, docs/semantics.md §14): a
/// key computed from the input and the job's queue when the job is queued.
/// Keys are global across queues (put the queue in the key to scope it).
struct concurrency_config {
  /// The key; an empty result means "no key" for that job.
  std::function<std::string(const json& input, const std::string& queue)> key;
  /// At most one job per key runs at a time (Payload ignores this flag; we
  /// honour it: false allows parallel runs).
  bool exclusive = true;
  /// Queueing a job deletes older *pending* jobs with the same key (never
  /// running, failed or cancelled ones).
  bool supersedes = false;
};

/// A custom beforeSchedule: decide whether (and with what input and
/// waitUntil) to queue the candidate. Call model::default_before_schedule(a)
/// to delegate to the default rule. Runs on the scheduler's own thread, one
/// candidate at a time; it may block briefly. An exception marks the
/// candidate errored.
using before_schedule_hook =
  std::function<model::schedule_decision(const model::before_schedule_args&)>;
/// A custom afterSchedule, called for queued, skipped and errored
/// candidates. Call model::default_after_schedule(a) to keep the stats
/// (without it, the next tick is computed from now only).
using after_schedule_hook = std::function<void(model::after_schedule_args&)>;

/// `schedule: [{cron, queue, hooks}]` (docs/semantics.md §17):
/// handle_schedules queues a job for the next tick of `cron` on `queue`,
/// marked meta.scheduled = true.
struct schedule_entry {
  std::string cron;  ///< 5 fields, or 6 with leading seconds; UTC
  std::string queue; ///< required
  before_schedule_hook before_schedule; ///< empty: the default
  after_schedule_hook after_schedule;   ///< empty: the default
};

struct task_definition {
  std::string slug;
  task_handler handler;
  std::optional<model::retry_config> retries;
  json input_schema;  ///< null: no validation
  json output_schema; ///< null: no validation
  std::function<void(const task_hook_args&)> on_success;
  std::function<void(const task_hook_args&)> on_fail;
  /// Overrides retries.should_restore when set.
  std::function<bool(const task_hook_args&)> should_restore;
  std::string label;
  /// Run by remote worker nodes that registered this slug (no local
  /// handler); attempts wait until such a worker serves the job's queue.
  bool remote = false;
  /// Only for jobs queued for this task directly.
  std::optional<concurrency_config> concurrency;
  /// Jobs of this task queued by handle_schedules.
  std::vector<schedule_entry> schedule;
  /// Priority of its jobs when a queue request gives none (priority 0).
  std::int32_t priority = 0;
};

using workflow_handler = std::function<workflow(workflow_context&)>;

struct workflow_definition {
  std::string slug;
  workflow_handler handler;
  std::optional<std::string> queue; ///< default queue of its jobs
  std::optional<model::retry_config> retries;
  json input_schema;
  std::string label;
  std::optional<concurrency_config> concurrency;
  std::vector<schedule_entry> schedule;
  std::int32_t priority = 0;
};

/// The set of tasks and workflows a runtime knows. Fill it before start();
/// it is read-only afterwards (shared by every actor without locks).
class registry {
public:
  /// Errors (invalid_input, naming the field): empty or reserved slug
  /// ("inline"), a slug already used by a task or workflow, a missing
  /// handler, an invalid schema, a schedule with an invalid cron or queue
  /// name, a concurrency config without a key function.
  model::status add_task(task_definition def);
  model::status add_workflow(workflow_definition def);

  const task_definition* find_task(std::string_view slug) const;
  const workflow_definition* find_workflow(std::string_view slug) const;

  const std::map<std::string, task_definition, std::less<>>& tasks() const {
    return tasks_;
  }
  const std::map<std::string, workflow_definition, std::less<>>&
  workflows() const {
    return workflows_;
  }

private:
  model::status check_slug(const std::string& slug, const char* what) const;
  std::map<std::string, task_definition, std::less<>> tasks_;
  std::map<std::string, workflow_definition, std::less<>> workflows_;
};

} // namespace conveyor
