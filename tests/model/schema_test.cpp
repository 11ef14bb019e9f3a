#include "model/schema.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace {

using conveyor::model::check_schema;
using conveyor::model::errc;
using conveyor::model::json;
using conveyor::model::validate;

/// "" when the value is valid, else the error message. The schema must be
/// well-formed.
std::string check(const std::string& schema, const json& value,
                  const std::string& root = "input") {
  const auto parsed = json::parse(schema);
  auto good = check_schema(parsed);
  BOOST_TEST_REQUIRE(good.has_value(),
                     schema << ": " << (good ? "" : good.error().message));
  auto st = validate(parsed, value, root);
  if (st.has_value()) {
    return "";
  }
  BOOST_TEST(static_cast<int>(st.error().code)
             == static_cast<int>(errc::invalid_input));
  return st.error().message;
}

std::string schema_error(const std::string& schema) {
  auto st = check_schema(json::parse(schema));
  return st.has_value() ? "<ok>" : st.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(schema_tests)

BOOST_AUTO_TEST_CASE(empty_schema_accepts_anything) {
  BOOST_TEST(check("{}", json()) == "");
  BOOST_TEST(check("{}", json::parse(R"({"a": [1, {"b": null}]})")) == "");
  BOOST_TEST(check("{}", "text") == "");
}

BOOST_AUTO_TEST_CASE(type_keyword) {
  BOOST_TEST(check(R"({"type": "string"})", "x") == "");
  BOOST_TEST(check(R"({"type": "string"})", 5)
             == "input: expected string, got number");
  BOOST_TEST(check(R"({"type": "number"})", 1.5) == "");
  BOOST_TEST(check(R"({"type": "number"})", 3) == "");
  BOOST_TEST(check(R"({"type": "integer"})", 3) == "");
  BOOST_TEST(check(R"({"type": "integer"})", 3.0) == "");
  BOOST_TEST(check(R"({"type": "integer"})", 3.5)
             == "input: expected integer, got number");
  BOOST_TEST(check(R"({"type": "boolean"})", true) == "");
  BOOST_TEST(check(R"({"type": "boolean"})", 0)
             == "input: expected boolean, got number");
  BOOST_TEST(check(R"({"type": "object"})", json::object()) == "");
  BOOST_TEST(check(R"({"type": "object"})", json::array())
             == "input: expected object, got array");
  BOOST_TEST(check(R"({"type": "array"})", json::array()) == "");
  BOOST_TEST(check(R"({"type": "null"})", json()) == "");
  BOOST_TEST(check(R"({"type": "null"})", "")
             == "input: expected null, got string");
  BOOST_TEST(check(R"({"type": ["string", "null"]})", json()) == "");
  BOOST_TEST(check(R"({"type": ["string", "null"]})", "x") == "");
  BOOST_TEST(check(R"({"type": ["string", "null"]})", false)
             == "input: expected string or null, got boolean");
}

BOOST_AUTO_TEST_CASE(properties_and_required) {
  const std::string schema = R"({
    "type": "object",
    "properties": {"path": {"type": "string"},
                   "opts": {"type": "object",
                            "properties": {"depth": {"type": "integer"}}}},
    "required": ["path"]})";
  BOOST_TEST(check(schema, json{{"path", "/tmp"}}) == "");
  BOOST_TEST(check(schema, json{{"path", 3}})
             == "input.path: expected string, got number");
  BOOST_TEST(check(schema, json::object())
             == "input: missing required property 'path'");
  BOOST_TEST(
    check(schema, json::parse(R"({"path": "a", "opts": {"depth": "x"}})"))
    == "input.opts.depth: expected integer, got string");
  // Undeclared properties are allowed by default.
  BOOST_TEST(check(schema, json{{"path", "a"}, {"other", 1}}) == "");
  // Required without a type check does not apply to non-objects.
  BOOST_TEST(check(R"({"required": ["a"]})", 5) == "");
}

