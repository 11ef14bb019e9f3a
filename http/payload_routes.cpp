// Payload's REST endpoints (spec §3.12, docs/http.md "Payload's
// endpoints"): the same parameters, defaults and answers, so a cron
// service set up for Payload can call Conveyor unchanged.

#include <charconv>

#include "http/call.hpp"
#include "http/problem.hpp"

namespace conveyor::http {

namespace {

/// Payload answers its endpoints' errors as {message}; a refused `run` rule
/// is a 401 there.
void payload_fail(const exchange_ptr& ex, const model::error& e,
                  bool runner = false) {
  auto status = status_of(e.code);
  if (e.code == model::errc::forbidden)
    status = 401;
  else if (runner && status >= 500 && e.code != model::errc::overloaded)
    status = 500;
  json body = {{"message", e.message}};
  if (runner) {
    body["noJobsRemaining"] = true;
    body["remainingJobsFromQueried"] = 0;
  }
  auto res = json_response(status, body);
  if (e.code == model::errc::overloaded)
    res.headers.emplace_back("Retry-After", "1");
  ex->respond(std::move(res));
}

schedules_request payload_schedules(const call& c) {
  schedules_request req;
  req.queue = c.where.param("queue").value_or("default");
  if (auto all = c.where.param("allQueues"))
    req.all_queues = *all != "false";
  return req;
}

} // namespace

/// GET|POST /api/payload-jobs/run (spec §3.12): handle schedules unless
/// disableScheduling=true, then run `limit` (if numeric, else 10) jobs.
void payload_run(const call& c) {
  auto where = json_param(c, "where");
  if (!where)
    return payload_fail(c.answer, where.error());
  run_request run;
  auto schedules = payload_schedules(c);
  run.queue = schedules.queue;
  run.all_queues = schedules.all_queues;
  run.where = *where;
  run.sequential = c.where.param("sequential") == "true";
  if (auto limit = c.where.param("limit")) {
    std::int32_t n = 0;
    auto [end, ec] =
      std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec == std::errc{} && end == limit->data() + limit->size())
      run.limit = n;
  }
  auto then_run = [c, run](const model::expected<json>& scheduled) mutable {
    if (!scheduled)
      return payload_fail(c.answer, scheduled.error());
    ask(
      c.to->sys, c.to->supervisor, caf::infinite,
      [ex = c.answer](model::expected<json> r) {
        if (!r)
          return payload_fail(ex, r.error(), true);
        json body = {{"message", "Success"},
                     {"noJobsRemaining", r->value("noJobsRemaining", false)},
                     {"remainingJobsFromQueried",
                      r->value("remainingJobsFromQueried", 0)}};
        ex->respond(json_response(200, body));
      },
      run_atom::value, c.ctx, std::move(run));
  };
  if (c.where.param("disableScheduling") == "true")
    return then_run(json::object());
  ask(c.to->sys, c.to->supervisor, c.timeout(), std::move(then_run),
      handle_schedules_atom::value, c.ctx, std::move(schedules));
}

/// GET|POST /api/payload-jobs/handle-schedules?queue=&allQueues=
void payload_handle_schedules(const call& c) {
  ask(
    c.to->sys, c.to->supervisor, c.timeout(),
    [ex = c.answer](model::expected<json> r) {
      if (!r)
        return payload_fail(ex, r.error());
      json body = *r;
      body["message"] = "Success";
      ex->respond(json_response(200, body));
    },
    handle_schedules_atom::value, c.ctx, payload_schedules(c));
}

} // namespace conveyor::http
