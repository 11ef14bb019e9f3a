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
#include "model/limits.hpp"

namespace conveyor::model {

/// Parses `text` into a DOM if it is well-formed, within `limits` (size,
/// depth, string and container length), and has no trailing garbage.
/// Errors: too_large, too_deep (with the JSON path where the limit was
/// crossed), invalid_input (with the byte offset and the reason). Never
/// throws.
expected<json> parse_json_guarded(std::string_view text,
                                  const json_limits& limits = {});

/// Depth of an already-built value (0 for scalars). Iterative: safe for
/// values of any depth.
std::size_t json_depth(const json& value);

/// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view text);

/// Checks an already-built value against `limits` without recursion: depth
/// first, then every string and key (valid UTF-8, length), container sizes,
/// finite numbers (dump writes NaN as null), and finally the compact text
/// size. Errors name `field` and the JSON path
/// below it ("input.a[2]: ..."): too_deep, too_large or invalid_input.
status check_json(const json& value, const json_limits& limits,
                  std::string_view field);

} // namespace conveyor::model
