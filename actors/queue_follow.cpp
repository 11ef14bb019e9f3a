// Following a job (conveyor get --follow): a long poll, not polling. The
// follower says what it saw last (a cursor); the queue answers at once if
// the job changed since, else when it next changes (its live record tells
// the queue, once, when watched), when its attempt starts or ends, or when
// the follower's window ends. Parked followers are bounded.

#include "actors/errors.hpp"
#include "actors/queue_state.hpp"

namespace conveyor::actors::q {

namespace {

std::string cursor_of(const model::job& doc, const live_job* live) {
  return std::string{model::to_string(doc.status)} + ":"
         + std::to_string(doc.updated_at) + ":"
         + doc.processing_token.value_or("") + ":"
         + std::to_string(live ? live->version() : 0);
}

/// Answers a follower with the job's view, or not_found if it left.
void answer(caf::typed_response_promise<live_document>& rp,
            const std::optional<live_document>& view, job_id id) {
  if (view)
    rp.deliver(*view);
  else
    rp.deliver(make_caf_error(model::errc::not_found,
                              "job " + std::to_string(id) + " left its queue"));
}

} // namespace

std::optional<live_document> view_of(queue_state& st, job_id id) {
  if (auto it = st.running.find(id); it != st.running.end()) {
    const auto& r = it->second;
    live_document out{*r.doc, r.live ? r.live->to_json() : json{},
                      cursor_of(*r.doc, r.live.get())};
    return out;
  }
  if (auto d = find_pending(st, id))
    return live_document{*d, json{}, cursor_of(*d, nullptr)};
  return std::nullopt;
}

caf::result<live_document> follow(queue_pointer self, job_id id,
                                  const std::string& cursor) {
  auto& st = self->state;
  auto view = view_of(st, id);
  if (!view)
    return make_caf_error(model::errc::not_found,
                          "job " + std::to_string(id) + " is not here");
  if (view->cursor != cursor)
    return std::move(*view);
  auto& waiting = st.followers[id];
  if (waiting.size() >= max_followers_per_job
      || st.follower_count >= max_followers) {
    if (waiting.empty())
      st.followers.erase(id);
    return make_caf_error(model::errc::overloaded,
                          "too many followers; try again later");
  }
  auto serial = ++st.follower_serial;
  auto rp = self->make_response_promise<live_document>();
  waiting.push_back({rp, serial});
  ++st.follower_count;
  if (auto it = st.running.find(id); it != st.running.end() && it->second.live)
    it->second.live->watch([q = queue_actor{self}, id] {
      caf::anon_send(q, live_changed_atom::value, id);
    });
  self->delayed_send(self, follow_window, follow_timeout_atom::value, id,
                     serial);
  return rp;
}

void wake_followers(queue_pointer self, job_id id) {
  auto& st = self->state;
  auto it = st.followers.find(id);
  if (it == st.followers.end())
    return;
  auto waiting = std::move(it->second);
  st.followers.erase(it);
  st.follower_count -= waiting.size();
  auto view = view_of(st, id); // rendered once for all of them
  for (auto& f : waiting)
    answer(f.rp, view, id);
}

void follow_timed_out(queue_pointer self, job_id id, std::uint64_t serial) {
  auto& st = self->state;
  auto it = st.followers.find(id);
  if (it == st.followers.end())
    return;
  auto& waiting = it->second;
  auto f = std::find_if(waiting.begin(), waiting.end(),
                        [&](const auto& x) { return x.serial == serial; });
  if (f == waiting.end())
    return;
  auto rp = f->rp;
  waiting.erase(f);
  --st.follower_count;
  if (waiting.empty())
    st.followers.erase(it);
  answer(rp, view_of(st, id), id);
}

} // namespace conveyor::actors::q
