#pragma once

// The journal actor: group commit in front of a persistence::journal.
//
// Requests that arrive while a write is in flight are merged into the next
// write, so one fsync acknowledges many of them. Each requester is answered
// only after its batch is durable (or with an error, in which case nothing of
// its batch was applied). The blocking write runs on a detached actor, so CAF's
// scheduler threads never wait for the disk.

#include <cstdint>
#include <memory>

#include "caf/all.hpp"
#include "persistence/journal.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::persistence::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<conveyor::persistence::journal>)

namespace conveyor::actors {

using commit_atom = caf::atom_constant<caf::atom("cv_commit")>;

/// Replies with the number of the group commit that made the batch durable.
using journal_actor = caf::typed_actor<
  caf::replies_to<commit_atom, persistence::write_batch>::with<std::uint64_t>>;

/// Statistics a benchmark or test can read after the fact.
struct journal_stats {
  std::atomic<std::uint64_t> groups{0};
  std::atomic<std::uint64_t> batches{0};
};

journal_actor spawn_journal_actor(caf::actor_system& sys,
                                  std::shared_ptr<persistence::journal> db,
                                  std::shared_ptr<journal_stats> stats = {});

} // namespace conveyor::actors
