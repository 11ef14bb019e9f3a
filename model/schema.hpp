#pragma once

// Input validation at queue time (Payload skips this; we do not).
//
// Schemas are a JSON Schema subset: type (string, number, integer, boolean,
// object, array, null, or a list of them), properties, required,
// additionalProperties (bool), items, enum, const, minimum, maximum,
// minLength, maxLength, minItems, maxItems. An empty schema accepts anything.

#include <optional>
#include <string>

#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::model {

/// Checks the schema itself (unknown keywords, wrong keyword types). Errors
/// name the schema path, e.g. "properties.path.type: unknown type 'strin'".
status check_schema(const json& schema);

/// Validates `value` against a schema that passed check_schema. The error
/// message names the first offending value path, e.g.
/// "input.path: expected string, got number".
status validate(const json& schema, const json& value,
                const std::string& root = "input");

} // namespace conveyor::model
