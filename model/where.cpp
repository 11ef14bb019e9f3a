// Long file: the `where` language in one place: parser, limits and
// evaluation share its operator table.

#include "model/where.hpp"

#include "model/json_guard.hpp"
#include "model/text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

// Decisions beyond the header:
// * An empty `or` array is dropped at parse time (Payload ignores it), so it
//   matches everything like an empty `and`; a field with an empty operator
//   object ({"queue": {}}) likewise matches everything.
// * Paths descend through arrays. A numeric segment indexes the array
//   ("log.0.taskSlug"); any other segment fans out over every element
//   ("log.taskSlug"), and a leaf array offers itself and each of its
//   elements. The condition holds if ANY candidate satisfies it; the negative
//   operators (not_equals, not_in, exists:false) hold if NO candidate
//   satisfies the positive form (Mongo semantics).
// * `id` compares numerically whether written as a number or a decimal
//   string (see id_as_number); every other field follows the header strictly.

namespace conveyor::model {
namespace {

/// Path length is bounded so evaluation recursion is; and/or nesting is
/// bounded by the filter's JSON depth (limits::max_where_depth).
constexpr std::size_t max_segments = 64;

struct op_name {
  std::string_view name;
  where_op op;
};

constexpr op_name op_names[] = {
  {"equals", where_op::equals},
  {"not_equals", where_op::not_equals},
  {"in", where_op::in},
  {"not_in", where_op::not_in},
  {"exists", where_op::exists},
  {"greater_than", where_op::greater_than},
  {"greater_than_equal", where_op::greater_than_equal},
  {"less_than", where_op::less_than},
  {"less_than_equal", where_op::less_than_equal},
  {"like", where_op::like},
  {"contains", where_op::contains},
};

std::optional<where_op> find_op(std::string_view name) {
  for (const auto& entry : op_names) {
    if (entry.name == name) {
      return entry.op;
    }
  }
  return std::nullopt;
}

std::string_view name_of(where_op op) {
  for (const auto& entry : op_names) {
    if (entry.op == op) {
      return entry.name;
    }
  }
  return "?";
}

error invalid(const std::string& path, const std::string& what) {
  return make_error(errc::invalid_input, path + ": " + what);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    out.push_back(path.substr(start, dot - start));
    if (dot == std::string_view::npos) {
      return out;
    }
    start = dot + 1;
  }
}

status check_field_path(const std::string& field, const std::string& at) {
  auto segments = split_path(field);
  if (std::any_of(segments.begin(), segments.end(),
                  [](std::string_view s) { return s.empty(); })) {
    return invalid(at, "empty segment in field path '" + field + "'");
  }
  if (segments.size() > max_segments) {
    return invalid(at, "field path has more than 64 segments");
  }
  return ok();
}

/// Operand shape per operator, so a typo surfaces at parse time rather than
/// as a query that silently matches nothing.
status check_operand(where_op op, const json& operand, const std::string& at) {
  auto bad = [&](std::string_view expected) -> status {
    return invalid(at, std::string(name_of(op)) + " expects "
                         + std::string(expected) + ", got " + shown(operand));
  };
  switch (op) {
  case where_op::in:
  case where_op::not_in:
    return operand.is_array() ? ok() : bad("an array");
  case where_op::exists:
    return operand.is_boolean() ? ok() : bad("a boolean");
  case where_op::greater_than:
  case where_op::greater_than_equal:
  case where_op::less_than:
  case where_op::less_than_equal:
    return operand.is_number() || operand.is_string()
             ? ok()
             : bad("a number or string");
  case where_op::like:
  case where_op::contains:
    return operand.is_string() ? ok() : bad("a string");
  case where_op::equals:
  case where_op::not_equals:
    return ok();
  }
  return ok();
}

expected<where> parse_object(const json& query, const std::string& at,
                             std::size_t depth);

/// `and` / `or`: an array of query objects.
expected<where> parse_list(const json& list, where::kind kind,
                           const std::string& at, std::size_t depth) {
  if (!list.is_array()) {
    return invalid(at, "expected an array, got " + shown(list));
  }
  where node;
  node.type = kind;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto child =
      parse_object(list[i], at + "[" + std::to_string(i) + "]", depth + 1);
    if (!child) {
      return child.error();
    }
    node.children.push_back(std::move(*child));
  }
  return node;
}

