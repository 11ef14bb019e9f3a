#pragma once

// Answers of the /v1 API: JSON documents, and errors as RFC 9457
// application/problem+json {type, title, status, detail}.

#include <string>

#include "conveyor/messages.hpp"
#include "http/exchange.hpp"
#include "model/error.hpp"

namespace conveyor::http {

/// The HTTP status of an error code (docs/http.md, "Errors").
unsigned status_of(model::errc code);

response json_response(unsigned status, const json& body);

/// A problem document; `code` becomes its type
/// ("https://conveyor.dev/problems/<code>" would need a site: the type is
/// "urn:conveyor:<code>").
response problem(unsigned status, const std::string& detail,
                 std::string_view code = {});

/// The problem for an error of the runtime; `overloaded` (and a full disk)
/// carry Retry-After.
response problem(const model::error& e);

} // namespace conveyor::http
