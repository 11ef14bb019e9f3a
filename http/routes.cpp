#include "http/routes.hpp"

#include "actors/requests.hpp"
#include "http/call.hpp"
#include "http/dashboard.hpp"
#include "http/feed.hpp"
#include "http/problem.hpp"

namespace conveyor::http {

namespace {

/// Records the answer's status under the route's pattern before sending it.
class observed_exchange : public exchange {
public:
  observed_exchange(exchange_ptr inner, std::shared_ptr<feed> news,
                    std::shared_ptr<std::string> route)
      : inner_(std::move(inner)), news_(std::move(news)),
        route_(std::move(route)) {}

  void respond(response res) override {
    news_->counters.http_request(*route_, res.status);
    inner_->respond(std::move(res));
  }

  std::shared_ptr<event_stream> open_stream(response head) override {
    news_->counters.http_request(*route_, head.status);
    return inner_->open_stream(std::move(head));
  }

private:
  exchange_ptr inner_;
  std::shared_ptr<feed> news_;
  std::shared_ptr<std::string> route_;
};

/// "Bearer <token>" (scheme case-insensitive), or empty.
std::string bearer_token(const std::string& header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size())
    return {};
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i])
      return {};
  auto token = header.substr(scheme.size());
  auto first = token.find_first_not_of(' ');
  return first == std::string::npos ? std::string{} : token.substr(first);
}

bool is(const std::vector<std::string>& s,
        std::initializer_list<std::string_view> pattern) {
  if (s.size() != pattern.size())
    return false;
  std::size_t i = 0;
  for (auto part : pattern) {
    if (part != "*" && s[i] != part)
      return false;
    ++i;
  }
  return true;
}

response method_not_allowed(const char* allow) {
  auto res = problem(405, std::string{"this route accepts "} + allow);
  res.headers.emplace_back("Allow", allow);
  return res;
}

void events(const call& c);

/// Routes of authenticated callers. Sets c.route and answers.
void dispatch(call& c, const std::function<void(std::string)>& name) {
  const auto& s = c.where.segments;
  const auto& m = c.req.method;
  auto only = [&](const char* method) {
    if (m == method)
      return true;
    c.answer->respond(method_not_allowed(method));
    return false;
  };
  if (is(s, {"v1", "jobs"})) {
    name("/v1/jobs");
    if (m == "POST")
      return post_job(c);
    if (m == "GET")
      return list_jobs(c);
    return c.answer->respond(method_not_allowed("GET, POST"));
  }
  if (is(s, {"v1", "jobs", "cancel"})) {
    name("/v1/jobs/cancel");
    if (only("POST"))
      cancel_where(c);
    return;
  }
  if (is(s, {"v1", "jobs", "*"}) || is(s, {"v1", "jobs", "*", "cancel"})
      || is(s, {"v1", "jobs", "*", "run"})) {
    auto action = s.size() == 4 ? s[3] : std::string{};
    name(action.empty() ? "/v1/jobs/{id}" : "/v1/jobs/{id}/" + action);
    if (!only(action.empty() ? "GET" : "POST"))
      return;
    auto id = parse_id(s[2]);
    if (!id)
      return fail(c, invalid("'" + s[2] + "' is not a job id"));
    return job_by_id(c, *id, action);
  }
  if (is(s, {"v1", "run"})) {
    name("/v1/run");
    if (only("POST"))
      post_run(c);
    return;
  }
  if (is(s, {"v1", "handle-schedules"})) {
    name("/v1/handle-schedules");
    if (only("POST"))
      post_schedules(c);
    return;
  }
  if (is(s, {"v1", "events"})) {
    name("/v1/events");
    if (only("GET"))
      events(c);
    return;
  }
  if (is(s, {"v1", "queues"})) {
    name("/v1/queues");
    if (only("GET"))
      list_queues(c);
    return;
  }
  if (is(s, {"v1", "queues", "*", "pause"})
      || is(s, {"v1", "queues", "*", "resume"})) {
    name("/v1/queues/{name}/" + s[3]);
    if (only("POST"))
      pause_queue(c, s[2], s[3] == "pause");
    return;
  }
  if (is(s, {"api", "payload-jobs", "run"})
      || is(s, {"api", "payload-jobs", "handle-schedules"})) {
    name("/api/payload-jobs/" + s[2]);
    if (m != "GET" && m != "POST")
      return c.answer->respond(method_not_allowed("GET, POST"));
    return s[2] == "run" ? payload_run(c) : payload_handle_schedules(c);
  }
  name("unknown");
  fail(c, model::make_error(model::errc::not_found, "no such route"));
}

