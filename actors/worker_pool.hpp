#pragma once

// The worker pool: task handlers are ordinary blocking functions, so they run
// on detached worker actors (one thread each), never on CAF's scheduler
// threads. A dispatcher hands each request to an idle worker, or queues it
// until one is free (pull model: a slow handler never holds up others).

#include "actors/env.hpp"
#include "actors/internal_messages.hpp"

namespace conveyor::actors {

using worker_pool_actor = caf::typed_actor<
  caf::replies_to<exec_task_atom, task_request>::with<task_result>>;

worker_pool_actor spawn_worker_pool(caf::actor_system& sys, env_ptr env,
                                    std::size_t workers);

/// Runs one attempt on the calling thread: the handler, output validation,
/// onSuccess/onFail. Used by workers and for nested tasks.
task_result run_task_attempt(caf::actor_system& sys, const runtime_env& env,
                             const task_request& req);

} // namespace conveyor::actors
