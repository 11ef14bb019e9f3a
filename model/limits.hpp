#pragma once

// The one table of input limits. Every request field, task output and
// stored document is checked against it; config/README.md documents each
// entry and its config key (`limits.*`).
//
// Two layers use it:
// * the transport (messages.hpp) decodes a network message before the
//   runtime's configured limits are known, so it checks the hard maxima
//   below: nothing deeper or larger ever becomes a DOM;
// * request validation (actors/requests.cpp) applies the configured values,
//   which config validation keeps within the hard maxima.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "model/error.hpp"

namespace conveyor::model {

inline constexpr std::size_t kib = 1024;
inline constexpr std::size_t mib = kib * 1024;

/// Nesting of arrays + objects any JSON value may have. nlohmann copies,
/// compares and dumps recursively: this bounds the stack those use.
inline constexpr std::size_t hard_max_json_depth = 64;
/// Bytes of one JSON value in a network message. Larger than any one field
/// may be: a reply carries whole job documents (input, meta, outputs).
inline constexpr std::size_t hard_max_json_bytes = 64 * mib;
/// The largest value a size limit of `limits` may be configured to.
inline constexpr std::size_t hard_max_field_bytes = 16 * mib;
/// Elements of one array (members of one object) in a network message.
inline constexpr std::size_t hard_max_array_length = 1'000'000;
/// A config file; operator-written, read once at start.
inline constexpr std::size_t max_config_bytes = 2 * mib;
/// Stored documents nest request values a few levels down
/// (job -> log -> entry -> output): their depth limit has this margin.
inline constexpr std::size_t document_depth_margin = 4;

/// What the JSON guard (json_guard.hpp) checks on one value.
struct json_limits {
  std::size_t max_depth = hard_max_json_depth; ///< nesting of arrays + objects
  std::size_t max_bytes = 2 * mib;             ///< compact text size
  std::size_t max_string_bytes = hard_max_json_bytes;   ///< one string or key
  std::size_t max_array_length = hard_max_array_length; ///< one container
};

/// The transport's guard: the hard maxima.
inline constexpr json_limits transport_json_limits{
  hard_max_json_depth + document_depth_margin, hard_max_json_bytes,
  hard_max_field_bytes, hard_max_array_length};

/// What a stored document may be (recovery, listings): bounded depth, so
/// data written before a limit existed costs bounded work, never a crash.
inline constexpr json_limits document_json_limits{
  hard_max_json_depth + document_depth_margin, ~std::size_t{0}, ~std::size_t{0},
  ~std::size_t{0}};

/// The configurable limits (config key in parentheses).
struct limits {
  std::size_t max_input_bytes = 1 * mib;  ///< job input (maxInputBytes)
  std::size_t max_output_bytes = 1 * mib; ///< task output (maxOutputBytes)
  std::size_t max_meta_bytes = 64 * kib;  ///< job meta (maxMetaBytes)
  /// The queue request's log note, kept inside meta (maxLogBytes).
  std::size_t max_log_bytes = 64 * kib;
  /// Nesting of input, output and meta (maxJsonDepth, at most 64).
  std::size_t max_json_depth = hard_max_json_depth;
  /// One string or object key inside input/output/meta (maxStringBytes).
  std::size_t max_string_bytes = 1 * mib;
  /// Elements of one array / members of one object (maxArrayLength).
  std::size_t max_array_length = 100'000;
  std::size_t max_where_bytes = 16 * kib; ///< a where filter (maxWhereBytes)
  /// JSON nesting of a where filter (maxWhereDepth).
  std::size_t max_where_depth = 16;
  /// Largest `limit` of find/list (maxPageSize).
  std::size_t max_page_size = 1000;
  /// idempotencyKey length (maxIdempotencyKeyBytes).
  std::size_t max_idempotency_key_bytes = 256;
  /// Unfinished jobs (waiting, delayed or running) one queue may hold; a
  /// new job beyond it is refused as `overloaded` (maxQueuedPerQueue).
  std::size_t max_queued_per_queue = 1'000'000;
  /// Unfinished jobs of all queues together (maxQueued).
  std::size_t max_queued = 2'000'000;
  /// Queues one node knows (each is an actor that lives as long as the
  /// node): a request naming one more is refused as `overloaded`
  /// (maxQueues).
  std::size_t max_queues = 10'000;

  /// The guard's view for one field of `max_bytes`.
  json_limits json(std::size_t max_bytes) const {
    return {max_json_depth, max_bytes, max_string_bytes, max_array_length};
  }
};

/// One row of the table: the config key, the member, the allowed range.
/// The config loader and the runtime's option check both read it.
struct limit_field {
  std::string_view key; ///< camelCase, as in the config file's `limits`
  std::size_t limits::*member;
  std::size_t min;
  std::size_t max;
};

std::span<const limit_field> limit_fields();

/// invalid_input naming the first value outside its range
/// ("limits.maxJsonDepth: 65 is outside 1 .. 64").
status check_limits(const limits& lim);

} // namespace conveyor::model
