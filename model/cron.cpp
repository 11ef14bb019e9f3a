#include "model/cron.hpp"

#include <array>
#include <bit>
#include <limits>
#include <vector>

#include "model/text.hpp"

// Decisions beyond the header:
// * `?` is accepted (as `*`) only in the two day fields. A day field counts
//   as restricted unless it is exactly `*` or `?`, so "*/2" with "MON" uses
//   the OR rule.
// * The shorthands @yearly/@annually, @monthly, @weekly, @daily/@midnight and
//   @hourly are accepted (croner, which Payload uses, accepts them too).
// * "5 years" is 5 * 366 days of candidate days after `after`.
// * Date math is done here (proleptic Gregorian, UTC) rather than through
//   time.hpp so this file depends on nothing but the standard library.

namespace conveyor::model {
namespace {

// -- civil dates
// ----------------------------------------------------------------

struct civil {
  std::int64_t year;
  int month; // 1-12
  int day;   // 1-31
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

/// Days since 1970-01-01. Years are shifted to start in March so the leap day
/// is the last day of the (shifted) year, then counted in 400-year eras.
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t year_of_era = y - era * 400;  // [0, 399]
  const int shifted_month = m > 2 ? m - 3 : m + 9; // Mar = 0
  const std::int64_t day_of_year = (153 * shifted_month + 2) / 5 + d - 1;
  const std::int64_t day_of_era =
    year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468; // 719468: 0000-03-01 to epoch
}

civil civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = floor_div(days, 146097);
  const std::int64_t day_of_era = days - era * 146097; // [0, 146096]
  const std::int64_t year_of_era =
    (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096)
    / 365;
  const std::int64_t day_of_year =
    day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;
  const int day =
    static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  const int month = static_cast<int>(shifted_month < 10 ? shifted_month + 3
                                                        : shifted_month - 9);
  const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(std::int64_t y, int m) {
  static constexpr std::array<int, 12> lengths = {31, 28, 31, 30, 31, 30,
                                                  31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : lengths[static_cast<std::size_t>(m - 1)];
}

/// 0 = Sunday; 1970-01-01 was a Thursday.
int weekday(std::int64_t days) {
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

// -- parsing
// ----------------------------------------------------------------------

struct field_spec {
  const char* name;
  int min;
  int max;      ///< largest value accepted
  int star_max; ///< upper end of `*` and `n/step` (6 for weekdays, not 7)
  const std::array<std::string_view, 12>* names; ///< index 0 = value `min`
  bool day_field;
};

constexpr std::array<std::string_view, 12> month_names = {
  "jan", "feb", "mar", "apr", "may", "jun",
  "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> weekday_names = {
  "sun", "mon", "tue", "wed", "thu", "fri", "sat", "", "", "", "", ""};

constexpr field_spec second_spec{"second", 0, 59, 59, nullptr, false};
constexpr field_spec minute_spec{"minute", 0, 59, 59, nullptr, false};
constexpr field_spec hour_spec{"hour", 0, 23, 23, nullptr, false};
constexpr field_spec dom_spec{"day-of-month", 1, 31, 31, nullptr, true};
constexpr field_spec month_spec{"month", 1, 12, 12, &month_names, false};
constexpr field_spec dow_spec{"day-of-week", 0, 7, 6, &weekday_names, true};

/// Builds messages of the form "cron 'TEXT': FIELD field: WHAT".
struct reporter {
  std::string_view text;
  const field_spec& spec;
  error operator()(const std::string& what) const {
    return make_error(errc::invalid_input, "cron '" + std::string(text) + "': "
                                             + spec.name + " field: " + what);
  }
};

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return !s.empty();
}

/// A number or a name, range-checked against the field.
expected<int> parse_value(std::string_view token, const reporter& report) {
  const auto& spec = report.spec;
  if (token.empty()) {
    return report("empty value");
  }
  if (!all_digits(token)) {
    if (spec.names != nullptr) {
      const auto name = ascii_lower(token);
      for (std::size_t i = 0; i < spec.names->size(); ++i) {
        if (!(*spec.names)[i].empty() && (*spec.names)[i] == name) {
          return spec.min + static_cast<int>(i);
        }
      }
    }
    return report("invalid value '" + std::string(token) + "'");
  }
  const int value = token.size() > 6 ? std::numeric_limits<int>::max()
                                     : std::stoi(std::string(token));
  if (value < spec.min || value > spec.max) {
    return report("value " + std::string(token) + " out of range "
                  + std::to_string(spec.min) + "-" + std::to_string(spec.max));
  }
  return value;
}

/// Sets the bits of one list item: `*`, `n`, `a-b`, each with optional /step.
status parse_item(std::string_view item, const reporter& report,
                  std::uint64_t& bits) {
  const auto& spec = report.spec;
  const auto slash = item.find('/');
  const auto base = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    const auto step_text = item.substr(slash + 1);
    if (!all_digits(step_text) || step_text.size() > 6
        || std::stoi(std::string(step_text)) == 0) {
      return report("invalid step '" + std::string(step_text) + "' in '"
                    + std::string(item) + "'");
    }
    step = std::stoi(std::string(step_text));
  }
  int lo = spec.min;
  int hi = spec.star_max;
  if (base == "*" || base == "?") {
    if (base == "?" && !spec.day_field) {
      return report("'?' is only allowed in day fields");
    }
  } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
    auto a = parse_value(base.substr(0, dash), report);
    if (!a) {
      return a.error();
    }
    auto b = parse_value(base.substr(dash + 1), report);
    if (!b) {
      return b.error();
    }
    if (*a > *b) {
      return report("invalid range '" + std::string(base) + "'");
    }
    lo = *a;
    hi = *b;
  } else {
    auto v = parse_value(base, report);
    if (!v) {
      return v.error();
    }
    lo = *v;
    hi = slash == std::string_view::npos ? *v : std::max(*v, spec.star_max);
  }
  for (int v = lo; v <= hi; v += step) {
    // 7 is Sunday's other name, in the day-of-week field only (the 7th of
    // the month is day 7).
    bits |= std::uint64_t{1} << (&spec == &dow_spec && v == 7 ? 0 : v);
  }
  return ok();
}

expected<std::uint64_t> parse_field(std::string_view field,
                                    const reporter& report) {
  std::uint64_t bits = 0;
  std::size_t start = 0;
  while (true) {
    const auto comma = field.find(',', start);
    const auto item = field.substr(start, comma - start);
    if (item.empty()) {
      return report("empty list item in '" + std::string(field) + "'");
    }
    if (auto st = parse_item(item, report, bits); !st) {
      return st.error();
    }
    if (comma == std::string_view::npos) {
      return bits;
    }
    start = comma + 1;
  }
}

std::vector<std::string_view> split_fields(std::string_view text) {
  constexpr std::string_view blanks = " \t\r\n\f\v";
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    const auto start = text.find_first_not_of(blanks, pos);
    if (start == std::string_view::npos) {
      return out;
    }
    const auto end = text.find_first_of(blanks, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    pos = end;
  }
}

/// The 5-field equivalent of a shorthand, or empty.
std::string_view expand_shorthand(std::string_view text) {
  struct entry {
    std::string_view name;
    std::string_view fields;
  };
  static constexpr std::array<entry, 7> table = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
  }};
  const auto fields = split_fields(text);
  if (fields.size() != 1) {
    return {};
  }
  const auto name = ascii_lower(fields[0]);
  for (const auto& e : table) {
    if (e.name == name) {
      return e.fields;
    }
  }
  return {};
}

