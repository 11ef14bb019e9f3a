// conveyor::network: the guarded transport, the door and connecting.

#include "conveyor/network.hpp"

#include <map>
#include <mutex>

#include "actors/errors.hpp"
#include "actors/remote/door.hpp"
#include "net/guarded_scribe.hpp"
#include "net/transport.hpp"

namespace conveyor {

namespace {

/// The client end of a session: it says hello, so the node's session
/// watches it and ends when it (or its connection) goes away.
// Takes the door as a spawn argument: CAF 0.17 dereferences a null argument
// tuple when a function-based actor is spawned without arguments (UBSan).
caf::behavior session_anchor(caf::event_based_actor* self,
                             const door_actor& door) {
  return {
    [=](hello_atom, std::string& token,
        caf::timespan timeout) -> caf::result<caf::actor> {
      const auto& sender = self->current_sender();
      if (!sender || sender->node() != self->node())
        return caf::sec::request_receiver_down; // only this process asks
      auto rp = self->make_response_promise<caf::actor>();
      self->request(door, timeout, hello_atom::value, std::move(token))
        .then([=](caf::actor& s) mutable { rp.deliver(std::move(s)); },
              [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace

struct network::impl {
  caf::actor_system& sys;
  network_options options;
  std::shared_ptr<net::connection_guard> guard;
  std::shared_ptr<net::client_credentials> creds;
  caf::io::middleman_actor transport;
  std::mutex mutex;
  std::map<caf::actor_addr, caf::actor> anchors; ///< by session

  impl(caf::actor_system& s, network_options o) : sys(s), options(o) {
    net::guard_limits limits;
    limits.max_message_bytes = options.max_message_bytes;
    limits.max_connections = options.max_connections;
    limits.handshake_timeout = options.handshake_timeout;
    guard = std::make_shared<net::connection_guard>(limits, nullptr);
    creds = std::make_shared<net::client_credentials>();
    transport = net::spawn_transport(sys, guard, creds, options.tls);
  }

  ~impl() {
    for (auto& [session, anchor] : anchors)
      caf::anon_send_exit(anchor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(transport, caf::exit_reason::user_shutdown);
  }
};

network::network(caf::actor_system& sys, network_options options)
    : impl_(std::make_unique<impl>(sys, options)) {}

network::~network() = default;

const network_options& network::options() const {
  return impl_->options;
}

model::expected<std::uint16_t> network::publish(runtime& rt,
                                                const std::string& host,
                                                std::uint16_t port,
                                                authenticator auth) {
  auto& st = *impl_;
  // The transport asks the same question before any CAF byte is read.
  st.guard->set_check([auth](const std::string& token) {
    return auth && auth(token).has_value();
  });
  actors::door_limits limits{st.options.max_in_flight,
                             st.options.max_sessions_per_peer};
  auto door = actors::spawn_door(
    st.sys, rt.supervisor(),
    caf::actor_cast<actors::remote_pool_actor>(rt.remote_workers()),
    rt.access(), std::move(auth), limits);
  caf::scoped_actor self{st.sys};
  model::expected<std::uint16_t> result =
    model::make_error(model::errc::unavailable, "no answer from the transport");
  auto sigs = st.sys.message_types(door);
  self
    ->request(st.transport, std::chrono::seconds(30), caf::publish_atom::value,
              port, caf::actor_cast<caf::strong_actor_ptr>(door), sigs, host,
              true)
    .receive([&](std::uint16_t bound) { result = bound; },
             [&](caf::error& err) {
               caf::anon_send_exit(door, caf::exit_reason::user_shutdown);
               result = model::make_error(model::errc::unavailable,
                                          "cannot listen on " + host + ":"
                                            + std::to_string(port) + ": "
                                            + st.sys.render(err));
             });
  return result;
}

model::expected<session_actor>
network::connect(const std::string& host, std::uint16_t port,
                 const std::string& token, std::chrono::milliseconds timeout) {
  auto& st = *impl_;
  net::client_credentials::endpoint ep{host, port};
  st.creds->set_token(ep, token);
  caf::scoped_actor self{st.sys};
  auto where = host + ":" + std::to_string(port);
  door_actor door;
  std::optional<model::error> failure;
  self->request(st.transport, timeout, caf::connect_atom::value, host, port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr,
          std::set<std::string>& ifs) {
        if (!ptr)
          failure = model::make_error(model::errc::unavailable,
                                      "no conveyor node at " + where);
        else if (!st.sys.assignable(ifs, st.sys.message_types<door_actor>()))
          failure = model::make_error(model::errc::unavailable,
                                      "the node at " + where
                                        + " speaks another protocol version");
        else
          door = caf::actor_cast<door_actor>(std::move(ptr));
      },
      [&](caf::error& err) {
        if (st.creds->last_outcome(ep)
            == static_cast<int>(net::verdict::refused))
          failure =
            model::make_error(model::errc::forbidden,
                              "the node at " + where + " refused the token");
        else
          failure = model::make_error(model::errc::unavailable,
                                      "cannot reach a conveyor node at " + where
                                        + " (" + st.sys.render(err) + ")");
      });
  if (failure)
    return *failure;
  session_actor session;
  auto anchor = st.sys.spawn<caf::hidden>(session_anchor, door);
  self
    ->request(anchor, timeout, hello_atom::value, token, caf::timespan{timeout})
    .receive(
      [&](caf::actor& s) {
        session = caf::actor_cast<session_actor>(std::move(s));
      },
      [&](caf::error& err) { failure = actors::from_caf_error(err); });
  if (failure || !session) {
    caf::anon_send_exit(anchor, caf::exit_reason::user_shutdown);
    if (!failure)
      failure = model::make_error(model::errc::unavailable, "no session");
    return *failure;
  }
  std::lock_guard lock{st.mutex};
  st.anchors.emplace(session.address(), std::move(anchor));
  return session;
}

void network::close(const session_actor& session) {
  std::lock_guard lock{impl_->mutex};
  auto it = impl_->anchors.find(session.address());
  if (it == impl_->anchors.end())
    return;
  caf::anon_send_exit(it->second, caf::exit_reason::user_shutdown);
  impl_->anchors.erase(it);
}

network_stats network::stats() const {
  auto& g = impl_->guard->stats();
  network_stats s;
  s.accepted = g.accepted.load();
  s.refused_over_capacity = g.refused_over_capacity.load();
  s.refused_bad_preamble = g.refused_bad_preamble.load();
  s.refused_unknown_token = g.refused_unknown_token.load();
  s.closed_by_timeout = g.closed_by_timeout.load();
  s.closed_oversized = g.closed_oversized.load();
  s.authenticated = g.authenticated.load();
  s.open = g.open.load();
  return s;
}

} // namespace conveyor
