#pragma once

// Internal to actors/: the state shared by a job actor and a workflow actor,
// and the functions each file contributes. The job actor (job_actor.cpp)
// owns one attempt and settles its outcome (job_outcome.cpp); the workflow
// driver (workflow_driver.cpp) runs a workflow's coroutine, inside a
// workflow actor (workflow_actor.cpp) or, for a task job, inside the job
// actor itself.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "actors/env.hpp"
#include "actors/interfaces.hpp"
#include "actors/internal_messages.hpp"
#include "actors/live_job.hpp"

namespace conveyor::actors {

/// What the job actor remembers about a dispatched step.
struct step_meta {
  const task_definition* def = nullptr;
  std::optional<model::task_state> previous;
  model::retry_config merged;
};

struct job_state {
  static constexpr const char* name = "conveyor.job";
  env_ptr env;
  queue_actor queue;
  /// The document as claimed (what the queue released on a crash).
  model::job claimed;
  /// Set in a workflow actor: the job actor that settles its outcome.
  job_actor parent;
  /// Set in the job actor of a workflow job: the workflow actor running it.
  job_actor child;
  std::unique_ptr<workflow_context> ctx;
  workflow coro;
  /// Steps of the current await that are not finished yet (a success is
  /// finished only once its log entry is durable).
  std::size_t outstanding = 0;
  std::map<const step_state*, step_meta> meta;
  /// Failed steps of the current await, for the failure rules.
  std::map<std::pair<std::string, std::string>, model::task_failure> failures;
  bool cancel_requested = false;
  std::string cancel_message;
  std::shared_ptr<std::atomic<bool>> stop =
    std::make_shared<std::atomic<bool>>(false);
  /// The workflow ended (its outcome is being settled): nothing more runs.
  bool finished = false;
  /// The document as last journaled (its index keys are on disk).
  model::job journaled;
  /// Step successes are in ctx->job() but not yet journaled.
  bool dirty = false;
  /// Steps handed to the worker pool, by submission number.
  std::map<std::uint64_t, std::shared_ptr<step_state>> in_flight;
  std::uint64_t step_counter = 0;
  /// Steps submitted to remote worker nodes (a cancel tells them too).
  std::size_t remote_steps = 0;
  /// What the attempt's steps are doing (shared with the queue and the
  /// workers; the workflow actor shares its job actor's).
  live_ptr live;

  /// Long tasks see the stop token flip when this actor goes away; a job
  /// actor killed at shutdown takes its workflow actor along (nothing more
  /// is written: the job stays as last journaled).
  ~job_state() {
    stop->store(true);
    if (child && !finished)
      caf::anon_send_exit(child, caf::exit_reason::user_shutdown);
  }
};

using job_pointer = job_actor::stateful_pointer<job_state>;

// -- workflow_driver.cpp ---------------------------------------------------

/// Starts the job's workflow (a task job is a one-step workflow).
void start_workflow(job_pointer self);
/// The workflow ended: a workflow actor reports to its job actor; a job
/// actor running a task job itself settles the outcome.
void finish(job_pointer self, workflow_outcome outcome);
/// Runs `f`; an exception escaping workflow code or a hook ends the attempt
/// with a workflow-level error. (Were the actor killed instead, its queue
/// would release the job without consuming a try, and it would loop.)
template <class F>
void guarded(job_pointer self, F&& f) {
  auto fail = [&](const std::string& what) {
    workflow_outcome out;
    out.what = workflow_outcome::kind::workflow_error;
    out.error = model::error_json("Error", what);
    finish(self, std::move(out));
  };
  try {
    f();
  } catch (const std::exception& e) {
    fail(e.what());
  } catch (...) {
    fail("unknown exception");
  }
}
/// The handlers of an actor that drives a workflow.
job_actor::behavior_type driving_behavior(job_pointer self);

// -- job_outcome.cpp -------------------------------------------------------

/// Applies the failure rules to how the workflow ended, journals the
/// attempt's final document and reports it to the queue.
void on_outcome(job_pointer self, workflow_outcome& out);
/// Journals `t.next` (or erases the job) and reports to the queue.
void settle(job_pointer self, const std::shared_ptr<const model::job>& before,
            model::transition t);

// -- workflow_actor.cpp ----------------------------------------------------

/// Spawns the workflow actor of the job actor `parent`'s workflow job.
job_actor spawn_workflow_actor(job_pointer parent);

} // namespace conveyor::actors