void ready(const api_ptr& to, const exchange_ptr& ex) {
  // A read through the supervisor and the journal: not_found proves both
  // answer.
  ask(
    to->sys, to->supervisor, caf::duration{to->options.answer_timeout},
    [ex](const model::expected<json>& r) {
      if (r || r.error().code == model::errc::not_found)
        return ex->respond(json_response(200, {{"ready", true}}));
      auto res = problem(503, "not ready: " + r.error().message, "unavailable");
      res.headers.emplace_back("Retry-After", "1");
      ex->respond(std::move(res));
    },
    get_job_atom::value, request_context{}, std::uint64_t{0});
}

/// GET /v1/events?queue=: an event stream of job transitions the caller's
/// `read` rule lets through (docs/http.md, "Events").
void events(const call& c) {
  if (!c.to->news->wired)
    return fail(c, model::make_error(model::errc::not_found,
                                     "this server has no event feed"));
  auto queue = c.where.param("queue");
  if (queue
      && !actors::allowed(*c.to->rules, model::operation::read, c.ctx,
                          {*queue}))
    return fail(c, actors::forbidden(model::operation::read, c.ctx, {*queue}));
  if (c.to->news->events.open_streams() >= c.to->options.max_event_streams) {
    auto res =
      problem(503, "too many open event streams; retry later", "overloaded");
    res.headers.emplace_back("Retry-After", "5");
    return c.answer->respond(std::move(res));
  }
  response head;
  head.content_type = "text/event-stream";
  auto stream = c.answer->open_stream(std::move(head));
  if (!stream)
    return;
  // A first comment, so the client knows the stream is live.
  stream->push(": conveyor events\n\n");
  if (!c.to->news->events.subscribe(stream, c.ctx, queue, c.to->rules))
    stream->push("event: overloaded\ndata: {}\n\n");
}

/// Queue gauges are read now, through the supervisor (every queue: any
/// authenticated caller may scrape).
void scrape(const api_ptr& to, const exchange_ptr& ex) {
  ask(
    to->sys, to->supervisor, caf::duration{to->options.answer_timeout},
    [ex, news = to->news, rt = to->rt](const model::expected<json>& r) {
      if (r)
        news->counters.queues(*r);
      response res;
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = news->counters.scrape(rt->journal());
      ex->respond(std::move(res));
    },
    queue_stats_atom::value, request_context{});
}

} // namespace

void route(const std::shared_ptr<const api>& to, request req,
           std::shared_ptr<exchange> answer) {
  auto route_name = std::make_shared<std::string>("unknown");
  answer = std::make_shared<observed_exchange>(std::move(answer), to->news,
                                               route_name);
  if (req.method == "GET") {
    auto path = std::string_view{req.target}.substr(
      0, std::min(req.target.size(), req.target.find('?')));
    if (auto page = dashboard_file(path)) {
      *route_name = "/ui";
      return answer->respond(std::move(*page));
    }
  }
  auto parsed = parse_target(req.target);
  if (!parsed)
    return answer->respond(problem(parsed.error()));
  const auto& s = parsed->segments;
  if (is(s, {"v1", "health"})) {
    *route_name = "/v1/health";
    return answer->respond(json_response(200, {{"status", "ok"}}));
  }
  if (is(s, {"v1", "ready"})) {
    *route_name = "/v1/ready";
    return ready(to, answer);
  }
  auto token = bearer_token(req.authorization);
  auto who = token.empty() ? std::nullopt : to->auth(token);
  bool payload = !s.empty() && s[0] == "api";
  if (!who) {
    response res =
      payload ? json_response(401, {{"message", "Unauthorized"}})
              : problem(401,
                        token.empty()
                          ? "missing 'Authorization: Bearer <token>' header"
                          : "unknown token",
                        "unauthorized");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return answer->respond(std::move(res));
  }
  if (is(s, {"metrics"})) {
    *route_name = "/metrics";
    return scrape(to, answer);
  }
  call c{to, std::move(req), std::move(*parsed), {}, std::move(answer)};
  c.ctx.principal = who->principal;
  c.ctx.roles = who->roles;
  c.ctx.override_access = false;
  dispatch(c, [&](std::string name) { *route_name = std::move(name); });
}

} // namespace conveyor::http
