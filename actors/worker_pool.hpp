#pragma once

// The worker pool: task handlers are ordinary blocking functions, so they run
// on detached worker actors (one thread each), never on CAF's scheduler
// threads.
//
// Work is handed over through one shared queue rather than one mailbox per
// worker: a worker that finishes a task takes the next one at once, without
// sleeping, and a slow handler never holds up tasks queued behind it. A
// submit wakes an idle worker only if no other wake is in flight; a woken
// worker that leaves work queued wakes the next (so wakes chain, one at a
// time, instead of one per task). Results go straight back to the submitting
// job actor.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "actors/env.hpp"
#include "actors/interfaces.hpp"

namespace conveyor::actors {

using wake_atom = caf::atom_constant<caf::atom("cv_wake")>;

using worker_actor = caf::typed_actor<caf::reacts_to<wake_atom>>;

/// A submitted attempt: the result goes to `reply_to` as
/// (step_done_atom, step, task_result). Or, when `chore` is set, blocking
/// user code that is not an attempt (a hook): run, nothing answered.
struct task_item {
  task_request req;
  caf::actor reply_to;
  std::uint64_t step = 0;
  std::function<void()> chore;
};

class task_pool {
public:
  /// Queues an attempt; wakes an idle worker if there is one.
  void submit(task_item item);

  /// Worker side: the next item, or nothing (the worker is then idle and
  /// will be woken by a later submit). `woken`: the first take after a
  /// wake. Taking an item while more are queued wakes one more worker.
  std::optional<task_item> take(const worker_actor& me, bool woken);

  /// Drops queued items (shutdown).
  void close();

private:
  std::mutex mutex_;
  std::deque<task_item> queue_;
  std::vector<worker_actor> idle_;
  /// Workers woken whose first take has not happened yet (at most one
  /// wake is in flight; see submit).
  std::size_t waking_ = 0;
  bool closed_ = false;
};

/// Spawns `workers` detached workers and an owner actor that keeps them
/// linked (so they go down with the runtime). Returns the owner.
caf::actor spawn_worker_pool(caf::actor_system& sys, env_ptr env,
                             std::shared_ptr<task_pool> pool,
                             std::size_t workers);

/// Runs a task hook (onSuccess, onFail) on the calling thread, a worker's:
/// an exception it throws is swallowed (hooks observe, never decide).
void run_hook(const std::function<void(const task_hook_args&)>& hook,
              const task_hook_args& args);

/// Runs one attempt on the calling thread: the handler, output validation,
/// onSuccess. Used by workers and for nested tasks. (onFail is the job
/// actor's call: only it knows whether the error escapes the workflow.)
task_result run_task_attempt(caf::actor_system& sys, const runtime_env& env,
                             const task_request& req);

} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::task_item)
