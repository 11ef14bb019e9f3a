#pragma once

// A CAF scribe (one TCP or TLS connection of the BASP broker) that speaks
// the token preamble (net/preamble.hpp) before any BASP byte and caps what
// a peer can make this process allocate.
//
// CAF 0.17 trusts the payload length of a BASP header and resizes its read
// buffer to it. Here every read size the broker asks for passes
// configure_read first:
//   - before the token is checked, the scribe reads only the preamble
//     (at most kHeaderSize + kMaxToken bytes), holds back every byte the
//     broker writes (the BASP server handshake names this node) and has
//     handshake_timeout to finish;
//   - after, a read larger than max_message_bytes closes the connection.
// Closing is shutdown(2) of the socket: the multiplexer then sees the end
// of the stream and the broker cleans up as for any closed connection.

#include <sys/socket.h>

#include <memory>
#include <string>

#include "caf/io/network/default_multiplexer.hpp"
#include "caf/io/network/stream_impl.hpp"
#include "caf/io/receive_policy.hpp"
#include "caf/io/scribe.hpp"
#include "net/connection_guard.hpp"
#include "net/preamble.hpp"

namespace conveyor::net {

enum class scribe_role { server, client };

/// What a client connection learnt from the node's verdict byte.
enum class verdict : int { pending = 0, accepted = 1, refused = 2 };

template <class Policy>
class guarded_scribe : public caf::io::scribe {
public:
  using mpx = caf::io::network::default_multiplexer;
  using config = caf::io::receive_policy::config;

  /// A server-side connection (accepted; admitted by the guard).
  guarded_scribe(mpx& mx, caf::io::network::native_socket fd,
                 std::shared_ptr<connection_guard> guard, Policy policy)
      : caf::io::scribe(caf::io::network::conn_hdl_from_socket(fd)),
        role_(scribe_role::server), guard_(std::move(guard)), fd_(fd),
        stream_(mx, fd, std::move(policy)) {
    guard_->arm(this, fd_,
                connection_guard::clock::now()
                  + guard_->limits().handshake_timeout);
  }

  /// A client-side connection: sends `preamble` first and reports the
  /// node's answer through `outcome`.
  guarded_scribe(mpx& mx, caf::io::network::native_socket fd,
                 std::shared_ptr<connection_guard> guard, Policy policy,
                 const std::string& preamble,
                 std::shared_ptr<std::atomic<int>> outcome)
      : caf::io::scribe(caf::io::network::conn_hdl_from_socket(fd)),
        role_(scribe_role::client), guard_(std::move(guard)), fd_(fd),
        outcome_(std::move(outcome)), stream_(mx, fd, std::move(policy)) {
    stream_.wr_buf().assign(preamble.begin(), preamble.end());
    guard_->arm(this, fd_,
                connection_guard::clock::now()
                  + guard_->limits().handshake_timeout);
  }

  ~guarded_scribe() override {
    guard_->disarm(this);
    if (role_ == scribe_role::server)
      guard_->release();
  }

  void configure_read(config cfg) override {
    if (phase_ != phase::open) {
      // The broker's wish waits until the preamble is through.
      wanted_ = cfg;
      if (!launched_)
        launch();
      return;
    }
    apply(cfg);
  }

  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override {
    // Until the token is checked, what the broker writes (the BASP server
    // handshake) waits here: the stream would send its own buffer on the
    // next write event.
    if (role_ == scribe_role::server && phase_ != phase::open)
      return held_;
    return stream_.wr_buf();
  }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override {
    // A server says nothing (not even the BASP handshake) to a peer that
    // has not shown a token.
    if (role_ == scribe_role::server && phase_ != phase::open)
      return;
    stream_.flush(this);
  }

  std::string addr() const override {
    auto x = caf::io::network::remote_addr_of_fd(stream_.fd());
    return x ? *x : std::string{};
  }

  uint16_t port() const override {
    auto x = caf::io::network::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }

