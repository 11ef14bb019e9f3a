#include "model/schema.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include "model/text.hpp"

// Decisions beyond the header:
// * Annotation keywords that never affect validation (title, description,
//   default, examples, $schema, $id, $comment) are accepted and ignored, so
//   documented schemas pass; anything else unknown is rejected.
// * Length limits count Unicode code points (JSON Schema semantics), not
//   bytes. An integral float such as 2.0 is an integer, as in JSON Schema.
// * Nesting is bounded (64 schema levels) in both functions, so recursion is
//   bounded whatever the caller passes.

namespace conveyor::model {
namespace {

constexpr std::size_t max_depth = 64;

constexpr std::array<std::string_view, 7> type_names = {
  "string", "number", "integer", "boolean", "object", "array", "null"};

constexpr std::array<std::string_view, 7> annotations = {
  "title", "description", "default", "examples", "$schema", "$id", "$comment"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names,
            std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string kind_of(const json& value) {
  switch (value.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::boolean:
    return "boolean";
  case json::value_t::string:
    return "string";
  case json::value_t::array:
    return "array";
  case json::value_t::object:
    return "object";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float:
    return "number";
  default:
    return "unknown";
  }
}

error fail(const std::string& path, const std::string& what) {
  return make_error(errc::invalid_input,
                    (path.empty() ? "value" : path) + ": " + what);
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string label(const std::string& path) {
  return path.empty() ? "schema" : path;
}

bool is_integral(const json& v) {
  if (v.is_number_integer()) {
    return true;
  }
  if (!v.is_number_float()) {
    return false;
  }
  auto d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool is_count(const json& v) {
  return is_integral(v) && v.get<double>() >= 0;
}

// -- check_schema
// --------------------------------------------------------------

status check_type(const json& type, const std::string& at) {
  auto check_name = [&](const json& name) -> status {
    if (!name.is_string()) {
      return fail(at, "expected a type name, got " + shown(name));
    }
    if (!one_of(type_names, name.get_ref<const std::string&>())) {
      return fail(at, "unknown type '" + name.get<std::string>() + "'");
    }
    return ok();
  };
  if (!type.is_array()) {
    return check_name(type);
  }
  if (type.empty()) {
    return fail(at, "expected at least one type");
  }
  for (const auto& name : type) {
    if (auto st = check_name(name); !st) {
      return st;
    }
  }
  return ok();
}

status check_node(const json& schema, const std::string& path,
                  std::size_t depth);

status check_properties(const json& props, const std::string& at,
                        std::size_t depth) {
  if (!props.is_object()) {
    return fail(at, "expected an object, got " + shown(props));
  }
  for (const auto& [name, sub] : props.items()) {
    if (auto st = check_node(sub, join(at, name), depth + 1); !st) {
      return st;
    }
  }
  return ok();
}

status check_required(const json& required, const std::string& at) {
  if (!required.is_array()) {
    return fail(at, "expected an array of strings, got " + shown(required));
  }
  for (std::size_t i = 0; i < required.size(); ++i) {
    if (!required[i].is_string()) {
      return fail(at + "[" + std::to_string(i) + "]",
                  "expected a string, got " + shown(required[i]));
    }
  }
  return ok();
}

status check_keyword(const std::string& key, const json& value,
                     const std::string& at, std::size_t depth) {
  if (key == "type") {
    return check_type(value, at);
  }
  if (key == "properties") {
    return check_properties(value, at, depth);
  }
  if (key == "items") {
    return check_node(value, at, depth + 1);
  }
  if (key == "required") {
    return check_required(value, at);
  }
  if (key == "additionalProperties") {
    return value.is_boolean()
             ? ok()
             : status(fail(at, "expected a boolean, got " + shown(value)));
  }
  if (key == "enum") {
    return value.is_array() && !value.empty()
             ? ok()
             : status(
               fail(at, "expected a non-empty array, got " + shown(value)));
  }
  if (key == "minimum" || key == "maximum") {
    return value.is_number()
             ? ok()
             : status(fail(at, "expected a number, got " + shown(value)));
  }
  if (key == "minLength" || key == "maxLength" || key == "minItems"
      || key == "maxItems") {
    return is_count(value) ? ok()
                           : status(fail(at, "expected a non-negative integer, "
                                             "got "
                                               + shown(value)));
  }
  if (key == "const" || one_of(annotations, key)) {
    return ok();
  }
  return fail(at, "unknown keyword '" + key + "'");
}

status check_node(const json& schema, const std::string& path,
                  std::size_t depth) {
  if (depth > max_depth) {
    return make_error(errc::too_deep,
                      label(path) + ": schema nested deeper than 64 levels");
  }
  if (!schema.is_object()) {
    return fail(label(path), "expected a schema object, got " + shown(schema));
  }
  for (const auto& [key, value] : schema.items()) {
    if (auto st = check_keyword(key, value, join(path, key), depth); !st) {
      return st;
    }
  }
  return ok();
}

// -- validate
// ------------------------------------------------------------------

bool has_type(const json& value, std::string_view type) {
  if (type == "number") {
    return value.is_number();
  }
  if (type == "integer") {
    return is_integral(value);
  }
  if (type == "boolean") {
    return value.is_boolean();
  }
  return kind_of(value) == type; // string, object, array, null
}

status check_value_type(const json& type, const json& value,
                        const std::string& at) {
  std::string wanted;
  auto accepts = [&](const json& name) {
    if (!name.is_string()) {
      return false;
    }
    wanted += (wanted.empty() ? "" : " or ") + name.get<std::string>();
    return has_type(value, name.get_ref<const std::string&>());
  };
  bool matched = false;
  if (type.is_array()) {
    for (const auto& name : type) {
      matched = accepts(name) || matched;
    }
  } else {
    matched = accepts(type);
  }
  if (matched || wanted.empty()) { // no usable type names: not checked
    return ok();
  }
  return fail(at, "expected " + wanted + ", got " + kind_of(value));
}

/// Code points, so "é" is one character as JSON Schema says.
std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

status check_bounds(const json& schema, const json& value,
                    const std::string& at) {
  auto limit = [&](const char* key) -> const json* {
    auto it = schema.find(key);
    return it != schema.end() && it->is_number() ? &*it : nullptr;
  };
  if (value.is_number()) {
    if (auto* min = limit("minimum"); min && value < *min) {
      return fail(at, shown(value) + " is less than minimum " + shown(*min));
    }
    if (auto* max = limit("maximum"); max && *max < value) {
      return fail(at, shown(value) + " is greater than maximum " + shown(*max));
    }
  }
  std::size_t size = 0;
  const char* min_key = nullptr;
  const char* max_key = nullptr;
  if (value.is_string()) {
    size = utf8_length(value.get_ref<const std::string&>());
    min_key = "minLength";
    max_key = "maxLength";
  } else if (value.is_array()) {
    size = value.size();
    min_key = "minItems";
    max_key = "maxItems";
  } else {
    return ok();
  }
  const auto what = value.is_string() ? "length " : "item count ";
  if (auto* min = limit(min_key);
      min && static_cast<double>(size) < min->get<double>()) {
    return fail(at, what + std::to_string(size) + " is less than " + min_key
                      + " " + shown(*min));
  }
  if (auto* max = limit(max_key);
      max && static_cast<double>(size) > max->get<double>()) {
    return fail(at, what + std::to_string(size) + " is greater than " + max_key
                      + " " + shown(*max));
  }
  return ok();
}

status validate_node(const json& schema, const json& value,
                     const std::string& at, std::size_t depth);

status validate_items(const json& schema, const json& value,
                      const std::string& at, std::size_t depth) {
  auto items = schema.find("items");
  if (items == schema.end() || !value.is_array()) {
    return ok();
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto st = validate_node(*items, value[i],
                            at + "[" + std::to_string(i) + "]", depth + 1);
    if (!st) {
      return st;
    }
  }
  return ok();
}

status validate_object(const json& schema, const json& value,
                       const std::string& at, std::size_t depth) {
  if (!value.is_object()) {
    return ok();
  }
  if (auto req = schema.find("required");
      req != schema.end() && req->is_array()) {
    for (const auto& name : *req) {
      if (name.is_string() && !value.contains(name.get<std::string>())) {
        return fail(at, "missing required property '" + name.get<std::string>()
                          + "'");
      }
    }
  }
  auto props = schema.find("properties");
  const bool have_props = props != schema.end() && props->is_object();
  auto extra = schema.find("additionalProperties");
  const bool closed = extra != schema.end() && *extra == false;
  for (const auto& [name, member] : value.items()) {
    auto sub = have_props ? props->find(name) : schema.end();
    if (have_props && sub != props->end()) {
      if (auto st = validate_node(*sub, member, join(at, name), depth + 1);
          !st) {
        return st;
      }
    } else if (closed) {
      return fail(join(at, name), "additional property not allowed");
    }
  }
  return ok();
}

status validate_node(const json& schema, const json& value,
                     const std::string& at, std::size_t depth) {
  if (depth > max_depth) {
    return make_error(errc::too_deep,
                      at + ": schema nested deeper than 64 levels");
  }
  if (!schema.is_object()) {
    return ok(); // check_schema rejects this; stay total regardless
  }
  if (auto type = schema.find("type"); type != schema.end()) {
    if (auto st = check_value_type(*type, value, at); !st) {
      return st;
    }
  }
  if (auto en = schema.find("enum"); en != schema.end() && en->is_array()) {
    if (std::find(en->begin(), en->end(), value) == en->end()) {
      return fail(at, shown(value) + " is not one of " + shown(*en));
    }
  }
  if (auto c = schema.find("const"); c != schema.end() && *c != value) {
    return fail(at, "expected " + shown(*c) + ", got " + shown(value));
  }
  if (auto st = check_bounds(schema, value, at); !st) {
    return st;
  }
  if (auto st = validate_items(schema, value, at, depth); !st) {
    return st;
  }
  return validate_object(schema, value, at, depth);
}

} // namespace

status check_schema(const json& schema) {
  return check_node(schema, "", 0);
}

status validate(const json& schema, const json& value,
                const std::string& root) {
  return validate_node(schema, value, root, 0);
}

} // namespace conveyor::model
