#include "actors/queue_actor.hpp"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "actors/errors.hpp"
#include "actors/fan_in.hpp"
#include "actors/job_actor.hpp"
#include "model/job_json.hpp"
#include "model/where.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::actors {

namespace {

using model::job_id;
using model::time_ms;
using doc_ptr = std::shared_ptr<model::job>;

/// Processing order inside a queue: higher priority first, then id (FIFO).
struct order_key {
  std::int64_t neg_priority;
  job_id id;
  auto operator<=>(const order_key&) const = default;
};

order_key key_of(const model::job& j) {
  return {-std::int64_t{j.priority}, j.id};
}

struct running_job {
  doc_ptr doc;
  std::string held_key; ///< exclusive concurrency key, released at the end
  job_actor actor; ///< null until executed
  /// Its handlers are done; only the journal write of its outcome is left.
  /// It no longer takes a concurrency slot.
  bool settling = false;
  std::vector<caf::typed_response_promise<attempt_report>> reporters;
  std::vector<caf::typed_response_promise<model::job>> cancel_waiters;
};

struct queue_state {
  static constexpr const char* name = "conveyor.queue";
  // -- set at spawn --
  env_ptr env;
  std::string queue_name;
  std::int32_t concurrency = 16;
  bool continuous = false;
  bool lifo = false;
  bool paused = false; ///< mirror of the journal's paused/<queue> key
  // -- mirror of durable state --
  std::map<order_key, doc_ptr> ready;
  std::set<std::pair<time_ms, job_id>> delayed;
  std::unordered_map<job_id, doc_ptr> pending_docs; ///< ready + delayed
  /// Jobs queued by handle_schedules, by slug, so counting them for the
  /// default beforeSchedule is a lookup. Ids of jobs that left the queue
  /// are dropped lazily, when counted.
  std::unordered_map<std::string, std::unordered_set<job_id>> scheduled;
  // -- volatile --
  std::unordered_map<job_id, running_job> running;
  std::int32_t settling = 0; ///< running jobs with settling set
  std::unordered_map<job_id, std::vector<caf::typed_response_promise<model::job>>>
    watchers;
  std::optional<time_ms> timer_at;

