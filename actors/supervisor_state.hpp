#pragma once

// The supervisor's state and the helpers its handlers share, split over
// supervisor.cpp (requests) and supervisor_run.cpp (run()). Internal.

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "actors/env.hpp"
#include "actors/interfaces.hpp"
#include "actors/reader.hpp"
#include "actors/requests.hpp"
#include "actors/scheduler.hpp"

namespace conveyor::actors::sup {

struct pending_key {
  model::job_id id;
  std::vector<caf::typed_response_promise<json>> waiters;
};

struct supervisor_state {
  static constexpr const char* name = "conveyor.supervisor";
  env_ptr env;
  reader_actor reader;
  scheduler_actor scheduler;
  std::map<std::string, queue_actor> queues;
  /// Queues paused by an operator (durable in the journal's meta keys).
  std::set<std::string> paused;
  /// Idempotency keys whose enqueue is in flight: duplicates wait for it.
  std::unordered_map<std::string, pending_key> in_flight_keys;
  /// New jobs sent to the journal and not yet durable. New work beyond
  /// options.max_pending_enqueues is refused as `overloaded` (transitions
  /// of existing jobs never are), so a flood of producers cannot grow the
  /// journal's mailbox without bound.
  std::size_t pending_new_jobs = 0;
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

/// The queue actor of `name`, spawned (with its recovered jobs) if needed.
queue_actor queue_of(supervisor_pointer self, const std::string& name,
                     std::vector<model::job> recovered = {});

/// A job as the API shows it.
json render(const supervisor_pointer& self, const model::job& j);

/// The first access check, before any lookup or write.
std::optional<caf::error> denied(supervisor_pointer self, operation op,
                                 const request_context& ctx,
                                 access_target target);

/// Executes claimed jobs (all at once, or one after another) and replies the
/// RunJobsResult.
void execute_claimed(supervisor_pointer self,
                     std::vector<std::pair<queue_actor, model::job_id>> claimed,
                     bool sequential, caf::typed_response_promise<json> rp);

/// payload.jobs.run: claims across the selected queues in processing
/// order, executes, replies the RunJobsResult through `rp`.
void handle_run(supervisor_pointer self, const run_request& req,
                caf::typed_response_promise<json> rp);

} // namespace conveyor::actors::sup
