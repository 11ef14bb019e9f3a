// The command-task progress protocol on arbitrary bytes (fd 3 of an
// untrusted program): every report is a fraction in [0, 1] with a message
// of valid UTF-8 no longer than a line may be, however the bytes arrive.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "model/json_guard.hpp"
#include "model/progress_lines.hpp"

using namespace conveyor::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::size_t reports = 0;
  progress_lines lines{[&](const progress_report& r) {
    ++reports;
    FUZZ_CHECK(std::isfinite(r.fraction));
    FUZZ_CHECK(r.fraction >= 0 && r.fraction <= 1);
    FUZZ_CHECK(valid_utf8(r.message));
    // A replaced byte grows to 3: a cut line's message stays bounded.
    FUZZ_CHECK(r.message.size() <= 3 * progress_lines::max_line_bytes);
  }};
  // Fed in uneven pieces, as a pipe delivers them.
  std::size_t step = size > 0 ? data[0] % 7 + 1 : 1;
  for (std::size_t at = 0; at < size; at += step)
    lines.feed(bytes.substr(at, step));
  lines.finish();
  // At most one report per line.
  FUZZ_CHECK(reports <= static_cast<std::size_t>(
                          std::count(bytes.begin(), bytes.end(), '\n'))
                          + 1);
  return 0;
}
