// The limits table, the DOM checker (check_json), UTF-8 validation, the
// SAX guard's string and container limits, and bounded decoding of data
// written before the limits existed.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "model/job_json.hpp"
#include "model/json_guard.hpp"
#include "model/limits.hpp"
#include "model/time.hpp"

using namespace conveyor::model;

namespace {

json deep_object(std::size_t depth) {
  json v = json::object();
  for (std::size_t i = 1; i < depth; ++i) {
    json outer = json::object();
    outer["d"] = std::move(v);
    v = std::move(outer);
  }
  return v;
}

std::string code(const status& st) {
  return st ? "ok" : std::string(to_string(st.error().code));
}

} // namespace

BOOST_AUTO_TEST_SUITE(limits_test)

BOOST_AUTO_TEST_CASE(defaults_are_within_the_table) {
  BOOST_TEST(check_limits(limits{}).has_value());
  limits lim;
  lim.max_json_depth = 65;
  auto st = check_limits(lim);
  BOOST_TEST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().message
             == "limits.maxJsonDepth: 65 is outside 1 .. 64");
  lim = limits{};
  lim.max_input_bytes = 1;
  BOOST_TEST(!check_limits(lim).has_value());
  lim = limits{};
  lim.max_queued = 0;
  BOOST_TEST(!check_limits(lim).has_value());
  BOOST_TEST(limit_fields().size() == 14u);
}

BOOST_AUTO_TEST_CASE(utf8_validation) {
  BOOST_TEST(valid_utf8(""));
  BOOST_TEST(valid_utf8("plain ascii \x01"));
  BOOST_TEST(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  BOOST_TEST(valid_utf8(std::string("nul\0inside", 10)));
  BOOST_TEST(!valid_utf8("\xff"));
  BOOST_TEST(!valid_utf8("\xc3"));             // truncated
  BOOST_TEST(!valid_utf8("\xc0\xaf"));         // overlong '/'
  BOOST_TEST(!valid_utf8("\xe0\x80\xaf"));     // overlong, 3 bytes
  BOOST_TEST(!valid_utf8("\xed\xa0\x80"));     // surrogate U+D800
  BOOST_TEST(!valid_utf8("\xf4\x90\x80\x80")); // beyond U+10FFFF
  BOOST_TEST(!valid_utf8("\xe2\x28\xa1"));     // bad continuation
}

BOOST_AUTO_TEST_CASE(check_json_names_the_path) {
  const json_limits lim = limits{}.json(1024);
  BOOST_TEST(
    check_json(json::parse(R"({"a":[1,"x",{"b":null}]})"), lim, "input")
      .has_value());

  json bad_string = {{"a", {1, std::string("\xff")}}};
  auto st = check_json(bad_string, lim, "input");
  BOOST_TEST_REQUIRE(!st.has_value());
  BOOST_TEST(code(st) == "invalid_input");
  BOOST_TEST(st.error().message == "input.a[1]: string is not valid UTF-8");

  json bad_key = {{std::string("k\xfe"), 1}};
  st = check_json(bad_key, lim, "meta");
  BOOST_TEST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().message == "meta: key is not valid UTF-8");

  json odd_key = {{"a b", {{"c", std::string("\xff")}}}};
  BOOST_TEST(check_json(odd_key, lim, "input").error().message
             == "input[\"a b\"].c: string is not valid UTF-8");

  json nan = {{"x", std::nan("")}};
  BOOST_TEST(check_json(nan, lim, "input").error().message
             == "input.x: not a finite number");
  json inf = {{"x", std::numeric_limits<double>::infinity()}};
  BOOST_TEST(code(check_json(inf, lim, "input")) == "invalid_input");
}

BOOST_AUTO_TEST_CASE(check_json_enforces_each_limit) {
  json_limits lim{3, 100, 5, 4};
  BOOST_TEST(code(check_json(deep_object(3), lim, "input")) == "ok");
  auto st = check_json(deep_object(4), lim, "input");
  BOOST_TEST(code(st) == "too_deep");
  BOOST_TEST(st.error().message == "input: nesting deeper than 3");

  st = check_json(json{{"s", "123456"}}, lim, "input");
  BOOST_TEST(code(st) == "too_large");
  BOOST_TEST(st.error().message == "input.s: string longer than 5 bytes");
  BOOST_TEST(code(check_json(json{{"123456", 1}}, lim, "input"))
             == "too_large");

  st = check_json(json{{"a", {1, 2, 3, 4, 5}}}, lim, "input");
  BOOST_TEST(st.error().message == "input.a: more than 4 elements");

  json wide = json::object();
  for (int i = 0; i < 20; ++i)
    wide["k" + std::to_string(i)] = i;
  BOOST_TEST(code(check_json(wide, json_limits{3, 1000, 5, 100}, "meta"))
             == "ok");
  st = check_json(wide, json_limits{3, 100, 5, 100}, "meta");
  BOOST_TEST(code(st) == "too_large");
  BOOST_TEST(st.error().message.starts_with("meta: "));
}

