#include "model/where.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace {

using conveyor::model::errc;
using conveyor::model::json;
using conveyor::model::limits;
using conveyor::model::matches;
using conveyor::model::parse_where;

/// A job document as job_json renders it (id is a decimal string).
json sample() {
  return json::parse(R"({
    "id": "12",
    "queue": "default",
    "taskSlug": "sendEmail",
    "hasError": false,
    "completedAt": "2026-01-02T03:04:05.000Z",
    "totalTried": 2,
    "input": {"message": "Hello World from Payload", "count": 3,
              "ratio": 1.5, "tags": ["urgent", "mail"],
              "nested": {"flag": true}},
    "meta": null,
    "status": "completed",
    "error": {"cancelled": true, "message": "stopped"},
    "log": [{"taskSlug": "first", "state": "succeeded"},
            {"taskSlug": "second", "state": "failed"}]
  })");
}

bool match(const json& query, const json& doc = sample()) {
  auto parsed = parse_where(query);
  BOOST_TEST_REQUIRE(parsed.has_value(),
                     query.dump()
                       << ": " << (parsed ? "" : parsed.error().message));
  return matches(*parsed, doc);
}

/// Shorthand for {path: {op: value}}.
bool cond(const std::string& path, const std::string& op, const json& value,
          const json& doc = sample()) {
  return match(json{{path, json{{op, value}}}}, doc);
}

