#pragma once

// The job actor (one type with the workflow actor, actors/interfaces.hpp).
//
// The job actor owns one attempt of one claimed job: when the job's workflow
// ends it applies the failure rules (model/transitions.hpp) to how it ended,
// journals the resulting document and reports to its queue
// (job_outcome.cpp). The workflow actor (workflow_actor.cpp), one per
// running workflow, drives the coroutine (workflow_driver.cpp): it restores
// cached steps, sends the others to the worker pool, journals each step's
// success before the workflow continues, and honours cancel messages
// between steps. A task job is a one-step workflow that its job actor drives
// itself: a second actor per task job would cost a spawn and an exit
// (scheduler round trips) per job for nothing.

#include "actors/env.hpp"
#include "actors/interfaces.hpp"

namespace conveyor::actors {

/// Spawns the job actor of one attempt of `claimed` (already leased).
/// `live` is where its steps show what they do.
job_actor spawn_job_actor(caf::actor_system& sys, env_ptr env,
                          model::job claimed, queue_actor queue,
                          std::shared_ptr<live_job> live);

} // namespace conveyor::actors
