#pragma once

// A blocking façade mirroring payload.jobs, over an in-process supervisor
// (with a request context: override_access by default, like Payload's
// Local API) or over a session of a remote node (conveyor/network.hpp; the
// node decided the principal, rules always apply). For use from main(),
// tests and scripts; actors should `request(...)` the supervisor or the
// session directly instead. One client per thread (it owns a
// scoped_actor). Every call throws request_error on failure.

#include <chrono>
#include <optional>
#include <variant>

#include "conveyor/errors.hpp"
#include "conveyor/remote.hpp"
#include "conveyor/runtime.hpp"

namespace conveyor {

class client {
public:
  client(caf::actor_system& sys, supervisor_actor supervisor,
         request_context ctx = {}, caf::duration timeout = caf::infinite);
  /// Over a remote node's session. A request unanswered within `timeout`
  /// fails with `unavailable`.
  client(caf::actor_system& sys, session_actor session,
         caf::duration timeout = caf::duration{caf::time_unit::seconds, 30});

  /// The stored job (JSON with Payload's field names and an "id").
  json queue(const queue_request& req);
  /// Many jobs in one durable write; all or nothing.
  json queue_bulk(const std::vector<queue_request>& reqs);
  /// RunJobsResult: {jobStatus?, noJobsRemaining?, remainingJobsFromQueried}
  json run(const run_request& req = {});
  json run_by_id(model::job_id id);
  json get(model::job_id id);
  /// Following a job: {job, cursor} once it changed since `cursor` (pass
  /// "" first, then the cursor of the last answer), else the same after
  /// about 15 s; cursor "final" once it finished (docs/live.md).
  json follow(model::job_id id, const std::string& cursor = {});
  /// nullopt instead of a not_found error.
  std::optional<json> try_get(model::job_id id);
  json find(const find_request& req = {});
  json cancel_by_id(model::job_id id);
  json cancel(const cancel_request& req);
  /// Blocks until the job is terminal; returns its final document.
  json wait(model::job_id id);
  /// Pauses or resumes a queue (durable) -> {queue, paused}
  json pause(const std::string& queue, bool pause = true);
  /// Changes a queue's concurrency limit until restart -> {queue, concurrency}
  json set_concurrency(const std::string& queue, std::int32_t limit);

  /// handleSchedules -> {queued, skipped, errored}
  json handle_schedules(const schedules_request& req = {});
  /// What a cron service calls: queues the due scheduled jobs first, then
  /// runs, so this run can pick them up (`conveyor run
  /// --handle-schedules`) -> {schedules: {queued, skipped, errored},
  /// run: RunJobsResult}
  json handle_schedules_then_run(const schedules_request& schedules,
                                 const run_request& run);
  /// Non-terminal jobs of a task/workflow on a queue (Payload's
  /// countRunnableOrActiveJobsForQueue).
  std::int64_t count_active(const count_request& req);

  /// In-process clients only: the context sent with every request.
  request_context& context() { return ctx_; }

  /// Another client to the same target (for another thread), with this
  /// client's timeout or another one.
  client clone(caf::actor_system& sys,
               std::optional<caf::duration> timeout = std::nullopt) const;

  /// The numeric id of a job document's "id" field.
  static model::job_id id_of(const json& job);

private:
  template <class Result = json, class Atom, class... Ts>
  Result ask(Atom atom, Ts&&... xs);

  caf::scoped_actor self_;
  std::variant<supervisor_actor, session_actor> target_;
  request_context ctx_;
  caf::duration timeout_;
};

} // namespace conveyor