int next_bit(std::uint64_t bits, int from) {
  if (from >= 64) {
    return -1;
  }
  const std::uint64_t masked = bits & (~std::uint64_t{0} << from);
  return masked == 0 ? -1 : std::countr_zero(masked);
}

/// The first second of the day at or after `second_of_day` whose hour, minute
/// and second all match, skipping whole hours and minutes at a time.
std::optional<int> first_time_from(std::uint64_t hours, std::uint64_t minutes,
                                   std::uint64_t seconds, int second_of_day) {
  const int h0 = second_of_day / 3600;
  const int m0 = second_of_day / 60 % 60;
  const int s0 = second_of_day % 60;
  for (int h = next_bit(hours, h0); h >= 0; h = next_bit(hours, h + 1)) {
    const int m_from = h == h0 ? m0 : 0;
    for (int m = next_bit(minutes, m_from); m >= 0;
         m = next_bit(minutes, m + 1)) {
      const int s = next_bit(seconds, h == h0 && m == m0 ? s0 : 0);
      if (s >= 0) {
        return h * 3600 + m * 60 + s;
      }
    }
  }
  return std::nullopt;
}

} // namespace

expected<cron_expr> cron_expr::parse(std::string_view text) {
  std::string_view source = text;
  if (auto expanded = expand_shorthand(text); !expanded.empty()) {
    source = expanded;
  }
  auto fields = split_fields(source);
  if (fields.size() != 5 && fields.size() != 6) {
    return make_error(errc::invalid_input, "cron '" + std::string(text)
                                             + "': expected 5 or 6 fields, got "
                                             + std::to_string(fields.size()));
  }
  if (fields.size() == 5) {
    fields.insert(fields.begin(), "0");
  }
  static constexpr std::array<const field_spec*, 6> specs = {
    &second_spec, &minute_spec, &hour_spec, &dom_spec, &month_spec, &dow_spec};
  std::array<std::uint64_t, 6> bits{};
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto parsed = parse_field(fields[i], reporter{text, *specs[i]});
    if (!parsed) {
      return parsed.error();
    }
    bits[i] = *parsed;
  }
  cron_expr expr;
  expr.text_ = std::string(text);
  expr.seconds_ = bits[0];
  expr.minutes_ = bits[1];
  expr.hours_ = static_cast<std::uint32_t>(bits[2]);
  expr.days_ = static_cast<std::uint32_t>(bits[3]);
  expr.months_ = static_cast<std::uint16_t>(bits[4]);
  expr.weekdays_ = static_cast<std::uint8_t>(bits[5]);
  expr.day_restricted_ = fields[3] != "*" && fields[3] != "?";
  expr.weekday_restricted_ = fields[5] != "*" && fields[5] != "?";
  return expr;
}

