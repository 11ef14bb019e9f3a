#pragma once

// Job and workflow actors.
//
// The job actor owns one attempt of one claimed job: it resolves the job's
// task or workflow, lets a workflow actor run it, applies the failure rules
// (model/transitions.hpp) to the outcome, journals the resulting document and
// reports to its queue. The workflow actor drives the coroutine: it restores
// cached steps, sends the others to the worker pool, journals each step's
// success before the workflow continues, and honours cancel messages between
// steps.

#include "actors/env.hpp"
#include "actors/interfaces.hpp"

namespace conveyor::actors {

/// Spawns the job actor of one attempt of `claimed` (already leased).
job_actor spawn_job_actor(caf::actor_system& sys, env_ptr env,
                          model::job claimed, queue_actor queue);

} // namespace conveyor::actors
