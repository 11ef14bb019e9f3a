#pragma once

// Parsing untrusted JSON without building a DOM for hostile input.
//
// nlohmann 3.11 parses a 100,000-deep array fine, but copying, comparing or
// dumping it recurses and overflows the stack. So depth and size are checked
// in a SAX pass first; only input that passes is parsed into a DOM.

#include <cstddef>
#include <string_view>

#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::model {

struct json_limits {
  std::size_t max_depth = 64;              ///< nesting of arrays + objects
  std::size_t max_bytes = 2 * 1024 * 1024; ///< 2 MiB, Temporal's hard limit
};

/// Parses `text` into a DOM if it is well-formed, within `limits`, and has no
/// trailing garbage. Errors: too_large, too_deep (with the JSON path where the
/// limit was crossed), invalid_input (with the byte offset and the reason).
/// Never throws.
expected<json> parse_json_guarded(std::string_view text,
                                  const json_limits& limits = {});

/// Depth of an already-built value (0 for scalars). Iterative: safe for
/// values of any depth.
std::size_t json_depth(const json& value);

} // namespace conveyor::model