std::optional<time_ms> cron_expr::next_after(time_ms after) const {
  constexpr std::int64_t horizon_days = std::int64_t{5} * 366;
  constexpr std::int64_t day_ms = 86'400'000;
  // Keep the final (day * 86400 + second) * 1000 from overflowing.
  if (after
      > std::numeric_limits<time_ms>::max() - (horizon_days + 2) * day_ms) {
    return std::nullopt;
  }
  const std::int64_t start = floor_div(after, 1000) + 1; // strictly after
  std::int64_t day = floor_div(start, 86400);
  int second_of_day = static_cast<int>(start - day * 86400);
  const std::int64_t last_day = day + horizon_days;
  for (; day <= last_day; ++day, second_of_day = 0) {
    const auto date = civil_from_days(day);
    if ((months_ >> date.month & 1U) == 0) {
      // Jump to the month's last day; the loop's ++day enters the next one.
      day = days_from_civil(date.year, date.month,
                            days_in_month(date.year, date.month));
      continue;
    }
    const bool dom_ok = (days_ >> date.day & 1U) != 0;
    const bool dow_ok = (weekdays_ >> weekday(day) & 1U) != 0;
    const bool day_ok = day_restricted_ && weekday_restricted_
                          ? dom_ok || dow_ok
                          : dom_ok && dow_ok;
    if (!day_ok) {
      continue;
    }
    if (auto t = first_time_from(hours_, minutes_, seconds_, second_of_day)) {
      return (day * 86400 + *t) * 1000;
    }
  }
  return std::nullopt;
}

} // namespace conveyor::model
