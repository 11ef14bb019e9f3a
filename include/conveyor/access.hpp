#pragma once

// Access rules (Payload's jobs.access): which requests may queue, run,
// cancel and read jobs.
//
// A rule sees the request context and the target. The supervisor evaluates
// it before any lookup or write; a denied request gets a `forbidden` error
// and changes nothing. Requests with override_access = true (the default for
// in-process C++ calls) skip the rules; requests from remote nodes never do.
//
// Requests by id (runByID, cancelByID, get, wait) are checked twice: first
// with the queue unknown (deny here to refuse before the job is looked up),
// then with the job's queue and document.

#include <functional>
#include <optional>
#include <string>

#include "conveyor/messages.hpp"
#include "model/job.hpp"

namespace conveyor {

struct access_target {
  /// The queue the request acts on; "*" for all queues; nullopt while not
  /// known yet (a request by id before its job was looked up).
  std::optional<std::string> queue;
  /// The job, once looked up (requests by id, and each result of find).
  const model::job* job = nullptr;
};

using access_rule =
  std::function<bool(const request_context&, const access_target&)>;

/// Empty rules mean the default: any authenticated principal (a non-empty
/// `principal` in the request context).
struct access_rules {
  access_rule queue;
  access_rule run;
  access_rule cancel;
  access_rule read;
};

/// The default rule.
inline bool authenticated(const request_context& ctx, const access_target&) {
  return !ctx.principal.empty();
}

} // namespace conveyor
