#include "actors/remote/session.hpp"

#include "actors/errors.hpp"
#include "actors/requests.hpp"

namespace conveyor::actors {

namespace {

struct session_state {
  static constexpr const char* name = "conveyor.session";
  session_setup setup;
  std::size_t in_flight = 0;
  worker_node_actor worker; ///< the peer's registered worker node, if any
};

using session_pointer = session_impl_actor::stateful_pointer<session_state>;

/// A heartbeat names the jobs a worker runs: more than a worker can run.
constexpr std::size_t max_heartbeat_jobs = 65'536;

bool from_node(session_pointer self, const caf::node_id& node) {
  const auto& sender = self->current_sender();
  return sender && sender->node() == node;
}

caf::error not_your_session() {
  return make_caf_error(model::errc::forbidden,
                        "this session serves another node");
}

/// Sends the request to the supervisor with the session's context and
/// answers with its reply, as the session.
template <class Result, class Atom, class... Ts>
caf::result<Result> forward(session_pointer self, Atom atom, Ts&&... xs) {
  auto& st = self->state;
  if (!from_node(self, st.setup.peer))
    return not_your_session();
  if (st.in_flight >= st.setup.max_in_flight)
    return make_caf_error(model::errc::overloaded,
                          "too many requests waiting on this connection (max "
                            + std::to_string(st.setup.max_in_flight)
                            + "); retry later");
  ++st.in_flight;
  auto rp = self->make_response_promise<Result>();
  self
    ->request(st.setup.sup, caf::infinite, atom, st.setup.ctx,
              std::forward<Ts>(xs)...)
    .then(
      [=](Result& r) mutable {
        --self->state.in_flight;
        rp.deliver(std::move(r));
      },
      [=](caf::error& err) mutable {
        --self->state.in_flight;
        rp.deliver(std::move(err));
      });
  return rp;
}

session_impl_actor::behavior_type session_impl(session_pointer self,
                                               session_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  // Forged exit messages must not end a session (or anything else).
  self->set_exit_handler([](caf::exit_msg&) {});
  // A message outside the interface (a peer probing for internal ones such
  // as the clean stop's) is dropped without a line on stderr per message:
  // a request gets `unexpected_message` back, anything else nothing.
  self->set_default_handler(caf::drop);
  self->set_down_handler([=](caf::down_msg&) {
    // The peer's client, its worker node or the supervisor is gone.
    self->quit();
  });
  self->monitor(st.setup.sup);
  auto client = caf::actor_cast<caf::actor>(st.setup.client);
  if (!client)
    self->quit();
  else
    self->monitor(client);
  return {
    [=](queue_atom a, queue_request& r) {
      return forward<json>(self, a, std::move(r));
    },
    [=](queue_bulk_atom a, std::vector<queue_request>& r) {
      return forward<json>(self, a, std::move(r));
    },
    [=](run_atom a, run_request& r) {
      return forward<json>(self, a, std::move(r));
    },
    [=](run_by_id_atom a, std::uint64_t id) {
      return forward<json>(self, a, id);
    },
    [=](get_job_atom a, std::uint64_t id) {
      return forward<json>(self, a, id);
    },
    [=](find_atom a, find_request& r) {
      return forward<json>(self, a, std::move(r));
    },
    [=](cancel_by_id_atom a, std::uint64_t id) {
      return forward<json>(self, a, id);
    },
    [=](cancel_atom a, cancel_request& r) {
      return forward<json>(self, a, std::move(r));
    },
    [=](wait_job_atom a, std::uint64_t id) {
      return forward<json>(self, a, id);
    },
    [=](follow_job_atom a, std::uint64_t id, std::string& cursor) {
      return forward<json>(self, a, id, std::move(cursor));
    },
    [=](pause_queue_atom a, std::string& q, bool pause) {
      return forward<json>(self, a, std::move(q), pause);
    },
    [=](set_concurrency_atom a, std::string& q, std::int32_t limit) {
      return forward<json>(self, a, std::move(q), limit);
    },
    [=](handle_schedules_atom a, schedules_request& r) {
      return forward<json>(self, a, std::move(r));
    },
    [=](count_active_atom a, count_request& r) {
      return forward<std::int64_t>(self, a, std::move(r));
    },
    [=](register_worker_atom, worker_node_actor& w,
        std::vector<std::string>& queues,
        std::vector<std::string>& slugs) -> caf::result<bool> {
      auto& st = self->state;
      if (!from_node(self, st.setup.peer))
        return not_your_session();
      if (!w || w->node() != st.setup.peer)
        return make_caf_error(model::errc::invalid_input,
                              "a worker node must live on the connecting node");
      if (st.worker)
        return make_caf_error(model::errc::conflict,
                              "this session already has a worker node");
      if (queues.empty() || queues.size() > 256 || slugs.size() > 4096)
        return make_caf_error(model::errc::invalid_input,
                              "a worker serves 1 to 256 queues and at most "
                              "4096 tasks");
      // Taking jobs of a queue is running them: the run rule decides.
      for (auto& q : queues) {
        access_target target{q};
        if (!allowed(st.setup.access, operation::run, st.setup.ctx, target))
          return to_caf_error(forbidden(operation::run, st.setup.ctx, target));
      }
      st.worker = std::move(w);
      self->monitor(st.worker);
      // The pool sees this session as the worker: attempts and results pass
      // through here.
      self->send(st.setup.pool, register_worker_atom::value,
                 caf::actor_cast<worker_node_actor>(self), std::move(queues),
                 std::move(slugs));
      return true;
    },
    [=](remote_result& r) {
      auto& st = self->state;
      if (!st.worker || !from_node(self, st.setup.peer))
        return; // only the registered worker's node may answer
      self->send(st.setup.pool, std::move(r));
    },
    [=](heartbeat_atom a, std::vector<std::uint64_t>& jobs) {
      auto& st = self->state;
      if (!st.worker || !from_node(self, st.setup.peer)
          || jobs.size() > max_heartbeat_jobs)
        return;
      // The pool renews only attempts it sent to this session.
      self->send(st.setup.pool, a, std::move(jobs));
    },
    [=](run_task_atom a, remote_task& t) {
      auto& st = self->state;
      if (!from_node(self, self->node()) || !st.worker)
        return; // attempts come from this node's pool only
      self->send(st.worker, a, std::move(t));
    },
    [=](cancel_task_atom a, std::uint64_t job, std::string& lease) {
      auto& st = self->state;
      if (!from_node(self, self->node()) || !st.worker)
        return;
      self->send(st.worker, a, job, std::move(lease));
    },
  };
}

} // namespace

session_impl_actor spawn_session(caf::actor_system& sys, session_setup setup) {
  return sys.spawn(session_impl, std::move(setup));
}

} // namespace conveyor::actors
