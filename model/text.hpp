#pragma once

// Small text helpers the model's parsers share.

#include <string>
#include <string_view>

#include "model/job.hpp"

namespace conveyor::model {

/// A value quoted for an error message: at most about 60 bytes, cut on a
/// UTF-8 boundary, and valid UTF-8 whatever it held. Never throws.
std::string shown(const json& v);

/// At most the first `max_bytes` of `text`, cut on a character boundary.
std::string_view utf8_head(std::string_view text, std::size_t max_bytes);

/// `text` with every byte that does not start a well-formed UTF-8 sequence
/// replaced by U+FFFD: program output goes into JSON fields, and dumping
/// invalid UTF-8 throws.
std::string repaired_utf8(std::string_view text);

/// At most the last `max_bytes` of `text`, whitespace-trimmed at both ends,
/// starting at a character boundary, repaired as by repaired_utf8.
std::string text_tail(std::string_view text, std::size_t max_bytes);

/// ASCII lower case, independent of the global locale.
std::string ascii_lower(std::string_view text);

} // namespace conveyor::model
