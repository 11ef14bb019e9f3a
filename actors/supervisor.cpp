#include "actors/supervisor.hpp"

#include "actors/errors.hpp"
#include "actors/queue_actor.hpp"
#include "actors/supervisor_state.hpp"
#include "actors/worker_pool.hpp"
#include "model/job_json.hpp"
#include "model/json_guard.hpp"
#include "model/schema.hpp"
#include "model/where.hpp"
#include "persistence/job_records.hpp"
#include "persistence/key_codec.hpp"

namespace conveyor::actors::sup {

using model::errc;
using model::job_id;


queue_actor queue_of(supervisor_pointer self, const std::string& name,
                     std::vector<model::job> recovered) {
  auto& st = self->state;
  auto it = st.queues.find(name);
  if (it != st.queues.end())
    return it->second;
  auto q = spawn_queue_actor(self->system(), st.env, name, std::move(recovered),
                             st.paused.count(name) > 0);
  self->link_to(q);
  st.queues.emplace(name, q);
  return q;
}

json render(const supervisor_pointer& self, const model::job& j) {
  return model::to_json(j, self->state.env->now());
}

namespace {

/// Sends the same request to every queue in `targets` and calls `done` with
/// all the jobs they answered, once each one answered (failures count as no
/// jobs).
template <class... Ts>
void gather_jobs(supervisor_pointer self, const std::vector<queue_actor>& targets,
                 std::function<void(std::vector<model::job>)> done, Ts... xs) {
  auto all = std::make_shared<std::vector<model::job>>();
  auto left = std::make_shared<std::size_t>(targets.size() + 1);
  auto one_done = [=]() mutable {
    if (--*left == 0)
      done(std::move(*all));
  };
  for (auto& q : targets)
    self->request(q, caf::infinite, xs...)
      .then(
        [=](std::vector<model::job>& js) mutable {
          for (auto& j : js)
            all->push_back(std::move(j));
          one_done();
        },
        [=](caf::error&) mutable { one_done(); });
  one_done();
}

std::vector<queue_actor> all_queues(supervisor_pointer self) {
  std::vector<queue_actor> out;
  for (auto& [name, q] : self->state.queues)
    out.push_back(q);
  return out;
}


} // namespace

/// Journals new jobs in one batch, hands them to their queues, then calls
/// `done` (or `fail`).
/// Superseded jobs that were taken out of their queues for a write that
/// did not happen: pending again.
void give_back(supervisor_pointer self, const std::vector<model::job>& jobs) {
  std::map<std::string, std::vector<model::job>> back;
  for (auto& old : jobs)
    back[old.queue].push_back(old);
  for (auto& [q, js] : back)
    self->send(queue_of(self, q), enqueue_atom::value, std::move(js));
}

void commit_new_jobs(supervisor_pointer self, std::vector<model::job> jobs,
                     std::function<void(const std::vector<model::job>&)> done,
                     std::function<void(const caf::error&)> fail,
                     std::vector<model::job> superseded = {},
                     std::string idempotency_index = {}) {
  auto& st = self->state;
  auto count = jobs.size();
  if (st.pending_new_jobs + count > st.env->options.max_pending_enqueues) {
    give_back(self, superseded);
    fail(make_caf_error(errc::overloaded,
                        "the journal has "
                          + std::to_string(st.pending_new_jobs)
                          + " new jobs waiting to be written (max "
                          + std::to_string(st.env->options.max_pending_enqueues)
                          + "); retry later"));
    return;
  }
  st.pending_new_jobs += count;
  persistence::write_batch batch;
  // Superseded jobs vanish in the same batch that adds their successor.
  for (auto& old : superseded)
    persistence::add_job_erase(batch, old);
  for (auto& j : jobs) {
    j.id = st.env->next_id.fetch_add(1);
    persistence::add_job_write(batch, j, nullptr, idempotency_index);
  }
  self->request(st.env->journal, caf::infinite, commit_atom::value,
                std::move(batch))
    .then(
      [=](std::uint64_t) {
        self->state.pending_new_jobs -= count;
        std::map<std::string, std::vector<model::job>> by_queue;
        for (auto& j : jobs)
          by_queue[j.queue].push_back(j);
        for (auto& [q, js] : by_queue)
          self->send(queue_of(self, q), enqueue_atom::value, std::move(js));
        done(jobs);
      },
      [=](caf::error& err) {
        self->state.pending_new_jobs -= count;
        // Nothing was written: superseded jobs are pending again.
        give_back(self, superseded);
        fail(err);
      });
}

/// Loads a job from the journal, then calls `f` with it (or replies
/// not_found through `rp`).
template <class F>
void with_stored_job(supervisor_pointer self, job_id id,
                     caf::typed_response_promise<json> rp, F f) {
  self->request(self->state.reader, caf::infinite, read_atom::value, id)
    .then(
      [=](std::vector<model::job>& found) mutable {
        if (found.empty()) {
          rp.deliver(make_caf_error(errc::not_found,
                                    "job " + std::to_string(id) + " not found"));
          return;
        }
        f(std::move(found.front()));
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
}

/// with_stored_job, plus the second access check once the job (and so its
/// queue) is known.
template <class F>
void with_permitted_job(supervisor_pointer self, job_id id, operation op,
                        const request_context& ctx,
                        caf::typed_response_promise<json> rp, F f) {
  with_stored_job(self, id, rp, [=](model::job j) mutable {
    access_target target{j.queue, &j};
    if (!allowed(self->state.env->options.access, op, ctx, target)) {
      rp.deliver(to_caf_error(forbidden(op, ctx, target)));
      return;
    }
    f(std::move(j));
  });
}

/// Answers with a job that just left its queue: its final document, or,
/// if deletion on completion already removed it, {id, status: completed}.
void deliver_final(supervisor_pointer self, job_id id,
                   caf::typed_response_promise<json> rp) {
  self->request(self->state.reader, caf::infinite, read_atom::value, id)
    .then(
      [=](std::vector<model::job>& found) mutable {
        if (found.empty())
          rp.deliver(deleted_completed(id));
        else
          rp.deliver(render(self, found.front()));
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
}

/// The first access check, before any lookup or write.
std::optional<caf::error> denied(supervisor_pointer self, operation op,
                                 const request_context& ctx,
                                 access_target target) {
  // A request context cannot cross the network (it has no wire format);
  // should a message from another node get here anyway, it is refused:
  // remote requests go through a session.
  const auto& sender = self->current_sender();
  if (sender && sender->node() != self->node())
    return make_caf_error(errc::forbidden,
                          "the supervisor serves this process only");
  if (allowed(self->state.env->options.access, op, ctx, target))
    return std::nullopt;
  return to_caf_error(forbidden(op, ctx, target));
}

void handle_queue(supervisor_pointer self, const request_context& ctx,
                  queue_request& req, caf::typed_response_promise<json> rp) {
  auto& st = self->state;
  auto now = st.env->now();
  auto j = build_job(*st.env->reg, req, now, st.env->options.limits);
  if (!j) {
    rp.deliver(to_caf_error(j.error()));
    return;
  }
  // Keys count per queue and principal: another tenant's key is never
  // found, taken or answered with.
  auto key = req.idempotency_key.empty()
               ? std::string{}
               : persistence::idempotency_index(j->queue, ctx.principal,
                                                req.idempotency_key);
  if (!key.empty()) {
    if (auto it = st.in_flight_keys.find(key); it != st.in_flight_keys.end()) {
      it->second.waiters.push_back(rp);
      return;
    }
    auto existing = st.env->db->find_idempotency_key(key);
    if (!existing) {
      rp.deliver(to_caf_error(existing.error()));
      return;
    }
    if (*existing) {
      auto id = **existing;
      // A completed job deleted on completion still answers with its id.
      deliver_final(self, id, rp);
      return;
    }
    st.in_flight_keys[key] = pending_key{};
  }
  std::vector<model::job> jobs{std::move(*j)};
  auto commit = [=](std::vector<model::job> superseded) mutable {
  commit_new_jobs(
    self, std::move(jobs),
    [=](const std::vector<model::job>& done) mutable {
      auto doc = render(self, done.front());
      rp.deliver(doc);
      if (!key.empty()) {
        auto it = self->state.in_flight_keys.find(key);
        if (it != self->state.in_flight_keys.end()) {
          for (auto& w : it->second.waiters)
            w.deliver(doc);
          self->state.in_flight_keys.erase(it);
        }
      }
    },
    [=](const caf::error& err) mutable {
      rp.deliver(err);
      if (!key.empty()) {
        auto it = self->state.in_flight_keys.find(key);
        if (it != self->state.in_flight_keys.end()) {
          for (auto& w : it->second.waiters)
            w.deliver(err);
          self->state.in_flight_keys.erase(it);
        }
      }
    },
    std::move(superseded), key);
  };
  if (!supersedes(*st.env->reg, jobs.front())) {
    commit({});
    return;
  }
  // Take the older pending jobs of this key out of every queue, then delete
  // them in the batch that adds the new one. The supervisor handles one
  // request at a time, so two supersedes of one key cannot interleave.
  gather_jobs(self, all_queues(self), commit, supersede_atom::value,
              *jobs.front().concurrency_key);
}

void handle_queue_bulk(supervisor_pointer self,
                       std::vector<queue_request>& reqs,
                       caf::typed_response_promise<json> rp) {
  auto& st = self->state;
  auto now = st.env->now();
  std::vector<model::job> jobs;
  jobs.reserve(reqs.size());
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (!reqs[i].idempotency_key.empty()) {
      rp.deliver(make_caf_error(errc::invalid_input,
                                "[" + std::to_string(i)
                                  + "]: idempotency keys are not supported in "
                                    "bulk enqueue"));
      return;
    }
    auto j = build_job(*st.env->reg, reqs[i], now, st.env->options.limits);
    if (!j) {
      auto e = j.error();
      e.message = "[" + std::to_string(i) + "]." + e.message;
      rp.deliver(to_caf_error(e));
      return;
    }
    jobs.push_back(std::move(*j));
  }
  commit_new_jobs(
    self, std::move(jobs),
    [=](const std::vector<model::job>& done) mutable {
      json out = json::array();
      for (auto& j : done)
        out.push_back(render(self, j));
      rp.deliver(std::move(out));
    },
    [=](const caf::error& err) mutable { rp.deliver(err); });
}


supervisor_actor::behavior_type
supervisor_impl(supervisor_pointer self, env_ptr env,
                persistence::recovered_state recovered) {
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
    queue_of(self, name, std::move(jobs));
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
    [=](clock_changed_atom) {
      const auto& sender = self->current_sender();
      if (sender && sender->node() != self->node())
        return; // only this process owns its clock
      for (auto& [name, q] : self->state.queues)
        self->send(q, caf::tick_atom::value);
      self->send(self->state.scheduler, clock_changed_atom::value);
    },
    [=](pause_queue_atom, const request_context& ctx, const std::string& queue,
        bool pause) -> caf::result<json> {
      if (auto no = denied(self, operation::run, ctx, {queue}))
        return *no;
      if (!valid_queue_name(queue))
        return make_caf_error(errc::invalid_input,
                              "queue: '" + queue + "' is not a queue name");
      persistence::write_batch batch;
      batch.ops.push_back({persistence::column::meta, persistence::paused_key(queue),
                           pause ? std::optional<std::string>{"1"} : std::nullopt});
      auto rp = self->make_response_promise<json>();
      self->request(env->journal, caf::infinite, commit_atom::value, std::move(batch))
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
    },
    [=](set_concurrency_atom, const request_context& ctx,
        const std::string& queue, std::int32_t limit) -> caf::result<json> {
      if (auto no = denied(self, operation::run, ctx, {queue}))
        return *no;
      if (!valid_queue_name(queue))
        return make_caf_error(errc::invalid_input,
                              "queue: '" + queue + "' is not a queue name");
      if (limit < 1)
        return make_caf_error(errc::invalid_input,
                              "concurrency: must be at least 1");
      self->send(queue_of(self, queue), set_concurrency_atom::value, limit);
      return json{{"queue", queue}, {"concurrency", limit}};
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
    [=](run_by_id_atom, const request_context& ctx,
        std::uint64_t id) -> caf::result<json> {
      if (auto no = denied(self, operation::run, ctx, {}))
        return *no;
      auto rp = self->make_response_promise<json>();
      with_permitted_job(self, id, operation::run, ctx, rp,
                         [=](model::job j) mutable {
        auto it = self->state.queues.find(j.queue);
        if (model::is_terminal(j.status) || it == self->state.queues.end()) {
          rp.deliver(run_result_json({}, true));
          return;
        }
        auto q = it->second;
        self->request(q, caf::infinite, claim_id_atom::value, id)
          .then(
            [=](std::vector<job_id>& ids) mutable {
              std::vector<std::pair<queue_actor, job_id>> claimed;
              for (auto i : ids)
                claimed.emplace_back(q, i);
              execute_claimed(self, std::move(claimed), false, rp);
            },
            [=](caf::error& err) mutable { rp.deliver(err); });
      });
      return rp;
    },
    [=](get_job_atom, const request_context& ctx,
        std::uint64_t id) -> caf::result<json> {
      if (auto no = denied(self, operation::read, ctx, {}))
        return *no;
      auto rp = self->make_response_promise<json>();
      with_permitted_job(self, id, operation::read, ctx, rp,
                         [=](model::job j) mutable {
        auto it = self->state.queues.find(j.queue);
        if (model::is_terminal(j.status) || it == self->state.queues.end()) {
          rp.deliver(render(self, j));
          return;
        }
        // Leases live in memory, journaled step successes in the journal.
        self->request(it->second, caf::infinite, peek_job_atom::value, id)
          .then([=](model::job& live) mutable {
                  rp.deliver(render(self, with_live_lease(j, live)));
                },
                [=](caf::error&) mutable {
                  // Finished meanwhile: the journal has the final state.
                  deliver_final(self, id, rp);
                });
      });
      return rp;
    },
    [=](find_atom, const request_context& ctx,
        const find_request& req) -> caf::result<json> {
      std::optional<std::string> scope;
      if (!req.queue.empty())
        scope = req.queue;
      if (auto no = denied(self, operation::read, ctx, {scope}))
        return *no;
      scan_query q;
      q.queue = req.queue;
      if (!ctx.override_access) {
        // Listings show only what the principal may read.
        auto rules = env->options.access;
        q.visible = [rules, ctx](const model::job& j) {
          return allowed(rules, operation::read, ctx, {j.queue, &j});
        };
      }
      if (req.limit > 0 && static_cast<std::size_t>(req.limit)
                             > env->options.limits.max_page_size)
        return make_caf_error(errc::invalid_input,
                              "limit: at most "
                                + std::to_string(env->options.limits.max_page_size));
      q.limit = req.limit > 0 ? req.limit : 100;
      if (!req.where.is_null()) {
        auto w = model::parse_where(req.where, env->options.limits);
        if (!w)
          return make_caf_error(errc::invalid_input,
                                "where: " + w.error().message);
        q.where = std::make_shared<const model::where>(std::move(*w));
      }
      // Errors above return directly: once a promise exists, a returned
      // error would never reach the requester.
      auto rp = self->make_response_promise<json>();
      gather_jobs(self, all_queues(self), [=](std::vector<model::job> live) mutable {
        // What the queues hold in memory is newer than the journal.
        auto overlay = std::make_shared<std::unordered_map<job_id, model::job>>();
        for (auto& d : live)
          (*overlay)[d.id] = std::move(d);
        q.overlay = std::move(overlay);
        self->request(self->state.reader, caf::infinite, find_scan_atom::value, q)
          .then(
            [=](std::vector<model::job>& found) mutable {
              json out = json::array();
              for (auto& j : found)
                out.push_back(render(self, j));
              rp.deliver(std::move(out));
            },
            [=](caf::error& err) mutable { rp.deliver(err); });
      }, snapshot_atom::value);
      return rp;
    },
    [=](cancel_by_id_atom, const request_context& ctx,
        std::uint64_t id) -> caf::result<json> {
      if (auto no = denied(self, operation::cancel, ctx, {}))
        return *no;
      auto rp = self->make_response_promise<json>();
      with_permitted_job(self, id, operation::cancel, ctx, rp,
                         [=](model::job j) mutable {
        auto it = self->state.queues.find(j.queue);
        if (model::is_terminal(j.status) || it == self->state.queues.end()) {
          // A terminal job stays in its one terminal state.
          rp.deliver(render(self, j));
          return;
        }
        self->request(it->second, caf::infinite, cancel_job_atom::value, id,
                      std::string{})
          .then([=](model::job& c) mutable { rp.deliver(render(self, c)); },
                [=](caf::error&) mutable { deliver_final(self, id, rp); });
      });
      return rp;
    },
    [=](cancel_atom, const request_context& ctx,
        const cancel_request& req) -> caf::result<json> {
      if (auto no = denied(self, operation::cancel, ctx,
                           {req.queue.empty() ? std::string{"*"} : req.queue}))
        return *no;
      std::shared_ptr<const model::where> where;
      if (!req.where.is_null()) {
        auto w = model::parse_where(req.where, env->options.limits);
        if (!w)
          return make_caf_error(errc::invalid_input,
                                "where: " + w.error().message);
        where = std::make_shared<const model::where>(std::move(*w));
      }
      std::vector<queue_actor> targets;
      for (auto& [name, q] : self->state.queues)
        if ((req.queue.empty() || req.queue == name)
            && allowed(env->options.access, operation::cancel, ctx, {name}))
          targets.push_back(q);
      auto rp = self->make_response_promise<json>();
      gather_jobs(self, targets,
                  [=](std::vector<model::job> done) mutable {
                    std::vector<job_id> ids;
                    for (auto& j : done)
                      ids.push_back(j.id);
                    std::sort(ids.begin(), ids.end());
                    json out = json::array();
                    for (auto id : ids)
                      out.push_back(std::to_string(id));
                    rp.deliver(json{{"cancelled", std::move(out)}});
                  },
                  cancel_where_atom::value, where);
      return rp;
    },
    [=](wait_job_atom, const request_context& ctx,
        std::uint64_t id) -> caf::result<json> {
      if (auto no = denied(self, operation::read, ctx, {}))
        return *no;
      auto rp = self->make_response_promise<json>();
      self->request(self->state.reader, caf::infinite, read_atom::value, id)
        .then(
          [=](std::vector<model::job>& found) mutable {
            if (found.empty()) {
              // Ids are never reused: a missing id below the high-water mark
              // was a job deleted on completion.
              if (id < self->state.env->next_id.load())
                rp.deliver(deleted_completed(id));
              else
                rp.deliver(make_caf_error(errc::not_found,
                                          "job " + std::to_string(id)
                                            + " not found"));
              return;
            }
            auto j = std::move(found.front());
            access_target target{j.queue, &j};
            if (!allowed(env->options.access, operation::read, ctx, target)) {
              rp.deliver(to_caf_error(forbidden(operation::read, ctx, target)));
              return;
            }
            auto it = self->state.queues.find(j.queue);
            if (model::is_terminal(j.status) || it == self->state.queues.end()) {
              rp.deliver(render(self, j));
              return;
            }
            // The final document, even if deletion on completion removed it
            // from the journal meanwhile.
            self->request(it->second, caf::infinite, watch_atom::value, id)
              .then([=](model::job& f) mutable { rp.deliver(render(self, f)); },
                    [=](caf::error&) mutable {
                      deliver_final(self, id, rp);
                    });
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
      return rp;
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
