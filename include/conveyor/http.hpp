#pragma once

// The HTTP door of a runtime: a JSON API under /v1, Payload's
// /api/payload-jobs endpoints, health and readiness probes and Prometheus
// metrics (docs/http.md).
//
//   conveyor::http_server web{sys, *rt, auth, {.port = 4280}};
//   auto port = web.start();          // serves on its own threads
//   ...
//   web.stop();                       // before rt->stop()
//
// Requests carry `Authorization: Bearer <token>`; `auth` (the same
// authenticator as the actor network's door) turns it into a principal and
// the runtime's access rules always apply. Every limit is checked before
// the bytes behind it are read or parsed: header and body size, the time a
// request may take to arrive, open connections, and the runtime's JSON
// limits on every body and `where` parameter.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "conveyor/remote.hpp"

namespace conveyor {

namespace http {
struct feed;
}

/// Hooks `options.on_terminal` and `options.on_event` (whatever they held
/// is still called first) so the HTTP door of the runtime started with
/// them counts finished jobs (/metrics) and streams job transitions
/// (/v1/events). Call before start(); hand the result to http_server.
std::shared_ptr<http::feed> feed_http(runtime_options& options);

struct http_options {
  /// Address to bind: an IP literal or "localhost". Other addresses than
  /// loopback only with TLS (below): plain HTTP would carry bearer tokens
  /// in clear.
  std::string host = "127.0.0.1";
  /// PEM files of the server certificate (chain) and its private key; both
  /// set: the door speaks only HTTPS (TLS 1.2 or later). Empty: plain
  /// HTTP, loopback only.
  std::string tls_certificate;
  std::string tls_key;
  /// 0: any free port (start() returns it).
  std::uint16_t port = 4280;
  /// Largest request body; larger ones get 413 before they are read.
  std::size_t max_body_bytes = std::size_t{4} << 20;
  /// Request line plus headers; larger ones get 431.
  std::size_t max_header_bytes = std::size_t{16} << 10;
  /// From a request's first byte until it has fully arrived (and for an
  /// answer to be taken by the client); slower connections are closed.
  /// Also how long an idle keep-alive connection stays open.
  std::chrono::milliseconds request_timeout{10'000};
  /// Open connections at once; more get 503 and are closed.
  std::size_t max_connections = 256;
  /// Event streams (/v1/events) open at once; more get 503.
  std::size_t max_event_streams = 64;
  /// Threads serving connections (never the actor system's).
  std::size_t threads = 2;
  /// How long a request may wait for the runtime's answer before it gets
  /// 503; run and run-by-id wait as long as their jobs take.
  std::chrono::milliseconds answer_timeout{30'000};
};

/// Counters since the server started.
struct http_stats {
  std::uint64_t accepted = 0;
  std::uint64_t refused_over_capacity = 0;
  std::uint64_t requests = 0;
  std::int64_t open = 0;
};

class http_server {
public:
  /// `rt` and `sys` must outlive this object (or its stop()).
  http_server(caf::actor_system& sys, runtime& rt, authenticator auth,
              const http_options& options = {},
              std::shared_ptr<http::feed> feed = nullptr);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts serving. Returns the bound port. Errors:
  /// invalid_input (not a loopback address), unavailable (cannot bind).
  model::expected<std::uint16_t> start();
  /// Closes the listener and every connection, then joins the threads.
  /// Idempotent; the destructor calls it.
  void stop();

  http_stats stats() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace conveyor
