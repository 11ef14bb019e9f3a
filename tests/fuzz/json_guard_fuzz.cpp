// The guarded JSON parser on arbitrary bytes: never throws or crashes;
// what it accepts is within the limits, passes check_json and re-parses
// from its own dump to an equal value.

#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "model/json_guard.hpp"

using namespace conveyor::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json_limits lim;
  lim.max_depth = 16;
  lim.max_string_bytes = 64;
  lim.max_array_length = 32;
  auto parsed = parse_json_guarded(text, lim);
  if (!parsed)
    return 0;
  FUZZ_CHECK(json_depth(*parsed) <= lim.max_depth);
  // The parser validated UTF-8; the DOM checker must agree on every limit
  // except size (dump's compact form may be shorter or longer: escapes).
  json_limits roomy = lim;
  roomy.max_bytes = ~std::size_t{0};
  FUZZ_CHECK(check_json(*parsed, roomy, "v").has_value());
  const std::string again = parsed->dump();
  auto reparsed = parse_json_guarded(again, roomy);
  FUZZ_CHECK(reparsed.has_value());
  FUZZ_CHECK(reparsed->dump() == again);
  return 0;
}
