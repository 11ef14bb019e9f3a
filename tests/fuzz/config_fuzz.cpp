// The config loader from a JSON text: every problem is reported, never
// thrown or crashed on; an accepted config has limits within the table.

#include <cstdint>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_check.hpp"
#include "model/json_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = conveyor::model::parse_json_guarded(text);
  if (!doc)
    return 0;
  // A base directory that does not exist: relative paths stay paths.
  auto cfg = conveyor::cfg::parse_config(*doc, "/nonexistent-conveyor-fuzz");
  if (!cfg) {
    FUZZ_CHECK(!cfg.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(conveyor::model::check_limits(cfg->limits).has_value());
  return 0;
}
