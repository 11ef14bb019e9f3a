#include "net/transport.hpp"

#include "caf/io/basp_broker.hpp"
#include "caf/io/middleman_actor_impl.hpp"
#include "caf/io/network/doorman_impl.hpp"
#include "caf/openssl/session.hpp"
#include "caf/policy/tcp.hpp"
#include "net/guarded_scribe.hpp"
#include "net/preamble.hpp"

namespace conveyor::net {

void client_credentials::set_token(const endpoint& ep, std::string token) {
  std::lock_guard lock{mutex_};
  tokens_[ep] = std::move(token);
}

std::string client_credentials::token(const endpoint& ep) const {
  std::lock_guard lock{mutex_};
  auto it = tokens_.find(ep);
  return it == tokens_.end() ? std::string{} : it->second;
}

std::shared_ptr<std::atomic<int>>
client_credentials::fresh_outcome(const endpoint& ep) {
  std::lock_guard lock{mutex_};
  auto out =
    std::make_shared<std::atomic<int>>(static_cast<int>(verdict::pending));
  outcomes_[ep] = out;
  return out;
}

int client_credentials::last_outcome(const endpoint& ep) const {
  std::lock_guard lock{mutex_};
  auto it = outcomes_.find(ep);
  return it == outcomes_.end() ? static_cast<int>(verdict::pending)
                               : it->second->load();
}

namespace {

namespace io = caf::io;
namespace network = caf::io::network;
using mpx_type = network::default_multiplexer;

/// Reads and writes through an OpenSSL session (caf::openssl's public
/// session type; its handshake runs inside read_some/write_some).
struct tls_policy {
  explicit tls_policy(caf::openssl::session_ptr s) : session(std::move(s)) {}

  network::rw_state read_some(size_t& result, network::native_socket fd,
                              void* buf, size_t len) {
    return session->read_some(result, fd, buf, len);
  }
  network::rw_state write_some(size_t& result, network::native_socket fd,
                               const void* buf, size_t len) {
    return session->write_some(result, fd, buf, len);
  }
  bool must_read_more(network::native_socket fd, size_t threshold) {
    return session->must_read_more(fd, threshold);
  }

  caf::openssl::session_ptr session;
};

using tcp_scribe = guarded_scribe<caf::policy::tcp>;
using tls_scribe = guarded_scribe<tls_policy>;

class guarded_doorman : public network::doorman_impl {
public:
  guarded_doorman(mpx_type& mx, network::native_socket fd,
                  std::shared_ptr<connection_guard> guard, bool tls)
      : network::doorman_impl(mx, fd), guard_(std::move(guard)), tls_(tls) {}

  bool new_connection() override {
    if (detached())
      return false;
    auto& dm = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    if (!guard_->admit()) {
      network::close_socket(fd); // over capacity: not even a read
      return true;
    }
    network::nonblocking(fd, true);
    io::scribe_ptr scrb;
    if (tls_) {
      auto session = caf::openssl::make_session(parent()->system(), fd, true);
      if (!session) {
        guard_->release();
        network::close_socket(fd);
        return true;
      }
      scrb = caf::make_counted<tls_scribe>(dm, fd, guard_,
                                           tls_policy{std::move(session)});
    } else {
      scrb = caf::make_counted<tcp_scribe>(dm, fd, guard_, caf::policy::tcp{});
    }
    auto hdl = scrb->hdl();
    parent()->add_scribe(std::move(scrb));
    return doorman::new_connection(&dm, hdl);
  }

private:
  std::shared_ptr<connection_guard> guard_;
  bool tls_;
};

class transport_actor : public io::middleman_actor_impl {
public:
  transport_actor(caf::actor_config& cfg, caf::actor broker,
                  std::shared_ptr<connection_guard> guard,
                  std::shared_ptr<client_credentials> creds, bool tls)
      : io::middleman_actor_impl(cfg, std::move(broker)),
        guard_(std::move(guard)), creds_(std::move(creds)), tls_(tls) {}

  const char* name() const override { return "conveyor.transport"; }

protected:
  caf::expected<io::scribe_ptr> connect(const std::string& host,
                                        uint16_t port) override {
    auto fd = network::new_tcp_connection(host, port);
    if (!fd)
      return std::move(fd.error());
    network::nonblocking(*fd, true);
    client_credentials::endpoint ep{host, port};
    auto preamble = encode_preamble(creds_->token(ep));
    auto outcome = creds_->fresh_outcome(ep);
    if (tls_) {
      auto session = caf::openssl::make_session(system(), *fd, false);
      if (!session) {
        network::close_socket(*fd);
        return caf::sec::cannot_connect_to_node;
      }
      return caf::make_counted<tls_scribe>(
        mpx(), *fd, guard_, tls_policy{std::move(session)}, preamble, outcome);
    }
    return caf::make_counted<tcp_scribe>(mpx(), *fd, guard_, caf::policy::tcp{},
                                         preamble, outcome);
  }

  caf::expected<io::doorman_ptr> open(uint16_t port, const char* addr,
                                      bool reuse) override {
    auto fd = network::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd)
      return std::move(fd.error());
    return caf::make_counted<guarded_doorman>(mpx(), *fd, guard_, tls_);
  }

private:
  mpx_type& mpx() {
    return static_cast<mpx_type&>(system().middleman().backend());
  }

  std::shared_ptr<connection_guard> guard_;
  std::shared_ptr<client_credentials> creds_;
  bool tls_;
};

} // namespace

caf::io::middleman_actor
spawn_transport(caf::actor_system& sys, std::shared_ptr<connection_guard> guard,
                std::shared_ptr<client_credentials> creds, bool tls) {
  auto broker =
    sys.middleman().named_broker<io::basp_broker>(caf::atom("BASP"));
  return sys.spawn<transport_actor, caf::hidden>(
    std::move(broker), std::move(guard), std::move(creds), tls);
}

} // namespace conveyor::net
