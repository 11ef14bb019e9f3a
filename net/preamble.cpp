#include "net/preamble.hpp"

namespace conveyor::net {

std::string encode_preamble(std::string_view token) {
  if (token.size() > kMaxToken)
    token = token.substr(0, kMaxToken);
  std::string out{kMagic};
  out.push_back(static_cast<char>((token.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(token.size() & 0xff));
  out.append(token);
  return out;
}

std::optional<std::size_t> token_length(std::string_view header) {
  if (header.size() != kHeaderSize || header.substr(0, 4) != kMagic)
    return std::nullopt;
  auto hi = static_cast<unsigned char>(header[4]);
  auto lo = static_cast<unsigned char>(header[5]);
  std::size_t n = (std::size_t{hi} << 8) | lo;
  if (n > kMaxToken)
    return std::nullopt;
  return n;
}

} // namespace conveyor::net
