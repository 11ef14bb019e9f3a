// The journal record decoder on arbitrary bytes (a damaged or old store):
// decode_job and the key decoders return errors, never crash or recurse
// deeply. A decoded job re-encodes to a record that decodes equal.

#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "persistence/job_records.hpp"
#include "persistence/key_codec.hpp"

using namespace conveyor;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The same bytes as every kind of key.
  auto id = persistence::job_key_id(bytes);
  if (id)
    FUZZ_CHECK(persistence::job_key(*id) == bytes);
  auto ready = persistence::ready_key_id(bytes);
  FUZZ_CHECK(ready.has_value()
             == persistence::ready_key_queue(bytes).has_value());
  auto due = persistence::delayed_key_time(bytes);
  auto due_id = persistence::delayed_key_id(bytes);
  if (due && due_id)
    FUZZ_CHECK(persistence::delayed_key(*due, *due_id) == bytes);
  (void)persistence::hex(bytes);

  auto j = persistence::decode_job(bytes);
  if (!j)
    return 0;
  const std::string encoded = persistence::encode_job(*j);
  auto back = persistence::decode_job(encoded);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(persistence::encode_job(*back) == encoded);
  return 0;
}
