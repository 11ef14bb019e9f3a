#pragma once

// The progress protocol of command tasks (config/README.md, "Progress"): a
// program writes lines to file descriptor 3 (CONVEYOR_PROGRESS_FD), each
// `<fraction> [message]`, the fraction a decimal number from 0 to 1
// ("0.42 resizing images"). The bytes come from a program we do not trust:
// lines are cut at max_line_bytes, anything that does not parse is
// ignored, and nothing here grows without a bound.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace conveyor::model {

struct progress_report {
  double fraction = 0; ///< in [0, 1]
  std::string message; ///< valid UTF-8, at most max_line_bytes
};

/// One line (without its newline); nullopt if it is not a report.
std::optional<progress_report> parse_progress_line(std::string_view line);

/// Splits a byte stream into lines of at most max_line_bytes (the rest of a
/// longer line is dropped) and hands each report to `on_report`.
class progress_lines {
public:
  static constexpr std::size_t max_line_bytes = 1024;

  explicit progress_lines(std::function<void(const progress_report&)> on_report)
      : on_report_(std::move(on_report)) {}

  void feed(std::string_view bytes);
  /// End of stream: a last line without a newline counts too.
  void finish();

private:
  void end_line();

  std::function<void(const progress_report&)> on_report_;
  std::string line_;
  bool overlong_ = false; ///< dropping the rest of a line
};

} // namespace conveyor::model
