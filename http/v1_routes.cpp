// The /v1 JSON API (docs/http.md): each route turns its request into one
// supervisor request with the caller's principal.

#include "actors/requests.hpp"
#include "http/bodies.hpp"
#include "http/call.hpp"
#include "http/problem.hpp"

namespace conveyor::http {

namespace {

/// The routes whose body becomes one supervisor request: parse the body,
/// convert it with `convert`, send (atom, context, request) and answer the
/// reply with `status`.
template <class Convert, class Atom>
void body_request(const call& c, Convert convert, Atom atom, unsigned status,
                  caf::duration timeout) {
  auto body = body_of(c);
  if (!body)
    return fail(c, body.error());
  auto req = convert(*body);
  if (!req)
    return fail(c, req.error());
  ask(c.to->sys, c.to->supervisor, timeout, send_with(c, status), atom, c.ctx,
      std::move(*req));
}

/// A request without a body: (atom, context, xs...).
template <class Atom, class... Ts>
void plain_request(const call& c, caf::duration timeout, Atom atom, Ts... xs) {
  ask(c.to->sys, c.to->supervisor, timeout, send_with(c, 200), atom, c.ctx,
      std::move(xs)...);
}

} // namespace

void post_job(const call& c) {
  body_request(c, to_queue_request, queue_atom::value, 201, c.timeout());
}

/// GET /v1/jobs: `where` narrowed by queue, status, task and the cursor (the
/// last id of the previous page); docs come in id order.
void list_jobs(const call& c) {
  auto where = json_param(c, "where");
  if (!where)
    return fail(c, where.error());
  json all = json::array();
  if (!where->is_null())
    all.push_back(*where);
  if (auto status = c.where.param("status"))
    all.push_back({{"status", {{"equals", *status}}}});
  if (auto task = c.where.param("task"))
    all.push_back({{"taskSlug", {{"equals", *task}}}});
  if (auto cursor = c.where.param("cursor")) {
    auto id = parse_id(*cursor);
    if (!id)
      return fail(c, invalid("cursor: '" + *cursor + "' is not a job id"));
    all.push_back({{"id", {{"greater_than", *id}}}});
  }
  find_request req;
  req.queue = c.where.param("queue").value_or("");
  req.limit = 50;
  if (auto limit = c.where.param("limit")) {
    auto n = parse_id(*limit);
    if (!n || *n > 1'000'000)
      return fail(c,
                  invalid("limit: '" + *limit + "' is not a positive integer"));
    req.limit = static_cast<std::int32_t>(*n);
  }
  if (all.size() == 1)
    req.where = all[0];
  else if (!all.empty())
    req.where = {{"and", all}};
  auto limit = static_cast<std::size_t>(req.limit);
  ask(
    c.to->sys, c.to->supervisor, c.timeout(),
    [ex = c.answer, limit](model::expected<json> r) {
      if (!r)
        return ex->respond(problem(r.error()));
      json page = {{"docs", *r}, {"nextCursor", nullptr}};
      if (r->is_array() && r->size() == limit && limit > 0)
        page["nextCursor"] = r->back().value("id", json{});
      ex->respond(json_response(200, page));
    },
    find_atom::value, c.ctx, std::move(req));
}

void cancel_where(const call& c) {
  body_request(c, to_cancel_request, cancel_atom::value, 200, c.timeout());
}

void job_by_id(const call& c, std::uint64_t id, const std::string& action) {
  if (action.empty())
    return plain_request(c, c.timeout(), get_job_atom::value, id);
  if (action == "cancel")
    return plain_request(c, c.timeout(), cancel_by_id_atom::value, id);
  // run: as long as the job takes.
  plain_request(c, caf::infinite, run_by_id_atom::value, id);
}

void post_run(const call& c) {
  // As long as the jobs take.
  body_request(c, to_run_request, run_atom::value, 200, caf::infinite);
}

void post_schedules(const call& c) {
  body_request(c, to_schedules_request, handle_schedules_atom::value, 200,
               c.timeout());
}

void pause_queue(const call& c, const std::string& queue, bool pause) {
  plain_request(c, c.timeout(), pause_queue_atom::value, queue, pause);
}

/// GET /v1/queues, each queue with what the caller may do there
/// (`may`: run, which also pauses and resumes; cancel; queue), so a client
/// such as the dashboard offers only what the rules allow. The rules are
/// asked about the queue alone: one that decides by the job may still
/// refuse an action on a particular job.
void list_queues(const call& c) {
  auto done = send_with(c, 200);
  ask(
    c.to->sys, c.to->supervisor, c.timeout(),
    [done, ctx = c.ctx, rules = c.to->rules](model::expected<json> r) {
      if (r && r->is_array())
        for (auto& q : *r) {
          access_target target{q.value("name", std::string{}), nullptr};
          auto may = [&](model::operation op) {
            return actors::allowed(*rules, op, ctx, target);
          };
          q["may"] = {{"run", may(model::operation::run)},
                      {"cancel", may(model::operation::cancel)},
                      {"queue", may(model::operation::queue)}};
        }
      done(std::move(r));
    },
    queue_stats_atom::value, c.ctx);
}

} // namespace conveyor::http
