#pragma once

// The door a node publishes and the sessions it opens (one per hello):
// the only actors of a node that a peer ever learns about.

#include "actors/remote/remote_pool.hpp"
#include "conveyor/remote.hpp"

namespace conveyor::actors {

struct door_limits {
  std::size_t max_in_flight = 256;
  std::size_t max_sessions_per_peer = 16;
};

door_actor spawn_door(caf::actor_system& sys, supervisor_actor sup,
                      remote_pool_actor pool, access_rules access,
                      authenticator auth, door_limits limits);

} // namespace conveyor::actors
