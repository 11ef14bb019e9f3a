#include "actors/remote/door.hpp"

#include <map>

#include "actors/errors.hpp"
#include "actors/remote/session.hpp"

namespace conveyor::actors {

namespace {

struct door_state {
  static constexpr const char* name = "conveyor.door";
  // Not an aggregate: CAF constructs a state from the actor pointer when it
  // can, and C++20 would aggregate-initialise `sup` from it.
  door_state() = default;
  supervisor_actor sup;
  remote_pool_actor pool;
  access_rules access;
  authenticator auth;
  door_limits limits;
  /// Open sessions per peer node, and which node each session serves.
  std::map<caf::node_id, std::size_t> per_peer;
  std::map<caf::actor_addr, caf::node_id> sessions;
};

using door_pointer = door_actor::stateful_pointer<door_state>;

struct door_setup {
  supervisor_actor sup;
  remote_pool_actor pool;
  access_rules access;
  authenticator auth;
  door_limits limits;
};

door_actor::behavior_type door_impl(door_pointer self,
                                    const std::shared_ptr<door_setup>& setup) {
  auto& st = self->state;
  st.sup = std::move(setup->sup);
  st.pool = std::move(setup->pool);
  st.access = std::move(setup->access);
  st.auth = std::move(setup->auth);
  st.limits = setup->limits;
  // A peer can send any actor it knows an exit message: only the
  // supervisor's end (seen through the monitor) ends the door.
  self->set_exit_handler([](caf::exit_msg&) {});
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.sup.address()) {
      self->quit();
      return;
    }
    auto it = st.sessions.find(dm.source);
    if (it == st.sessions.end())
      return;
    if (auto p = st.per_peer.find(it->second);
        p != st.per_peer.end() && --p->second == 0)
      st.per_peer.erase(p);
    st.sessions.erase(it);
  });
  self->monitor(st.sup);
  return {
    [=](hello_atom, const std::string& token) -> caf::result<caf::actor> {
      auto& st = self->state;
      const auto& sender = self->current_sender();
      if (!sender)
        return make_caf_error(model::errc::forbidden,
                              "hello needs a sender to serve");
      std::optional<principal_info> who;
      try {
        if (st.auth && !token.empty())
          who = st.auth(token);
      } catch (...) {
        who.reset(); // an authenticator that throws refuses
      }
      if (!who)
        return make_caf_error(model::errc::forbidden, "unknown token");
      auto peer = sender->node();
      auto& open = st.per_peer[peer];
      if (open >= st.limits.max_sessions_per_peer)
        return make_caf_error(
          model::errc::overloaded,
          "too many sessions from one node (max "
            + std::to_string(st.limits.max_sessions_per_peer) + ")");
      session_setup setup;
      setup.sup = st.sup;
      setup.pool = st.pool;
      setup.access = st.access;
      setup.ctx.principal = who->principal;
      setup.ctx.roles = who->roles;
      setup.ctx.override_access = false;
      setup.peer = peer;
      setup.client = caf::actor_cast<caf::actor_addr>(sender);
      setup.max_in_flight = st.limits.max_in_flight;
      auto session = spawn_session(self->system(), std::move(setup));
      ++open;
      st.sessions.emplace(session.address(), peer);
      self->monitor(session);
      return caf::actor_cast<caf::actor>(session);
    },
  };
}

} // namespace

door_actor spawn_door(caf::actor_system& sys, supervisor_actor sup,
                      remote_pool_actor pool, access_rules access,
                      authenticator auth, door_limits limits) {
  auto setup = std::make_shared<door_setup>(
    door_setup{std::move(sup), std::move(pool), std::move(access),
               std::move(auth), limits});
  return sys.spawn(door_impl, std::move(setup));
}

} // namespace conveyor::actors
