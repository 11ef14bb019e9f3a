#include "actors/supervisor.hpp"

#include "actors/errors.hpp"
#include "actors/queue_actor.hpp"
#include "actors/supervisor_state.hpp"
#include "model/job_json.hpp"
#include "persistence/job_records.hpp"

// The supervisor routes requests to the handlers of its concerns:
// supervisor_enqueue.cpp (new jobs), supervisor_run.cpp (running),
// supervisor_reads.cpp, supervisor_cancel.cpp, supervisor_drain.cpp (the
// clean stop), and supervisor_access.cpp (the first access check every
// handler makes). Queue administration
// (pause, concurrency) is small and lives here.

namespace conveyor::actors::sup {

using model::errc;
using model::job_id;

queue_actor queue_of(supervisor_pointer self, const std::string& name,
                     std::vector<model::job> recovered) {
  auto& st = self->state;
  auto it = st.queues.find(name);
  if (it != st.queues.end())
    return it->second;
  // Counted before the queue runs: an admission right after recovery sees
  // them.
  st.env->counts->add(st.env->counts->of(name), recovered.size());
  auto q = spawn_queue_actor(self->system(), st.env, name, std::move(recovered),
                             st.paused.count(name) > 0);
  self->link_to(q);
  st.queues.emplace(name, q);
  if (st.draining) // a queue first named during a clean stop starts nothing
    self->request(q, caf::infinite, drain_atom::value)
      .then([](bool) {}, [](caf::error&) {});
  return q;
}

std::optional<caf::error> know_queue(const supervisor_pointer& self,
                                     const std::string& queue) {
  auto& counts = *self->state.env->counts;
  if (auto no = counts.too_many_queues(queue, self->state.env->options.limits))
    return make_caf_error(errc::overloaded, *no);
  counts.of(queue); // known from now on
  return std::nullopt;
}

json render(const supervisor_pointer& self, const model::job& j) {
  return model::to_json(j, self->state.env->now());
}

caf::result<json> handle_pause(supervisor_pointer self,
                               const request_context& ctx,
                               const std::string& queue, bool pause) {
  const auto& env = self->state.env;
  if (auto no = denied(self, operation::run, ctx, {queue}))
    return *no;
  if (!valid_queue_name(queue))
    return make_caf_error(errc::invalid_input,
                          "queue: '" + queue + "' is not a queue name");
  if (auto no = know_queue(self, queue))
    return *no;
  persistence::write_batch batch;
  persistence::add_meta_write(batch, persistence::paused_key(queue),
                              pause ? std::optional<std::string>{"1"}
                                    : std::nullopt);
  auto rp = self->make_response_promise<json>();
  self
    ->request(env->journal, caf::infinite, commit_atom::value, std::move(batch))
    .then(
      [=](std::uint64_t) mutable {
        auto& st = self->state;
        if (pause)
          st.paused.insert(queue);
        else
          st.paused.erase(queue);
        self->send(queue_of(self, queue), pause_queue_atom::value, pause);
        rp.deliver(json{{"queue", queue}, {"paused", pause}});
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

/// The queues the read rule shows the caller, each asked for its counts.
caf::result<json> handle_queue_stats(supervisor_pointer self,
                                     queue_stats_atom a,
                                     const request_context& ctx) {
  std::vector<queue_actor> visible;
  for (auto& [name, q] : self->state.queues)
    if (allowed(self->state.env->options.access, operation::read, ctx, {name}))
      visible.push_back(q);
  auto rp = self->make_response_promise<json>();
  auto all =
    fan_in<json>::expect(visible.size(), [rp](std::vector<json> qs) mutable {
      std::sort(qs.begin(), qs.end(), [](const json& x, const json& y) {
        return x.value("name", "") < y.value("name", "");
      });
      rp.deliver(json(std::move(qs)));
    });
  for (auto& q : visible)
    self->request(q, caf::infinite, a)
      .then([=](json& stats) { all->add(std::move(stats)); },
            [=](caf::error&) { all->none(); });
  return rp;
}

caf::result<json> handle_set_concurrency(supervisor_pointer self,
                                         const request_context& ctx,
                                         const std::string& queue,
                                         std::int32_t limit) {
  if (auto no = denied(self, operation::run, ctx, {queue}))
    return *no;
  if (!valid_queue_name(queue))
    return make_caf_error(errc::invalid_input,
                          "queue: '" + queue + "' is not a queue name");
  if (auto no = know_queue(self, queue))
    return *no;
  if (limit < 1)
    return make_caf_error(errc::invalid_input,
                          "concurrency: must be at least 1");
  self->send(queue_of(self, queue), set_concurrency_atom::value, limit);
  return json_answer(self, {{"queue", queue}, {"concurrency", limit}});
}

supervisor_actor::behavior_type
supervisor_impl(supervisor_pointer self, env_ptr env,
                const persistence::recovered_state& recovered) {
  auto& st = self->state;
  st.env = env;
  st.reader = self->spawn<caf::detached + caf::linked>(reader, env);
  // The journal and the pool live and die with the supervisor.
  self->link_to(env->journal);
  self->link_to(env->pool);
  self->link_to(env->remote);
  // Paused before any queue exists, so recovered queues start paused.
  for (auto& name : recovered.paused)
    st.paused.insert(name);
  for (auto& [name, jobs] : recovered.pending)
    queue_of(self, name, jobs);
  for (auto& name : recovered.paused)
    queue_of(self, name); // exists, so it reports as paused
  st.scheduler = spawn_scheduler(self->system(), env,
                                 caf::actor_cast<supervisor_actor>(self));
  self->link_to(st.scheduler);
  return {
    [=](handle_schedules_atom, const request_context& ctx,
        schedules_request& req) -> caf::result<json> {
      if (auto no = denied(self, operation::run, ctx,
                           {req.all_queues ? std::string{"*"} : req.queue}))
        return *no;
      if (!req.all_queues && !valid_queue_name(req.queue))
        return make_caf_error(errc::invalid_input,
                              "queue: '" + req.queue + "' is not a queue name");
      return self->delegate(self->state.scheduler, handle_schedules_atom::value,
                            std::move(req));
    },
    [=](count_active_atom, const request_context& ctx,
        count_request& req) -> caf::result<std::int64_t> {
      if (auto no = denied(self, operation::read, ctx, {req.queue}))
        return *no;
      if (req.task.empty() == req.workflow.empty())
        return make_caf_error(errc::invalid_input,
                              "exactly one of task and workflow must be set");
      auto it = self->state.queues.find(req.queue);
      if (it == self->state.queues.end())
        return std::int64_t{0};
      return self->delegate(it->second, count_active_atom::value,
                            std::move(req));
    },
    [=](queue_stats_atom a, const request_context& ctx) -> caf::result<json> {
      return handle_queue_stats(self, a, ctx);
    },
    [=](pending_scheduled_atom a, count_request& req) -> caf::result<json> {
      const auto& sender = self->current_sender();
      if (sender && sender->node() != self->node())
        return make_caf_error(errc::forbidden, "for the node's scheduler only");
      auto it = self->state.queues.find(req.queue);
      if (it == self->state.queues.end())
        return json_answer(self, {{"count", 0}, {"job", nullptr}});
      return self->delegate(it->second, a, std::move(req));
    },
    [=](clock_changed_atom a) -> caf::result<bool> {
      const auto& sender = self->current_sender();
      if (sender && sender->node() != self->node())
        return make_caf_error(errc::forbidden,
                              "only the node's own process owns its clock");
      for (auto& [name, q] : self->state.queues)
        self->send(q, caf::tick_atom::value);
      return self->delegate(self->state.scheduler, a);
    },
    [=](pause_queue_atom, const request_context& ctx, const std::string& queue,
        bool pause) -> caf::result<json> {
      return handle_pause(self, ctx, queue, pause);
    },
    [=](set_concurrency_atom, const request_context& ctx,
        const std::string& queue, std::int32_t limit) -> caf::result<json> {
      return handle_set_concurrency(self, ctx, queue, limit);
    },
    [=](queue_atom, const request_context& ctx,
        queue_request& req) -> caf::result<json> {
      if (auto no = denied(self, operation::queue, ctx,
                           {effective_queue(*env->reg, req)}))
        return *no;
      auto rp = self->make_response_promise<json>();
      handle_queue(self, ctx, req, rp);
      return rp;
    },
    [=](queue_bulk_atom, const request_context& ctx,
        std::vector<queue_request>& reqs) -> caf::result<json> {
      for (auto& req : reqs)
        if (auto no = denied(self, operation::queue, ctx,
                             {effective_queue(*env->reg, req)}))
          return *no;
      auto rp = self->make_response_promise<json>();
      handle_queue_bulk(self, reqs, rp);
      return rp;
    },
    [=](run_atom, const request_context& ctx,
        const run_request& req) -> caf::result<json> {
      if (auto no = denied(self, operation::run, ctx,
                           {req.all_queues ? std::string{"*"} : req.queue}))
        return *no;
      auto rp = self->make_response_promise<json>();
      handle_run(self, req, rp);
      return rp;
    },
    [=](run_by_id_atom, const request_context& ctx, std::uint64_t id)
      -> caf::result<json> { return handle_run_by_id(self, ctx, id); },
    [=](get_job_atom, const request_context& ctx, std::uint64_t id)
      -> caf::result<json> { return handle_get(self, ctx, id); },
    [=](follow_job_atom, const request_context& ctx, std::uint64_t id,
        const std::string& cursor) -> caf::result<json> {
      return handle_follow(self, ctx, id, cursor);
    },
    [=](find_atom, const request_context& ctx, const find_request& req)
      -> caf::result<json> { return handle_find(self, ctx, req); },
    [=](cancel_by_id_atom, const request_context& ctx, std::uint64_t id)
      -> caf::result<json> { return handle_cancel_by_id(self, ctx, id); },
    [=](cancel_atom, const request_context& ctx, const cancel_request& req)
      -> caf::result<json> { return handle_cancel_where(self, ctx, req); },
    [=](wait_job_atom, const request_context& ctx, std::uint64_t id)
      -> caf::result<json> { return handle_wait(self, ctx, id); },
    [=](drain_atom, std::int64_t grace_ms) -> caf::result<bool> {
      const auto& sender = self->current_sender();
      if (sender && sender->node() != self->node())
        return make_caf_error(errc::forbidden,
                              "only the node's own process may stop it");
      return handle_drain(self, grace_ms);
    },
  };
}

} // namespace conveyor::actors::sup

namespace conveyor::actors {

supervisor_actor spawn_supervisor(caf::actor_system& sys, env_ptr env,
                                  persistence::recovered_state recovered) {
  return sys.spawn(sup::supervisor_impl, std::move(env), std::move(recovered));
}

} // namespace conveyor::actors
