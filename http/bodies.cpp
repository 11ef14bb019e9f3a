#include "http/bodies.hpp"

#include <limits>

#include "model/json_guard.hpp"
#include "model/time.hpp"

namespace conveyor::http {

namespace {

model::error bad_body(std::string message) {
  return model::make_error(model::errc::invalid_input, std::move(message));
}

/// Reads the fields of one body object, remembering the first error.
class fields {
public:
  explicit fields(const json& body) : body_(body) {}

  void string(std::string_view name, std::string& out) {
    if (const auto* v = take(name)) {
      if (v->is_string())
        out = v->get<std::string>();
      else
        fail(name, "must be a string");
    }
  }

  void boolean(std::string_view name, bool& out) {
    if (const auto* v = take(name)) {
      if (v->is_boolean())
        out = v->get<bool>();
      else
        fail(name, "must be true or false");
    }
  }

  void int32(std::string_view name, std::int32_t& out) {
    if (const auto* v = take(name)) {
      if (v->is_number_integer() && fits_int32(*v))
        out = v->get<std::int32_t>();
      else
        fail(name, "must be an integer between -2147483648 and 2147483647");
    }
  }

  void any(std::string_view name, json& out) {
    if (const auto* v = take(name))
      out = *v;
  }

  void time(std::string_view name, model::time_ms& out) {
    const auto* v = take(name);
    if (!v || v->is_null())
      return;
    if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
      out = v->get<std::int64_t>();
    } else if (v->is_string()) {
      if (auto t = model::parse_iso8601(v->get<std::string>()))
        out = *t;
      else
        fail(name, "is not an ISO 8601 time");
    } else {
      fail(name, "must be an ISO 8601 string or milliseconds since 1970");
    }
  }

  /// The first error, or an unknown field.
  model::status finish() {
    if (error_)
      return *error_;
    for (const auto& [key, value] : body_.items())
      if (!known(key))
        return bad_body("unknown field '" + key + "'");
    return model::ok();
  }

private:
  static bool fits_int32(const json& v) {
    if (v.is_number_unsigned())
      return v.get<std::uint64_t>()
             <= std::uint64_t{std::numeric_limits<std::int32_t>::max()};
    auto n = v.get<std::int64_t>();
    return n >= std::numeric_limits<std::int32_t>::min()
           && n <= std::numeric_limits<std::int32_t>::max();
  }

  const json* take(std::string_view name) {
    seen_.emplace_back(name);
    auto it = body_.find(std::string{name});
    return it == body_.end() ? nullptr : &*it;
  }

  bool known(const std::string& key) const {
    for (auto name : seen_)
      if (name == key)
        return true;
    return false;
  }

  void fail(std::string_view name, std::string_view what) {
    if (!error_)
      error_ = bad_body(std::string{name} + ": " + std::string{what});
  }

  const json& body_;
  std::vector<std::string_view> seen_;
  std::optional<model::error> error_;
};

} // namespace

model::expected<json> parse_body(std::string_view body, std::size_t max_bytes) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return json::object();
  auto limits = model::transport_json_limits;
  limits.max_bytes = max_bytes;
  auto parsed = model::parse_json_guarded(body, limits);
  if (!parsed)
    return parsed.error();
  if (!parsed->is_object())
    return bad_body("the request body must be a JSON object");
  return parsed;
}

model::expected<queue_request> to_queue_request(const json& body) {
  queue_request req;
  fields f{body};
  f.string("task", req.task);
  f.string("workflow", req.workflow);
  f.any("input", req.input);
  f.string("queue", req.queue);
  f.time("waitUntil", req.wait_until);
  f.string("log", req.log);
  f.any("meta", req.meta);
  f.string("idempotencyKey", req.idempotency_key);
  f.int32("priority", req.priority);
  if (auto st = f.finish(); !st)
    return st.error();
  if (req.task.empty() == req.workflow.empty())
    return bad_body("exactly one of 'task' and 'workflow' is required");
  return req;
}

model::expected<run_request> to_run_request(const json& body) {
  run_request req;
  fields f{body};
  f.string("queue", req.queue);
  f.boolean("allQueues", req.all_queues);
  f.int32("limit", req.limit);
  f.any("where", req.where);
  f.boolean("sequential", req.sequential);
  f.string("processingOrder", req.processing_order);
  if (auto st = f.finish(); !st)
    return st.error();
  return req;
}

model::expected<cancel_request> to_cancel_request(const json& body) {
  cancel_request req;
  fields f{body};
  f.any("where", req.where);
  f.string("queue", req.queue);
  if (auto st = f.finish(); !st)
    return st.error();
  if (!req.where.is_object())
    return bad_body("where: an object is required (cancel never means 'all')");
  return req;
}

model::expected<schedules_request> to_schedules_request(const json& body) {
  schedules_request req;
  fields f{body};
  f.string("queue", req.queue);
  f.boolean("allQueues", req.all_queues);
  if (auto st = f.finish(); !st)
    return st.error();
  return req;
}

} // namespace conveyor::http
