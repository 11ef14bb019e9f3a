#pragma once

// The journal actor: group commit in front of a persistence::journal_writer.
//
// Requests that arrive while a write or an fsync is in flight are merged into
// the next write, so one fsync acknowledges many of them. Each requester is
// answered only after its batch is durable (or with an error, in which case
// nothing of its batch was applied). The journal actor and its syncer are
// detached (own threads), so CAF's scheduler threads never wait for the disk.

#include <algorithm>
#include <array>
#include <atomic>
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

/// Counts per fixed bucket, written by one thread and read by any (a
/// scrape): counts[i] holds the observations in (bounds[i-1], bounds[i]],
/// the last one those above every bound.
template <std::size_t N>
struct bucket_counts {
  std::array<std::uint64_t, N> bounds;
  std::array<std::atomic<std::uint64_t>, N + 1> counts{};
  std::atomic<std::uint64_t> sum{0}; ///< of every observed value

  void observe(std::uint64_t value) {
    auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
    counts[static_cast<std::size_t>(it - bounds.begin())].fetch_add(
      1, std::memory_order_relaxed);
    sum.fetch_add(value, std::memory_order_relaxed);
  }
};

/// What the journal did since it started, for benchmarks and /metrics.
struct journal_stats {
  std::atomic<std::uint64_t> groups{0};  ///< log writes
  std::atomic<std::uint64_t> batches{0}; ///< requests
  std::atomic<std::uint64_t> syncs{0};   ///< fsyncs
  std::atomic<std::uint64_t> sync_ns{0}; ///< time spent in fsync
  /// Requests per group commit.
  bucket_counts<11> group_sizes{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  /// Nanoseconds per fsync, from 50 us to 1 s.
  bucket_counts<10> sync_durations{{50'000, 100'000, 250'000, 500'000,
                                    1'000'000, 2'500'000, 5'000'000, 10'000'000,
                                    100'000'000, 1'000'000'000}};
};

journal_actor
spawn_journal_actor(caf::actor_system& sys,
                    std::shared_ptr<persistence::journal_writer> db,
                    std::shared_ptr<journal_stats> stats = {});

} // namespace conveyor::actors
