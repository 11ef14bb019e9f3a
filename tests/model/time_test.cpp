#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

#include "model/time.hpp"

using namespace conveyor::model;

namespace {

time_ms parse_ok(const std::string& text) {
  auto t = parse_iso8601(text);
  BOOST_TEST_REQUIRE(t.has_value(), "expected '" << text << "' to parse");
  return *t;
}

} // namespace

BOOST_AUTO_TEST_SUITE(time_test)

BOOST_AUTO_TEST_CASE(formats_known_instants) {
  BOOST_TEST(format_iso8601(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_iso8601(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
  BOOST_TEST(format_iso8601(951'868'800'000) == "2000-03-01T00:00:00.000Z");
  BOOST_TEST(format_iso8601(951'782'399'999) == "2000-02-28T23:59:59.999Z");
  BOOST_TEST(format_iso8601(1'709'208'000'000) == "2024-02-29T12:00:00.000Z");
  BOOST_TEST(format_iso8601(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(formats_times_before_the_epoch) {
  BOOST_TEST(format_iso8601(-1) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(format_iso8601(-86'400'000) == "1969-12-31T00:00:00.000Z");
  BOOST_TEST(format_iso8601(-62'135'596'800'000) == "0001-01-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(years_outside_four_digits_use_the_expanded_form) {
  BOOST_TEST(format_iso8601(253'402'300'800'000)
             == "+010000-01-01T00:00:00.000Z");
  BOOST_TEST(format_iso8601(-62'167'219'200'001)
             == "-000001-12-31T23:59:59.999Z");
  BOOST_TEST(parse_ok("+010000-01-01T00:00:00.000Z") == 253'402'300'800'000);
  BOOST_TEST(parse_ok("-000001-12-31T23:59:59.999Z") == -62'167'219'200'001);
  BOOST_TEST(!parse_iso8601("-000000-01-01T00:00:00Z"));
  // Extremes must not overflow or trip UBSan.
  BOOST_TEST(!format_iso8601(INT64_MAX).empty());
  BOOST_TEST(!format_iso8601(INT64_MIN).empty());
}

BOOST_AUTO_TEST_CASE(parses_payload_format) {
  BOOST_TEST(parse_ok("2023-11-14T22:13:20.123Z") == 1'700'000'000'123);
  BOOST_TEST(parse_ok("1970-01-01T00:00:00.000Z") == 0);
  BOOST_TEST(parse_ok("1969-12-31T23:59:59.999Z") == -1);
}

BOOST_AUTO_TEST_CASE(parses_optional_parts) {
  BOOST_TEST(parse_ok("2023-11-14") == 1'699'920'000'000);
  BOOST_TEST(parse_ok("2023-11-14T22:13Z") == 1'700'000'000'123 - 20'123);
  BOOST_TEST(parse_ok("2023-11-14T22:13:20Z") == 1'700'000'000'000);
  BOOST_TEST(parse_ok("2023-11-14T22:13:20.5Z") == 1'700'000'000'500);
  BOOST_TEST(parse_ok("2023-11-14T22:13:20.12Z") == 1'700'000'000'120);
  // Sub-millisecond digits are truncated, not rounded.
  BOOST_TEST(parse_ok("2023-11-14T22:13:20.123999Z") == 1'700'000'000'123);
}

BOOST_AUTO_TEST_CASE(parses_offsets) {
  const time_ms utc = parse_ok("2026-11-29T04:21:05.123Z");
  BOOST_TEST(parse_ok("2026-11-29T05:21:05.123+01:00") == utc);
  BOOST_TEST(parse_ok("2026-11-28T22:51:05.123-05:30") == utc);
  BOOST_TEST(parse_ok("2026-11-29T04:21:05.123+00:00") == utc);
  // An offset can move the instant across a day and a year boundary.
  BOOST_TEST(parse_ok("2027-01-01T00:30:00+01:00")
             == parse_ok("2026-12-31T23:30:00Z"));
}

BOOST_AUTO_TEST_CASE(leap_years) {
  BOOST_TEST(parse_iso8601("2024-02-29T00:00:00Z").has_value());
  BOOST_TEST(parse_iso8601("2000-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_iso8601("2023-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_iso8601("1900-02-29T00:00:00Z").has_value());
  BOOST_TEST(parse_ok("2024-03-01") - parse_ok("2024-02-28") == 2 * 86'400'000);
  BOOST_TEST(parse_ok("2023-03-01") - parse_ok("2023-02-28") == 86'400'000);
}

BOOST_AUTO_TEST_CASE(rejects_invalid_text) {
  const char* bad[] = {
    "",
    "2026",
    "2026-13-01T00:00:00Z", // month 13
    "2026-00-10T00:00:00Z", // month 0
    "2026-02-30T00:00:00Z", // Feb 30
    "2026-04-31T00:00:00Z", // April has 30 days
    "2026-01-32T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-01-01T24:00:00Z", // hour 24
    "2026-01-01T23:60:00Z",
    "2026-01-01T23:59:60Z",  // no leap seconds
    "2026-01-01T00:00:00",   // no zone
    "2026-01-01T00:00:00.Z", // empty fraction
    "2026-01-01T00:00:00.1234567890Z",
    "2026-01-01T00:00:00Z ", // trailing garbage
    "2026-01-01T00:00:00Zx",
    " 2026-01-01T00:00:00Z",
    "2026-1-01T00:00:00Z",
    "2026-01-01 00:00:00Z",
    "2026-01-01T",
    "2026-01-01T00Z",
    "2026-01-01T00:00:00z",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00+01:60",
    "2026-01-01T00:00:00+0100",
    "2026-01-01T00:00:00+1",
    "20260101T000000Z",
    "+2026-01-01T00:00:00Z", // expanded years need six digits
    "2026-01-01T0a:00:00Z",
  };
  for (const char* text : bad)
    BOOST_TEST(!parse_iso8601(text).has_value(), "accepted '" << text << "'");
}

BOOST_AUTO_TEST_CASE(round_trips_over_a_wide_range) {
  // Deterministic pseudo-random instants from year 1 to year 9999, plus
  // every millisecond boundary around midnight and month ends.
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  const time_ms lo = -62'135'596'800'000;
  const time_ms span = 253'402'300'799'999 - lo;
  for (int i = 0; i < 20'000; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    const time_ms t =
      lo
      + static_cast<time_ms>((state >> 1) % static_cast<std::uint64_t>(span));
    auto back = parse_iso8601(format_iso8601(t));
    BOOST_TEST_REQUIRE(back.has_value(), format_iso8601(t));
    BOOST_TEST_REQUIRE(*back == t, format_iso8601(t));
  }
  for (time_ms t = -2000; t <= 2000; ++t)
    BOOST_TEST_REQUIRE(*parse_iso8601(format_iso8601(t)) == t);
}

BOOST_AUTO_TEST_CASE(consecutive_days_are_86400000_ms_apart) {
  // Walk 800 years day by day via the formatter: catches any civil-date
  // slip at century and 400-year boundaries.
  time_ms t = parse_ok("1600-01-01");
  std::string prev = format_iso8601(t);
  for (int d = 0; d < 800 * 366; d += 1) {
    t += 86'400'000;
    std::string cur = format_iso8601(t);
    BOOST_TEST_REQUIRE(cur > prev);
    BOOST_TEST_REQUIRE(cur.substr(10) == "T00:00:00.000Z");
    BOOST_TEST_REQUIRE(parse_ok(cur.substr(0, 10)) == t);
    prev = cur;
  }
}

BOOST_AUTO_TEST_SUITE_END()
