// The where parser and evaluator on arbitrary JSON: errors only, never a
// crash or a deep recursion; an accepted filter evaluates on a job document.

#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "model/json_guard.hpp"
#include "model/where.hpp"

using namespace conveyor::model;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // As the network delivers it: the transport guard, then the parser.
  auto doc = parse_json_guarded(text, transport_json_limits);
  if (!doc)
    return 0;
  auto w = parse_where(*doc);
  if (!w) {
    FUZZ_CHECK(!w.error().message.empty());
    return 0;
  }
  static const json job = json::parse(R"({
    "id": "12", "queue": "default", "taskSlug": "send", "status": "queued",
    "input": {"to": ["a@b.c", "d@e.f"], "n": 3, "nested": {"x": [1, {"y": null}]}},
    "log": [{"taskSlug": "send", "state": "failed", "output": {}}],
    "meta": {"scheduled": true}, "priority": -4,
    "createdAt": "2026-01-01T00:00:00.000Z"})");
  (void)matches(*w, job);
  (void)matches(*w, *doc);
  return 0;
}
