#include "model/progress_lines.hpp"

#include <charconv>
#include <cmath>

#include "model/text.hpp"

namespace conveyor::model {

std::optional<progress_report> parse_progress_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  auto space = line.find(' ');
  auto number = line.substr(0, space);
  if (number.empty() || number.size() > 32)
    return std::nullopt;
  double fraction = 0;
  auto [end, ec] =
    std::from_chars(number.data(), number.data() + number.size(), fraction);
  if (ec != std::errc{} || end != number.data() + number.size()
      || !std::isfinite(fraction) || fraction < 0 || fraction > 1)
    return std::nullopt;
  progress_report r;
  r.fraction = fraction;
  if (space != std::string_view::npos)
    r.message = repaired_utf8(line.substr(space + 1));
  return r;
}

void progress_lines::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    auto part = bytes.substr(0, nl);
    if (!overlong_) {
      auto room = max_line_bytes - line_.size();
      if (part.size() > room) {
        line_.append(part.substr(0, room));
        overlong_ = true;
      } else {
        line_.append(part);
      }
    }
    if (nl == std::string_view::npos)
      return;
    end_line();
    bytes.remove_prefix(nl + 1);
  }
}

void progress_lines::finish() {
  if (!line_.empty())
    end_line();
}

void progress_lines::end_line() {
  if (auto r = parse_progress_line(line_))
    on_report_(*r);
  line_.clear();
  overlong_ = false;
}

} // namespace conveyor::model
