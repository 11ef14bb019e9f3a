#pragma once

// Starting a Conveyor runtime inside a caf::actor_system, and its typed
// front door (the supervisor).
//
//   caf::actor_system_config cfg;
//   conveyor::register_types(cfg);          // before the actor_system exists
//   caf::actor_system sys{cfg};
//   auto reg = std::make_shared<conveyor::registry>();
//   reg->add_task({.slug = "hello", .handler = ...});
//   auto rt = conveyor::start(sys, reg, {.data_dir = "./data"});
//   conveyor::client jobs{sys, rt->supervisor()};
//   jobs.queue({.task = "hello", .input = {{"name", "x"}}});
//
// Every supervisor request is answered only after what it changed is durable
// in the journal (per the durability mode).

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "conveyor/access.hpp"
#include "conveyor/messages.hpp"
#include "conveyor/registry.hpp"
#include "model/durability.hpp"
#include "model/error.hpp"
#include "model/limits.hpp"

namespace conveyor {

using queue_atom = caf::atom_constant<caf::atom("cv_queue")>;
using queue_bulk_atom = caf::atom_constant<caf::atom("cv_qbulk")>;
using run_atom = caf::atom_constant<caf::atom("cv_run")>;
using run_by_id_atom = caf::atom_constant<caf::atom("cv_runid")>;
using get_job_atom = caf::atom_constant<caf::atom("cv_get")>;
using find_atom = caf::atom_constant<caf::atom("cv_find")>;
using cancel_by_id_atom = caf::atom_constant<caf::atom("cv_cancid")>;
using cancel_atom = caf::atom_constant<caf::atom("cv_cancel")>;
using wait_job_atom = caf::atom_constant<caf::atom("cv_wait")>;
using follow_job_atom = caf::atom_constant<caf::atom("cv_follow")>;
using pause_queue_atom = caf::atom_constant<caf::atom("cv_pause")>;
using set_concurrency_atom = caf::atom_constant<caf::atom("cv_setconc")>;
using handle_schedules_atom = caf::atom_constant<caf::atom("cv_hsched")>;
using count_active_atom = caf::atom_constant<caf::atom("cv_count")>;
using clock_changed_atom = caf::atom_constant<caf::atom("cv_clock")>;
using drain_atom = caf::atom_constant<caf::atom("cv_drain")>;
using pending_scheduled_atom = caf::atom_constant<caf::atom("cv_psched")>;
using queue_stats_atom = caf::atom_constant<caf::atom("cv_qstats")>;

/// The supervisor's interface: what in-process actors, the blocking client
/// and remote nodes may send. Jobs travel as their JSON document (Payload's
/// field names, see model/job_json.hpp).
using supervisor_actor = caf::typed_actor<
  /// queue(...) -> the stored job
  caf::replies_to<queue_atom, request_context, queue_request>::with<json>,
  /// many queue(...) in one durable write -> array of stored jobs
  caf::replies_to<queue_bulk_atom, request_context,
                  std::vector<queue_request>>::with<json>,
  /// run(...) -> RunJobsResult {jobStatus?, noJobsRemaining?,
  /// remainingJobsFromQueried}
  caf::replies_to<run_atom, request_context, run_request>::with<json>,
  /// runByID(id) -> RunJobsResult
  caf::replies_to<run_by_id_atom, request_context, std::uint64_t>::with<json>,
  /// the job, or a not_found error
  caf::replies_to<get_job_atom, request_context, std::uint64_t>::with<json>,
  /// array of jobs matching a where query, id order
  caf::replies_to<find_atom, request_context, find_request>::with<json>,
  /// cancelByID(id) -> the job after cancellation is journaled
  caf::replies_to<cancel_by_id_atom, request_context,
                  std::uint64_t>::with<json>,
  /// cancel({where, queue}) -> {"cancelled": [ids]}
  caf::replies_to<cancel_atom, request_context, cancel_request>::with<json>,
  /// the job once it is terminal (completed jobs that were deleted come back
  /// as {id, status: "completed"})
  caf::replies_to<wait_job_atom, request_context, std::uint64_t>::with<json>,
  /// following a job: {job, cursor} once what a reader sees of it differs
  /// from `cursor` ("" for the first call: at once), at the latest after
  /// about 15 s (then unchanged); a finished job at once, with cursor
  /// "final". `job` is as get shows it, with `live` while it runs.
  caf::replies_to<follow_job_atom, request_context, std::uint64_t,
                  std::string>::with<json>,
  /// pause (true) or resume (false) a queue; persisted across restarts. A
  /// paused queue keeps accepting jobs but starts none (run() claims none).
  /// -> {queue, paused}
  caf::replies_to<pause_queue_atom, request_context, std::string,
                  bool>::with<json>,
  /// change a queue's concurrency limit at runtime -> {queue, concurrency}
  caf::replies_to<set_concurrency_atom, request_context, std::string,
                  std::int32_t>::with<json>,
  /// handleSchedules (docs/semantics.md §17): queue a job for the next tick
  /// of every schedule of the selected queue(s) -> {queued: [...], skipped:
  /// [...], errored: [...]}, each entry {queue, task|workflow, cron, waitUntil
  /// (the tick this pass considered: for a skipped entry, the one after the
  /// pending job's), job (queued: its id), error (errored)}. Passes run one
  /// at a time (one scheduler actor); the stats are durable before the
  /// answer.
  caf::replies_to<handle_schedules_atom, request_context,
                  schedules_request>::with<json>,
  /// countRunnableOrActiveJobs -> number of non-terminal matching jobs
  caf::replies_to<count_active_atom, request_context,
                  count_request>::with<std::int64_t>,
  /// The queues the `read` rule lets the caller see, by name -> array of
  /// {name, queued, delayed, running, paused, concurrency, completed,
  /// failed, cancelled}: jobs held now, and jobs that finished since the
  /// node started.
  caf::replies_to<queue_stats_atom, request_context>::with<json>,
  /// The injected clock moved: due autoRun ticks fire and delayed jobs
  /// become due now rather than when their real-time timer fires -> true
  /// once the ticks it fired (and any other tick or handle-schedules pass
  /// in progress) are over. Only actors of this process may send it.
  caf::replies_to<clock_changed_atom>::with<bool>,
  /// For the scheduler (only actors of this process may send it): the jobs
  /// handle-schedules queued for (queue, task|workflow) that are not
  /// finished -> {count, job: the oldest one's document, or null}
  caf::replies_to<pending_scheduled_atom, count_request>::with<json>,
  /// The clean stop's first half (runtime::stop() sends it; only actors of
  /// this process may): start no more jobs, let running ones finish for
  /// `grace_ms`, then interrupt those left -> true once no job runs.
  caf::replies_to<drain_atom, std::int64_t>::with<bool>>;

/// Per-queue settings.
struct queue_options {
  /// Jobs of this queue running at once in continuous mode. Default: 16.
  std::int32_t concurrency = 16;
  /// "createdAt" (FIFO) or "-createdAt" (LIFO). Empty: the runtime default.
  std::string processing_order;
};

/// An autoRun entry (docs/semantics.md §18): an in-process cron that, on
/// each tick, handles schedules (unless disable_scheduling), asks
/// should_auto_run, and
/// runs up to `limit` jobs. A tick is skipped while the entry's previous
/// tick is still running; a failing tick is logged and the cron goes on.
struct auto_run_entry {
  std::string cron = "* * * * *"; ///< 5 fields or 6 with seconds; UTC
  std::int32_t limit = 10;
  std::string queue = "default";
  bool all_queues = false;
  bool disable_scheduling = false;
  bool silent = false; ///< no log lines from this entry
};

struct runtime_options {
  /// Where the journal lives. Created if missing. Default: ./conveyor-data
  std::string data_dir = "./conveyor-data";
  /// sync: acknowledged = fsynced (default). async: survives a process crash,
  /// not a power cut.
  model::durability durability = model::durability::sync;
  /// Continuous mode: queue actors start due jobs on their own, bounded by
  /// each queue's concurrency. Off: jobs run only through run()/runByID()
  /// (Payload's model). Default: off.
  bool continuous = false;
  /// Threads running task handlers. Default: 8.
  std::size_t workers = 8;
  /// Delete a job's document when it completes successfully. Default: true.
  bool delete_job_on_complete = true;
  /// Default processing order: "createdAt" (FIFO) or "-createdAt" (LIFO).
  std::string processing_order = "createdAt";
  /// Per-queue settings; queues not listed get queue_options{}.
  std::map<std::string, queue_options> queues;
  /// A job found running when its process stopped without a clean shutdown
  /// (crash, kill -9, power loss), or whose worker node vanished, is pending
  /// again with nothing consumed; the `max_interruptions`-th time it fails
  /// for good with error {name: "JobInterrupted"} (a job that kills its
  /// process or worker must not do so forever). 0: no limit. Default: 3.
  /// The ids of running jobs are kept in a memory-mapped file of the data
  /// directory (running.slots), which outlives a crash of the process but
  /// not a power cut (no job's fault).
  std::int32_t max_interruptions = 3;
  /// New jobs on their way to the journal (accepted, not yet durable) at
  /// most; queue() beyond it fails with `overloaded` (retry later), bulk
  /// enqueue all or nothing. Default: 100000.
  std::size_t max_pending_enqueues = 100'000;
  /// A clean stop (stop(), SIGTERM) starts no more jobs and lets running
  /// ones finish for this long; then it interrupts those left: their
  /// journaled step successes are kept and they are pending again, counted
  /// as an interruption, never as a failure or a retry
  /// (docs/semantics.md §13). Default: 30 s.
  std::chrono::milliseconds stop_grace{30'000};
  /// Lease length written on claimed jobs (processingUntil). Default: 20 min.
  std::chrono::milliseconds lease{20 * 60 * 1000};
  /// The clock (UTC ms). Default: the system clock. Tests inject their own.
  std::function<model::time_ms()> clock;
  /// Access rules for requests with override_access = false. Default: any
  /// authenticated principal may do anything.
  access_rules access;
  /// Called once a job reached a terminal state and that state is durable
  /// (completed, failed or cancelled). Runs on an actor thread (for jobs
  /// failed by max_interruptions at start-up: the thread calling start()):
  /// keep it short and never block in it. Default: none.
  std::function<void(const model::job&)> on_terminal;
  /// Called on each job transition once it is durable: "queued" (a new
  /// job), "started" (an attempt began), "retrying" (an attempt failed and
  /// the job waits for a retry), "interrupted" (an attempt was lost to a
  /// dead worker, an expired lease or a stop; the job is pending again with
  /// nothing consumed), and the terminal "completed", "failed" and
  /// "cancelled". Runs on the job's
  /// queue actor: keep it short and never block in it. Default: none.
  std::function<void(std::string_view type, const model::job&)> on_event;
  /// Called while a job runs, with what its steps do: "step_started" and
  /// "step_finished" as each step of an attempt starts and ends (parallel
  /// steps each on their own), "progress" when a step reported progress
  /// (task_context::progress) and "output" when only its tail grew (at
  /// most one of those two per job per 100 ms; the latest always goes
  /// out). `job` is the document as the attempt started; `live` is what
  /// GET /v1/jobs/{id} shows under "live" (docs/live.md). Runs on the
  /// actor driving the job or on the step's worker thread, under the job's
  /// live-record lock: keep it short, never block, never call the runtime
  /// from it. Default: none.
  std::function<void(std::string_view type, const model::job& job,
                     const json& live)>
    on_live;
  /// autoRun crons, started with the runtime. Default: none.
  std::vector<auto_run_entry> auto_run;
  /// Asked on every autoRun tick after schedule handling; false stops that
  /// entry's cron for good (Payload's shouldAutoRun). Runs on the
  /// scheduler's thread. Default: always true.
  std::function<bool()> should_auto_run;
  /// Where the scheduler reports errors and (unless an entry is silent)
  /// skipped ticks and ticks that ran jobs: one line each. Called on the
  /// scheduler's thread. Default: none (errors are dropped).
  std::function<void(const std::string&)> log;
  /// Size, depth and length limits applied to every request and task
  /// output (model/limits.hpp; config key `limits`). Values above the hard
  /// maxima are clamped to them. Default: model::limits{}.
  model::limits limits;
};

/// Registers the message types. Call on the config before creating the
/// actor_system; remote nodes must call it too.
void register_types(caf::actor_system_config& cfg);

/// One histogram as Prometheus shows it: cumulative counts per upper bound.
struct histogram_figures {
  std::vector<double> bounds;            ///< upper bounds, ascending
  std::vector<std::uint64_t> cumulative; ///< observations <= each bound
  std::uint64_t count = 0;               ///< every observation
  double sum = 0;                        ///< of every observed value
};

/// What a runtime's journal did since start (GET /metrics shows it).
struct journal_figures {
  /// Requests (job transitions) per group commit: `count` is the number of
  /// group commits, `sum` the number of requests.
  histogram_figures group_size;
  /// Seconds per fsync (none under durability `async`).
  histogram_figures fsync_seconds;
};

/// A running runtime. Destroying it (or stop()) shuts its actors down; the
/// journal closes once the last actor let go of it.
class runtime {
public:
  virtual ~runtime() = default;
  virtual supervisor_actor supervisor() const = 0;
  /// Accepts worker-node registrations (see conveyor/remote.hpp).
  virtual caf::actor remote_workers() const = 0;
  /// The access rules in force (sessions check worker registrations).
  virtual const access_rules& access() const = 0;
  /// Stops this runtime cleanly: starts no more jobs, lets running ones
  /// finish for runtime_options::stop_grace, interrupts those left, then
  /// stops every actor. Returns once the journal is closed (a handler that
  /// ignores its stop token is waited for). Call from a thread that is not
  /// one of the actor system's.
  virtual void stop() = 0;
  /// With an injected clock: call after moving it forward. Due autoRun ticks
  /// fire and delayed jobs become due at once (real-time timers only
  /// approximate an injected clock). The future is ready once the autoRun
  /// ticks this fired (their schedule pass and their run) are over; jobs a
  /// queue started on its own may still be running.
  virtual std::future<void> clock_changed() = 0;
  /// The journal's group commits and fsyncs so far. Any thread.
  virtual journal_figures journal() const = 0;
};

/// Opens the journal under options.data_dir, recovers pending jobs (jobs
/// that were running when the last process stopped become claimable again,
/// nothing consumed) and spawns the actors. Errors: storage (locked, corrupt),
/// invalid_input (bad options).
model::expected<std::unique_ptr<runtime>>
start(caf::actor_system& sys, std::shared_ptr<const registry> reg,
      runtime_options options);

} // namespace conveyor
