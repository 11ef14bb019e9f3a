#pragma once

// ISO 8601 timestamps as Payload writes them: "2026-11-29T04:21:05.123Z".

#include <optional>
#include <string>
#include <string_view>

#include "model/job.hpp"

namespace conveyor::model {

/// Formats UTC milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_iso8601(time_ms t);

/// Parses "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or "+HH:MM"/"-HH:MM"
/// (also a bare date "YYYY-MM-DD", meaning midnight UTC). Returns nullopt on
/// anything else, including out-of-range fields (month 13, Feb 30, ...).
std::optional<time_ms> parse_iso8601(std::string_view text);

} // namespace conveyor::model
