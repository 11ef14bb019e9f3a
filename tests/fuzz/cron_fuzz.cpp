// The cron parser on arbitrary text; an accepted expression's next tick is
// strictly later than the time asked about.

#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_check.hpp"
#include "model/cron.hpp"

using namespace conveyor::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  // The first 8 bytes (if any) pick the time asked about.
  time_ms after = 1'800'000'000'000;
  if (size >= 8) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, data, 8);
    after =
      static_cast<time_ms>(raw % 253'402'300'800'000ull); // years 1970..9999
    data += 8;
    size -= 8;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = cron_expr::parse(text);
  if (!c)
    return 0;
  if (auto next = c->next_after(after))
    FUZZ_CHECK(*next > after);
  return 0;
}
