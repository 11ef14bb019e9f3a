// New jobs: validated, journaled in one batch (with their idempotency key
// and the jobs they supersede), then handed to their queues. Nothing is
// acknowledged before it is durable, and the number of new jobs waiting
// for the journal is capped.

#include "actors/errors.hpp"
#include "actors/queue_actor.hpp"
#include "actors/supervisor_state.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::actors::sup {

using model::errc;

namespace {

using per_queue = std::map<std::string, std::size_t>;

per_queue count_by_queue(const std::vector<model::job>& jobs) {
  per_queue n;
  for (const auto& j : jobs)
    ++n[j.queue];
  return n;
}

void uncount(job_counts& counts, const per_queue& n) {
  for (const auto& [queue, k] : n)
    counts.remove(counts.of(queue), k);
}

/// Superseded jobs that were taken out of their queues for a write that
/// did not happen: pending again, and counted again.
void give_back(supervisor_pointer self, const std::vector<model::job>& jobs) {
  auto& counts = *self->state.env->counts;
  for (const auto& [queue, k] : count_by_queue(jobs))
    counts.add(counts.of(queue), k);
  std::map<std::string, std::vector<model::job>> back;
  for (auto& old : jobs)
    back[old.queue].push_back(old);
  for (auto& [q, js] : back)
    self->send(queue_of(self, q), enqueue_atom::value, std::move(js));
}

void commit_new_jobs(
  supervisor_pointer self, std::vector<model::job> jobs,
  const std::function<void(const std::vector<model::job>&)>& done,
  const std::function<void(const caf::error&)>& fail,
  const std::vector<model::job>& superseded = {},
  const std::string& idempotency_index = {}) {
  auto& st = self->state;
  auto count = jobs.size();
  // Superseded jobs left their queues: their slots count as free (every
  // failure below gives them back).
  uncount(*st.env->counts, count_by_queue(superseded));
  if (st.pending_new_jobs + count > st.env->options.max_pending_enqueues) {
    give_back(self, superseded);
    fail(make_caf_error(errc::overloaded,
                        "the journal has " + std::to_string(st.pending_new_jobs)
                          + " new jobs waiting to be written (max "
                          + std::to_string(st.env->options.max_pending_enqueues)
                          + "); retry later"));
    return;
  }
  // Backpressure: the jobs take their queues' slots now, before the write,
  // and give them back if it fails.
  auto admitted = count_by_queue(jobs);
  if (auto full = st.env->counts->try_admit(admitted, st.env->options.limits)) {
    give_back(self, superseded);
    fail(make_caf_error(errc::overloaded, *full));
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
  // Shared by both continuations (each captures by copy): a job document
  // is costly to copy, and a bulk enqueue carries many.
  auto written =
    std::make_shared<const std::vector<model::job>>(std::move(jobs));
  self
    ->request(st.env->journal, caf::infinite, commit_atom::value,
              std::move(batch))
    .then(
      [=](std::uint64_t) {
        self->state.pending_new_jobs -= count;
        std::map<std::string, std::vector<model::job>> by_queue;
        for (const auto& j : *written)
          by_queue[j.queue].push_back(j);
        for (auto& [q, js] : by_queue)
          self->send(queue_of(self, q), enqueue_atom::value, std::move(js));
        done(*written);
      },
      [=](caf::error& err) {
        self->state.pending_new_jobs -= count;
        uncount(*self->state.env->counts, admitted);
        // Nothing was written: superseded jobs are pending again.
        give_back(self, superseded);
        fail(err);
      });
}

/// The enqueue of `key` ended: the requests that waited for it get the
/// same answer, and the key is free again.
template <class Answer>
void answer_key_waiters(supervisor_pointer self, const std::string& key,
                        const Answer& answer) {
  auto& keys = self->state.in_flight_keys;
  auto it = key.empty() ? keys.end() : keys.find(key);
  if (it == keys.end())
    return;
  for (auto& w : it->second.waiters)
    w.deliver(answer);
  keys.erase(it);
}

} // namespace

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
  auto commit = [=](const std::vector<model::job>& superseded) mutable {
    commit_new_jobs(
      self, std::move(jobs),
      [=](const std::vector<model::job>& done) mutable {
        auto doc = render(self, done.front());
        rp.deliver(doc);
        answer_key_waiters(self, key, doc);
      },
      [=](const caf::error& err) mutable {
        rp.deliver(err);
        answer_key_waiters(self, key, err);
      },
      superseded, key);
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

} // namespace conveyor::actors::sup
