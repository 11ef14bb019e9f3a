#pragma once

// ISO 8601 timestamps as Payload writes them: "2026-11-29T04:21:05.123Z".

#include <optional>
#include <string>
#include <string_view>

#include "model/job.hpp"

namespace conveyor::model {

/// The times a request may carry (waitUntil): 1970-01-01T00:00:00.000Z to
/// 9999-12-31T23:59:59.999Z, the range written with a plain 4-digit year,
/// which every ISO 8601 reader (ours included) parses back.
inline constexpr time_ms min_request_time = 0;
inline constexpr time_ms max_request_time = 253'402'300'799'999;

inline bool in_request_range(time_ms t) {
  return t >= min_request_time && t <= max_request_time;
}

/// Formats UTC milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_iso8601(time_ms t);

/// Parses "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or "+HH:MM"/"-HH:MM"
/// (also a bare date "YYYY-MM-DD", meaning midnight UTC). Returns nullopt on
/// anything else, including out-of-range fields (month 13, Feb 30, ...)
/// and times whose year format_iso8601 could not write back (beyond
/// +/-999999 once the offset is applied).
std::optional<time_ms> parse_iso8601(std::string_view text);

} // namespace conveyor::model
