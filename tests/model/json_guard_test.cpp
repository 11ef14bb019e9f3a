#include <boost/test/unit_test.hpp>

#include <string>

#include "model/json_guard.hpp"

using namespace conveyor::model;

namespace {

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  out.reserve(piece.size() * n);
  for (std::size_t i = 0; i < n; ++i)
    out += piece;
  return out;
}

/// Builds a value of the given depth without recursion (nlohmann's own
/// copy would recurse).
json deep_value(std::size_t depth) {
  json v = json::array();
  for (std::size_t i = 1; i < depth; ++i) {
    json outer = json::array();
    outer.push_back(std::move(v));
    v = std::move(outer);
  }
  return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_guard_test)

BOOST_AUTO_TEST_CASE(parses_valid_documents) {
  auto r = parse_json_guarded(R"({"a":[1,2.5,"x",true,null,{"b":{}}]})");
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((*r)["a"][1] == 2.5);
  BOOST_TEST((*r)["a"][5]["b"] == json::object());
  BOOST_TEST(parse_json_guarded("  42 ")->get<int>() == 42);
  BOOST_TEST(parse_json_guarded("\"\\u0000\"")->get<std::string>().size()
             == 1u);
}

BOOST_AUTO_TEST_CASE(depth_limit_is_inclusive) {
  auto at_limit = parse_json_guarded(nested_arrays(64));
  BOOST_TEST_REQUIRE(at_limit.has_value());
  BOOST_TEST(json_depth(*at_limit) == 64u);

  auto over = parse_json_guarded(nested_arrays(65));
  BOOST_TEST_REQUIRE(!over.has_value());
  BOOST_TEST(to_string(over.error().code) == "too_deep");
  BOOST_TEST(over.error().message
             == "nesting deeper than 64 at $" + repeat("[0]", 64));
}

BOOST_AUTO_TEST_CASE(objects_count_towards_depth) {
  std::string doc = repeat(R"({"k":)", 64) + "1" + std::string(64, '}');
  BOOST_TEST(parse_json_guarded(doc).has_value());
  doc = repeat(R"({"k":)", 65) + "1" + std::string(65, '}');
  auto r = parse_json_guarded(doc);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(to_string(r.error().code) == "too_deep");
}

BOOST_AUTO_TEST_CASE(too_deep_names_the_path) {
  json_limits limits;
  limits.max_depth = 3;
  auto r = parse_json_guarded(R"({"a":[1,{"b c":[true]}]})", limits);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message == R"(nesting deeper than 3 at $.a[1]["b c"])");

  r = parse_json_guarded(R"([[],[[1],[2,[3]]]])", limits);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message == "nesting deeper than 3 at $[1][1][1]");

  limits.max_depth = 0;
  r = parse_json_guarded("[]", limits);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message == "nesting deeper than 0 at $");
  BOOST_TEST(parse_json_guarded("7", limits).has_value());
}

