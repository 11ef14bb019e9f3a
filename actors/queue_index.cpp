#include "actors/queue_state.hpp"

namespace conveyor::actors::q {

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

const std::unordered_set<job_id>& live_scheduled(queue_state& st,
                                                 const std::string& slug) {
  static const std::unordered_set<job_id> none;
  auto it = st.scheduled.find(slug);
  if (it == st.scheduled.end())
    return none;
  std::erase_if(it->second, [&](job_id id) {
    return st.pending_docs.count(id) == 0 && st.running.count(id) == 0;
  });
  if (!it->second.empty())
    return it->second;
  st.scheduled.erase(it);
  return none;
}

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

bool give_back_claim(queue_pointer self, job_id id) {
  auto& st = self->state;
  auto it = st.running.find(id);
  if (it == st.running.end() || it->second.actor)
    return false;
  auto doc = model::release(*it->second.doc, st.env->now());
  take_running(st, it);
  add_pending(self, std::make_shared<model::job>(std::move(doc)));
  return true;
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

} // namespace conveyor::actors::q
