#pragma once

// A node serving a runtime on 127.0.0.1 (any free port) through
// conveyor::network, and helpers to reach it as clients and as raw sockets.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "conveyor/client.hpp"
#include "conveyor/network.hpp"
#include "conveyor/registry.hpp"
#include "conveyor/runtime.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace conveyor::testing {

struct net_system_config : caf::actor_system_config {
  net_system_config() {
    register_types(*this);
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
  }
};

/// A client process: its own actor system and network.
struct remote_client {
  net_system_config cfg;
  caf::actor_system sys{cfg};
  network net{sys};
};

struct node_fixture {
  temp_dir dir;
  net_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<registry> reg = std::make_shared<registry>();
  runtime_options options;
  network_options net_options;
  std::unique_ptr<runtime> rt;
  std::unique_ptr<network> net;
  std::uint16_t port = 0;

  node_fixture() {
    options.data_dir = dir.sub("data");
    options.continuous = true;
    auto st = reg->add_task({.slug = "echo", .handler = [](task_context& ctx) {
                               return json{{"echo", ctx.input()}};
                             }});
    if (!st)
      throw std::runtime_error(st.error().message);
  }

  ~node_fixture() { stop(); }
  void teardown() { stop(); }

  /// Tokens: "alice-token" -> alice, "bob-token" -> bob.
  static std::optional<principal_info> tokens(const std::string& t) {
    if (t == "alice-token")
      return principal_info{"alice", {}};
    if (t == "bob-token")
      return principal_info{"bob", {}};
    return std::nullopt;
  }

  void start() {
    auto started = conveyor::start(sys, reg, options);
    if (!started)
      throw std::runtime_error(started.error().message);
    rt = std::move(*started);
    net = std::make_unique<network>(sys, net_options);
    auto bound = net->publish(*rt, "127.0.0.1", 0, &node_fixture::tokens);
    if (!bound)
      throw std::runtime_error(bound.error().message);
    port = *bound;
  }

  void stop() {
    if (rt)
      rt->stop();
    net.reset();
    rt.reset();
  }
};

/// A plain TCP connection to the node.
struct raw_socket {
  int fd = -1;

  explicit raw_socket(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("connect failed");
  }
  ~raw_socket() {
    if (fd >= 0)
      ::close(fd);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  void send_bytes(const std::string& bytes) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

  /// Reads until the node closes the connection or `limit` passes; returns
  /// the bytes read and whether the connection was closed.
  std::pair<std::string, bool>
  read_until_closed(std::chrono::milliseconds limit) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
      if (left <= 0)
        return {got, false};
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        return {got, true};
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
};

/// A BASP header (CAF 0.17, network byte order) announcing `payload_len`.
inline std::string basp_header(std::uint8_t operation,
                               std::uint32_t payload_len) {
  std::string h;
  h.push_back(static_cast<char>(operation));
  h.push_back(0);
  h.push_back(0);
  h.push_back(0); // flags
  for (int shift = 24; shift >= 0; shift -= 8)
    h.push_back(static_cast<char>((payload_len >> shift) & 0xff));
  h.append(24, '\0'); // operation_data, source_actor, dest_actor
  return h;
}

} // namespace conveyor::testing