BOOST_AUTO_TEST_CASE(hundred_thousand_deep_array_is_rejected_without_crash) {
  const std::string doc = nested_arrays(100'000);
  auto r = parse_json_guarded(doc);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(to_string(r.error().code) == "too_deep");

  // Unclosed nesting is rejected by depth before the syntax error.
  auto open_only = parse_json_guarded(std::string(100'000, '['));
  BOOST_TEST_REQUIRE(!open_only.has_value());
  BOOST_TEST(to_string(open_only.error().code) == "too_deep");
}

BOOST_AUTO_TEST_CASE(very_deep_paths_are_truncated) {
  json_limits limits;
  limits.max_depth = 1000;
  auto r = parse_json_guarded(nested_arrays(5000), limits);
  BOOST_TEST_REQUIRE(!r.has_value());
  const std::string& msg = r.error().message;
  BOOST_TEST(msg.find("nesting deeper than 1000 at $[0][0]") == 0u);
  BOOST_TEST(msg.find("...") != std::string::npos);
  BOOST_TEST(msg.size() < 300u);
  BOOST_TEST(msg.substr(msg.size() - 6) == "[0][0]");
}

BOOST_AUTO_TEST_CASE(long_keys_are_shortened_in_paths) {
  json_limits limits;
  limits.max_depth = 1;
  const std::string key(10'000, 'k');
  auto r = parse_json_guarded("{\"" + key + "\":[]}", limits);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.size() < 300u);
  BOOST_TEST(r.error().message.find("$.kkkk") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(size_is_checked_before_parsing) {
  // 3 MiB of garbage: rejected for size, not syntax, so no parse happened.
  const std::string garbage(3 * 1024 * 1024, 'x');
  auto r = parse_json_guarded(garbage);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(to_string(r.error().code) == "too_large");
  BOOST_TEST(r.error().message
             == "document is 3145728 bytes, limit is 2097152");
}

BOOST_AUTO_TEST_CASE(three_mib_document_obeys_the_configured_limit) {
  const std::string doc =
    "{\"blob\":\"" + std::string(3 * 1024 * 1024, 'a') + "\"}";
  BOOST_TEST(to_string(parse_json_guarded(doc).error().code) == "too_large");

  json_limits roomy;
  roomy.max_bytes = 4 * 1024 * 1024;
  auto r = parse_json_guarded(doc, roomy);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((*r)["blob"].get_ref<const std::string&>().size()
             == 3u * 1024 * 1024);
}

BOOST_AUTO_TEST_CASE(size_limit_is_inclusive) {
  json_limits limits;
  limits.max_bytes = 7;
  BOOST_TEST(parse_json_guarded("[1,2,3]", limits).has_value());
  BOOST_TEST(to_string(parse_json_guarded("[1,2,30]", limits).error().code)
             == "too_large");
}

BOOST_AUTO_TEST_CASE(syntax_errors_report_a_byte_offset) {
  struct bad_case {
    std::string text;
    std::string offset;
  };
  const bad_case cases[] = {
    // 0-based offset of the offending byte; the input size at end of input.
    {"", "byte offset 0"},          {"{} x", "byte offset 3"},
    {"[1] [2]", "byte offset 4"},   {"[1,]", "byte offset 3"},
    {"{\"a\":", "byte offset 5"},   {"tru", "byte offset 3"},
    {"[1, 2, x]", "byte offset 7"},
  };
  for (const auto& c : cases) {
    auto r = parse_json_guarded(c.text);
    BOOST_TEST_REQUIRE(!r.has_value(), "accepted '" << c.text << "'");
    BOOST_TEST(to_string(r.error().code) == "invalid_input");
    BOOST_TEST(r.error().message.find("invalid JSON at " + c.offset + ":")
                 == 0u,
               c.text << " -> " << r.error().message);
    // The library's exception tag is noise for users.
    BOOST_TEST(r.error().message.find("[json.exception") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(rejects_non_finite_numbers_and_bad_utf8) {
  const std::string bad[] = {
    "NaN",
    "[NaN]",
    "1e400",
    "[-1e400]",
    "{\"a\":Infinity}",
    "\"\xff\"",
    "[\"a\xc3\"]",
    "\"\xed\xa0\x80\"", // lone surrogate in UTF-8
    "{\"\xfe\":1}",
  };
  for (const auto& text : bad) {
    auto r = parse_json_guarded(text);
    BOOST_TEST(!r.has_value());
    if (!r.has_value())
      BOOST_TEST(to_string(r.error().code) == "invalid_input");
  }
  // Large but finite numbers are fine.
  BOOST_TEST(parse_json_guarded("1e300").has_value());
}

BOOST_AUTO_TEST_CASE(json_depth_counts_containers) {
  BOOST_TEST(json_depth(json(1)) == 0u);
  BOOST_TEST(json_depth(json("x")) == 0u);
  BOOST_TEST(json_depth(json::array()) == 1u);
  BOOST_TEST(json_depth(json::object()) == 1u);
  BOOST_TEST(json_depth(json::parse(R"({"a":[1,{"b":[]}],"c":[]})")) == 4u);
  BOOST_TEST(json_depth(json::parse(R"([[[]],[],[[[[]]]]])")) == 5u);
}

BOOST_AUTO_TEST_CASE(json_depth_is_iterative) {
  const json v = deep_value(100'000);
  BOOST_TEST(json_depth(v) == 100'000u);
}

BOOST_AUTO_TEST_CASE(guard_and_json_depth_agree) {
  for (std::size_t d = 1; d <= 70; ++d) {
    json_limits limits;
    limits.max_depth = d;
    std::string doc =
      repeat(R"({"a":[)", d / 2) + (d % 2 ? "{}" : "1") + repeat("]}", d / 2);
    auto r = parse_json_guarded(doc, limits);
    BOOST_TEST_REQUIRE(r.has_value(), doc);
    BOOST_TEST(json_depth(*r) == d);
    limits.max_depth = d - 1;
    BOOST_TEST(to_string(parse_json_guarded(doc, limits).error().code)
               == "too_deep");
  }
}

BOOST_AUTO_TEST_SUITE_END()
