#include "actors/errors.hpp"
#include "actors/job_actor.hpp"
#include "actors/queue_state.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::actors::q {

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

void execute_job(queue_pointer self, job_id id) {
  auto& st = self->state;
  auto& r = st.running[id];
  const auto& env = st.env;
  // The attempt's document goes with the live record only if someone
  // listens (a copy per attempt otherwise wasted).
  auto snapshot =
    env->options.on_live ? std::make_shared<const model::job>(*r.doc) : nullptr;
  r.live = std::make_shared<live_job>(std::move(snapshot), env->options.on_live,
                                      [env] { return env->now(); });
  // Before the spawn: the job's step events (on its own thread) follow.
  if (env->options.on_event)
    env->options.on_event("started", *r.doc);
  r.actor =
    spawn_job_actor(self->system(), env, *r.doc, queue_actor{self}, r.live);
  self->monitor(r.actor);
  wake_followers(self, id);
  if (!st.renewing) {
    st.renewing = true;
    self->delayed_send(self, st.env->options.lease / 2, renew_atom::value);
  }
}

void renew_leases(queue_pointer self) {
  auto& st = self->state;
  st.renewing = false;
  if (st.running.empty())
    return;
  // An attempt is alive while its job actor is: a remote attempt whose
  // worker stops heartbeating is ended by the remote pool when the lease
  // runs out, and its job leaves `running` then.
  auto until = st.env->now() + st.env->options.lease.count();
  for (auto& [id, r] : st.running)
    if (r.actor)
      r.doc->processing_until = until;
  st.renewing = true;
  self->delayed_send(self, st.env->options.lease / 2, renew_atom::value);
}

void pump(queue_pointer self) {
  auto& st = self->state;
  if (st.draining) {
    if (st.running.empty())
      for (auto& rp : std::exchange(st.drained, {}))
        rp.deliver(true);
    return;
  }
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
  auto picks =
    candidates(st, st.lifo, free, [](const model::job&) { return true; });
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

void job_finished(queue_pointer self, const model::job& doc) {
  auto& st = self->state;
  st.env->counts->remove(*st.unfinished, 1);
  switch (doc.status) {
  case model::job_status::completed:
    ++st.completed;
    break;
  case model::job_status::cancelled:
    ++st.cancelled;
    break;
  default:
    ++st.failed;
    break;
  }
  if (st.env->options.on_terminal)
    st.env->options.on_terminal(doc);
  if (st.env->options.on_event)
    st.env->options.on_event(model::to_string(doc.status), doc);
  wake_followers(self, doc.id);
  auto it = st.watchers.find(doc.id);
  if (it == st.watchers.end())
    return;
  for (auto& rp : it->second)
    rp.deliver(doc);
  st.watchers.erase(it);
}

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
  if (model::is_terminal(next.status)) {
    job_finished(self, next);
    return;
  }
  auto doc = std::make_shared<model::job>(next);
  add_pending(self, doc);
  if (st.env->options.on_event)
    st.env->options.on_event(
      status == model::run_status::interrupted ? "interrupted" : "retrying",
      *doc);
  wake_followers(self, id);
}

void cancel_pending(queue_pointer self, const std::vector<doc_ptr>& docs,
                    const std::string& message,
                    const std::function<void(std::vector<model::job>)>& done) {
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
  self
    ->request(st.env->journal, caf::infinite, commit_atom::value,
              std::move(batch))
    .then(
      [=](std::uint64_t) {
        for (auto& j : cancelled)
          job_finished(self, j);
        done(cancelled);
      },
      [=](caf::error&) {
        for (auto& d : docs)
          add_pending(self, d);
        done({});
      });
}

} // namespace conveyor::actors::q
