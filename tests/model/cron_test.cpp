#include "model/cron.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

// Instants are fixed epoch seconds computed at authoring time with
// `date -u -d <ISO>Z +%s`; the ISO form is in the comment next to each.

namespace {

using conveyor::model::cron_expr;
using conveyor::model::errc;
using conveyor::model::time_ms;

constexpr time_ms s(std::int64_t seconds) {
  return seconds * 1000;
}

/// next_after for an expression that must parse.
std::optional<time_ms> next(const std::string& text, time_ms after) {
  auto expr = cron_expr::parse(text);
  BOOST_TEST_REQUIRE(expr.has_value(),
                     text << ": " << (expr ? "" : expr.error().message));
  return expr->next_after(after);
}

std::string parse_error(const std::string& text) {
  auto expr = cron_expr::parse(text);
  if (expr.has_value()) {
    return "<parsed>";
  }
  BOOST_TEST(static_cast<int>(expr.error().code)
             == static_cast<int>(errc::invalid_input));
  return expr.error().message;
}

constexpr time_ms jan_01_2026 = s(1767225600); // 2026-01-01T00:00:00 Thu

} // namespace

BOOST_AUTO_TEST_SUITE(cron_tests)

BOOST_AUTO_TEST_CASE(keeps_original_text) {
  auto expr = cron_expr::parse("  */5 * * * *");
  BOOST_TEST_REQUIRE(expr.has_value());
  BOOST_TEST(expr->text() == "  */5 * * * *");
}

BOOST_AUTO_TEST_CASE(strictly_after_when_t_itself_matches) {
  // 2026-05-05T12:00:00 -> 2026-05-06T12:00:00
  BOOST_TEST(*next("0 12 * * *", s(1777982400)) == s(1778068800));
  // Sub-second past a match still moves to the next one.
  BOOST_TEST(*next("0 12 * * *", s(1777982400) + 999) == s(1778068800));
  // Just before the match: the match itself.
  BOOST_TEST(*next("0 12 * * *", s(1777982400) - 1) == s(1777982400));
  BOOST_TEST(*next("*/15 * * * *", jan_01_2026) == s(1767226500));
}

