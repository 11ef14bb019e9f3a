#include "actors/journal_actor.hpp"

#include <deque>
#include <vector>

#include "actors/errors.hpp"

namespace conveyor::actors {

namespace {

using sync_atom = caf::atom_constant<caf::atom("cv_sync")>;
using batches = std::vector<persistence::write_batch>;

} // namespace
} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::batches)

namespace conveyor::actors {

namespace {

// The journal actor runs on its own thread and applies each group to the
// log itself (a write without fsync is CPU work only). A detached syncer
// fsyncs the log. While one group is being synced, the next one is already
// being written, so the disk's fsync latency and the CPU work overlap.
//
// Grouping: a commit request only queues its batch and, if none is pending,
// sends the actor a flush message. The flush lands behind every request that
// arrived meanwhile, so one write takes all of them.

using syncer_actor = caf::typed_actor<caf::replies_to<sync_atom>::with<bool>>;

syncer_actor::behavior_type
syncer(syncer_actor::pointer, std::shared_ptr<persistence::journal> db) {
  return {
    [=](sync_atom) -> caf::result<bool> {
      if (auto st = db->sync(); !st)
        return to_caf_error(st.error());
      return true;
    },
  };
}

using promises = std::vector<caf::typed_response_promise<std::uint64_t>>;

struct journal_state {
  static constexpr const char* name = "conveyor.journal";
  std::shared_ptr<journal_stats> stats;
  bool sync_mode = true;
  std::shared_ptr<persistence::journal> db;
  syncer_actor syncer;
  // Requests not yet handed to the writer.
  batches pending;
  promises waiters;
  // Groups written but not yet synced, oldest first.
  std::deque<std::pair<std::uint64_t, promises>> unsynced;
  std::uint64_t written = 0; ///< number of the last group written
  bool flush_queued = false;
  bool syncing = false;
};

using journal_pointer = journal_actor::stateful_pointer<journal_state>;

void deliver_all(promises& ps, std::uint64_t group) {
  for (auto& rp : ps)
    rp.deliver(group);
}

void fail_all(promises& ps, const caf::error& err) {
  for (auto& rp : ps)
    rp.deliver(err);
}

void start_sync(journal_pointer self) {
  auto& st = self->state;
  if (st.syncing || st.unsynced.empty())
    return;
  st.syncing = true;
  if (st.stats)
    st.stats->syncs.fetch_add(1, std::memory_order_relaxed);
  auto upto = st.written; // every group up to here returned from write()
  self->request(st.syncer, caf::infinite, sync_atom::value)
    .then(
      [=](bool) {
        auto& st = self->state;
        st.syncing = false;
        while (!st.unsynced.empty() && st.unsynced.front().first <= upto) {
          deliver_all(st.unsynced.front().second, st.unsynced.front().first);
          st.unsynced.pop_front();
        }
        start_sync(self);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.syncing = false;
        while (!st.unsynced.empty() && st.unsynced.front().first <= upto) {
          fail_all(st.unsynced.front().second, err);
          st.unsynced.pop_front();
        }
        start_sync(self);
      });
}

/// Writes every pending request as one group (no fsync), then hands the
/// group to the syncer (sync mode) or acknowledges it (async mode).
void write_pending(journal_pointer self) {
  auto& st = self->state;
  st.flush_queued = false;
  if (st.pending.empty())
    return;
  if (st.stats) {
    st.stats->groups.fetch_add(1, std::memory_order_relaxed);
    st.stats->batches.fetch_add(st.pending.size(), std::memory_order_relaxed);
  }
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  auto written = st.db->write(st.pending);
  st.pending.clear();
  if (!written) {
    fail_all(waiters, to_caf_error(written.error()));
    return;
  }
  auto seq = ++st.written;
  if (st.sync_mode) {
    st.unsynced.emplace_back(seq, std::move(waiters));
    start_sync(self);
  } else {
    deliver_all(waiters, seq);
  }
}

journal_actor::behavior_type
journal_impl(journal_pointer self, std::shared_ptr<persistence::journal> db,
             std::shared_ptr<journal_stats> stats) {
  auto& st = self->state;
  st.stats = std::move(stats);
  st.sync_mode = db->mode() == persistence::durability::sync;
  st.db = db;
  st.syncer = self->spawn<caf::detached + caf::linked>(syncer, db);
  return {
    [=](commit_atom, persistence::write_batch& b) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::uint64_t>();
      st.pending.push_back(std::move(b));
      st.waiters.push_back(rp);
      if (!st.flush_queued) {
        st.flush_queued = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [=](flush_atom) { write_pending(self); },
  };
}

} // namespace

journal_actor spawn_journal_actor(caf::actor_system& sys,
                                  std::shared_ptr<persistence::journal> db,
                                  std::shared_ptr<journal_stats> stats) {
  // Detached: the write below blocks this actor's own thread only.
  return sys.spawn<caf::detached>(journal_impl, std::move(db), std::move(stats));
}

} // namespace conveyor::actors
