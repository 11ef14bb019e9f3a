#include "model/time.hpp"

#include <cstdint>

namespace conveyor::model {

namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

/// Floor division: rounds towards negative infinity (times before 1970).
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Works on 400-year
/// eras (146097 days each) with years starting in March, so the leap day is
/// the last day of the shifted year and needs no special case.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;                         // [0, 399]
  const std::int64_t mp = m > 2 ? m - 3 : m + 9;                  // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + d - 1;            // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
  return era * 146097 + doe - 719468; // 719468 = days from 0000-03-01 to 1970
}

struct civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

/// Inverse of days_from_civil.
civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe =
    (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

bool is_leap(std::int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

void append_digits(std::string& out, std::uint64_t value, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = n; i < width; ++i)
    out += '0';
  while (n > 0)
    out += buf[--n];
}

/// Reads exactly `count` ASCII digits.
class cursor {
public:
  explicit cursor(std::string_view text) : text_(text) {}

  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }

  bool eat(char c) {
    if (peek() != c)
      return false;
    ++pos_;
    return true;
  }

  std::optional<unsigned> digits(std::size_t count) {
    if (text_.size() - pos_ < count)
      return std::nullopt;
    unsigned value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9')
        return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    pos_ += count;
    return value;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

/// "YYYY" or the expanded form "+YYYYYY" / "-YYYYYY" that format writes for
/// years outside 0..9999.
std::optional<std::int64_t> parse_year(cursor& in) {
  bool negative = in.peek() == '-';
  if (in.eat('+') || in.eat('-')) {
    auto y = in.digits(6);
    if (!y || (negative && *y == 0))
      return std::nullopt;
    return negative ? -static_cast<std::int64_t>(*y) : *y;
  }
  auto y = in.digits(4);
  if (!y)
    return std::nullopt;
  return *y;
}

/// Optional ".f..." (1-9 digits); returns milliseconds, extra digits truncated.
std::optional<unsigned> parse_fraction(cursor& in) {
  if (!in.eat('.'))
    return 0u;
  unsigned ms = 0;
  std::size_t n = 0;
  while (auto d = in.digits(1)) {
    if (++n > 9)
      return std::nullopt;
    if (n <= 3)
      ms = ms * 10 + *d;
  }
  if (n == 0)
    return std::nullopt;
  for (; n < 3; ++n)
    ms *= 10;
  return ms;
}

/// "Z" or "+HH:MM" / "-HH:MM"; returns the offset east of UTC in minutes.
std::optional<std::int64_t> parse_offset(cursor& in) {
  if (in.eat('Z'))
    return 0;
  bool negative = in.peek() == '-';
  if (!in.eat('+') && !in.eat('-'))
    return std::nullopt;
  auto hh = in.digits(2);
  if (!hh || !in.eat(':'))
    return std::nullopt;
  auto mm = in.digits(2);
  if (!mm || *hh > 23 || *mm > 59)
    return std::nullopt;
  std::int64_t minutes = *hh * 60 + *mm;
  return negative ? -minutes : minutes;
}

} // namespace

std::string format_iso8601(time_ms t) {
  const std::int64_t days = floor_div(t, ms_per_day);
  // From the remainder, not t - days * ms_per_day: that overflows near
  // INT64_MIN.
  std::int64_t in_day = t % ms_per_day;
  if (in_day < 0)
    in_day += ms_per_day;
  const civil c = civil_from_days(days);

  std::string out;
  out.reserve(24);
  if (c.year >= 0 && c.year <= 9999) {
    append_digits(out, static_cast<std::uint64_t>(c.year), 4);
  } else {
    out += c.year < 0 ? '-' : '+';
    auto magnitude = c.year < 0 ? 0 - static_cast<std::uint64_t>(c.year)
                                : static_cast<std::uint64_t>(c.year);
    append_digits(out, magnitude, 6);
  }
  const auto ms = static_cast<std::uint64_t>(in_day);
  out += '-';
  append_digits(out, c.month, 2);
  out += '-';
  append_digits(out, c.day, 2);
  out += 'T';
  append_digits(out, ms / 3'600'000, 2);
  out += ':';
  append_digits(out, ms / 60'000 % 60, 2);
  out += ':';
  append_digits(out, ms / 1000 % 60, 2);
  out += '.';
  append_digits(out, ms % 1000, 3);
  out += 'Z';
  return out;
}

std::optional<time_ms> parse_iso8601(std::string_view text) {
  cursor in(text);
  auto year = parse_year(in);
  if (!year || !in.eat('-'))
    return std::nullopt;
  auto month = in.digits(2);
  if (!month || !in.eat('-'))
    return std::nullopt;
  auto day = in.digits(2);
  if (!day || *month < 1 || *month > 12 || *day < 1
      || *day > days_in_month(*year, *month))
    return std::nullopt;
  const std::int64_t days = days_from_civil(*year, *month, *day);
  if (in.done())
    return days * ms_per_day; // bare date: midnight UTC

  if (!in.eat('T'))
    return std::nullopt;
  auto hour = in.digits(2);
  if (!hour || !in.eat(':'))
    return std::nullopt;
  auto minute = in.digits(2);
  if (!minute)
    return std::nullopt;
  unsigned second = 0;
  unsigned millis = 0;
  if (in.eat(':')) {
    auto s = in.digits(2);
    auto f = s ? parse_fraction(in) : std::nullopt;
    if (!f)
      return std::nullopt;
    second = *s;
    millis = *f;
  }
  auto offset = parse_offset(in);
  if (!offset || !in.done() || *hour > 23 || *minute > 59 || second > 59)
    return std::nullopt;

  const std::int64_t local_ms =
    ((static_cast<std::int64_t>(*hour) * 60 + *minute) * 60 + second) * 1000
    + millis;
  const time_ms t = days * ms_per_day + local_ms - *offset * 60'000;
  // An offset can push year +999999 into +1000000, which format writes
  // with 7 digits and this parser refuses: only times that read back.
  const std::int64_t written = civil_from_days(floor_div(t, ms_per_day)).year;
  if (written < -999'999 || written > 999'999)
    return std::nullopt;
  return t;
}

} // namespace conveyor::model
