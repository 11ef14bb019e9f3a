#pragma once

// The messages of the supervisor's and the sessions' interfaces. Requests
// cross the network between nodes, so each has an `inspect` and both sides
// must register them (conveyor::register_types) under the same names.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "model/job.hpp"
#include "model/json_guard.hpp"

namespace nlohmann {

/// JSON travels as its compact text; a malformed text fails deserialisation
/// instead of throwing inside an actor. The text comes from the network, so
/// it goes through the guarded parser (SAX pass first, hard maxima of
/// model/limits.hpp): a hostile 1,000,000-deep value is an error, never a
/// DOM. The runtime's configured, smaller limits apply in validation.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, json& x) {
  std::string text;
  if constexpr (Inspector::reads_state) {
    text = x.dump(-1, ' ', false, json::error_handler_t::replace);
    return f(caf::meta::type_name("json"), text);
  } else {
    return f(caf::meta::type_name("json"), text,
             caf::meta::load_callback([&]() -> caf::error {
               auto parsed = conveyor::model::parse_json_guarded(
                 text, conveyor::model::transport_json_limits);
               if (!parsed)
                 return caf::make_error(caf::sec::invalid_argument,
                                        "malformed json: "
                                          + parsed.error().message);
               x = std::move(*parsed);
               return caf::none;
             }));
  }
}

} // namespace nlohmann

namespace conveyor {

using json = nlohmann::json;

/// Who asks, and whether access rules apply. In-process calls default to
/// override_access = true, like Payload's Local API. A request context never
/// crosses the network (it has no wire format, and the supervisor refuses
/// requests from other nodes): remote requests go through a session, which
/// builds the context from the token it authenticated.
struct request_context {
  std::string principal; ///< empty: anonymous
  std::vector<std::string> roles;
  bool override_access = true;
};

/// payload.jobs.queue(...)
struct queue_request {
  std::string task;     ///< task slug, or
  std::string workflow; ///< workflow slug (exactly one is set)
  json input = json::object();
  std::string queue; ///< empty: the workflow's queue, else "default"
  model::time_ms wait_until = 0; ///< 0: run as soon as possible
  std::string log;               ///< optional note, kept in meta.log
  json meta;                     ///< null: none
  std::string idempotency_key;   ///< empty: none
  std::int32_t priority = 0;     ///< higher first within the processing order
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_request& x) {
  return f(caf::meta::type_name("conveyor::queue_request"), x.task, x.workflow,
           x.input, x.queue, x.wait_until, x.log, x.meta, x.idempotency_key,
           x.priority);
}

/// payload.jobs.run(...)
struct run_request {
  std::string queue = "default";
  bool all_queues = false;
  std::int32_t limit = 10;
  json where; ///< null: no filter
  bool sequential = false;
  std::string processing_order; ///< "createdAt" | "-createdAt"; empty: config
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_request& x) {
  return f(caf::meta::type_name("conveyor::run_request"), x.queue, x.all_queues,
           x.limit, x.where, x.sequential, x.processing_order);
}

/// find / list
struct find_request {
  json where;        ///< null: everything
  std::string queue; ///< empty: all queues
  std::int32_t limit = 100;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_request& x) {
  return f(caf::meta::type_name("conveyor::find_request"), x.where, x.queue,
           x.limit);
}

/// payload.jobs.cancel({where, queue})
struct cancel_request {
  json where;
  std::string queue; ///< empty: all queues
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_request& x) {
  return f(caf::meta::type_name("conveyor::cancel_request"), x.where, x.queue);
}

/// payload.jobs.handleSchedules({queue, allQueues})
struct schedules_request {
  std::string queue = "default";
  bool all_queues = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, schedules_request& x) {
  return f(caf::meta::type_name("conveyor::schedules_request"), x.queue,
           x.all_queues);
}

/// Payload's countRunnableOrActiveJobsForQueue: jobs of `queue` for a task
/// or workflow slug that are not terminal yet (queued, waiting or running).
struct count_request {
  std::string queue = "default";
  std::string task;            ///< task slug, or
  std::string workflow;        ///< workflow slug (exactly one is set)
  bool only_scheduled = false; ///< only jobs queued by handle_schedules
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, count_request& x) {
  return f(caf::meta::type_name("conveyor::count_request"), x.queue, x.task,
           x.workflow, x.only_scheduled);
}

} // namespace conveyor

// Local only, by design: see request_context.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::request_context)
