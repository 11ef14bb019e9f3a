#pragma once

// JSON request bodies of the /v1 API turned into the runtime's requests.
// Strict: an unknown field or a wrong type is an invalid_input error naming
// the field, and nothing is sent to the runtime.

#include <string_view>

#include "conveyor/messages.hpp"
#include "model/error.hpp"

namespace conveyor::http {

/// Parses a body through the JSON guard (depth and size before any DOM). An
/// empty body is an empty object. Must be an object.
model::expected<json> parse_body(std::string_view body, std::size_t max_bytes);

/// {task|workflow, input, queue, waitUntil (ISO 8601 or UTC ms), log, meta,
/// idempotencyKey, priority}
model::expected<queue_request> to_queue_request(const json& body);
/// {queue, allQueues, limit, where, sequential, processingOrder}
model::expected<run_request> to_run_request(const json& body);
/// {where, queue}
model::expected<cancel_request> to_cancel_request(const json& body);
/// {queue, allQueues}
model::expected<schedules_request> to_schedules_request(const json& body);

} // namespace conveyor::http
