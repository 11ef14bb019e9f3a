#pragma once

// The scheduler (one per node): owns the schedule stats and the autoRun
// crons. It enqueues jobs (through the supervisor, like any client) and
// never runs them itself.
//
// handle_schedules passes run strictly one after another, whoever asked
// (the API, the CLI, an autoRun tick). Together with the queue actor
// counting the pending scheduled jobs, this makes Payload's schedule races
// impossible: two passes cannot both see "no pending job" and both queue,
// and the stats of different queues live in one in-memory document written
// whole after each pass, so no pass overwrites another's update.
//
// It runs detached (its own thread): user beforeSchedule/afterSchedule
// hooks and shouldAutoRun may block without stalling CAF's scheduler.

#include "actors/env.hpp"
#include "conveyor/runtime.hpp"

namespace conveyor::actors {

using scheduler_tick_atom = caf::atom_constant<caf::atom("cv_stick")>;

using scheduler_actor = caf::typed_actor<
  caf::replies_to<handle_schedules_atom, schedules_request>::with<json>,
  /// re-read the clock: fire due autoRun ticks -> true once no tick and no
  /// handle-schedules pass is in progress any more
  caf::replies_to<clock_changed_atom>::with<bool>,
  /// the real-time timer of generation N
  caf::reacts_to<scheduler_tick_atom, std::uint64_t>>;

/// The meta key holding the schedule stats (JSON; shape in
/// docs/semantics.md §17).
inline constexpr const char* schedule_stats_key = "schedule_stats";

/// Loads the stats from the journal and starts the autoRun crons. `sup` is
/// the node's supervisor, used to count, queue and run jobs.
scheduler_actor spawn_scheduler(caf::actor_system& sys, env_ptr env,
                                supervisor_actor sup);

} // namespace conveyor::actors
