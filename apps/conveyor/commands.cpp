// The client subcommands: queue, run, run-by-id, get, list, cancel, pause,
// resume, handle-schedules.

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <limits>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "apps/conveyor/cli.hpp"
#include "apps/conveyor/follow.hpp"
#include "model/time.hpp"

namespace conveyor::app {

namespace {

// "token" is known only to be refused with a reason (see
// refuse_token_argument).
const std::vector<std::string> common_values{
  "connect", "token",           "token-file", "data",
  "timeout", "tls-certificate", "tls-key",    "tls-ca"};

std::vector<std::string> with(std::vector<std::string> extra) {
  extra.insert(extra.end(), common_values.begin(), common_values.end());
  return extra;
}

model::job_id parse_id(const std::string& text) {
  return parse_job_id(text);
}

constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t int32_min = std::numeric_limits<std::int32_t>::min();

/// Waits for the job to end. Not on a terminal: one blocking request. On a
/// terminal, a line shows what the job does meanwhile: the job is followed
/// (each request answered by the node when the job changed, no polling)
/// and the line is redrawn locally for its spinner and clock.
json wait_for(client& jobs, model::job_id id) {
  if (!::isatty(2))
    return jobs.wait(id);
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::string status = "?";
  std::string doing;
  std::size_t steps = 0;
  std::thread drawer{[&] {
    auto started = std::chrono::steady_clock::now();
    static const char* spin = "|/-\\";
    std::unique_lock lock{m};
    // `done` is set by the following thread (under `m`, which wait_for
    // releases meanwhile).
    for (int frame = 0;; ++frame) {
      if (done)
        break;
      auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                                - started)
                    .count();
      std::string bar(std::min<std::size_t>(steps, 20), '#');
      bar.resize(20, '.');
      std::fprintf(
        stderr, "\r\033[K%c [%s] job %s %s, %zu step%s logged%s, %.1fs",
        spin[frame % 4], bar.c_str(), std::to_string(id).c_str(),
        status.c_str(), steps, steps == 1 ? "" : "s", doing.c_str(), secs);
      cv.wait_for(lock, std::chrono::milliseconds(200));
    }
    std::fprintf(stderr, "\r\033[K");
  }};
  auto stop_drawing = [&] {
    {
      std::lock_guard guard{m};
      done = true;
    }
    cv.notify_all();
    drawer.join();
  };
  try {
    std::string cursor;
    for (;;) {
      auto answer = jobs.follow(id, cursor);
      const auto& j = answer["job"];
      cursor = answer.value("cursor", "final");
      if (cursor == "final") {
        stop_drawing();
        return j;
      }
      std::lock_guard guard{m};
      status = j.value("status", "?");
      steps = j.contains("log") ? j["log"].size() : 0u;
      doing.clear();
      if (const auto* p = j.contains("live") ? &j["live"]["progress"] : nullptr;
          p && p->is_object())
        doing =
          ", "
          + std::to_string(static_cast<int>(p->value("fraction", 0.0) * 100))
          + "% " + p->value("message", "");
    }
  } catch (...) {
    stop_drawing();
    throw;
  }
}

int cmd_queue(caf::actor_system& sys, client& jobs, const args& a) {
  queue_request req;
  auto task = a.get("task");
  auto workflow = a.get("workflow");
  if (task.has_value() == workflow.has_value())
    throw usage_error(
      "queue needs exactly one of --task SLUG or --workflow SLUG");
  if (a.positional().size() > 0)
    throw usage_error("unexpected argument '" + a.positional()[0] + "'");
  (task ? req.task : req.workflow) = task ? *task : *workflow;
  if (auto in = a.get("input"))
    req.input = read_input(*in);
  req.queue = a.get_or("queue", "");
  if (auto w = a.get("wait-until")) {
    auto t = model::parse_iso8601(*w);
    if (!t)
      throw request_error(
        {model::errc::invalid_input,
         "--wait-until: '" + *w + "' is not an ISO 8601 time"});
    req.wait_until = *t;
  }
  req.log = a.get_or("log", "");
  req.idempotency_key = a.get_or("idempotency-key", "");
  if (auto p = a.get("priority"))
    req.priority = static_cast<std::int32_t>(
      parse_integer(*p, "--priority", int32_min, int32_max));
  auto job = jobs.queue(req);
  if (!a.has("wait")) {
    print(job);
    return ok;
  }
  // Waiting for a job is not bounded by the default request timeout (a job
  // may run for hours); an explicit --timeout bounds it.
  auto waiter = jobs.clone(
    sys, a.has("timeout") ? request_timeout(a) : caf::duration{caf::infinite});
  auto done = wait_for(waiter, client::id_of(job));
  print(done);
  return done["status"] == "completed" ? ok : failure;
}

/// --queue Q (default "default") or --all-queues, as handle-schedules
/// takes them.
schedules_request schedules_for(const args& a) {
  if (a.has("queue") && a.has("all-queues"))
    throw usage_error("use --queue Q or --all-queues, not both");
  schedules_request req;
  req.queue = a.get_or("queue", "default");
  req.all_queues = a.has("all-queues");
  return req;
}

int cmd_handle_schedules(client& jobs, const args& a) {
  print(jobs.handle_schedules(schedules_for(a)));
  return ok;
}

int cmd_run(client& jobs, const args& a) {
  run_request req;
  if (a.has("queue") && a.has("all-queues"))
    throw usage_error("use --queue Q or --all-queues, not both");
  req.queue = a.get_or("queue", "default");
  req.all_queues = a.has("all-queues");
  if (auto l = a.get("limit"))
    req.limit =
      static_cast<std::int32_t>(parse_integer(*l, "--limit", 1, int32_max));
  if (auto w = a.get("where"))
    req.where = read_input(*w);
  req.sequential = a.has("sequential");
  req.processing_order = a.get_or("processing-order", "");
  if (!a.has("handle-schedules")) {
    print(jobs.run(req));
    return ok;
  }
  print(jobs.handle_schedules_then_run(schedules_for(a), req));
  return ok;
}

int cmd_list(client& jobs, const args& a) {
  find_request req;
  req.queue = a.get_or("queue", "");
  json where = json::object();
  if (auto w = a.get("where"))
    where = read_input(*w);
  if (auto s = a.get("status")) {
    json by_status = {{"status", {{"equals", *s}}}};
    where = where.empty() ? by_status : json{{"and", {where, by_status}}};
  }
  if (!where.empty())
    req.where = where;
  if (auto l = a.get("limit"))
    req.limit =
      static_cast<std::int32_t>(parse_integer(*l, "--limit", 1, int32_max));
  print(jobs.find(req));
  return ok;
}

int cmd_cancel(client& jobs, const args& a) {
  if (auto w = a.get("where")) {
    if (!a.positional().empty())
      throw usage_error("cancel takes an ID or --where, not both");
    cancel_request req;
    req.where = read_input(*w);
    req.queue = a.get_or("queue", "");
    print(jobs.cancel(req));
    return ok;
  }
  if (a.positional().size() != 1)
    throw usage_error("cancel needs a job ID or --where JSON");
  print(jobs.cancel_by_id(parse_id(a.positional()[0])));
  return ok;
}

int one_id(const args& a, const char* what) {
  if (a.positional().size() != 1)
    throw usage_error(std::string{what} + " needs exactly one job ID");
  return 0;
}

} // namespace

