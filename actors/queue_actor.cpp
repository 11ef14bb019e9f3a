#include "actors/queue_actor.hpp"

#include "actors/errors.hpp"
#include "actors/fan_in.hpp"
#include "actors/queue_state.hpp"
#include "model/job_json.hpp"
#include "model/processing_order.hpp"
#include "model/where.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::actors {

namespace {

using namespace q;

queue_actor::behavior_type queue_impl(queue_pointer self, const env_ptr& env,
                                      const std::string& name,
                                      std::vector<model::job> recovered,
                                      bool paused) {
  auto& st = self->state;
  st.paused = paused;
  st.env = env;
  st.queue_name = name;
  st.concurrency = env->concurrency_for(name);
  st.continuous = env->options.continuous;
  st.lifo = model::is_lifo(env->order_for(name));
  st.unfinished = &env->counts->of(name);
  for (auto& j : recovered)
    add_pending(self, std::make_shared<model::job>(std::move(j)));
  // A job actor that dies without reporting leaves its job claimable again.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [id, r] : st.running) {
      if (r.actor && r.actor.address() == dm.source) {
        auto released = model::release(*r.doc, st.env->now());
        attempt_ended(self, id, model::run_status::interrupted, released);
        break;
      }
    }
    pump(self);
  });
  // On shutdown, running job actors go too; they write nothing more.
  pump(self);
  return {
    [=](enqueue_atom, std::vector<model::job>& jobs) {
      const auto& on_event = self->state.env->options.on_event;
      for (auto& j : jobs) {
        auto doc = std::make_shared<model::job>(std::move(j));
        add_pending(self, doc);
        if (on_event)
          on_event("queued", *doc);
      }
      pump(self);
    },
    [=](release_atom, const std::vector<job_id>& ids) {
      for (auto id : ids)
        give_back_claim(self, id);
      pump(self);
    },
    [=](claim_atom, const claim_request& req) {
      auto& st = self->state;
      if (st.paused || st.draining)
        return std::vector<claimed_job>{};
      auto now = st.env->now();
      promote_due(self, now);
      // Candidates in order, then claims: a second job of one exclusive key
      // in the same batch fails its claim and waits (docs/semantics.md §14).
      auto picked =
        candidates(st, req.lifo, st.ready.size(), [&](const model::job& j) {
          return !req.where
                 || model::matches(*req.where, model::to_json(j, now));
        });
      std::vector<claimed_job> out;
      for (auto& d : picked) {
        if (static_cast<std::int32_t>(out.size()) >= req.limit)
          break;
        if (claim_job(self, d))
          out.push_back({d->id, d->priority});
      }
      return out;
    },
    [=](claim_id_atom, job_id id) {
      auto& st = self->state;
      if (st.paused || st.draining)
        return std::vector<job_id>{};
      promote_due(self, st.env->now());
      std::vector<job_id> ids;
      auto doc = find_pending(st, id);
      if (doc && st.ready.count(key_of(*doc)) && claim_job(self, doc))
        ids.push_back(id);
      return ids;
    },
    [=](execute_atom, job_id id) -> caf::result<attempt_report> {
      auto& st = self->state;
      auto it = st.running.find(id);
      if (it == st.running.end()) // cancelled between claim and execute
        return attempt_report{id, model::run_status::error_reached_max_retries};
      // Claimed by run() just before the stop began: not started, so it
      // goes back untouched.
      if (st.draining && give_back_claim(self, id)) {
        pump(self);
        return make_caf_error(model::errc::unavailable, "the node is stopping");
      }
      auto rp = self->make_response_promise<attempt_report>();
      it->second.reporters.push_back(rp);
      if (!it->second.actor)
        execute_job(self, id);
      return rp;
    },
    [=](peek_job_atom, job_id id) -> caf::result<live_document> {
      if (auto view = view_of(self->state, id))
        return std::move(*view);
      return make_caf_error(model::errc::not_found,
                            "job " + std::to_string(id) + " is not pending");
    },
    [=](follow_live_atom, job_id id, const std::string& cursor)
      -> caf::result<live_document> { return follow(self, id, cursor); },
    [=](live_changed_atom, job_id id) { wake_followers(self, id); },
    [=](follow_timeout_atom, job_id id, std::uint64_t serial) {
      follow_timed_out(self, id, serial);
    },
    [=](snapshot_atom) {
      auto& st = self->state;
      std::vector<model::job> out;
      for (auto& [id, r] : st.running)
        out.push_back(*r.doc);
      for (auto& [id, d] : st.pending_docs)
        out.push_back(*d);
      return out;
    },
    [=](cancel_job_atom, job_id id,
        const std::string& message) -> caf::result<model::job> {
      auto& st = self->state;
      if (auto it = st.running.find(id); it != st.running.end()) {
        auto rp = self->make_response_promise<model::job>();
        it->second.cancel_waiters.push_back(rp);
        if (it->second.actor) {
          self->send(it->second.actor, cancel_job_atom::value, message);
        } else {
          // Claimed by run() but not started: cancel it as pending.
          auto doc = it->second.doc;
          auto waiters = std::move(it->second.cancel_waiters);
          take_running(st, it);
          add_pending(self, std::make_shared<model::job>(
                              model::release(*doc, st.env->now())));
          auto pending = find_pending(st, id);
          cancel_pending(self, {pending}, message,
                         [waiters](std::vector<model::job> done) mutable {
                           for (auto& w : waiters)
                             if (!done.empty())
                               w.deliver(done.front());
                         });
        }
        return rp;
      }
      auto doc = find_pending(st, id);
      if (!doc)
        return make_caf_error(model::errc::not_found,
                              "job " + std::to_string(id) + " is not pending");
      auto rp = self->make_response_promise<model::job>();
      cancel_pending(self, {doc}, message,
                     [rp](std::vector<model::job> done) mutable {
                       if (done.empty())
                         rp.deliver(make_caf_error(model::errc::storage,
                                                   "cancel was not journaled"));
                       else
                         rp.deliver(std::move(done.front()));
                     });
      return rp;
    },
    [=](cancel_where_atom, const std::shared_ptr<const model::where>& where)
      -> caf::result<std::vector<model::job>> {
      auto& st = self->state;
      auto now = st.env->now();
      auto match = [&](const model::job& j) {
        return !where || model::matches(*where, model::to_json(j, now));
      };
      std::vector<doc_ptr> pending;
      for (auto& [id, d] : st.pending_docs)
        if (match(*d))
          pending.push_back(d);
      std::vector<job_id> running;
      for (auto& [id, r] : st.running)
        if (match(*r.doc))
          running.push_back(id);
      auto rp = self->make_response_promise<std::vector<model::job>>();
      // One answer per running job, plus one for the pending ones.
      auto all = fan_in<model::job>::expect(
        running.size() + 1, [rp](std::vector<model::job> done) mutable {
          rp.deliver(std::move(done));
        });
      for (auto id : running) {
        self
          ->request(queue_actor{self}, caf::infinite, cancel_job_atom::value,
                    id, std::string{})
          .then([=](model::job& j) { all->add(std::move(j)); },
                [=](caf::error&) { all->none(); });
      }
      cancel_pending(self, pending, {}, [all](std::vector<model::job> js) {
        all->add_all(std::move(js));
      });
      return rp;
    },
    [=](supersede_atom, const std::string& key) {
      // Pending jobs only: running, failed and cancelled jobs stay.
      auto& st = self->state;
      std::vector<model::job> removed;
      std::vector<doc_ptr> hits;
      for (auto& [id, d] : st.pending_docs)
        if (d->concurrency_key && *d->concurrency_key == key)
          hits.push_back(d);
      for (auto& d : hits) {
        remove_pending(st, *d);
        removed.push_back(*d);
        wake_followers(self, d->id);
      }
      return removed;
    },
    [=](watch_atom, job_id id) -> caf::result<model::job> {
      auto& st = self->state;
      if (!st.running.count(id) && !find_pending(st, id))
        return make_caf_error(model::errc::not_found,
                              "job " + std::to_string(id) + " is not pending");
      auto rp = self->make_response_promise<model::job>();
      st.watchers[id].push_back(rp);
      return rp;
    },
    [=](handler_done_atom, job_id id) {
      auto& st = self->state;
      auto it = st.running.find(id);
      if (it == st.running.end() || it->second.settling)
        return;
      it->second.settling = true;
      ++st.settling;
      pump(self);
    },
    [=](attempt_done_atom, job_id id, model::run_status status,
        model::job& next) {
      attempt_ended(self, id, status, next);
      pump(self);
    },
    [=](pause_queue_atom, bool paused) {
      self->state.paused = paused;
      pump(self);
    },
    [=](set_concurrency_atom, std::int32_t limit) {
      self->state.concurrency = limit;
      pump(self);
    },
    [=](count_active_atom, const count_request& req) {
      auto& st = self->state;
      const auto& slug = req.task.empty() ? req.workflow : req.task;
      bool want_task = !req.task.empty();
      std::int64_t n = 0;
      if (req.only_scheduled)
        return static_cast<std::int64_t>(live_scheduled(st, slug).size());
      auto matches = [&](const model::job& j) {
        return want_task ? j.task_slug == slug : j.workflow_slug == slug;
      };
      for (auto& [id, d] : st.pending_docs)
        n += matches(*d) ? 1 : 0;
      for (auto& [id, r] : st.running)
        n += matches(*r.doc) ? 1 : 0;
      return n;
    },
    [=](queue_stats_atom) {
      const auto& st = self->state;
      return json{
        {"name", st.queue_name},        {"queued", st.ready.size()},
        {"delayed", st.delayed.size()}, {"running", st.running.size()},
        {"paused", st.paused},          {"concurrency", st.concurrency},
        {"completed", st.completed},    {"failed", st.failed},
        {"cancelled", st.cancelled}};
    },
    [=](pending_scheduled_atom, const count_request& req) {
      auto& st = self->state;
      auto ids = live_scheduled(st, req.task.empty() ? req.workflow : req.task);
      json out{{"count", ids.size()}, {"job", nullptr}};
      if (!ids.empty()) {
        auto oldest = *std::min_element(ids.begin(), ids.end());
        auto it = st.running.find(oldest);
        const auto& doc =
          it != st.running.end() ? *it->second.doc : *find_pending(st, oldest);
        out["job"] = model::to_json(doc, st.env->now());
      }
      return out;
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      st.timer_at.reset();
      promote_due(self, st.env->now());
      pump(self);
      schedule_timer(self);
    },
    [=](drain_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.draining = true;
      // Claimed by run() but not started (nobody waits for them yet: a
      // report is only asked for with execute): back to pending.
      std::vector<job_id> unstarted;
      for (auto& [id, r] : st.running)
        if (!r.actor)
          unstarted.push_back(id);
      for (auto id : unstarted)
        give_back_claim(self, id);
      auto rp = self->make_response_promise<bool>();
      st.drained.push_back(rp);
      pump(self);
      return rp;
    },
    [=](renew_atom) { renew_leases(self); },
    [=](interrupt_atom) {
      for (auto& [id, r] : self->state.running)
        if (r.actor)
          self->send(r.actor, interrupt_atom::value);
    },
  };
}

} // namespace

queue_actor spawn_queue_actor(caf::actor_system& sys, env_ptr env,
                              std::string name,
                              std::vector<model::job> recovered, bool paused) {
  return sys.spawn(queue_impl, std::move(env), std::move(name),
                   std::move(recovered), paused);
}

} // namespace conveyor::actors
