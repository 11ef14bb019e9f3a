#pragma once

// The RocksDB journal's key spaces and byte encodings of its keys and small
// values. The layout is specified in FORMAT.md; change both together.
//
// Integers are big-endian so that RocksDB's bytewise order is numeric order.
// Queue names never contain NUL (validated at enqueue), so "queue + NUL" is a
// prefix-free component: no queue's keys can fall inside another's range.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/job.hpp"

namespace conveyor::persistence {

/// The column families of the RocksDB journal. See FORMAT.md.
enum class column : std::uint8_t { jobs, ready, delayed, meta, idempotency };

void append_u32(std::string& out, std::uint32_t v);
void append_u64(std::string& out, std::uint64_t v);
/// Big-endian integers from the first 4 / 8 bytes; nullopt if `in` is
/// shorter. Decoders never read past the end: keys and values come from
/// disk, and a damaged store must report corruption, not crash.
std::optional<std::uint32_t> read_u32(std::string_view in);
std::optional<std::uint64_t> read_u64(std::string_view in);

/// Lowercase hex of raw key bytes, for corruption messages (at most the
/// first 64 bytes, then "...").
std::string hex(std::string_view bytes);

/// jobs column: 8-byte id. nullopt unless the key has exactly 8 bytes.
std::string job_key(model::job_id id);
std::optional<model::job_id> job_key_id(std::string_view key);

/// ready column: queue NUL (INT32_MAX - priority as u32) id. Iterating a
/// queue's prefix yields higher priorities first, then FIFO by id.
std::string ready_key(std::string_view queue, std::int32_t priority,
                      model::job_id id);
std::string ready_prefix(std::string_view queue);
/// nullopt unless the key is a non-empty queue, NUL, 4 + 8 bytes.
std::optional<model::job_id> ready_key_id(std::string_view key);
std::optional<std::string_view> ready_key_queue(std::string_view key);

/// delayed column: (wait_until + 2^63 as u64) id, earliest first.
/// Decoders: nullopt unless the key has exactly 16 bytes.
std::string delayed_key(model::time_ms wait_until, model::job_id id);
std::optional<model::time_ms> delayed_key_time(std::string_view key);
std::optional<model::job_id> delayed_key_id(std::string_view key);

} // namespace conveyor::persistence
