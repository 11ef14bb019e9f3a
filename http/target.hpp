#pragma once

// A request target split into decoded path segments and query parameters,
// with limits: the transport bounds its length, this bounds the count.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/error.hpp"

namespace conveyor::http {

inline constexpr std::size_t max_query_params = 32;

struct target {
  std::vector<std::string> segments; ///< "/v1/jobs/7" -> {"v1","jobs","7"}
  std::vector<std::pair<std::string, std::string>> params;

  /// The first value of query parameter `name`.
  std::optional<std::string> param(std::string_view name) const;
};

/// Percent-decodes `text` ('+' is a space when `plus_is_space`). Errors on
/// a malformed escape or a NUL byte.
model::expected<std::string> percent_decode(std::string_view text,
                                            bool plus_is_space);

/// Splits and decodes "/a/b?x=1&y=2". Errors (invalid_input): not starting
/// with '/', a bad escape, an empty or dot segment, more than
/// max_query_params parameters.
model::expected<target> parse_target(std::string_view raw);

} // namespace conveyor::http