/// {"op": operand, ...} for one field; appends one condition per operator.
status parse_field(const std::string& field, const json& ops,
                   const std::string& at, std::vector<where>& out) {
  if (auto st = check_field_path(field, at); !st) {
    return st;
  }
  if (!ops.is_object()) {
    return invalid(at, "expected an object of operators, got " + shown(ops));
  }
  for (const auto& [name, operand] : ops.items()) {
    auto op = find_op(name);
    if (!op) {
      return invalid(at, "unknown operator '" + name + "'");
    }
    if (auto st = check_operand(*op, operand, at + "." + name); !st) {
      return st;
    }
    where cond;
    cond.type = where::kind::condition;
    cond.path = field;
    cond.op = *op;
    cond.operand = operand;
    out.push_back(std::move(cond));
  }
  return ok();
}

expected<where> parse_object(const json& query, const std::string& at,
                             std::size_t depth) {
  if (depth > hard_max_json_depth) { // unreachable after the depth check
    return make_error(errc::invalid_input, at + ": nested too deep");
  }
  if (!query.is_object()) {
    return invalid(at, "expected an object, got " + shown(query));
  }
  where node; // all_of: several keys in one object are AND-ed
  for (const auto& [key, value] : query.items()) {
    const auto child_at = at + "." + key;
    if (key == "and" || key == "or") {
      auto kind = key == "and" ? where::kind::all_of : where::kind::any_of;
      auto child = parse_list(value, kind, child_at, depth);
      if (!child) {
        return child.error();
      }
      if (!child->children.empty()) {
        node.children.push_back(std::move(*child));
      }
      continue;
    }
    if (auto st = parse_field(key, value, child_at, node.children); !st) {
      return st.error();
    }
  }
  return node;
}

// -- evaluation ---------------------------------------------------------------

bool is_index(std::string_view segment) {
  return !segment.empty() && segment.size() <= 9
         && std::all_of(segment.begin(), segment.end(),
                        [](char c) { return c >= '0' && c <= '9'; });
}

/// Collects the values the path reaches; nullptr stands for "missing".
void collect(const json& node, const std::vector<std::string_view>& segments,
             std::size_t i, std::vector<const json*>& out) {
  if (i == segments.size()) {
    out.push_back(&node);
    if (node.is_array()) {
      for (const auto& element : node) {
        out.push_back(&element);
      }
    }
    return;
  }
  const auto segment = segments[i];
  if (node.is_object()) {
    auto it = node.find(segment);
    if (it == node.end()) {
      out.push_back(nullptr);
    } else {
      collect(*it, segments, i + 1, out);
    }
    return;
  }
  if (!node.is_array()) {
    out.push_back(nullptr);
    return;
  }
  if (is_index(segment)) {
    std::size_t index = 0;
    std::from_chars(segment.data(), segment.data() + segment.size(), index);
    if (index < node.size()) {
      collect(node[index], segments, i + 1, out);
    } else {
      out.push_back(nullptr);
    }
    return;
  }
  if (node.empty()) {
    out.push_back(nullptr);
  }
  for (const auto& element : node) {
    collect(element, segments, i, out);
  }
}

const json& null_value() {
  static const json null;
  return null;
}

/// Payload types `id` as a number, but the document renders it as a decimal
/// string. So for that one field, canonical decimal strings ("0", "42"; no
/// sign, no leading zero) become numbers on both sides, and `id` equals 12,
/// equals "12", and is greater than "9".
json id_as_number(const json& v) {
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) {
      out.push_back(id_as_number(item));
    }
    return out;
  }
  if (!v.is_string()) {
    return v;
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) {
    return v;
  }
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc{} && end == s.data() + s.size() ? json(n) : v;
}

