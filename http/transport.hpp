#pragma once

// The HTTP transport: Boost.Beast on its own threads. It enforces every
// limit that comes before a request is whole (connections, header and body
// size, arrival time) and hands whole requests to a handler
// (http/exchange.hpp). The only translation unit that includes Beast.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "conveyor/http.hpp"
#include "http/exchange.hpp"
#include "model/error.hpp"

namespace conveyor::http {

struct transport_limits {
  std::size_t max_body_bytes = std::size_t{4} << 20;
  std::size_t max_header_bytes = std::size_t{16} << 10;
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t max_connections = 256;
  std::size_t threads = 2;
  /// Bytes an event stream may have waiting for a slow client.
  std::size_t max_stream_backlog = std::size_t{1} << 20;
};

/// PEM files of the server's certificate (chain) and private key.
struct transport_tls {
  std::string certificate_file;
  std::string key_file;
};

class transport {
public:
  transport(transport_limits limits, handler on_request);
  ~transport();
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Binds host:port (host: an IP literal or "localhost"; any other
  /// address than loopback only with `tls`) and serves, over TLS if `tls`
  /// is given. Returns the bound port.
  model::expected<std::uint16_t>
  start(const std::string& host, std::uint16_t port,
        const std::optional<transport_tls>& tls = std::nullopt);
  /// Stops accepting, closes every connection, joins the threads. After it
  /// returns, answers still on their way are dropped. Idempotent.
  void stop();
  http_stats stats() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace conveyor::http
