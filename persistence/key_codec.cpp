#include "persistence/key_codec.hpp"

#include <limits>

namespace conveyor::persistence {

namespace {

constexpr std::size_t ready_suffix = 1 + 4 + 8; ///< NUL, priority, id

} // namespace

void append_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void append_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::optional<std::uint32_t> read_u32(std::string_view in) {
  if (in.size() < 4)
    return std::nullopt;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::optional<std::uint64_t> read_u64(std::string_view in) {
  if (in.size() < 8)
    return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string hex(std::string_view bytes) {
  constexpr std::size_t shown = 64;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < shown; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  if (bytes.size() > shown)
    out += "...";
  return out.empty() ? "(empty)" : out;
}

std::string job_key(model::job_id id) {
  std::string key;
  key.reserve(8);
  append_u64(key, id);
  return key;
}

std::optional<model::job_id> job_key_id(std::string_view key) {
  if (key.size() != 8)
    return std::nullopt;
  return read_u64(key);
}

std::string ready_prefix(std::string_view queue) {
  std::string key{queue};
  key.push_back('\0');
  return key;
}

std::string ready_key(std::string_view queue, std::int32_t priority,
                      model::job_id id) {
  auto key = ready_prefix(queue);
  // Higher priority must sort first: invert into an unsigned range.
  auto inverted = static_cast<std::uint32_t>(
    std::int64_t{std::numeric_limits<std::int32_t>::max()} - priority);
  append_u32(key, inverted);
  append_u64(key, id);
  return key;
}

std::optional<std::string_view> ready_key_queue(std::string_view key) {
  // Queue names never contain NUL, so the first NUL ends the queue.
  auto nul = key.find('\0');
  if (nul == 0 || nul == std::string_view::npos
      || key.size() - nul != ready_suffix)
    return std::nullopt;
  return key.substr(0, nul);
}

std::optional<model::job_id> ready_key_id(std::string_view key) {
  if (!ready_key_queue(key))
    return std::nullopt;
  return read_u64(key.substr(key.size() - 8));
}

std::string delayed_key(model::time_ms wait_until, model::job_id id) {
  std::string key;
  key.reserve(16);
  // Offset by 2^63 so negative times (before 1970) still sort first.
  append_u64(key, static_cast<std::uint64_t>(wait_until) ^ (1ull << 63));
  append_u64(key, id);
  return key;
}

std::optional<model::time_ms> delayed_key_time(std::string_view key) {
  if (key.size() != 16)
    return std::nullopt;
  return static_cast<model::time_ms>(*read_u64(key) ^ (1ull << 63));
}

std::optional<model::job_id> delayed_key_id(std::string_view key) {
  if (key.size() != 16)
    return std::nullopt;
  return read_u64(key.substr(8));
}

} // namespace conveyor::persistence
