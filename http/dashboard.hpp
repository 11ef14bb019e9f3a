#pragma once

// GET / and /ui/*: the dashboard, static files compiled into the binary.
// They are served without a token (they hold no data); the page asks for
// one and uses it on the API like any other client, so the access rules
// decide what it shows and offers.

#include <optional>
#include <string_view>

#include "http/exchange.hpp"

namespace conveyor::http {

/// The answer for a dashboard path ("/", "/ui/app.js", ...), or nullopt
/// when the path is not one of its files.
std::optional<response> dashboard_file(std::string_view path);

} // namespace conveyor::http
