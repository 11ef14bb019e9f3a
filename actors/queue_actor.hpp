#pragma once

// The queue actor: one per named queue. It owns the queue's pending jobs (in
// memory, ordered by priority then id, and a timer set for delayed ones), its
// running set and its concurrency limit. It claims jobs for run() and, in
// continuous mode, starts due jobs itself the moment they are due.
//
// State groups:
//   set at spawn:       env, name, concurrency, continuous
//   mirror of durable:  ready, delayed (changed only after a journal ack)
//   volatile:           running (leases live in memory; recovery releases
//                       them), watchers, timer

#include "actors/env.hpp"
#include "actors/interfaces.hpp"

namespace conveyor::actors {

/// `recovered` are the queue's pending jobs from the journal, in order.
queue_actor spawn_queue_actor(caf::actor_system& sys, env_ptr env,
                              std::string name,
                              std::vector<model::job> recovered,
                              bool paused = false);

} // namespace conveyor::actors