int run_client_command(const std::string& command, int argc, char** argv) {
  std::unique_ptr<args> a;
  if (command == "queue")
    a = std::make_unique<args>(
      argc, argv, 2,
      with({"task", "workflow", "input", "queue", "wait-until", "log",
            "idempotency-key", "priority"}),
      std::vector<std::string>{"wait"});
  else if (command == "run")
    a = std::make_unique<args>(
      argc, argv, 2, with({"queue", "limit", "where", "processing-order"}),
      std::vector<std::string>{"all-queues", "sequential", "handle-schedules"});
  else if (command == "handle-schedules")
    a = std::make_unique<args>(argc, argv, 2, with({"queue"}),
                               std::vector<std::string>{"all-queues"});
  else if (command == "list")
    a = std::make_unique<args>(argc, argv, 2,
                               with({"queue", "status", "where", "limit"}),
                               std::vector<std::string>{});
  else if (command == "cancel")
    a = std::make_unique<args>(argc, argv, 2, with({"where", "queue"}),
                               std::vector<std::string>{});
  else if (command == "get")
    a = std::make_unique<args>(argc, argv, 2, with({}),
                               std::vector<std::string>{"follow"});
  else
    a = std::make_unique<args>(argc, argv, 2, with({}),
                               std::vector<std::string>{});
  // Everything the command line alone can refute is refused before any
  // connection attempt (exit 2, not 6).
  refuse_token_argument(*a);
  auto timeout = request_timeout(*a);
  if (command == "get" || command == "run-by-id") {
    one_id(*a, command.c_str());
    parse_id(a->positional()[0]);
  }
  if (command == "cancel" && a->positional().size() == 1)
    parse_id(a->positional()[0]);
  if (auto p = a->get("priority"))
    parse_integer(*p, "--priority", int32_min, int32_max);
  if (auto l = a->get("limit"))
    parse_integer(*l, "--limit", 1, int32_max);
  if ((command == "queue" || command == "run" || command == "list"
       || command == "handle-schedules")
      && !a->positional().empty())
    throw usage_error("unexpected argument '" + a->positional()[0] + "'");
  if ((command == "run" || command == "handle-schedules") && a->has("queue")
      && a->has("all-queues"))
    throw usage_error("use --queue Q or --all-queues, not both");
  if (command == "cancel" && !a->has("where") && a->positional().size() != 1)
    throw usage_error("cancel needs a job ID or --where JSON");
  if (command == "cancel" && a->has("where") && !a->positional().empty())
    throw usage_error("cancel takes an ID or --where, not both");
  if ((command == "pause" || command == "resume")
      && a->positional().size() != 1)
    throw usage_error(command + " needs exactly one queue name");
  if (command == "queue" && a->has("task") == a->has("workflow"))
    throw usage_error(
      "queue needs exactly one of --task SLUG or --workflow SLUG");
  auto tls = client_tls(*a);
  net_config cfg{tls};
  caf::actor_system sys{cfg};
  network net{sys, {.tls = tls.enabled()}};
  client jobs{sys, connect(net, *a), timeout};
  if (command == "queue")
    return cmd_queue(sys, jobs, *a);
  if (command == "run")
    return cmd_run(jobs, *a);
  if (command == "handle-schedules")
    return cmd_handle_schedules(jobs, *a);
  if (command == "run-by-id") {
    print(jobs.run_by_id(parse_id(a->positional()[0])));
    return ok;
  }
  if (command == "get" && a->has("follow")) {
    // Each answer may take the node's follow window (15 s): an explicit
    // --timeout bounds each request, else a minute does.
    auto follower = jobs.clone(
      sys,
      a->has("timeout") ? timeout : caf::duration{caf::time_unit::seconds, 60});
    auto done = follow_job(follower, parse_id(a->positional()[0]));
    print(done);
    return done.value("status", "") == "completed" ? ok : failure;
  }
  if (command == "get") {
    print(jobs.get(parse_id(a->positional()[0])));
    return ok;
  }
  if (command == "list")
    return cmd_list(jobs, *a);
  if (command == "cancel")
    return cmd_cancel(jobs, *a);
  if (command == "pause" || command == "resume") {
    if (a->positional().size() != 1)
      throw usage_error(command + " needs exactly one queue name");
    print(jobs.pause(a->positional()[0], command == "pause"));
    return ok;
  }
  throw usage_error("unknown command '" + command + "'");
}

} // namespace conveyor::app