/// -1 / 0 / 1, or nullopt when the kinds differ.
std::optional<int> order(const json& value, const json& operand) {
  if (value.is_number() && operand.is_number()) {
    return value < operand ? -1 : operand < value ? 1 : 0;
  }
  if (value.is_string() && operand.is_string()) {
    int c = value.get_ref<const std::string&>().compare(
      operand.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

bool contains_ci(const json& value, const json& operand) {
  if (!value.is_string() || !operand.is_string()) {
    return false;
  }
  return ascii_lower(value.get_ref<const std::string&>())
           .find(ascii_lower(operand.get_ref<const std::string&>()))
         != std::string::npos;
}

bool like(const json& value, const json& operand) {
  if (!value.is_string() || !operand.is_string()) {
    return false;
  }
  const auto haystack = ascii_lower(value.get_ref<const std::string&>());
  const auto needle = ascii_lower(operand.get_ref<const std::string&>());
  std::size_t pos = 0;
  while (pos < needle.size()) {
    auto start = needle.find_first_not_of(" \t\r\n\f\v", pos);
    if (start == std::string::npos) {
      break;
    }
    auto end = needle.find_first_of(" \t\r\n\f\v", start);
    if (end == std::string::npos) {
      end = needle.size();
    }
    if (haystack.find(needle.substr(start, end - start)) == std::string::npos) {
      return false;
    }
    pos = end;
  }
  return true;
}

bool in_list(const json& value, const json& list) {
  if (!list.is_array()) {
    return false;
  }
  return std::any_of(list.begin(), list.end(),
                     [&](const json& item) { return value == item; });
}

bool ordered(where_op op, const json& value, const json& operand) {
  auto c = order(value, operand);
  if (!c) {
    return false;
  }
  switch (op) {
  case where_op::greater_than:
    return *c > 0;
  case where_op::greater_than_equal:
    return *c >= 0;
  case where_op::less_than:
    return *c < 0;
  case where_op::less_than_equal:
    return *c <= 0;
  default:
    return false;
  }
}

/// The positive form of an operator on one candidate value.
bool test_one(where_op op, const json& value, const json& operand) {
  switch (op) {
  case where_op::equals:
  case where_op::not_equals:
    return value == operand; // int/float-aware
  case where_op::in:
  case where_op::not_in:
    return in_list(value, operand);
  case where_op::exists:
    return !value.is_null();
  case where_op::like:
    return like(value, operand);
  case where_op::contains:
    return contains_ci(value, operand);
  default:
    return ordered(op, value, operand);
  }
}

bool is_negative(const where& cond) {
  return cond.op == where_op::not_equals || cond.op == where_op::not_in
         || (cond.op == where_op::exists && cond.operand == false);
}

bool eval_condition(const where& cond, const json& document) {
  std::vector<const json*> candidates;
  collect(document, split_path(cond.path), 0, candidates);
  const bool is_id = cond.path == "id";
  const json operand = is_id ? id_as_number(cond.operand) : json();
  const json& op_value = is_id ? operand : cond.operand;
  const bool any =
    std::any_of(candidates.begin(), candidates.end(), [&](const json* value) {
      const json& v = value ? *value : null_value();
      return is_id ? test_one(cond.op, id_as_number(v), op_value)
                   : test_one(cond.op, v, op_value);
    });
  return is_negative(cond) ? !any : any;
}

} // namespace

expected<where> parse_where(const json& query, const limits& lim) {
  if (query.is_null()) {
    return where{}; // no query at all: match everything
  }
  const json_limits bounds{std::min(lim.max_where_depth, hard_max_json_depth),
                           lim.max_where_bytes, lim.max_where_bytes,
                           lim.max_array_length};
  if (auto st = check_json(query, bounds, "where"); !st) {
    // A filter is a request field like any other: invalid input.
    return make_error(errc::invalid_input, st.error().message);
  }
  return parse_object(query, "where", 0);
}

bool matches(const where& query, const json& document) {
  const auto child_matches = [&](const where& child) {
    return matches(child, document);
  };
  switch (query.type) {
  case where::kind::all_of:
    return std::all_of(query.children.begin(), query.children.end(),
                       child_matches);
  case where::kind::any_of:
    return std::any_of(query.children.begin(), query.children.end(),
                       child_matches);
  case where::kind::condition:
    return eval_condition(query, document);
  }
  return false;
}

} // namespace conveyor::model