BOOST_AUTO_TEST_CASE(additional_properties) {
  const std::string schema = R"({"properties": {"a": {}},
                                 "additionalProperties": false})";
  BOOST_TEST(check(schema, json{{"a", 1}}) == "");
  BOOST_TEST(check(schema, json{{"a", 1}, {"b", 2}})
             == "input.b: additional property not allowed");
  BOOST_TEST(check(R"({"additionalProperties": false})", json{{"x", 1}})
             == "input.x: additional property not allowed");
  BOOST_TEST(check(R"({"additionalProperties": true})", json{{"x", 1}}) == "");
}

BOOST_AUTO_TEST_CASE(items) {
  const std::string schema =
    R"({"type": "array", "items": {"type": "string"}})";
  BOOST_TEST(check(schema, json::array({"a", "b"})) == "");
  BOOST_TEST(check(schema, json::array({"a", "b", true}))
             == "input[2]: expected string, got boolean");
  BOOST_TEST(check(R"({"properties": {"tags": )" + schema + "}}",
                   json{{"tags", json::array({"a", "b", true})}})
             == "input.tags[2]: expected string, got boolean");
  BOOST_TEST(check(R"({"items": {"items": {"type": "null"}}})",
                   json::parse("[[null], [null, 1]]"))
             == "input[1][1]: expected null, got number");
}

BOOST_AUTO_TEST_CASE(enum_and_const) {
  BOOST_TEST(check(R"({"enum": ["red", "blue", 3]})", "blue") == "");
  BOOST_TEST(check(R"({"enum": ["red", "blue", 3]})", 3.0) == "");
  BOOST_TEST(check(R"({"enum": ["red", "blue"]})", "pink")
             == R"(input: "pink" is not one of ["red","blue"])");
  BOOST_TEST(check(R"({"const": {"v": 1}})", json{{"v", 1}}) == "");
  BOOST_TEST(check(R"({"const": "x"})", "y")
             == R"(input: expected "x", got "y")");
}

BOOST_AUTO_TEST_CASE(numeric_bounds) {
  const std::string schema = R"({"minimum": 1, "maximum": 10.5})";
  BOOST_TEST(check(schema, 1) == "");
  BOOST_TEST(check(schema, 10.5) == "");
  BOOST_TEST(check(schema, 0) == "input: 0 is less than minimum 1");
  BOOST_TEST(check(schema, 11) == "input: 11 is greater than maximum 10.5");
  // Bounds do not apply to other kinds.
  BOOST_TEST(check(schema, "0") == "");
}

BOOST_AUTO_TEST_CASE(length_bounds) {
  const std::string schema = R"({"minLength": 2, "maxLength": 3})";
  BOOST_TEST(check(schema, "ab") == "");
  BOOST_TEST(check(schema, "a") == "input: length 1 is less than minLength 2");
  BOOST_TEST(check(schema, "abcd")
             == "input: length 4 is greater than maxLength 3");
  // Code points, not bytes: three two-byte characters.
  BOOST_TEST(check(schema, "\xC3\xA9\xC3\xA9\xC3\xA9") == "");
}

BOOST_AUTO_TEST_CASE(item_bounds) {
  const std::string schema = R"({"minItems": 1, "maxItems": 2})";
  BOOST_TEST(check(schema, json::array({1})) == "");
  BOOST_TEST(check(schema, json::array())
             == "input: item count 0 is less than minItems 1");
  BOOST_TEST(check(schema, json::array({1, 2, 3}))
             == "input: item count 3 is greater than maxItems 2");
}

BOOST_AUTO_TEST_CASE(root_name) {
  BOOST_TEST(check(R"({"type": "string"})", 1, "output")
             == "output: expected string, got number");
  BOOST_TEST(
    check(R"({"properties": {"a": {"type": "string"}}})", json{{"a", 1}}, "")
    == "a: expected string, got number");
}

BOOST_AUTO_TEST_CASE(annotations_are_allowed) {
  BOOST_TEST(schema_error(R"({"title": "T", "description": "d",
      "default": 1, "examples": [1], "$schema": "x", "$comment": "c"})")
             == "<ok>");
}

