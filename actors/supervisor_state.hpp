#pragma once

// The supervisor's state and the helpers its handlers share. Internal to
// the supervisor_*.cpp files, one per concern.

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "actors/env.hpp"
#include "actors/errors.hpp"
#include "actors/fan_in.hpp"
#include "actors/interfaces.hpp"
#include "actors/reader.hpp"
#include "actors/requests.hpp"
#include "actors/scheduler.hpp"

namespace conveyor::actors::sup {

struct pending_key {
  model::job_id id;
  std::vector<caf::typed_response_promise<json>> waiters;
};

struct supervisor_state {
  static constexpr const char* name = "conveyor.supervisor";
  env_ptr env;
  reader_actor reader;
  scheduler_actor scheduler;
  std::map<std::string, queue_actor> queues;
  /// Queues paused by an operator (durable in the journal's meta keys).
  std::set<std::string> paused;
  /// Idempotency keys whose enqueue is in flight: duplicates wait for it.
  std::unordered_map<std::string, pending_key> in_flight_keys;
  /// New jobs sent to the journal and not yet durable. New work beyond
  /// options.max_pending_enqueues is refused as `overloaded` (transitions
  /// of existing jobs never are), so a flood of producers cannot grow the
  /// journal's mailbox without bound.
  std::size_t pending_new_jobs = 0;
  /// A clean stop began: run() starts nothing any more.
  bool draining = false;
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

/// supervisor_drain.cpp: the clean stop's first half -> true once no job
/// runs (finished within `grace_ms`, or interrupted after it).
caf::result<bool> handle_drain(supervisor_pointer self, std::int64_t grace_ms);

/// The queue actor of `name`, spawned (with its recovered jobs) if needed.
queue_actor queue_of(supervisor_pointer self, const std::string& name,
                     std::vector<model::job> recovered = {});

/// Refuses a request naming a queue the node does not know yet when it
/// knows limits.maxQueues already; else the queue is known from now on.
std::optional<caf::error> know_queue(const supervisor_pointer& self,
                                     const std::string& queue);

/// A JSON answer for a handler returning caf::result<json>. Returning the
/// value itself would not do: CAF 0.17 builds the reply as `json{value}`,
/// which nlohmann turns into a one-element array around it.
inline caf::result<json> json_answer(supervisor_pointer self, json value) {
  auto rp = self->make_response_promise<json>();
  rp.deliver(std::move(value));
  return rp;
}

/// A job as the API shows it.
json render(const supervisor_pointer& self, const model::job& j);

/// The first access check, before any lookup or write.
std::optional<caf::error> denied(supervisor_pointer self, operation op,
                                 const request_context& ctx,
                                 const access_target& target);

/// Every queue actor there is.
inline std::vector<queue_actor> all_queues(const supervisor_pointer& self) {
  std::vector<queue_actor> out;
  for (auto& [name, q] : self->state.queues)
    out.push_back(q);
  return out;
}

/// Sends the same request to every queue in `targets` and calls `done` with
/// all the jobs they answered, once each one answered (failures count as no
/// jobs).
template <class... Ts>
void gather_jobs(supervisor_pointer self,
                 const std::vector<queue_actor>& targets,
                 std::function<void(std::vector<model::job>)> done, Ts... xs) {
  auto all = fan_in<model::job>::expect(targets.size(), std::move(done));
  for (auto& q : targets)
    self->request(q, caf::infinite, xs...)
      .then([=](std::vector<model::job>& js) { all->add_all(std::move(js)); },
            [=](caf::error&) { all->none(); });
}

/// Loads a job from the journal, then calls `f` with it (or replies
/// not_found through `rp`).
template <class F>
void with_stored_job(supervisor_pointer self, model::job_id id,
                     caf::typed_response_promise<json> rp, F f) {
  self->request(self->state.reader, caf::infinite, read_atom::value, id)
    .then(
      [=](std::vector<model::job>& found) mutable {
        if (found.empty()) {
          rp.deliver(
            make_caf_error(model::errc::not_found,
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
void with_permitted_job(supervisor_pointer self, model::job_id id, operation op,
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

/// The request on one job by id: both access checks, then `f(job, queue,
/// rp)` with the queue actor holding the job, or with a null queue when the
/// job is terminal (or its queue gone) and the journal's document is final.
template <class F>
caf::result<json> with_job_by_id(supervisor_pointer self, model::job_id id,
                                 operation op, const request_context& ctx,
                                 F f) {
  if (auto no = denied(self, op, ctx, {}))
    return *no;
  auto rp = self->make_response_promise<json>();
  with_permitted_job(self, id, op, ctx, rp, [=](model::job j) mutable {
    queue_actor holder;
    if (!model::is_terminal(j.status))
      if (auto it = self->state.queues.find(j.queue);
          it != self->state.queues.end())
        holder = it->second;
    f(std::move(j), holder, rp);
  });
  return rp;
}

/// Answers with a job that just left its queue: its final document, or,
/// if deletion on completion already removed it, {id, status: completed}.
void deliver_final(supervisor_pointer self, model::job_id id,
                   caf::typed_response_promise<json> rp);

// -- the handlers, by concern ---------------------------------------------

// supervisor_enqueue.cpp
void handle_queue(supervisor_pointer self, const request_context& ctx,
                  queue_request& req, caf::typed_response_promise<json> rp);
void handle_queue_bulk(supervisor_pointer self,
                       std::vector<queue_request>& reqs,
                       caf::typed_response_promise<json> rp);

// supervisor_reads.cpp
caf::result<json> handle_get(supervisor_pointer self,
                             const request_context& ctx, std::uint64_t id);
caf::result<json> handle_follow(supervisor_pointer self,
                                const request_context& ctx, std::uint64_t id,
                                const std::string& cursor);
caf::result<json> handle_find(supervisor_pointer self,
                              const request_context& ctx,
                              const find_request& req);
caf::result<json> handle_wait(supervisor_pointer self,
                              const request_context& ctx, std::uint64_t id);

// supervisor_cancel.cpp
caf::result<json> handle_cancel_by_id(supervisor_pointer self,
                                      const request_context& ctx,
                                      std::uint64_t id);
caf::result<json> handle_cancel_where(supervisor_pointer self,
                                      const request_context& ctx,
                                      const cancel_request& req);

// supervisor_run.cpp
caf::result<json> handle_run_by_id(supervisor_pointer self,
                                   const request_context& ctx,
                                   std::uint64_t id);

/// Executes claimed jobs (all at once, or one after another) and replies the
/// RunJobsResult.
void execute_claimed(supervisor_pointer self,
                     std::vector<std::pair<queue_actor, model::job_id>> claimed,
                     bool sequential, caf::typed_response_promise<json> rp);

/// payload.jobs.run: claims across the selected queues in processing
/// order, executes, replies the RunJobsResult through `rp`.
void handle_run(supervisor_pointer self, const run_request& req,
                caf::typed_response_promise<json> rp);

} // namespace conveyor::actors::sup
