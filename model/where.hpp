#pragma once

// Payload's `where` query over job documents: field operators combined with
// and/or. Evaluated against the JSON rendering of a job (job_json.hpp), so
// any field works, nested paths included ("input.message", "meta.scheduled").

#include <memory>
#include <string>
#include <vector>

#include "model/error.hpp"
#include "model/job.hpp"
#include "model/limits.hpp"

namespace conveyor::model {

enum class where_op : std::uint8_t {
  equals,
  not_equals,
  in,
  not_in,
  exists,
  greater_than,
  greater_than_equal,
  less_than,
  less_than_equal,
  like,     ///< case-insensitive: every whitespace-separated word is contained
  contains, ///< case-insensitive substring
};

/// A parsed query: either a leaf condition or an and/or of children. An empty
/// `and` matches everything.
struct where {
  enum class kind : std::uint8_t { all_of, any_of, condition };
  kind type = kind::all_of;
  std::vector<where> children;
  std::string path; ///< dotted path for conditions
  where_op op = where_op::equals;
  json operand;
};

/// Parses {"field": {"op": value}, "and": [...], "or": [...]}. Several keys in
/// one object are AND-ed. Unknown operators, a non-array `in`, or a non-bool
/// `exists` are invalid_input errors naming the path. So are a filter over
/// `lim.max_where_bytes` (compact text) or nested deeper than
/// `lim.max_where_depth`, checked without recursion before parsing.
expected<where> parse_where(const json& query, const limits& lim = {});

/// True if the document satisfies the query. Dates compare as ISO strings
/// (they sort chronologically), numbers numerically; comparing values of
/// different kinds is false. A missing field equals null.
bool matches(const where& query, const json& document);

} // namespace conveyor::model
