#pragma once

// Messages between the runtime's own actors. They never leave the process,
// so they carry pointers and functions and are marked unsafe (no serializer).

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/requests.hpp"
#include "caf/all.hpp"
#include "conveyor/registry.hpp"
#include "model/job.hpp"
#include "model/task_status.hpp"
#include "model/transitions.hpp"
#include "model/where.hpp"

namespace conveyor::actors {

using nested_begin_atom = caf::atom_constant<caf::atom("cv_nbegin")>;
using nested_end_atom = caf::atom_constant<caf::atom("cv_nend")>;
using claim_atom = caf::atom_constant<caf::atom("cv_claim")>;
using claim_id_atom = caf::atom_constant<caf::atom("cv_claimid")>;
using execute_atom = caf::atom_constant<caf::atom("cv_execute")>;
using attempt_done_atom = caf::atom_constant<caf::atom("cv_adone")>;
using handler_done_atom = caf::atom_constant<caf::atom("cv_hdone")>;
using enqueue_atom = caf::atom_constant<caf::atom("cv_enq")>;
using snapshot_atom = caf::atom_constant<caf::atom("cv_snap")>;
using cancel_job_atom = caf::atom_constant<caf::atom("cv_cjob")>;
using cancel_where_atom = caf::atom_constant<caf::atom("cv_cwhere")>;
using peek_job_atom = caf::atom_constant<caf::atom("cv_peek")>;
using watch_atom = caf::atom_constant<caf::atom("cv_watch")>;
using outcome_atom = caf::atom_constant<caf::atom("cv_outcome")>;
using read_atom = caf::atom_constant<caf::atom("cv_read")>;
using release_atom = caf::atom_constant<caf::atom("cv_release")>;
using supersede_atom = caf::atom_constant<caf::atom("cv_supers")>;
using interrupt_atom = caf::atom_constant<caf::atom("cv_intr")>;
/// Timers: a queue renews its running jobs' leases; the remote pool ends
/// attempts whose worker stopped heartbeating; a worker node heartbeats.
using renew_atom = caf::atom_constant<caf::atom("cv_renew")>;
/// A running step's progress event was held back: publish it now.
using live_flush_atom = caf::atom_constant<caf::atom("cv_lflush")>;
/// Following a job: answer once it changed (queue_follow.cpp).
using follow_live_atom = caf::atom_constant<caf::atom("cv_qfollow")>;
using live_changed_atom = caf::atom_constant<caf::atom("cv_lchange")>;
using follow_timeout_atom = caf::atom_constant<caf::atom("cv_ftime")>;

class live_job; // actors/live_job.hpp

using job_ptr = std::shared_ptr<const model::job>;

/// One task attempt handed to the worker pool.
struct task_request {
  job_ptr job; ///< snapshot when the attempt started
  std::string slug;
  std::string id;
  json input = json::object();
  task_handler handler;
  const task_definition* def = nullptr; ///< null for inline tasks
  std::optional<model::task_state> previous;
  std::optional<model::task_ref> parent;
  std::shared_ptr<std::atomic<bool>> stop;
  caf::actor workflow; ///< answers nested-task requests
  /// The job's live record and this step's number in it (null: not shown,
  /// e.g. a remote step).
  std::shared_ptr<live_job> live;
  std::uint64_t live_step = 0;
};

struct task_result {
  bool ok = false;
  bool cancelled = false; ///< the handler threw job_cancelled
  /// The worker node running the attempt disappeared: nothing is known
  /// about the attempt, so the job goes back to pending, nothing consumed.
  bool lost = false;
  json output = json::object();
  json error; ///< error_json(...) when !ok
  model::time_ms executed_at = 0;
  model::time_ms completed_at = 0;
  /// The end of the step's live tail, for its log entry (set by the actor
  /// driving the workflow when the result arrives).
  std::string stderr_tail;
};

/// A job's document as its queue holds it, with what its running attempt
/// is doing (null unless it runs).
struct live_document {
  model::job doc;
  json live;
  /// Changes whenever what a reader sees of the job does (its status, its
  /// document, its live record): a follower passes the last one it saw.
  std::string cursor;
};

/// A nested task asks its workflow whether it can be restored.
struct nested_decision {
  bool restore = false;
  json output;
  std::optional<model::task_state> previous;
  model::retry_config merged_retries;
};

/// How one attempt of a workflow ended (the job actor settles it).
struct workflow_outcome {
  enum class kind : std::uint8_t {
    success,
    task_error,
    workflow_error,
    cancelled,
    lost, ///< the attempt's worker node vanished: release, consume nothing
  };
  kind what = kind::success;
  model::job job; ///< with every log entry journaled during the attempt
  model::task_failure failure; ///< task_error
  json error;                  ///< workflow_error
  std::string cancel_message;  ///< cancelled
};

/// Claim parameters of one run() call for one queue.
struct claim_request {
  std::int32_t limit = 10;
  std::shared_ptr<const model::where> where; ///< null: no filter
  bool lifo = false;
};

/// A job claimed for run(): enough to merge claims of several queues in
/// processing order.
struct claimed_job {
  model::job_id id = 0;
  std::int32_t priority = 0;
};

/// The end of one attempt, as the queue actor reports it to run().
using attempt_report = run_outcome;

} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::task_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::task_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::live_document)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::nested_decision)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::workflow_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::claim_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::attempt_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<conveyor::actors::claimed_job>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::model::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::model::log_entry)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<conveyor::model::job>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<conveyor::actors::attempt_report>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::job_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<conveyor::model::retry_config>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const conveyor::model::where>)
