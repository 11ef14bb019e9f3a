#pragma once

// One authenticated request on its way through the routes, and the
// helpers every route uses to read it and answer it.

#include <optional>
#include <string>

#include "http/bridge.hpp"
#include "http/exchange.hpp"
#include "http/routes.hpp"
#include "http/target.hpp"

namespace conveyor::http {

using api_ptr = std::shared_ptr<const api>;
using exchange_ptr = std::shared_ptr<exchange>;

struct call {
  api_ptr to;
  request req;
  target where;
  request_context ctx; ///< the token's principal; rules always apply
  exchange_ptr answer;

  caf::duration timeout() const {
    return caf::duration{to->options.answer_timeout};
  }
};

void fail(const call& c, const model::error& e);

model::error invalid(std::string message);

/// An answer callback that sends the reply with `status`, or the problem.
answer send_with(const call& c, unsigned status);

/// A job id in a path or a cursor: a positive decimal integer.
std::optional<std::uint64_t> parse_id(const std::string& text);

/// A query parameter holding JSON (`where`), guarded like a body; null
/// when absent.
model::expected<json> json_param(const call& c, std::string_view name);

/// The request body as a JSON object (empty: {}); it must be
/// application/json.
model::expected<json> body_of(const call& c);

// v1_routes.cpp
void post_job(const call& c);
void list_jobs(const call& c);
void cancel_where(const call& c);
/// action: "" (read), "cancel" or "run".
void job_by_id(const call& c, std::uint64_t id, const std::string& action);
void post_run(const call& c);
void post_schedules(const call& c);
void pause_queue(const call& c, const std::string& queue, bool pause);
void list_queues(const call& c);

// payload_routes.cpp
void payload_run(const call& c);
void payload_handle_schedules(const call& c);

} // namespace conveyor::http
