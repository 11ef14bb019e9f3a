#pragma once

// The first bytes of every connection to a node, before any CAF (BASP)
// byte: the client presents its token, the node answers with one verdict
// byte. A node parses nothing else from a peer until the token is known,
// so a stranger can make it read at most kHeaderSize + kMaxToken bytes.
//
//   client -> node: "CVY1" | u16 big-endian token length | token
//   node -> client: 'K' (accepted, BASP follows) or 'X' (refused, closed)

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conveyor::net {

inline constexpr std::string_view kMagic = "CVY1";
inline constexpr std::size_t kHeaderSize = 6;
inline constexpr std::size_t kMaxToken = 1024;
inline constexpr char kAccepted = 'K';
inline constexpr char kRefused = 'X';

/// The bytes a client sends first. Tokens longer than kMaxToken are cut
/// (the node would refuse them anyway).
std::string encode_preamble(std::string_view token);

/// The token length announced by a preamble header (kHeaderSize bytes), or
/// nullopt if the bytes are not a preamble or announce more than kMaxToken.
/// 0 is a preamble without a token (refused with a verdict).
std::optional<std::size_t> token_length(std::string_view header);

} // namespace conveyor::net