BOOST_AUTO_TEST_CASE(every_second_with_six_fields) {
  BOOST_TEST(*next("* * * * * *", jan_01_2026) == jan_01_2026 + 1000);
  BOOST_TEST(*next("* * * * * *", jan_01_2026 + 500) == jan_01_2026 + 1000);
  BOOST_TEST(*next("* * * * * *", jan_01_2026 - 1) == jan_01_2026);
  // 2026-03-10T12:00:05 -> 12:00:10
  BOOST_TEST(*next("*/10 * * * * *", s(1773144005)) == s(1773144010));
  BOOST_TEST(*next("30 * * * * *", jan_01_2026) == jan_01_2026 + 30'000);
  BOOST_TEST(*next("30 * * * * *", jan_01_2026 + 30'000)
             == jan_01_2026 + 90'000);
}

BOOST_AUTO_TEST_CASE(five_fields_fire_on_second_zero) {
  BOOST_TEST(*next("* * * * *", jan_01_2026 + 1) == jan_01_2026 + 60'000);
  BOOST_TEST(*next("* * * * *", jan_01_2026 - 1) == jan_01_2026);
}

BOOST_AUTO_TEST_CASE(year_rollover) {
  // 2026-12-31T23:59:59 -> 2027-01-01T00:00:00
  BOOST_TEST(*next("* * * * * *", s(1798761599)) == s(1798761600));
  // 2026-12-31T23:59:00 -> 2027-01-01T00:00:00
  BOOST_TEST(*next("* * * * *", s(1798761540)) == s(1798761600));
  // 2026-06-01 -> 2027-01-01
  BOOST_TEST(*next("0 0 1 1 *", s(1780272000)) == s(1798761600));
  // The last second of the year, from its first day.
  BOOST_TEST(*next("59 59 23 31 12 *", jan_01_2026) == s(1798761599));
}

BOOST_AUTO_TEST_CASE(skips_months_without_the_day) {
  // 2026-04-01 -> 2026-05-31 (April has 30 days)
  BOOST_TEST(*next("0 0 31 * *", s(1775001600)) == s(1780185600));
  // 2026-01-31 itself matches; February has no 31st -> 2026-03-31.
  BOOST_TEST(*next("0 0 31 * *", s(1769817600)) == s(1774915200));
}

BOOST_AUTO_TEST_CASE(leap_years) {
  // From 2026 the next Feb 29 is 2028-02-29.
  BOOST_TEST(*next("0 0 29 2 *", jan_01_2026) == s(1835395200));
  // 2100 is not a leap year: from 2099-03-01 the next is 2104-02-29.
  BOOST_TEST(*next("0 0 29 2 *", s(4076006400)) == s(4233686400));
}

BOOST_AUTO_TEST_CASE(impossible_dates_give_up) {
  BOOST_TEST(!next("0 0 30 2 *", jan_01_2026).has_value());
  BOOST_TEST(!next("0 0 31 4,6,9,11 *", jan_01_2026).has_value());
  BOOST_TEST(!next("* * * * *", INT64_MAX).has_value());
  // Extreme past instants stay well-defined (no overflow).
  BOOST_TEST(next("* * * * *", INT64_MIN).has_value());
}

BOOST_AUTO_TEST_CASE(steps_wrap_at_the_hour) {
  // 2026-03-10T10:55:30 -> 10:56 -> 11:00 (56 + 7 > 59 wraps to minute 0).
  BOOST_TEST(*next("*/7 * * * *", s(1773140130)) == s(1773140160));
  BOOST_TEST(*next("*/7 * * * *", s(1773140160)) == s(1773140400));
}

BOOST_AUTO_TEST_CASE(ranges_with_steps) {
  // 2026-03-10T10:50 -> 11:10 for minutes 10,20,...,50.
  BOOST_TEST(*next("10-50/10 * * * *", s(1773139800)) == s(1773141000));
  // 5/10 means 5-59/10: 10:05 -> 10:15.
  BOOST_TEST(*next("5/10 * * * *", s(1773137100)) == s(1773137700));
  BOOST_TEST(*next("0 0-23/12 * * *", jan_01_2026)
             == jan_01_2026 + 12 * 3600'000);
  BOOST_TEST(*next("0,30 0 * * *", jan_01_2026) == jan_01_2026 + 1800'000);
}

BOOST_AUTO_TEST_CASE(weekday_names_and_numbers) {
  const time_ms sunday = s(1767484800); // 2026-01-04T00:00:00 Sun
  BOOST_TEST(*next("0 0 * * SUN", jan_01_2026) == sunday);
  BOOST_TEST(*next("0 0 * * sun", jan_01_2026) == sunday);
  BOOST_TEST(*next("0 0 * * 0", jan_01_2026) == sunday);
  BOOST_TEST(*next("0 0 * * 7", jan_01_2026) == sunday);
  BOOST_TEST(*next("0 0 * * 5-7", jan_01_2026) == s(1767312000)); // Fri 2nd
  // Friday 2026-01-02T10:00 -> Monday 2026-01-05T09:00.
  BOOST_TEST(*next("0 9 * * Mon-Fri", s(1767348000)) == s(1767603600));
  // A restricted weekday with `*` day-of-month: Fridays only.
  BOOST_TEST(*next("0 0 * * FRI", s(1767312000)) == s(1767916800));
}

BOOST_AUTO_TEST_CASE(the_seventh_of_the_month_is_a_day_like_any_other) {
  // 7 means Sunday in the day-of-week field only: in day-of-month it is
  // the 7th (once it was taken for Sunday there too, and every 7th of a
  // month was skipped by `*`).
  const time_ms jan_07_2026 = s(1767744000); // 2026-01-07T00:00:00 Wed
  BOOST_TEST(*next("0 0 7 * *", jan_01_2026) == jan_07_2026);
  BOOST_TEST(*next("* * * * *", jan_07_2026) == jan_07_2026 + s(60));
  BOOST_TEST(*next("* * * * * *", jan_07_2026 + s(3600))
             == jan_07_2026 + s(3601));
  BOOST_TEST(*next("0 0 6,7,8 * *", s(1767657600)) // Jan 6 00:00
             == jan_07_2026);
  BOOST_TEST(*next("0 0 * * WED", jan_01_2026) == jan_07_2026);
}

BOOST_AUTO_TEST_CASE(month_names) {
  const time_ms june_1 = s(1780272000); // 2026-06-01
  const time_ms july_1 = s(1782864000); // 2026-07-01
  BOOST_TEST(*next("0 0 1 jan,JUL *", june_1) == july_1);
  BOOST_TEST(*next("0 0 1 Jan,jul *", july_1) == s(1798761600));
  BOOST_TEST(*next("0 0 1 JUN-AUG *", june_1) == july_1);
}

BOOST_AUTO_TEST_CASE(day_of_month_or_day_of_week) {
  // Both restricted: the 13th OR any Friday.
  BOOST_TEST(*next("0 0 13 * FRI", jan_01_2026) == s(1767312000));   // Fri 2nd
  BOOST_TEST(*next("0 0 13 * FRI", s(1767312000)) == s(1767916800)); // 9th
  BOOST_TEST(*next("0 0 13 * FRI", s(1767916800)) == s(1768262400)); // 13th
  // Only the day of month restricted.
  BOOST_TEST(*next("0 0 13 * *", jan_01_2026) == s(1768262400));
  BOOST_TEST(*next("0 0 13 * ?", jan_01_2026) == s(1768262400));
}

BOOST_AUTO_TEST_CASE(shorthands) {
  BOOST_TEST(*next("@daily", jan_01_2026) == jan_01_2026 + 86'400'000);
  BOOST_TEST(*next("@hourly", jan_01_2026) == jan_01_2026 + 3'600'000);
  BOOST_TEST(*next("@weekly", jan_01_2026) == s(1767484800));
  BOOST_TEST(*next("@YEARLY", jan_01_2026) == s(1798761600));
}

BOOST_AUTO_TEST_CASE(before_the_epoch) {
  BOOST_TEST(*next("0 0 1 1 *", -1) == 0);
  BOOST_TEST(*next("* * * * * *", -1500) == -1000);
}

BOOST_AUTO_TEST_CASE(out_of_range_values_name_the_field) {
  BOOST_TEST(parse_error("60 * * * *")
             == "cron '60 * * * *': minute field: value 60 out of range 0-59");
  BOOST_TEST(parse_error("* 24 * * *")
             == "cron '* 24 * * *': hour field: value 24 out of range 0-23");
  BOOST_TEST(parse_error("* * 0 * *")
             == "cron '* * 0 * *': day-of-month field: value 0 out of range "
                "1-31");
  BOOST_TEST(parse_error("* * 32 * *").find("day-of-month field: value 32")
             != std::string::npos);
  BOOST_TEST(parse_error("* * * 0 *").find("month field: value 0")
             != std::string::npos);
  BOOST_TEST(parse_error("* * * 13 *").find("month field: value 13")
             != std::string::npos);
  BOOST_TEST(parse_error("* * * * 8").find("day-of-week field: value 8")
             != std::string::npos);
  BOOST_TEST(parse_error("60 * * * * *").find("second field: value 60")
             != std::string::npos);
  BOOST_TEST(parse_error("99999999999 * * * *").find("out of range")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_expressions) {
  BOOST_TEST(parse_error("* * *")
             == "cron '* * *': expected 5 or 6 fields, got 3");
  BOOST_TEST(parse_error("").find("got 0") != std::string::npos);
  BOOST_TEST(parse_error("* * * * * * *").find("got 7") != std::string::npos);
  BOOST_TEST(parse_error("*/0 * * * *").find("invalid step '0'")
             != std::string::npos);
  BOOST_TEST(parse_error("*/x * * * *").find("invalid step 'x'")
             != std::string::npos);
  BOOST_TEST(parse_error("50-10 * * * *").find("invalid range '50-10'")
             != std::string::npos);
  BOOST_TEST(parse_error("a * * * *").find("minute field: invalid value 'a'")
             != std::string::npos);
  BOOST_TEST(parse_error("1,,2 * * * *").find("empty list item")
             != std::string::npos);
  BOOST_TEST(parse_error("1, * * * *").find("empty list item")
             != std::string::npos);
  BOOST_TEST(parse_error("? * * * *").find("only allowed in day fields")
             != std::string::npos);
  BOOST_TEST(parse_error("* * * FOO *").find("invalid value 'FOO'")
             != std::string::npos);
  BOOST_TEST(parse_error("* * * MON *").find("invalid value 'MON'")
             != std::string::npos);
  BOOST_TEST(parse_error("* * L * *").find("invalid value 'L'")
             != std::string::npos);
  BOOST_TEST(parse_error("-5 * * * *").find("empty value")
             != std::string::npos);
  BOOST_TEST(parse_error("@never") != "<parsed>");
}

BOOST_AUTO_TEST_SUITE_END()
