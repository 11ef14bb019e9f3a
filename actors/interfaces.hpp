#pragma once

// The typed interfaces of the runtime's internal actors, in one place because
// they refer to each other (queue -> job -> queue).
//
//   supervisor ──claim/execute──▶ queue ──spawn──▶ job ──spawn──▶ workflow
//        ▲                          ▲ ◀─handler_done, attempt_done─┘   │
//        └──────── replies ─────────┘             job ◀──outcome───────┘
//   workflow (or the job actor of a task job) ──submit──▶ worker pool
//   worker pool ──step_done──▶ the submitting actor
//   everyone ──commit──▶ journal (group commit)

#include "actors/internal_messages.hpp"
#include "conveyor/runtime.hpp"

namespace conveyor::actors {

using step_done_atom = caf::atom_constant<caf::atom("cv_sdone")>;

/// One per running job (the job actor) and one per running workflow (the
/// workflow actor), both of this type. The workflow actor drives the
/// coroutine and reports how it ended (outcome_atom); the job actor applies
/// the failure rules, journals the result and reports to its queue. A task
/// job is a one-step workflow that its job actor runs itself: no second
/// actor per task job.
using job_actor = caf::typed_actor<
  /// from a worker: the attempt of step number N ended
  caf::reacts_to<step_done_atom, std::uint64_t, task_result>,
  /// from a task handler: may nested task (slug, id) be restored?
  caf::replies_to<nested_begin_atom, std::string, std::string,
                  std::optional<model::retry_config>>::with<nested_decision>,
  /// from a task handler: nested task succeeded; journal its log entry
  caf::replies_to<nested_end_atom, model::log_entry>::with<bool>,
  /// stop between steps (a job actor forwards it to its workflow actor)
  caf::reacts_to<cancel_job_atom, std::string>,
  /// the clean stop's grace ran out: end the attempt as interrupted
  /// (journaled successes kept, pending again, no retry consumed)
  caf::reacts_to<interrupt_atom>,
  /// from the workflow actor to its job actor: how the workflow ended
  caf::reacts_to<outcome_atom, workflow_outcome>,
  /// a step's held-back progress event is due (actors/live_job.hpp)
  caf::reacts_to<live_flush_atom>>;

/// What workers and remote pools answer: the actor running the workflow.
using workflow_actor = job_actor;

/// One per named queue: owns the queue's pending jobs and running set.
using queue_actor = caf::typed_actor<
  /// adopt new jobs that the supervisor already journaled
  caf::reacts_to<enqueue_atom, std::vector<model::job>>,
  /// give claimed-but-not-executed jobs back (over-claimed by run())
  caf::reacts_to<release_atom, std::vector<model::job_id>>,
  /// claim up to limit claimable jobs (lease taken) -> their ids, in order
  caf::replies_to<claim_atom, claim_request>::with<std::vector<claimed_job>>,
  /// claim one job by id if it is claimable -> [id] or []
  caf::replies_to<claim_id_atom,
                  model::job_id>::with<std::vector<model::job_id>>,
  /// run a claimed job's attempt -> its status when the attempt ended
  caf::replies_to<execute_atom, model::job_id>::with<attempt_report>,
  /// the job's in-memory document (pending or running, then with what its
  /// attempt is doing) or not_found
  caf::replies_to<peek_job_atom, model::job_id>::with<live_document>,
  /// the job as peek shows it, once its cursor differs from the one given
  /// (at once if it does already; at the latest after follow_window), or
  /// not_found once it left the queue
  caf::replies_to<follow_live_atom, model::job_id,
                  std::string>::with<live_document>,
  /// from a running job's live record: it changed (someone follows it)
  caf::reacts_to<live_changed_atom, model::job_id>,
  /// a follower's window ended
  caf::reacts_to<follow_timeout_atom, model::job_id, std::uint64_t>,
  /// all in-memory documents (pending and running)
  caf::replies_to<snapshot_atom>::with<std::vector<model::job>>,
  /// cancel one job -> the cancelled document, after it is journaled
  caf::replies_to<cancel_job_atom, model::job_id,
                  std::string>::with<model::job>,
  /// cancel every matching job -> the cancelled documents
  caf::replies_to<cancel_where_atom, std::shared_ptr<const model::where>>::with<
    std::vector<model::job>>,
  /// take every pending job with this concurrency key out of the index (the
  /// supervisor journals their deletion) -> those jobs
  caf::replies_to<supersede_atom, std::string>::with<std::vector<model::job>>,
  /// the job once terminal -> its final document (status completed, possibly
  /// already deleted)
  caf::replies_to<watch_atom, model::job_id>::with<model::job>,
  /// from the job actor: the attempt's handlers are done and its outcome is
  /// being journaled; its concurrency slot is free
  caf::reacts_to<handler_done_atom, model::job_id>,
  /// from the job actor: the attempt ended; `next` is the journaled document
  caf::reacts_to<attempt_done_atom, model::job_id, model::run_status,
                 model::job>,
  /// pause / resume (already journaled by the supervisor)
  caf::reacts_to<pause_queue_atom, bool>,
  /// new concurrency limit
  caf::reacts_to<set_concurrency_atom, std::int32_t>,
  /// non-terminal jobs of a slug (pending or running)
  caf::replies_to<count_active_atom, count_request>::with<std::int64_t>,
  /// non-terminal scheduled jobs of a slug -> {count, job: oldest or null}
  caf::replies_to<pending_scheduled_atom, count_request>::with<json>,
  /// this queue's counts -> {name, queued, delayed, running, paused,
  /// concurrency, completed, failed, cancelled}
  caf::replies_to<queue_stats_atom>::with<json>,
  /// timer for delayed jobs
  caf::reacts_to<caf::tick_atom>,
  /// clean stop: start no more jobs -> true once none runs
  caf::replies_to<drain_atom>::with<bool>,
  /// clean stop, grace over: interrupt every running job
  caf::reacts_to<interrupt_atom>,
  /// timer: running jobs' processingUntil moves forward
  caf::reacts_to<renew_atom>>;

} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::model::run_status)
