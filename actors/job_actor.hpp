#pragma once

// The job actor: one per running job, for one attempt.
//
// It drives the job's workflow coroutine (a task job is a one-step
// workflow): it restores cached steps, sends the others to the worker pool,
// journals each step's success before the workflow continues, and honours
// cancel messages between steps. When the workflow ends it applies the
// failure rules (model/transitions.hpp) to how it ended, journals the
// resulting document and reports to its queue. One actor per job, not a job
// actor plus a workflow actor: a spawn and an exit cost a scheduler round
// trip each, paid per job.

#include "actors/env.hpp"
#include "actors/interfaces.hpp"

namespace conveyor::actors {

/// Spawns the job actor of one attempt of `claimed` (already leased).
job_actor spawn_job_actor(caf::actor_system& sys, env_ptr env,
                          model::job claimed, queue_actor queue);

} // namespace conveyor::actors
