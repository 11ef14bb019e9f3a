#pragma once

// The remote worker pool of a serve node: tracks registered worker nodes
// (monitored), hands them attempts of remote tasks for the queues they serve,
// and turns a vanished worker's in-flight attempts into `lost` results at
// once. A worker node heartbeats the jobs it runs; an attempt not
// heartbeated for a whole lease (a hung or stopped worker whose connection
// stays up) is lost too, and the worker is told to stop it. Results are matched
// by (job, lease token, attempt): a late result of an attempt that was already
// declared lost is rejected (fencing). A cancel reaches the worker node running
// the job's attempt, whose task sees its stop token flip, like a local task.

#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "conveyor/remote.hpp"

namespace conveyor::actors {

using remote_exec_atom = caf::atom_constant<caf::atom("cv_rexec")>;

struct remote_dispatch {
  remote_task task;
  std::string queue;
  caf::actor reply_to; ///< job actor, gets (step_done_atom, step, result)
  std::uint64_t step = 0;
};

using remote_pool_actor = caf::typed_actor<
  caf::reacts_to<register_worker_atom, worker_node_actor,
                 std::vector<std::string>, std::vector<std::string>>,
  caf::reacts_to<remote_exec_atom, remote_dispatch>,
  /// a job was cancelled: its attempts still waiting for a worker end as
  /// cancelled at once; running ones are told to stop
  caf::reacts_to<cancel_task_atom, std::uint64_t, std::string>,
  caf::reacts_to<remote_result>,
  /// from a worker (or the session standing for it): it still runs these
  /// jobs
  caf::reacts_to<heartbeat_atom, std::vector<std::uint64_t>>,
  /// timer: attempts whose lease ran out without a heartbeat are lost
  caf::reacts_to<renew_atom>>;

/// An attempt's result as it crosses the network, and back: the wire form
/// carries the attempt's identity (job, lease, attempt number) for fencing.
remote_result to_remote_result(const remote_task& attempt, task_result&& res);
task_result to_task_result(remote_result&& r);

/// Counters for tests and metrics.
struct remote_stats {
  std::atomic<std::uint64_t> dispatched{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::uint64_t> stale_rejected{0};
};

/// `lease`: how long an attempt lives without a heartbeat from its worker.
remote_pool_actor spawn_remote_pool(caf::actor_system& sys,
                                    std::shared_ptr<remote_stats> stats,
                                    std::function<model::time_ms()> clock,
                                    std::chrono::milliseconds lease);

} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::remote_dispatch)