std::string parse_error(const json& query) {
  auto parsed = parse_where(query);
  if (parsed.has_value()) {
    return "<parsed>";
  }
  BOOST_TEST(static_cast<int>(parsed.error().code)
             == static_cast<int>(errc::invalid_input));
  return parsed.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(where_tests)

BOOST_AUTO_TEST_CASE(empty_query_matches_everything) {
  BOOST_TEST(match(json::object()));
  BOOST_TEST(match(json()));
  BOOST_TEST(match(json::parse(R"({"and": []})")));
  BOOST_TEST(match(json::parse(R"({"or": []})")));
  BOOST_TEST(match(json::object(), json::object()));
}

BOOST_AUTO_TEST_CASE(equals_and_not_equals) {
  BOOST_TEST(cond("queue", "equals", "default"));
  BOOST_TEST(!cond("queue", "equals", "other"));
  BOOST_TEST(cond("hasError", "equals", false));
  BOOST_TEST(cond("input.nested.flag", "equals", true));
  BOOST_TEST(
    cond("error", "equals", json{{"message", "stopped"}, {"cancelled", true}}));
  BOOST_TEST(!cond("queue", "not_equals", "default"));
  BOOST_TEST(cond("queue", "not_equals", "other"));
  // Equality is case-sensitive; only like/contains fold case.
  BOOST_TEST(!cond("queue", "equals", "Default"));
}

BOOST_AUTO_TEST_CASE(numbers_compare_across_int_and_float) {
  BOOST_TEST(cond("totalTried", "equals", 2.0));
  BOOST_TEST(cond("totalTried", "equals", 2u));
  BOOST_TEST(cond("input.ratio", "equals", 1.5));
  BOOST_TEST(cond("input.ratio", "greater_than", 1));
  BOOST_TEST(cond("totalTried", "less_than", 2.5));
}

BOOST_AUTO_TEST_CASE(ids_compare_as_numbers) {
  BOOST_TEST(cond("id", "equals", "12"));
  BOOST_TEST(cond("id", "equals", 12));
  BOOST_TEST(!cond("id", "equals", 13));
  BOOST_TEST(cond("id", "in", json::array({1, 12})));
  // "12" > "9" numerically although not as text.
  BOOST_TEST(cond("id", "greater_than", "9"));
  BOOST_TEST(cond("id", "greater_than", 9));
  BOOST_TEST(cond("id", "less_than_equal", 12));
  BOOST_TEST(cond("id", "less_than", "100"));
  // Not canonical decimals: plain text comparison.
  BOOST_TEST(!cond("id", "equals", "012"));
  BOOST_TEST(!cond("id", "equals", -12));
  // Only `id` gets this: other decimal strings are text.
  const json doc = json::parse(R"({"input": {"code": "10"}})");
  BOOST_TEST(cond("input.code", "less_than", "9", doc));
  BOOST_TEST(!cond("input.code", "equals", 10, doc));
}

BOOST_AUTO_TEST_CASE(in_and_not_in) {
  BOOST_TEST(cond("queue", "in", json::array({"a", "default"})));
  BOOST_TEST(!cond("queue", "in", json::array({"a", "b"})));
  BOOST_TEST(!cond("queue", "in", json::array()));
  BOOST_TEST(cond("queue", "not_in", json::array({"a", "b"})));
  BOOST_TEST(!cond("queue", "not_in", json::array({"default"})));
  BOOST_TEST(cond("queue", "not_in", json::array()));
  BOOST_TEST(cond("missing", "in", json::array({nullptr})));
}

BOOST_AUTO_TEST_CASE(exists) {
  BOOST_TEST(cond("queue", "exists", true));
  BOOST_TEST(!cond("queue", "exists", false));
  BOOST_TEST(!cond("workflowSlug", "exists", true));
  BOOST_TEST(cond("workflowSlug", "exists", false));
  // Null counts as absent.
  BOOST_TEST(!cond("meta", "exists", true));
  BOOST_TEST(cond("meta", "exists", false));
  BOOST_TEST(cond("hasError", "exists", true)); // false is a value
  BOOST_TEST(cond("input.message", "exists", true));
  BOOST_TEST(cond("input.nope.deeper", "exists", false));
}

BOOST_AUTO_TEST_CASE(missing_fields_are_null) {
  BOOST_TEST(cond("workflowSlug", "equals", nullptr));
  BOOST_TEST(cond("meta", "equals", nullptr));
  BOOST_TEST(!cond("queue", "equals", nullptr));
  BOOST_TEST(cond("workflowSlug", "not_equals", "x"));
  BOOST_TEST(!cond("workflowSlug", "equals", "x"));
  BOOST_TEST(!cond("workflowSlug", "greater_than", ""));
  BOOST_TEST(!cond("workflowSlug", "like", ""));
  // A path through a scalar is missing too.
  BOOST_TEST(cond("queue.name", "equals", nullptr));
}

BOOST_AUTO_TEST_CASE(ordering_operators) {
  BOOST_TEST(cond("totalTried", "greater_than", 1));
  BOOST_TEST(!cond("totalTried", "greater_than", 2));
  BOOST_TEST(cond("totalTried", "greater_than_equal", 2));
  BOOST_TEST(!cond("totalTried", "greater_than_equal", 3));
  BOOST_TEST(cond("totalTried", "less_than", 3));
  BOOST_TEST(!cond("totalTried", "less_than", 2));
  BOOST_TEST(cond("totalTried", "less_than_equal", 2));
  BOOST_TEST(!cond("totalTried", "less_than_equal", 1));
  BOOST_TEST(cond("queue", "greater_than", "alpha"));
  BOOST_TEST(cond("queue", "less_than", "zeta"));
}

BOOST_AUTO_TEST_CASE(iso_dates_compare_chronologically) {
  BOOST_TEST(cond("completedAt", "greater_than", "2026-01-02T03:04:04.999Z"));
  BOOST_TEST(!cond("completedAt", "greater_than", "2026-01-02T03:04:05.000Z"));
  BOOST_TEST(
    cond("completedAt", "greater_than_equal", "2026-01-02T03:04:05.000Z"));
  BOOST_TEST(cond("completedAt", "less_than", "2027-01-01T00:00:00.000Z"));
  BOOST_TEST(!cond("completedAt", "less_than", "2025-12-31T23:59:59.999Z"));
}

BOOST_AUTO_TEST_CASE(mixed_kinds_never_order) {
  BOOST_TEST(!cond("totalTried", "greater_than", "1"));
  BOOST_TEST(!cond("totalTried", "less_than", "a"));
  BOOST_TEST(!cond("queue", "greater_than", 1));
  BOOST_TEST(!cond("hasError", "less_than", 1));
  BOOST_TEST(!cond("input", "greater_than", 0));
  BOOST_TEST(!cond("totalTried", "equals", "2"));
}

BOOST_AUTO_TEST_CASE(like_and_contains) {
  BOOST_TEST(cond("input.message", "like", "hello payload"));
  BOOST_TEST(cond("input.message", "like", "  WORLD   from "));
  BOOST_TEST(!cond("input.message", "like", "hello mars"));
  BOOST_TEST(cond("input.message", "like", ""));
  BOOST_TEST(cond("input.message", "contains", "WORLD FROM"));
  BOOST_TEST(!cond("input.message", "contains", "hello payload"));
  BOOST_TEST(!cond("totalTried", "contains", "2"));
  BOOST_TEST(!cond("input.nested", "like", "flag"));
}

BOOST_AUTO_TEST_CASE(dotted_paths_into_input) {
  BOOST_TEST(cond("input.message", "equals", "Hello World from Payload"));
  BOOST_TEST(cond("input.count", "greater_than", 2));
  BOOST_TEST(cond("error.cancelled", "equals", true));
  BOOST_TEST(!cond("error.cancelled", "equals", false));
}

BOOST_AUTO_TEST_CASE(array_index_and_fan_out) {
  BOOST_TEST(cond("log.0.taskSlug", "equals", "first"));
  BOOST_TEST(!cond("log.0.taskSlug", "equals", "second"));
  BOOST_TEST(cond("log.1.state", "equals", "failed"));
  BOOST_TEST(cond("log.5.state", "equals", nullptr));
  // Without an index: any element.
  BOOST_TEST(cond("log.taskSlug", "equals", "second"));
  BOOST_TEST(cond("log.taskSlug", "in", json::array({"x", "first"})));
  BOOST_TEST(cond("log.taskSlug", "like", "SEC"));
  BOOST_TEST(!cond("log.taskSlug", "equals", "third"));
  // Negative operators require that no element matches.
  BOOST_TEST(!cond("log.taskSlug", "not_equals", "first"));
  BOOST_TEST(cond("log.taskSlug", "not_equals", "third"));
  BOOST_TEST(!cond("log.taskSlug", "not_in", json::array({"second"})));
  BOOST_TEST(cond("log.taskSlug", "exists", true));
  BOOST_TEST(!cond("log.taskSlug", "exists", false));
  BOOST_TEST(cond("log.output", "exists", false));
  // A leaf array matches by element or as a whole.
  BOOST_TEST(cond("input.tags", "equals", "mail"));
  BOOST_TEST(cond("input.tags", "equals", json::array({"urgent", "mail"})));
  BOOST_TEST(cond("input.tags", "contains", "URG"));
  BOOST_TEST(!cond("input.tags", "not_in", json::array({"mail"})));
  // An empty array: nothing there.
  const json doc = json::parse(R"({"log": []})");
  BOOST_TEST(cond("log.taskSlug", "exists", false, doc));
  BOOST_TEST(cond("log.taskSlug", "equals", nullptr, doc));
  BOOST_TEST(!cond("log.taskSlug", "equals", "first", doc));
}

BOOST_AUTO_TEST_CASE(several_keys_are_and_ed) {
  BOOST_TEST(match(json::parse(
    R"({"queue": {"equals": "default"}, "totalTried": {"equals": 2}})")));
  BOOST_TEST(!match(json::parse(
    R"({"queue": {"equals": "default"}, "totalTried": {"equals": 3}})")));
  // Several operators on one field are AND-ed too.
  BOOST_TEST(match(
    json::parse(R"({"totalTried": {"greater_than": 1, "less_than": 3}})")));
  BOOST_TEST(!match(
    json::parse(R"({"totalTried": {"greater_than": 1, "less_than": 2}})")));
}

BOOST_AUTO_TEST_CASE(and_or_nesting) {
  BOOST_TEST(match(json::parse(R"({"or": [
      {"queue": {"equals": "nope"}},
      {"taskSlug": {"equals": "sendEmail"}}]})")));
  BOOST_TEST(!match(json::parse(R"({"or": [
      {"queue": {"equals": "nope"}},
      {"taskSlug": {"equals": "nope"}}]})")));
  BOOST_TEST(!match(json::parse(R"({"and": [
      {"queue": {"equals": "default"}},
      {"taskSlug": {"equals": "nope"}}]})")));
  BOOST_TEST(match(json::parse(R"({"and": [
      {"queue": {"equals": "default"}},
      {"or": [{"totalTried": {"greater_than": 5}},
              {"and": [{"hasError": {"equals": false}},
                       {"input.count": {"in": [3, 4]}}]}]}]})")));
  // Top-level `or` AND-ed with a sibling field.
  BOOST_TEST(!match(json::parse(R"({
      "or": [{"queue": {"equals": "default"}}],
      "status": {"equals": "failed"}})")));
}

BOOST_AUTO_TEST_CASE(parse_errors_name_the_path) {
  BOOST_TEST(parse_error(json::parse(R"({"queue": {"eq": "x"}})"))
             == "where.queue: unknown operator 'eq'");
  BOOST_TEST(parse_error(json::parse(R"({"queue": {"in": "x"}})"))
             == "where.queue.in: in expects an array, got \"x\"");
  BOOST_TEST(parse_error(json::parse(R"({"queue": {"not_in": 1}})"))
             != "<parsed>");
  BOOST_TEST(parse_error(json::parse(R"({"meta": {"exists": "yes"}})"))
             == "where.meta.exists: exists expects a boolean, got \"yes\"");
  BOOST_TEST(parse_error(json::parse(R"({"and": {"queue": {}}})"))
             == "where.and: expected an array, got {\"queue\":{}}");
  BOOST_TEST(parse_error(json::parse(R"({"or": "x"})"))
             == "where.or: expected an array, got \"x\"");
  BOOST_TEST(
    parse_error(json::parse(R"({"queue": "default"})"))
    == "where.queue: expected an object of operators, got \"default\"");
  BOOST_TEST(parse_error(json::parse(
               R"({"or": [{"a": {"equals": 1}}, {"b": {"like": 1}}]})"))
             == "where.or[1].b.like: like expects a string, got 1");
  BOOST_TEST(parse_error(json::parse(R"({"or": [3]})"))
             == "where.or[0]: expected an object, got 3");
  BOOST_TEST(
    parse_error(json::parse(R"({"x": {"greater_than": {}}})"))
    == "where.x.greater_than: greater_than expects a number or string, "
       "got {}");
  BOOST_TEST(parse_error(json::parse(R"({"a..b": {"equals": 1}})"))
             == "where.a..b: empty segment in field path 'a..b'");
  BOOST_TEST(parse_error(json::array()) == "where: expected an object, got []");
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_rejected) {
  json query = json::object();
  for (int i = 0; i < 70; ++i) {
    query = json{{"and", json::array({query})}};
  }
  auto parsed = parse_where(query);
  BOOST_TEST_REQUIRE(!parsed.has_value());
  BOOST_TEST(static_cast<int>(parsed.error().code)
             == static_cast<int>(errc::invalid_input));
  BOOST_TEST(parsed.error().message == "where: nesting deeper than 16");
}

BOOST_AUTO_TEST_CASE(filter_size_and_depth_follow_the_limits) {
  limits lim;
  lim.max_where_bytes = 40;
  json small = json::parse(R"({"queue": {"equals": "a"}})");
  BOOST_TEST(parse_where(small, lim).has_value());
  json big = {{"queue", {{"equals", std::string(40, 'a')}}}};
  auto r = parse_where(big, lim);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(static_cast<int>(r.error().code)
             == static_cast<int>(errc::invalid_input));
  BOOST_TEST(r.error().message.starts_with("where"));
  BOOST_TEST(r.error().message.find("limit is 40") != std::string::npos);

  lim = limits{};
  lim.max_where_depth = 2; // {"a": {"equals": 1}} has depth 2
  BOOST_TEST(
    parse_where(json::parse(R"({"a": {"equals": 1}})"), lim).has_value());
  auto deep = parse_where(json::parse(R"({"a": {"in": [1]}})"), lim);
  BOOST_TEST_REQUIRE(!deep.has_value());
  BOOST_TEST(deep.error().message == "where: nesting deeper than 2");
}

BOOST_AUTO_TEST_CASE(a_hostile_filter_is_refused_without_recursion) {
  // Built iteratively: nlohmann would recurse copying it.
  json query = json::object();
  for (int i = 0; i < 200'000; ++i) {
    json outer = json::object();
    outer["and"] = json::array();
    outer["and"].push_back(std::move(query));
    query = std::move(outer);
  }
  auto parsed = parse_where(query);
  BOOST_TEST_REQUIRE(!parsed.has_value());
  BOOST_TEST(parsed.error().message == "where: nesting deeper than 16");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_a_filter_is_invalid_input) {
  json q = {{"queue", {{"equals", std::string("\xff")}}}};
  auto r = parse_where(q);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message
             == "where.queue.equals: string is not valid UTF-8");
}

BOOST_AUTO_TEST_SUITE_END()
