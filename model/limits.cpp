#include "model/limits.hpp"

#include <string>

namespace conveyor::model {

namespace {

// Sizes at least 2 bytes ("{}"), at most what the transport carries; depths
// at most the hard maximum, since the transport refuses anything deeper.
// Admission caps: beyond a billion unfinished jobs no node has the memory.
constexpr std::size_t max_queued_cap = 1'000'000'000;

constexpr limit_field fields[] = {
  {"maxInputBytes", &limits::max_input_bytes, 2, hard_max_field_bytes},
  {"maxOutputBytes", &limits::max_output_bytes, 2, hard_max_field_bytes},
  {"maxMetaBytes", &limits::max_meta_bytes, 2, hard_max_field_bytes},
  {"maxLogBytes", &limits::max_log_bytes, 0, hard_max_field_bytes},
  {"maxJsonDepth", &limits::max_json_depth, 1, hard_max_json_depth},
  {"maxStringBytes", &limits::max_string_bytes, 1, hard_max_field_bytes},
  {"maxArrayLength", &limits::max_array_length, 1, hard_max_array_length},
  {"maxWhereBytes", &limits::max_where_bytes, 2, hard_max_field_bytes},
  {"maxWhereDepth", &limits::max_where_depth, 1, hard_max_json_depth},
  {"maxPageSize", &limits::max_page_size, 1, 1'000'000},
  {"maxIdempotencyKeyBytes", &limits::max_idempotency_key_bytes, 1, 64 * kib},
  {"maxQueuedPerQueue", &limits::max_queued_per_queue, 1, max_queued_cap},
  {"maxQueued", &limits::max_queued, 1, max_queued_cap},
  {"maxQueues", &limits::max_queues, 1, 1'000'000},
};

} // namespace

std::span<const limit_field> limit_fields() {
  return fields;
}

status check_limits(const limits& lim) {
  for (const auto& f : fields) {
    const std::size_t v = lim.*f.member;
    if (v < f.min || v > f.max)
      return make_error(errc::invalid_input, "limits." + std::string(f.key)
                                               + ": " + std::to_string(v)
                                               + " is outside "
                                               + std::to_string(f.min) + " .. "
                                               + std::to_string(f.max));
  }
  return ok();
}

} // namespace conveyor::model
