#include "http/call.hpp"

#include <charconv>

#include "http/bodies.hpp"
#include "http/problem.hpp"
#include "model/json_guard.hpp"

namespace conveyor::http {

void fail(const call& c, const model::error& e) {
  c.answer->respond(problem(e));
}

model::error invalid(std::string message) {
  return model::make_error(model::errc::invalid_input, std::move(message));
}

answer send_with(const call& c, unsigned status) {
  return [ex = c.answer, status](model::expected<json> r) {
    if (!r)
      return ex->respond(problem(r.error()));
    ex->respond(json_response(status, *r));
  };
}

std::optional<std::uint64_t> parse_id(const std::string& text) {
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id == 0)
    return std::nullopt;
  return id;
}

model::expected<json> json_param(const call& c, std::string_view name) {
  auto text = c.where.param(name);
  if (!text || text->empty())
    return json{};
  auto limits = model::transport_json_limits;
  limits.max_bytes = c.to->options.max_header_bytes;
  auto parsed = model::parse_json_guarded(*text, limits);
  if (!parsed)
    return model::make_error(parsed.error().code,
                             std::string{name} + ": " + parsed.error().message);
  return parsed;
}

model::expected<json> body_of(const call& c) {
  if (!c.req.body.empty()
      && c.req.content_type.find("application/json") == std::string::npos)
    return model::make_error(model::errc::invalid_input,
                             "the request body must be application/json");
  return parse_body(c.req.body, c.to->options.max_body_bytes);
}

} // namespace conveyor::http
