#pragma once

// Cron expressions, evaluated in UTC.
//
// Five fields (minute hour day-of-month month day-of-week) or six with a
// leading seconds field. Each field takes `*`, numbers, lists (`1,5,9`),
// ranges (`1-5`), steps (`*/15`, `10-50/10`, `5/10`), month names (JAN-DEC)
// and weekday names (SUN-SAT; 0 and 7 are both Sunday). When both
// day-of-month and day-of-week are restricted, a day matches if either does
// (classic cron rule).

#include <optional>
#include <string>
#include <string_view>

#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::model {

class cron_expr {
public:
  /// invalid_input error naming the field and the offending token.
  static expected<cron_expr> parse(std::string_view text);

  /// The first matching instant strictly after `after` (whole seconds), or
  /// nullopt if there is none within the next 5 years (e.g. "0 0 30 2 *").
  std::optional<time_ms> next_after(time_ms after) const;

  const std::string& text() const { return text_; }

private:
  std::string text_;
  // Bitsets: seconds 0-59, minutes 0-59, hours 0-23, days 1-31, months 1-12,
  // weekdays 0-6.
  std::uint64_t seconds_ = 0;
  std::uint64_t minutes_ = 0;
  std::uint32_t hours_ = 0;
  std::uint32_t days_ = 0;
  std::uint16_t months_ = 0;
  std::uint8_t weekdays_ = 0;
  bool day_restricted_ = false;
  bool weekday_restricted_ = false;
};

} // namespace conveyor::model
