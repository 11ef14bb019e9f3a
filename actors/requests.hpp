#pragma once

// What the supervisor checks and builds, without actors: validation of queue
// requests, access checks, and the RunJobsResult shape.

#include <string>
#include <vector>

#include "conveyor/access.hpp"
#include "conveyor/messages.hpp"
#include "conveyor/registry.hpp"
#include "model/error.hpp"
#include "model/names.hpp"
#include "model/operation.hpp"
#include "model/transitions.hpp"

namespace conveyor::actors {

using model::valid_queue_name; // model/names.hpp

/// Turns a queue request into a new job document (id not yet assigned), or
/// says precisely what is wrong with it (unknown slug, bad queue name, input
/// not an object, too deep, too large, schema mismatch, bad meta, ...).
/// Every field is checked against `lim` (model/limits.hpp) and must be valid
/// UTF-8; waitUntil must be a time model/time.hpp writes back unchanged.
model::expected<model::job> build_job(const registry& reg,
                                      const queue_request& req,
                                      model::time_ms now,
                                      const model::limits& lim = {});

/// The queue a request will land on: explicit, else the workflow's, else
/// "default". Known before validation, for the access check.
std::string effective_queue(const registry& reg, const queue_request& req);

/// The concurrency settings of a job's task or workflow, or nullptr.
const concurrency_config* concurrency_of(const registry& reg,
                                         const model::job& j);

/// Whether queueing `j` deletes older pending jobs of its key.
bool supersedes(const registry& reg, const model::job& j);

/// The answer for a completed job that was deleted on completion.
json deleted_completed(model::job_id id);

struct run_outcome {
  model::job_id id = 0;
  model::run_status status = model::run_status::success;
};

/// Payload's RunJobsResult.
json run_result_json(const std::vector<run_outcome>& reports,
                     bool none_claimed);

using model::operation;

/// override_access, else the rule (empty rule: authenticated principal).
bool allowed(const access_rules& rules, operation op,
             const request_context& ctx, const access_target& target);

/// "principal 'x' may not cancel jobs on queue 'q'"
model::error forbidden(operation op, const request_context& ctx,
                       const access_target& target);

} // namespace conveyor::actors
