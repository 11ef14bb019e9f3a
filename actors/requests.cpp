// Request validation, access checks and result shapes of the supervisor.
// Kept free of CAF so it compiles fast and can be tested on its own.

#include "actors/requests.hpp"

#include "model/json_guard.hpp"
#include "model/schema.hpp"
#include "model/time.hpp"
#include "model/transitions.hpp"

namespace conveyor::actors {

using model::errc;

namespace {

model::error invalid(std::string message) {
  return model::make_error(errc::invalid_input, std::move(message));
}

/// A request string: valid UTF-8 (it ends up in JSON, whose dump rejects
/// anything else) and at most `max` bytes.
model::status check_text(const std::string& s, std::string_view field,
                         std::size_t max) {
  if (!model::valid_utf8(s))
    return invalid(std::string(field) + ": not valid UTF-8");
  if (s.size() > max)
    return model::make_error(errc::too_large,
                             std::string(field) + ": longer than "
                               + std::to_string(max) + " bytes");
  return model::ok();
}

} // namespace

/// Turns a queue request into a new job document (id not yet assigned), or
/// says precisely what is wrong with it.
model::expected<model::job> build_job(const registry& reg,
                                      const queue_request& req,
                                      model::time_ms now,
                                      const model::limits& lim) {
  model::job j;
  const json* schema = nullptr;
  const concurrency_config* concurrency = nullptr;
  std::int32_t default_priority = 0;
  if (req.task.empty() == req.workflow.empty())
    return invalid("exactly one of task and workflow must be set");
  // Strings first: the messages below quote them.
  for (auto [s, field] :
       {std::pair{&req.task, "task"}, std::pair{&req.workflow, "workflow"},
        std::pair{&req.queue, "queue"}})
    if (auto st = check_text(*s, field, 1024); !st)
      return st.error();
  if (!req.task.empty()) {
    const auto* def = reg.find_task(req.task);
    if (!def)
      return invalid("task '" + req.task + "' is not registered");
    j.task_slug = req.task;
    schema = &def->input_schema;
    if (def->concurrency)
      concurrency = &*def->concurrency;
    default_priority = def->priority;
    j.queue = "default";
  } else {
    const auto* def = reg.find_workflow(req.workflow);
    if (!def)
      return invalid("workflow '" + req.workflow + "' is not registered");
    j.workflow_slug = req.workflow;
    schema = &def->input_schema;
    if (def->concurrency)
      concurrency = &*def->concurrency;
    default_priority = def->priority;
    j.queue = def->queue.value_or("default");
  }
  if (!req.queue.empty())
    j.queue = req.queue;
  if (!valid_queue_name(j.queue))
    return invalid(
      "queue: '" + j.queue
      + "' is not a queue name (1-128 of letters, digits, - _ . :)");
  if (!req.input.is_object() && !req.input.is_null())
    return invalid("input: expected an object");
  // Checked before the copy into the job: copying recurses.
  if (auto st =
        model::check_json(req.input, lim.json(lim.max_input_bytes), "input");
      !st)
    return st.error();
  j.input = req.input.is_null() ? json::object() : req.input;
  if (schema && !schema->is_null())
    if (auto st = model::validate(*schema, j.input, "input"); !st)
      return invalid(st.error().message);
  if (concurrency && concurrency->key) {
    std::string key;
    try {
      key = concurrency->key(j.input, j.queue);
    } catch (const std::exception& e) {
      return invalid(std::string{"concurrency key: "} + e.what());
    }
    if (key.size() > 512 || key.find('\0') != std::string::npos
        || !model::valid_utf8(key))
      return invalid("concurrency key: longer than 512 bytes, contains NUL "
                     "or is not valid UTF-8");
    if (!key.empty())
      j.concurrency_key = std::move(key);
  }
  if (!req.meta.is_null() && !req.meta.is_object())
    return invalid("meta: expected an object");
  if (auto st =
        model::check_json(req.meta, lim.json(lim.max_meta_bytes), "meta");
      !st)
    return st.error();
  if (auto st = check_text(req.log, "log", lim.max_log_bytes); !st)
    return st.error();
  j.meta = req.meta;
  if (!req.log.empty()) {
    if (j.meta.is_null())
      j.meta = json::object();
    j.meta["log"] = json::array({json{{"at", now}, {"message", req.log}}});
  }
  if (!req.idempotency_key.empty()) {
    if (auto st = check_text(req.idempotency_key, "idempotencyKey",
                             lim.max_idempotency_key_bytes);
        !st)
      return invalid(st.error().message);
    j.idempotency_key = req.idempotency_key;
  }
  if (req.wait_until != 0) {
    // Only times the document format writes back as they were: a year
    // beyond 9999 would be stored, then refused by every later read.
    if (!model::in_request_range(req.wait_until))
      return invalid("waitUntil: " + std::to_string(req.wait_until)
                     + " ms is outside "
                     + model::format_iso8601(model::min_request_time) + " .. "
                     + model::format_iso8601(model::max_request_time));
    j.wait_until = req.wait_until;
  }
  j.priority = req.priority != 0 ? req.priority : default_priority;
  j.created_at = now;
  j.updated_at = now;
  j.status = model::pending_status(j, now);
  return j;
}

json run_result_json(const std::vector<run_outcome>& reports,
                     bool none_claimed) {
  if (none_claimed)
    return json{{"noJobsRemaining", true}, {"remainingJobsFromQueried", 0}};
  json status = json::object();
  int remaining = 0;
  for (auto& r : reports) {
    // An interrupted attempt did not fail: Payload's result has no status
    // for it, so it is left out of jobStatus; the job is still pending.
    if (r.status != model::run_status::interrupted)
      status[std::to_string(r.id)] =
        json{{"status", model::to_string(r.status)}};
    if (r.status == model::run_status::error
        || r.status == model::run_status::interrupted)
      ++remaining;
  }
  return json{{"jobStatus", std::move(status)},
              {"remainingJobsFromQueried", remaining}};
}

const concurrency_config* concurrency_of(const registry& reg,
                                         const model::job& j) {
  if (j.workflow_slug) {
    if (auto* w = reg.find_workflow(*j.workflow_slug); w && w->concurrency)
      return &*w->concurrency;
  } else if (j.task_slug) {
    if (auto* t = reg.find_task(*j.task_slug); t && t->concurrency)
      return &*t->concurrency;
  }
  return nullptr;
}

bool supersedes(const registry& reg, const model::job& j) {
  const auto* c = concurrency_of(reg, j);
  return j.concurrency_key && c && c->supersedes;
}

json deleted_completed(model::job_id id) {
  return json{{"id", std::to_string(id)}, {"status", "completed"}};
}

std::string effective_queue(const registry& reg, const queue_request& req) {
  if (!req.queue.empty())
    return req.queue;
  if (!req.workflow.empty())
    if (const auto* def = reg.find_workflow(req.workflow))
      return def->queue.value_or("default");
  return "default";
}

bool allowed(const access_rules& rules, operation op,
             const request_context& ctx, const access_target& target) {
  if (ctx.override_access)
    return true;
  const access_rule* rule = op == operation::queue    ? &rules.queue
                            : op == operation::run    ? &rules.run
                            : op == operation::cancel ? &rules.cancel
                                                      : &rules.read;
  try {
    return *rule ? (*rule)(ctx, target) : authenticated(ctx, target);
  } catch (...) {
    return false; // a rule that throws denies
  }
}

model::error forbidden(operation op, const request_context& ctx,
                       const access_target& target) {
  std::string who = ctx.principal.empty() ? std::string{"anonymous request"}
                                          : "principal '" + ctx.principal + "'";
  std::string where;
  if (target.queue && *target.queue != "*")
    where = " on queue '" + *target.queue + "'";
  return model::make_error(errc::forbidden, who + " may not "
                                              + std::string{to_string(op)}
                                              + " jobs" + where);
}

} // namespace conveyor::actors
