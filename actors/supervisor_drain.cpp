#include "actors/supervisor_state.hpp"

// The clean stop (docs/semantics.md §13): every queue stops starting jobs,
// running jobs get the grace to finish, then those left are interrupted
// (journaled as pending again, successes kept). The supervisor answers once
// no job runs; runtime::stop() then ends the actors.

namespace conveyor::actors::sup {

namespace {

/// How long interrupted jobs may take to journal their new state. Only a
/// hung journal takes this long; stop() goes on regardless.
constexpr auto interrupt_bound = std::chrono::seconds{30};

} // namespace

caf::result<bool> handle_drain(supervisor_pointer self, std::int64_t grace_ms) {
  auto& st = self->state;
  st.draining = true;
  auto rp = self->make_response_promise<bool>();
  auto queues = all_queues(self);
  auto all =
    fan_in<bool>::expect(queues.size(), [rp](const std::vector<bool>&) mutable {
      rp.deliver(true);
    });
  const auto grace =
    std::chrono::milliseconds{std::max<std::int64_t>(0, grace_ms)};
  for (auto& q : queues) {
    self->request(q, grace, drain_atom::value)
      .then([=](bool) { all->add(true); },
            [=](caf::error&) {
              // Grace over (or the queue is gone): interrupt what still runs
              // and wait for those jobs to settle.
              self->send(q, interrupt_atom::value);
              self->request(q, interrupt_bound, drain_atom::value)
                .then([=](bool) { all->add(true); },
                      [=](caf::error&) { all->none(); });
            });
  }
  return rp;
}

} // namespace conveyor::actors::sup
