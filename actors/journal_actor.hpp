#pragma once

// The journal actor: group commit in front of a persistence::journal_writer.
//
// Requests that arrive while a write or an fsync is in flight are merged into
// the next write, so one fsync acknowledges many of them. Each requester is
// answered only after its batch is durable (or with an error, in which case
// nothing of its batch was applied). The journal actor and its syncer are
// detached (own threads), so CAF's scheduler threads never wait for the disk.

#include <cstdint>
#include <memory>

#include "caf/all.hpp"
#include "persistence/journal.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::persistence::write_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  std::shared_ptr<conveyor::persistence::journal_writer>)

namespace conveyor::actors {

using commit_atom = caf::atom_constant<caf::atom("cv_commit")>;

using flush_atom = caf::atom_constant<caf::atom("cv_flush")>;

/// Replies with the number of the group commit that made the batch durable.
/// (flush is internal: the actor sends it to itself to close a group.)
using journal_actor = caf::typed_actor<
  caf::replies_to<commit_atom, persistence::write_batch>::with<std::uint64_t>,
  caf::reacts_to<flush_atom>>;

/// Statistics a benchmark or test can read after the fact.
struct journal_stats {
  std::atomic<std::uint64_t> groups{0};  ///< log writes
  std::atomic<std::uint64_t> batches{0}; ///< requests
  std::atomic<std::uint64_t> syncs{0};   ///< fsyncs
  std::atomic<std::uint64_t> sync_ns{0}; ///< time spent in fsync
};

journal_actor
spawn_journal_actor(caf::actor_system& sys,
                    std::shared_ptr<persistence::journal_writer> db,
                    std::shared_ptr<journal_stats> stats = {});

} // namespace conveyor::actors
