#include "actors/journal_actor.hpp"

#include <vector>

#include "actors/errors.hpp"

namespace conveyor::actors {

namespace {

using write_atom = caf::atom_constant<caf::atom("cv_write")>;
using batches = std::vector<persistence::write_batch>;

} // namespace
} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::batches)

namespace conveyor::actors {

namespace {

/// Runs the blocking write on its own thread.
using writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, batches>::with<std::uint64_t>>;

writer_actor::behavior_type
writer(writer_actor::pointer self, std::shared_ptr<persistence::journal> db) {
  auto group = std::make_shared<std::uint64_t>(0);
  return {
    [=](write_atom, const batches& bs) -> caf::result<std::uint64_t> {
      if (auto st = db->commit(bs); !st)
        return to_caf_error(st.error());
      return ++*group;
    },
  };
  (void) self;
}

struct journal_state {
  static constexpr const char* name = "conveyor.journal";
  std::shared_ptr<journal_stats> stats;
  writer_actor writer;
  batches pending;
  std::vector<caf::typed_response_promise<std::uint64_t>> waiters;
  bool writing = false;
};

using journal_pointer = journal_actor::stateful_pointer<journal_state>;

void flush(journal_pointer self) {
  auto& st = self->state;
  if (st.writing || st.pending.empty())
    return;
  st.writing = true;
  auto group = std::move(st.pending);
  auto waiters = std::move(st.waiters);
  st.pending.clear();
  st.waiters.clear();
  if (st.stats) {
    st.stats->groups.fetch_add(1, std::memory_order_relaxed);
    st.stats->batches.fetch_add(group.size(), std::memory_order_relaxed);
  }
  auto shared_waiters = std::make_shared<decltype(waiters)>(std::move(waiters));
  self->request(st.writer, caf::infinite, write_atom::value, std::move(group))
    .then(
      [=](std::uint64_t n) mutable {
        for (auto& rp : *shared_waiters)
          rp.deliver(n);
        self->state.writing = false;
        flush(self);
      },
      [=](caf::error& err) mutable {
        for (auto& rp : *shared_waiters)
          rp.deliver(err);
        self->state.writing = false;
        flush(self);
      });
}

journal_actor::behavior_type
journal_impl(journal_pointer self, std::shared_ptr<persistence::journal> db,
             std::shared_ptr<journal_stats> stats) {
  self->state.stats = std::move(stats);
  self->state.writer = self->spawn<caf::detached + caf::linked>(writer, db);
  return {
    [=](commit_atom, persistence::write_batch& b) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::uint64_t>();
      st.pending.push_back(std::move(b));
      st.waiters.push_back(rp);
      flush(self);
      return rp;
    },
  };
}

} // namespace

journal_actor spawn_journal_actor(caf::actor_system& sys,
                                  std::shared_ptr<persistence::journal> db,
                                  std::shared_ptr<journal_stats> stats) {
  return sys.spawn(journal_impl, std::move(db), std::move(stats));
}

} // namespace conveyor::actors