BOOST_AUTO_TEST_CASE(bad_schemas_name_the_schema_path) {
  BOOST_TEST(schema_error(R"({"properties": {"path": {"type": "strin"}}})")
             == "properties.path.type: unknown type 'strin'");
  BOOST_TEST(schema_error(R"({"type": 5})")
             == "type: expected a type name, got 5");
  BOOST_TEST(schema_error(R"({"type": []})")
             == "type: expected at least one type");
  BOOST_TEST(schema_error(R"({"type": ["string", "nul"]})")
             == "type: unknown type 'nul'");
  BOOST_TEST(schema_error(R"({"requird": ["a"]})")
             == "requird: unknown keyword 'requird'");
  BOOST_TEST(schema_error(R"({"pattern": "a+"})")
             == "pattern: unknown keyword 'pattern'");
  BOOST_TEST(schema_error(R"({"required": "a"})")
             == "required: expected an array of strings, got \"a\"");
  BOOST_TEST(schema_error(R"({"required": ["a", 1]})")
             == "required[1]: expected a string, got 1");
  BOOST_TEST(schema_error(R"({"properties": []})")
             == "properties: expected an object, got []");
  BOOST_TEST(schema_error(R"({"properties": {"a": 1}})")
             == "properties.a: expected a schema object, got 1");
  BOOST_TEST(schema_error(R"({"items": {"type": "x"}})")
             == "items.type: unknown type 'x'");
  BOOST_TEST(schema_error(R"({"items": [{}]})")
             == "items: expected a schema object, got [{}]");
  BOOST_TEST(schema_error(R"({"additionalProperties": {}})")
             == "additionalProperties: expected a boolean, got {}");
  BOOST_TEST(schema_error(R"({"enum": []})")
             == "enum: expected a non-empty array, got []");
  BOOST_TEST(schema_error(R"({"enum": "a"})") != "<ok>");
  BOOST_TEST(schema_error(R"({"minimum": "1"})")
             == "minimum: expected a number, got \"1\"");
  BOOST_TEST(schema_error(R"({"maxLength": -1})")
             == "maxLength: expected a non-negative integer, got -1");
  BOOST_TEST(schema_error(R"({"minItems": 1.5})") != "<ok>");
  BOOST_TEST(schema_error(R"({"minItems": 2.0})") == "<ok>");
  BOOST_TEST(schema_error("[]") == "schema: expected a schema object, got []");
  BOOST_TEST(schema_error("true") != "<ok>");
}

BOOST_AUTO_TEST_CASE(deep_schemas_are_rejected) {
  json schema = json::object();
  for (int i = 0; i < 70; ++i) {
    schema = json{{"items", schema}};
  }
  auto st = check_schema(schema);
  BOOST_TEST_REQUIRE(!st.has_value());
  BOOST_TEST(static_cast<int>(st.error().code)
             == static_cast<int>(errc::too_deep));
  // validate guards too, even on a schema that skipped check_schema.
  json value = json::array();
  for (int i = 0; i < 70; ++i) {
    value = json::array({value});
  }
  auto v = validate(schema, value);
  BOOST_TEST_REQUIRE(!v.has_value());
  BOOST_TEST(static_cast<int>(v.error().code)
             == static_cast<int>(errc::too_deep));
}

BOOST_AUTO_TEST_CASE(validate_is_total_on_unchecked_schemas) {
  // Wrong keyword types are ignored rather than crashing or throwing.
  BOOST_TEST(validate(json::parse(R"({"type": 5, "required": "a",
      "minimum": "x", "enum": 3, "properties": [], "items": 7})"),
                      json::parse(R"({"a": [1]})"))
               .has_value());
  BOOST_TEST(validate(json::parse(R"({"required": "a", "minimum": "x",
      "enum": 3, "properties": [], "items": 7})"),
                      json::parse(R"([1, 2])"))
               .has_value());
  BOOST_TEST(validate(json::array(), 1).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