  void add_to_loop() override { stream_.activate(this); }
  void remove_from_loop() override { stream_.passivate(); }

  bool consume(caf::execution_unit* ctx, const void* buf,
               size_t size) override {
    std::string_view bytes{static_cast<const char*>(buf), size};
    switch (phase_) {
    case phase::open:
      return caf::io::scribe::consume(ctx, buf, size);
    case phase::header:
      on_header(bytes);
      return true;
    case phase::token:
      on_token(std::string{bytes});
      return true;
    case phase::verdict:
      on_verdict(bytes);
      return true;
    case phase::closing:
      return true; // discard until the socket is shut down
    }
    return true;
  }

private:
  enum class phase { header, token, verdict, open, closing };

  static config exactly(size_t n) {
    return caf::io::receive_policy::exactly(n);
  }

  void launch() {
    launched_ = true;
    phase_ = role_ == scribe_role::server ? phase::header : phase::verdict;
    stream_.configure_read(exactly(phase_ == phase::header ? kHeaderSize : 1));
    stream_.start(this);
    // TLS needs a write event to drive its handshake; the client's
    // preamble goes out with it.
    stream_.force_empty_write(this);
    if (role_ == scribe_role::client)
      stream_.flush(this);
  }

  void apply(config cfg) {
    if (cfg.second > guard_->limits().max_message_bytes) {
      guard_->stats().closed_oversized.fetch_add(1, std::memory_order_relaxed);
      close_now();
      return;
    }
    stream_.configure_read(cfg);
  }

  void on_header(std::string_view bytes) {
    auto n = token_length(bytes);
    if (!n) {
      guard_->stats().refused_bad_preamble.fetch_add(1,
                                                     std::memory_order_relaxed);
      close_now();
      return;
    }
    if (*n == 0) {
      on_token({}); // no token: refused, with a verdict
      return;
    }
    phase_ = phase::token;
    stream_.configure_read(exactly(*n));
  }

  void on_token(const std::string& token) {
    if (!guard_->check(token)) {
      guard_->stats().refused_unknown_token.fetch_add(
        1, std::memory_order_relaxed);
      refuse();
      return;
    }
    guard_->stats().authenticated.fetch_add(1, std::memory_order_relaxed);
    guard_->disarm(this);
    phase_ = phase::open;
    // The verdict goes out before the held-back BASP handshake.
    auto& out = stream_.wr_buf();
    out.push_back(kAccepted);
    out.insert(out.end(), held_.begin(), held_.end());
    held_.clear();
    held_.shrink_to_fit();
    apply(wanted_);
    stream_.flush(this);
  }

  void on_verdict(std::string_view bytes) {
    if (bytes.size() == 1 && bytes[0] == kAccepted) {
      outcome_->store(static_cast<int>(verdict::accepted));
      guard_->disarm(this);
      phase_ = phase::open;
      apply(wanted_);
      return;
    }
    outcome_->store(static_cast<int>(verdict::refused));
    close_now();
  }

  /// Tells the client why, then closes (at the latest shortly after, if the
  /// client does not close first).
  void refuse() {
    phase_ = phase::closing;
    held_.clear();
    auto& out = stream_.wr_buf();
    out.assign(1, kRefused);
    stream_.configure_read(exactly(1));
    stream_.flush(this);
    guard_->arm(this, fd_,
                connection_guard::clock::now()
                  + std::chrono::milliseconds(200));
  }

  void close_now() {
    phase_ = phase::closing;
    stream_.configure_read(exactly(1));
    ::shutdown(fd_, SHUT_RDWR);
  }

  scribe_role role_;
  std::shared_ptr<connection_guard> guard_;
  caf::io::network::native_socket fd_;
  std::shared_ptr<std::atomic<int>> outcome_;
  caf::io::network::stream_impl<Policy> stream_;
  bool launched_ = false;
  phase phase_ = phase::header;
  config wanted_ = exactly(0);
  std::vector<char> held_;
};

} // namespace conveyor::net