  /// On shutdown, running job actors go too; they write nothing more.
  ~queue_state() {
    for (auto& [id, r] : running)
      if (r.actor)
        caf::anon_send_exit(r.actor, caf::exit_reason::user_shutdown);
  }
};

using queue_pointer = queue_actor::stateful_pointer<queue_state>;

void schedule_timer(queue_pointer self) {
  auto& st = self->state;
  if (st.delayed.empty())
    return;
  auto due = st.delayed.begin()->first;
  if (st.timer_at && *st.timer_at <= due)
    return;
  // waitUntil is strict (claimable once now > waitUntil): wake 1 ms after.
  auto wake = st.env->timer_wake(due + 1);
  st.timer_at = wake - 1;
  self->delayed_send(self, st.env->delay_until(wake), caf::tick_atom::value);
}

bool is_scheduled(const model::job& j) {
  if (!j.meta.is_object())
    return false;
  auto it = j.meta.find("scheduled");
  return it != j.meta.end() && *it == true;
}

/// Adds a pending job to the in-memory index.
void add_pending(queue_pointer self, doc_ptr doc) {
  auto& st = self->state;
  st.pending_docs[doc->id] = doc;
  if (is_scheduled(*doc))
    st.scheduled[doc->slug()].insert(doc->id);
  if (doc->wait_until && *doc->wait_until >= st.env->now()) {
    st.delayed.emplace(*doc->wait_until, doc->id);
    schedule_timer(self);
  } else {
    st.ready.emplace(key_of(*doc), std::move(doc));
  }
}

/// Moves delayed jobs whose wait_until has passed into the ready index.
void promote_due(queue_pointer self, time_ms now) {
  auto& st = self->state;
  while (!st.delayed.empty() && st.delayed.begin()->first < now) {
    auto id = st.delayed.begin()->second;
    st.delayed.erase(st.delayed.begin());
    if (auto it = st.pending_docs.find(id); it != st.pending_docs.end())
      st.ready.emplace(key_of(*it->second), it->second);
  }
}

/// Visits ready jobs in processing order until `f` returns false.
template <class F>
void for_each_ready(queue_state& st, bool lifo, F f) {
  if (!lifo) {
    for (auto it = st.ready.begin(); it != st.ready.end();) {
      auto next = std::next(it);
      if (!f(it->second))
        return;
      it = next;
    }
    return;
  }
  // LIFO inside each priority group, groups still by priority.
  for (auto group = st.ready.begin(); group != st.ready.end();) {
    auto end = st.ready.lower_bound(order_key{group->first.neg_priority + 1, 0});
    for (auto it = end; it != group;) {
      --it;
      if (!f(it->second))
        return;
    }
    group = end;
  }
}

/// Takes a lease on a ready job: it leaves the ready index and is running.
/// Fails (returns false) if the job's exclusive concurrency key is held by
/// a running job of any queue; the queue then gets a tick on its release.
bool claim_job(queue_pointer self, const doc_ptr& doc) {
  auto& st = self->state;
  std::string held;
  if (const auto* k = st.env->exclusive_key(*doc)) {
    if (!st.env->keys->try_acquire(*k)) {
      if (st.continuous)
        st.env->keys->wait_for(*k, caf::actor_cast<caf::actor>(self));
      return false;
    }
    held = *k;
  }
  auto now = st.env->now();
  st.ready.erase(key_of(*doc));
  st.pending_docs.erase(doc->id);
  auto claimed = std::make_shared<model::job>(model::claim(
    *doc, make_unique_id(), now + st.env->options.lease.count(), now));
  st.env->running->add(claimed->id);
  auto& r = st.running[claimed->id];
  r.doc = std::move(claimed);
  r.held_key = std::move(held);
  return true;
}

/// A running entry ends (attempt over, released, or cancelled before it
/// started): its key is free again.
running_job take_running(queue_state& st,
                         std::unordered_map<job_id, running_job>::iterator it) {
  auto r = std::move(it->second);
  st.env->running->remove(it->first);
  st.running.erase(it);
  if (r.settling)
    --st.settling;
  if (!r.held_key.empty())
    st.env->keys->release(r.held_key);
  return r;
}

/// Ready jobs in processing order that could be claimed now (their key is
/// not held), at most `limit`.
template <class Pred>
std::vector<doc_ptr> candidates(queue_state& st, bool lifo, std::size_t limit,
                                Pred accept) {
  std::vector<doc_ptr> out;
  for_each_ready(st, lifo, [&](const doc_ptr& d) {
    if (out.size() >= limit)
      return false;
    const auto* k = st.env->exclusive_key(*d);
    if ((!k || !st.env->keys->held(*k)) && accept(*d))
      out.push_back(d);
    return true;
  });
  return out;
}

void execute_job(queue_pointer self, job_id id) {
  auto& st = self->state;
  auto& r = st.running[id];
  r.actor = spawn_job_actor(self->system(), st.env, *r.doc,
                            queue_actor{self});
  self->monitor(r.actor);
}

/// Continuous mode: start due jobs while the concurrency limit allows.
void pump(queue_pointer self) {
  auto& st = self->state;
  if (!st.continuous || st.paused)
    return;
  promote_due(self, st.env->now());
  // A job whose outcome is being journaled holds no slot: the limit bounds
  // running handlers, and the next job need not wait for an fsync. At most
  // `concurrency` such jobs are discounted, so a stalled journal cannot
  // make the queue start jobs without bound.
  auto running = static_cast<std::int32_t>(st.running.size())
                 - std::min(st.settling, st.concurrency);
  if (st.ready.empty() || running >= st.concurrency)
    return;
  auto free = static_cast<std::size_t>(st.concurrency - running);
  auto picks = candidates(st, st.lifo, free, [](const model::job&) { return true; });
  for (auto& d : picks)
    if (claim_job(self, d))
      execute_job(self, d->id);
  // Jobs whose key is busy stay pending; if only such jobs are left, ask
  // for a tick when their keys are released.
  if (picks.empty())
    for_each_ready(st, st.lifo, [&](const doc_ptr& d) {
      if (const auto* k = st.env->exclusive_key(*d))
        st.env->keys->wait_for(*k, caf::actor_cast<caf::actor>(self));
      return true;
    });
}

void notify_watchers(queue_pointer self, const model::job& doc) {
  auto& st = self->state;
  if (st.env->options.on_terminal)
    st.env->options.on_terminal(doc);
  auto it = st.watchers.find(doc.id);
  if (it == st.watchers.end())
    return;
  for (auto& rp : it->second)
    rp.deliver(doc);
  st.watchers.erase(it);
}

/// The job's attempt ended (or the job was cancelled while pending).
void attempt_ended(queue_pointer self, job_id id, model::run_status status,
                   const model::job& next) {
  auto& st = self->state;
  auto it = st.running.find(id);
  if (it != st.running.end()) {
    auto r = take_running(st, it);
    if (r.actor)
      self->demonitor(r.actor.address());
    for (auto& rp : r.reporters)
      rp.deliver(attempt_report{id, status});
    for (auto& rp : r.cancel_waiters)
      rp.deliver(next);
  }
  if (model::is_terminal(next.status))
    notify_watchers(self, next);
  else
    add_pending(self, std::make_shared<model::job>(next));
}

doc_ptr find_pending(queue_state& st, job_id id) {
  auto it = st.pending_docs.find(id);
  return it != st.pending_docs.end() ? it->second : nullptr;
}

void remove_pending(queue_state& st, const model::job& j) {
  st.pending_docs.erase(j.id);
  if (j.wait_until)
    st.delayed.erase({*j.wait_until, j.id});
  st.ready.erase(key_of(j));
}

/// Cancels pending jobs in one durable write; replies with the documents.
void cancel_pending(queue_pointer self, std::vector<doc_ptr> docs,
                    const std::string& message,
                    std::function<void(std::vector<model::job>)> done) {
  auto& st = self->state;
  if (docs.empty()) {
    done({});
    return;
  }
  auto now = st.env->now();
  persistence::write_batch batch;
  std::vector<model::job> cancelled;
  for (auto& d : docs) {
    remove_pending(st, *d);
    std::optional<std::string> msg;
    if (!message.empty())
      msg = message;
    auto t = model::cancel(*d, msg, now);
    persistence::add_job_write(batch, t.next, d.get());
    cancelled.push_back(std::move(t.next));
  }
  self->request(st.env->journal, caf::infinite, commit_atom::value,
                std::move(batch))
    .then(
      [=](std::uint64_t) {
        for (auto& j : cancelled)
          notify_watchers(self, j);
        done(cancelled);
      },
      [=](caf::error&) {
        for (auto& d : docs)
          add_pending(self, d);
        done({});
      });
}

queue_actor::behavior_type queue_impl(queue_pointer self, env_ptr env,
                                      std::string name,
                                      std::vector<model::job> recovered,
                                      bool paused) {
  auto& st = self->state;
  st.paused = paused;
  st.env = env;
  st.queue_name = name;
  st.concurrency = env->concurrency_for(name);
  st.continuous = env->options.continuous;
  st.lifo = env->order_for(name) == "-createdAt";
  for (auto& j : recovered)
    add_pending(self, std::make_shared<model::job>(std::move(j)));
  // A job actor that dies without reporting leaves its job claimable again.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [id, r] : st.running) {
      if (r.actor && r.actor.address() == dm.source) {
        auto released = model::release(*r.doc, st.env->now());
        attempt_ended(self, id, model::run_status::error, released);
        break;
      }
    }
    pump(self);
  });
  // On shutdown, running job actors go too; they write nothing more.
  pump(self);
  return {
    [=](enqueue_atom, std::vector<model::job>& jobs) {
      for (auto& j : jobs)
        add_pending(self, std::make_shared<model::job>(std::move(j)));
      pump(self);
    },
    [=](release_atom, const std::vector<job_id>& ids) {
      auto& st = self->state;
      for (auto id : ids) {
        auto it = st.running.find(id);
        if (it == st.running.end() || it->second.actor)
          continue;
        auto doc = model::release(*it->second.doc, st.env->now());
        take_running(st, it);
        add_pending(self, std::make_shared<model::job>(std::move(doc)));
      }
      pump(self);
    },
    [=](claim_atom, const claim_request& req) {
      auto& st = self->state;
      if (st.paused)
        return std::vector<claimed_job>{};
      auto now = st.env->now();
      promote_due(self, now);
      // Candidates in order, then claims: a second job of one exclusive key
      // in the same batch fails its claim and waits (spec §4.2 step 2).
      auto picked = candidates(st, req.lifo, st.ready.size(),
                               [&](const model::job& j) {
                                 return !req.where
                                        || model::matches(*req.where,
                                                          model::to_json(j, now));
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
      if (st.paused)
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
      auto rp = self->make_response_promise<attempt_report>();
      it->second.reporters.push_back(rp);
      if (!it->second.actor)
        execute_job(self, id);
      return rp;
    },
    [=](peek_job_atom, job_id id) -> caf::result<model::job> {
      auto& st = self->state;
      if (auto it = st.running.find(id); it != st.running.end())
        return *it->second.doc;
      if (auto d = find_pending(st, id))
        return *d;
      return make_caf_error(model::errc::not_found,
                            "job " + std::to_string(id) + " is not pending");
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
        running.size() + 1,
        [rp](std::vector<model::job> done) mutable { rp.deliver(std::move(done)); });
      for (auto id : running) {
        self->request(queue_actor{self}, caf::infinite, cancel_job_atom::value,
                      id, std::string{})
          .then([=](model::job& j) { all->add(std::move(j)); },
                [=](caf::error&) { all->none(); });
      }
      cancel_pending(self, std::move(pending), {},
                     [all](std::vector<model::job> js) { all->add_all(std::move(js)); });
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
      auto live = [&](job_id id) {
        return st.pending_docs.count(id) > 0 || st.running.count(id) > 0;
      };
      std::int64_t n = 0;
      if (req.only_scheduled) {
        auto it = st.scheduled.find(slug);
        if (it == st.scheduled.end())
          return n;
        std::erase_if(it->second, [&](job_id id) { return !live(id); });
        // Slugs are unique across tasks and workflows, so the slug decides.
        n = static_cast<std::int64_t>(it->second.size());
        if (it->second.empty())
          st.scheduled.erase(it);
        return n;
      }
      auto matches = [&](const model::job& j) {
        return want_task ? j.task_slug == slug : j.workflow_slug == slug;
      };
      for (auto& [id, d] : st.pending_docs)
        n += matches(*d) ? 1 : 0;
      for (auto& [id, r] : st.running)
        n += matches(*r.doc) ? 1 : 0;
      return n;
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      st.timer_at.reset();
      promote_due(self, st.env->now());
      pump(self);
      schedule_timer(self);
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
