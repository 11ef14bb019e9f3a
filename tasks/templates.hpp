#pragma once

// Templates of declarative workflows (tasks/declarative_workflow.hpp).
//
// Templates: any JSON value; every string in it may hold `${...}`
// placeholders naming a dotted path into a scope object:
//
//   ${input.a.b}           the workflow input (array items by index: a.0)
//   ${steps.<id>.output.x} the output of an earlier, completed step
//   ${job.id} ${job.queue} the running job
//
// A string that is exactly one placeholder becomes the referenced value,
// type and all; otherwise each placeholder is replaced by the value's text
// (strings as they are, anything else as compact JSON). `$${` writes a
// literal `${`. A reference that does not resolve is an error naming it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/error.hpp"

namespace conveyor::tasks {

using json = nlohmann::json;

/// One `${...}`: the text between the braces, split on '.'.
struct placeholder {
  std::string text;              ///< e.g. "steps.1.output.file"
  std::vector<std::string> path; ///< {"steps", "1", "output", "file"}
  friend bool operator==(const placeholder&, const placeholder&) = default;
};

/// "${" + text + "}": how messages name a reference.
std::string reference_text(const placeholder& ref);

/// The JSON path of `key` below `where` ("" is the root): "where.key".
std::string where_key(const std::string& where, std::string_view key);

/// The placeholder `text` consists of, or nullopt when it is not exactly
/// one placeholder. Errors as parse_placeholders.
model::expected<std::optional<placeholder>>
whole_placeholder(std::string_view text);

/// The placeholders of one string, in order. Errors (invalid_input): an
/// unterminated `${`, an empty placeholder or an empty path segment.
model::expected<std::vector<placeholder>>
parse_placeholders(std::string_view text);

/// A placeholder and the JSON path (below `where`) of the string holding it.
struct located_placeholder {
  std::string where;
  placeholder ref;
};

/// Every placeholder of every string in `tmpl` (object keys are plain
/// text). Malformed strings are appended to `problems` as "path: message".
void collect_placeholders(const json& tmpl, const std::string& where,
                          std::vector<located_placeholder>& out,
                          std::vector<std::string>& problems);

/// The value `ref` names inside `scope`, or nullptr when it is missing.
const json* resolve(const placeholder& ref, const json& scope);

/// Renders `tmpl` against `scope` (see above). Errors name the missing or
/// malformed reference.
model::expected<json> render_template(const json& tmpl, const json& scope);

} // namespace conveyor::tasks
