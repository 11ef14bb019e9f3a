#pragma once

// One authenticated connection's view of the node (see session_actor in
// conveyor/remote.hpp). The session:
//   - serves only its peer node (a message from any other node, or from
//     this node, is refused: actor ids are guessable, authority is not);
//   - forwards requests to the supervisor with its principal's context
//     (access rules always apply) and answers itself, so the supervisor's
//     address never leaves the node;
//   - bounds its requests waiting for an answer (more get `overloaded`);
//   - relays a registered worker node's attempts and results, so the
//     remote pool stays private too;
//   - ends when its peer's client actor, its worker node or the supervisor
//     goes down. Exit messages are ignored: a peer could forge them.

#include "actors/remote/door.hpp"

namespace conveyor::actors {

/// What the session accepts: the remote interface plus, from the remote
/// pool on this node only, the worker-node interface it relays.
using session_impl_actor = session_actor::extend_with<worker_node_actor>;

struct session_setup {
  supervisor_actor sup;
  remote_pool_actor pool;
  access_rules access;
  request_context ctx;    ///< the authenticated principal, rules apply
  caf::node_id peer;      ///< the only node this session serves
  caf::actor_addr client; ///< the peer actor that said hello
  std::size_t max_in_flight = 256;
};

session_impl_actor spawn_session(caf::actor_system& sys, session_setup setup);

} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::session_setup)
