// Deserialisation of every network message type from arbitrary bytes, as
// a peer could send them: an error or a value, never a crash, and JSON
// fields only through the guarded parser. A decoded value re-encodes
// stably (encode, decode, encode gives the same bytes).

#include <cstdint>
#include <vector>

#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "conveyor/messages.hpp"
#include "conveyor/remote.hpp"
#include "fuzz_check.hpp"

using namespace conveyor;

namespace {

template <class T>
void round_trip(const std::uint8_t* data, std::size_t size) {
  T value;
  caf::binary_deserializer source{nullptr, reinterpret_cast<const char*>(data),
                                  size};
  if (source(value))
    return; // refused: what a hostile peer gets
  std::vector<char> first;
  caf::binary_serializer sink{nullptr, first};
  FUZZ_CHECK(!sink(value));
  T again;
  caf::binary_deserializer reread{nullptr, first};
  FUZZ_CHECK(!reread(again));
  std::vector<char> second;
  caf::binary_serializer sink2{nullptr, second};
  FUZZ_CHECK(!sink2(again));
  FUZZ_CHECK(first == second);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0)
    return 0;
  const std::uint8_t kind = data[0];
  ++data;
  --size;
  switch (kind % 10) {
  case 0:
    round_trip<queue_request>(data, size);
    break;
  case 1:
    round_trip<run_request>(data, size);
    break;
  case 2:
    round_trip<find_request>(data, size);
    break;
  case 3:
    round_trip<cancel_request>(data, size);
    break;
  case 4:
    round_trip<schedules_request>(data, size);
    break;
  case 5:
    round_trip<count_request>(data, size);
    break;
  case 6:
    round_trip<remote_task>(data, size);
    break;
  case 7:
    round_trip<remote_result>(data, size);
    break;
  case 8:
    round_trip<request_context>(data, size);
    break;
  default:
    round_trip<std::vector<queue_request>>(data, size);
    break;
  }
  return 0;
}