BOOST_AUTO_TEST_CASE(check_json_is_iterative) {
  json v = json::array();
  for (int i = 0; i < 200'000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(v));
    v = std::move(outer);
  }
  BOOST_TEST(code(check_json(v, limits{}.json(mib), "input")) == "too_deep");
}

BOOST_AUTO_TEST_CASE(guard_limits_strings_and_containers) {
  json_limits lim;
  lim.max_string_bytes = 4;
  lim.max_array_length = 3;
  BOOST_TEST(parse_json_guarded(R"({"abcd":["wxyz",1,2]})", lim).has_value());
  auto r = parse_json_guarded(R"({"a":["toolong"]})", lim);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(to_string(r.error().code) == "too_large");
  BOOST_TEST(r.error().message == "string longer than 4 bytes at $.a[0]");
  r = parse_json_guarded(R"({"abcde":1})", lim);
  BOOST_TEST(r.error().message == "key longer than 4 bytes at $.abcde");
  r = parse_json_guarded(R"([1,2,3,4])", lim);
  BOOST_TEST(r.error().message == "more than 3 elements at $[3]");
  r = parse_json_guarded(R"({"a":1,"b":2,"c":3,"d":4})", lim);
  BOOST_TEST(to_string(r.error().code) == "too_large");
}

BOOST_AUTO_TEST_CASE(transport_guard_refuses_a_million_levels) {
  const std::string text =
    std::string(1'000'000, '[') + std::string(1'000'000, ']');
  auto r = parse_json_guarded(text, transport_json_limits);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(to_string(r.error().code) == "too_deep");
}

BOOST_AUTO_TEST_CASE(old_deep_documents_decode_with_bounded_work) {
  // What an earlier version could store: meta 50,000 levels deep.
  const std::size_t depth = 50'000;
  std::string text = R"({"id":"7","queue":"default","taskSlug":"t",)"
                     R"("createdAt":"2026-01-01T00:00:00.000Z",)"
                     R"("updatedAt":"2026-01-01T00:00:00.000Z","meta":)";
  for (std::size_t i = 0; i < depth; ++i)
    text += R"({"d":)";
  text += "1";
  text += std::string(depth, '}') + "}";
  auto started = std::chrono::steady_clock::now();
  auto j = job_from_text(text);
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST_REQUIRE(!j.has_value());
  BOOST_TEST(to_string(j.error().code) == "too_deep");
  BOOST_TEST(took < std::chrono::seconds(2));

  // The same from a DOM (built iteratively): refused before any copy.
  json doc = json::parse(R"({"id":"7","queue":"default","taskSlug":"t"})");
  doc["meta"] = deep_object(depth);
  auto k = job_from_json(doc);
  BOOST_TEST_REQUIRE(!k.has_value());
  BOOST_TEST(to_string(k.error().code) == "too_deep");
}

BOOST_AUTO_TEST_CASE(request_times_are_those_the_format_writes_back) {
  BOOST_TEST(format_iso8601(max_request_time) == "9999-12-31T23:59:59.999Z");
  BOOST_TEST(format_iso8601(min_request_time) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(parse_iso8601(format_iso8601(max_request_time)).value()
             == max_request_time);
  BOOST_TEST(in_request_range(max_request_time));
  BOOST_TEST(!in_request_range(max_request_time + 1));
  BOOST_TEST(!in_request_range(-1));
  // Lands in year 1000000, which format could not write back: refused.
  BOOST_TEST(!parse_iso8601("+999999-12-31T23:59-23:59").has_value());
  BOOST_TEST(parse_iso8601("+999999-12-31T23:59+23:59").has_value());
  // Parses (year 10000), but is no request time.
  auto t = parse_iso8601("9999-12-31T23:59-23:59");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(!in_request_range(*t));
  BOOST_TEST(parse_iso8601(format_iso8601(*t)).value() == *t);
}

BOOST_AUTO_TEST_SUITE_END()
