#include "model/text.hpp"

#include <cstdint>

namespace conveyor::model {

std::string shown(const json& v) {
  constexpr std::size_t limit = 60;
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > limit)
    text = std::string{utf8_head(text, limit)} + "...";
  return text;
}

std::string_view utf8_head(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return text;
  while (max_bytes > 0
         && (static_cast<unsigned char>(text[max_bytes]) & 0xC0) == 0x80)
    --max_bytes;
  return text.substr(0, max_bytes);
}

namespace {

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
         || c == '\v';
}

/// Length of the well-formed sequence starting at s[i], or 0.
std::size_t sequence_length(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
  if (len == 0 || i + len > s.size())
    return 0;
  if (len == 1)
    return 1;
  std::uint32_t cp = c & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if (!is_continuation(b))
      return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  bool ok = cp >= min_cp[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
  return ok ? len : 0;
}

} // namespace

std::string repaired_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (auto len = sequence_length(text, i)) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::string text_tail(std::string_view text, std::size_t max_bytes) {
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  if (text.size() > max_bytes) {
    text.remove_prefix(text.size() - max_bytes);
    while (!text.empty()
           && is_continuation(static_cast<unsigned char>(text[0])))
      text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  auto out = repaired_utf8(text);
  if (out.size() > max_bytes) {
    // Each replaced byte grew to three: cut again, now on valid UTF-8.
    std::size_t start = out.size() - max_bytes;
    while (start < out.size()
           && is_continuation(static_cast<unsigned char>(out[start])))
      ++start;
    out.erase(0, start);
  }
  return out;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace conveyor::model
