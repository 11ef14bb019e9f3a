#include "http/problem.hpp"

namespace conveyor::http {

namespace {

const char* reason(unsigned status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

} // namespace

unsigned status_of(model::errc code) {
  using model::errc;
  switch (code) {
  case errc::invalid_input:
  case errc::too_deep:
  case errc::unregistered:
    return 400;
  case errc::too_large:
    return 413;
  case errc::not_found:
    return 404;
  case errc::forbidden:
    return 403;
  case errc::conflict:
  case errc::stale_lease:
    return 409;
  case errc::unavailable:
  case errc::overloaded:
  case errc::no_space:
    return 503;
  case errc::none:
  case errc::storage:
  case errc::internal:
    return 500;
  }
  return 500;
}

response json_response(unsigned status, const json& body) {
  response res;
  res.status = status;
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return res;
}

response problem(unsigned status, const std::string& detail,
                 std::string_view code) {
  json body = {{"type", code.empty() ? std::string{"about:blank"}
                                     : "urn:conveyor:" + std::string{code}},
               {"title", reason(status)},
               {"status", status},
               {"detail", detail}};
  auto res = json_response(status, body);
  res.content_type = "application/problem+json";
  return res;
}

response problem(const model::error& e) {
  auto res = problem(status_of(e.code), e.message, model::to_string(e.code));
  if (e.code == model::errc::overloaded || e.code == model::errc::no_space
      || e.code == model::errc::unavailable)
    res.headers.emplace_back("Retry-After", "1");
  return res;
}

} // namespace conveyor::http
