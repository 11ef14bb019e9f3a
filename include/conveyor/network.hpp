#pragma once

// Serving a runtime to other nodes, and reaching one, over CAF's network
// layer with Conveyor's guards in front of it.
//
//   conveyor::network net{sys, {.tls = false}};
//   auto port = net.publish(*rt, "127.0.0.1", 4242, auth);   // a node
//   auto session = net.connect("127.0.0.1", 4242, token);    // a client
//   conveyor::client jobs{sys, *session};
//
// Every connection starts with the client's token, checked before the node
// reads a single CAF byte from it (CAF itself trusts the sizes a peer
// announces); the connection is closed if the token does not arrive within
// handshake_timeout, and frames larger than max_message_bytes close it
// later. The door then turns the token into a session bound to its
// principal: access rules always apply to remote requests, and replies
// come from the session only.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "conveyor/remote.hpp"

namespace conveyor {

struct network_options {
  /// Largest message an authenticated peer may send (a BASP frame).
  std::size_t max_message_bytes = std::size_t{16} << 20;
  /// Open connections at once; more are closed at accept.
  std::size_t max_connections = 1024;
  /// From accept until the token was checked.
  std::chrono::milliseconds handshake_timeout{5000};
  /// Requests of one session waiting for an answer; more get `overloaded`.
  std::size_t max_in_flight = 256;
  /// Sessions one peer node may hold at once.
  std::size_t max_sessions_per_peer = 16;
  /// TLS on every connection, configured by the actor system's openssl.*
  /// settings (load caf::openssl::manager; with openssl.cafile set, peers
  /// must present a certificate signed by it: mutual TLS).
  bool tls = false;
};

/// Counters since the network was created.
struct network_stats {
  std::uint64_t accepted = 0;
  std::uint64_t refused_over_capacity = 0;
  std::uint64_t refused_bad_preamble = 0;
  std::uint64_t refused_unknown_token = 0;
  std::uint64_t closed_by_timeout = 0;
  std::uint64_t closed_oversized = 0;
  std::uint64_t authenticated = 0;
  std::int64_t open = 0;
};

class network {
public:
  network(caf::actor_system& sys, network_options options = {});
  ~network();
  network(const network&) = delete;
  network& operator=(const network&) = delete;

  /// Publishes the door of `rt` at host:port (0: any free port); `auth`
  /// decides who a token belongs to. Returns the bound port.
  model::expected<std::uint16_t> publish(runtime& rt, const std::string& host,
                                         std::uint16_t port,
                                         authenticator auth);

  /// Connects to the node at host:port with `token` and returns a session.
  /// Errors: forbidden (the node refused the token), unavailable (no node
  /// there, or no answer within `timeout`).
  model::expected<session_actor>
  connect(const std::string& host, std::uint16_t port, const std::string& token,
          std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Ends a session from connect() (the node forgets it). Sessions also
  /// end with their connection and with this object.
  void close(const session_actor& session);

  network_stats stats() const;
  const network_options& options() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace conveyor
