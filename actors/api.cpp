// The non-actor parts of the public API: the registry and the workflow
// awaitables.

#include <random>

#include "actors/env.hpp"
#include "conveyor/registry.hpp"
#include "conveyor/workflow.hpp"
#include "model/cron.hpp"
#include "model/names.hpp"
#include "model/schema.hpp"

namespace conveyor {

// -- registry
// ------------------------------------------------------------------

model::status registry::check_slug(const std::string& slug,
                                   const char* what) const {
  auto fail = [&](const std::string& msg) {
    return model::make_error(model::errc::invalid_input,
                             std::string{what} + " '" + slug + "': " + msg);
  };
  if (auto problem = model::slug_problem(slug); !problem.empty())
    return fail(problem);
  if (tasks_.count(slug) || workflows_.count(slug))
    return fail("slug is already used by a task or workflow");
  return model::ok();
}

namespace {

/// Schedules must name a valid cron and queue; a concurrency config needs
/// its key function.
model::status check_extras(const std::string& what,
                           const std::vector<schedule_entry>& schedule,
                           const std::optional<concurrency_config>& conc) {
  auto fail = [&](const std::string& msg) {
    return model::make_error(model::errc::invalid_input, what + ": " + msg);
  };
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    auto at = "schedule[" + std::to_string(i) + "]";
    if (auto c = model::cron_expr::parse(schedule[i].cron); !c)
      return fail(at + ".cron: " + c.error().message);
    if (!actors::valid_queue_name(schedule[i].queue))
      return fail(
        at + ".queue: '" + schedule[i].queue
        + "' is not a queue name (1-128 of letters, digits, - _ . :)");
  }
  if (conc && !conc->key)
    return fail("concurrency.key: the key function is missing");
  return model::ok();
}

} // namespace

model::status registry::add_task(task_definition def) {
  if (auto st = check_slug(def.slug, "task"); !st)
    return st;
  if (auto st =
        check_extras("task '" + def.slug + "'", def.schedule, def.concurrency);
      !st)
    return st;
  if (!def.handler && !def.remote)
    return model::make_error(model::errc::invalid_input,
                             "task '" + def.slug + "': handler is missing");
  for (auto* schema : {&def.input_schema, &def.output_schema})
    if (!schema->is_null())
      if (auto st = model::check_schema(*schema); !st)
        return model::make_error(model::errc::invalid_input,
                                 "task '" + def.slug
                                   + "': " + st.error().message);
  auto slug = def.slug;
  tasks_.emplace(std::move(slug), std::move(def));
  return model::ok();
}

model::status registry::add_workflow(workflow_definition def) {
  if (auto st = check_slug(def.slug, "workflow"); !st)
    return st;
  if (auto st = check_extras("workflow '" + def.slug + "'", def.schedule,
                             def.concurrency);
      !st)
    return st;
  if (!def.handler)
    return model::make_error(model::errc::invalid_input,
                             "workflow '" + def.slug + "': handler is missing");
  if (!def.input_schema.is_null())
    if (auto st = model::check_schema(def.input_schema); !st)
      return model::make_error(model::errc::invalid_input,
                               "workflow '" + def.slug
                                 + "': " + st.error().message);
  auto slug = def.slug;
  workflows_.emplace(std::move(slug), std::move(def));
  return model::ok();
}

const task_definition* registry::find_task(std::string_view slug) const {
  auto it = tasks_.find(slug);
  return it == tasks_.end() ? nullptr : &it->second;
}

const workflow_definition*
registry::find_workflow(std::string_view slug) const {
  auto it = workflows_.find(slug);
  return it == workflows_.end() ? nullptr : &it->second;
}

// -- workflow awaitables
// -------------------------------------------------------

step_awaitable workflow_context::task(std::string slug, std::string id,
                                      task_options opts) {
  auto step = std::make_shared<step_state>();
  step->slug = std::move(slug);
  step->id = std::move(id);
  step->options = std::move(opts);
  return step_awaitable{this, std::move(step)};
}

step_awaitable workflow_context::inline_task(std::string id,
                                             task_handler handler,
                                             task_options opts) {
  auto step = std::make_shared<step_state>();
  step->slug = "inline";
  step->id = std::move(id);
  step->options = std::move(opts);
  step->inline_handler = std::move(handler);
  return step_awaitable{this, std::move(step)};
}

void step_awaitable::await_suspend(std::coroutine_handle<> h) {
  ctx_->requested_.push_back(step_);
  ctx_->suspended_ = h;
}

namespace {

/// A step that could not even start (unknown task) fails the workflow; a
/// task that ran and failed throws task_failed.
[[noreturn]] void throw_step_error(const step_state& s) {
  if (s.workflow_level)
    throw std::runtime_error(s.error->value("message", "step failed"));
  throw task_failed(s.slug, s.id, *s.error);
}

} // namespace

json step_awaitable::await_resume() {
  if (step_->error)
    throw_step_error(*step_);
  return std::move(step_->output);
}

bool all_awaitable::await_ready() const noexcept {
  return steps_.empty();
}

void all_awaitable::await_suspend(std::coroutine_handle<> h) {
  for (auto& s : steps_)
    ctx_->requested_.push_back(s.step());
  ctx_->suspended_ = h;
}

std::vector<json> all_awaitable::await_resume() {
  for (auto& s : steps_)
    if (s.step()->error)
      throw_step_error(*s.step());
  std::vector<json> out;
  out.reserve(steps_.size());
  for (auto& s : steps_)
    out.push_back(std::move(s.step()->output));
  return out;
}

} // namespace conveyor

namespace conveyor::actors {

std::string make_unique_id() {
  // 8 hex digits of a per-process random prefix, 16 of a counter: unique
  // within a process run, and across runs with overwhelming probability.
  static const std::uint32_t prefix = std::random_device{}();
  static std::atomic<std::uint64_t> counter{
    (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()};
  auto n = counter.fetch_add(1, std::memory_order_relaxed);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(24, '0');
  for (int i = 7; i >= 0; --i)
    out[7 - i] = hex[(prefix >> (i * 4)) & 0xf];
  for (int i = 15; i >= 0; --i)
    out[8 + 15 - i] = hex[(n >> (i * 4)) & 0xf];
  return out;
}

} // namespace conveyor::actors
