#pragma once

// The supervisor: the front door of a node. It validates requests, journals
// new jobs (so an acknowledged job is durable before any queue sees it),
// routes everything else to the queue actors, and serves reads through a
// detached reader so scans never block a scheduler thread.

#include "actors/env.hpp"
#include "actors/interfaces.hpp"
#include "conveyor/runtime.hpp"

namespace conveyor::actors {

supervisor_actor spawn_supervisor(caf::actor_system& sys, env_ptr env,
                                  persistence::recovered_state recovered);

} // namespace conveyor::actors
