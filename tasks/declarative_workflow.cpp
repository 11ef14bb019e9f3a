#include "tasks/declarative_workflow.hpp"

#include <algorithm>
#include <stdexcept>

#include "conveyor/errors.hpp"
#include "model/task_status.hpp"

namespace conveyor::tasks {

std::optional<condition_spec>
parse_condition(const json& value, const std::string& where,
                std::vector<std::string>& problems) {
  auto fail = [&](const std::string& at, const std::string& msg) {
    problems.push_back(at + ": " + msg);
  };
  if (!value.is_object()) {
    fail(where, std::string{"expected an object {\"exists\": \"${...}\"} or "
                            "{\"path\": \"${...}\", \"equals\": value}, got "}
                  + value.type_name());
    return std::nullopt;
  }
  const auto before = problems.size();
  for (const auto& [key, v] : value.items())
    if (key != "exists" && key != "path" && key != "equals"
        && key != "notEquals")
      fail(where_key(where, key),
           "unknown key (expected exists, path, equals or notEquals)");
  condition_spec cond;
  auto read_ref = [&](const char* key) {
    const json& r = value.at(key);
    const auto at = where_key(where, key);
    if (!r.is_string()) {
      fail(at, std::string{"expected a \"${...}\" reference, got "}
                 + r.type_name());
      return;
    }
    auto ref = whole_placeholder(r.get<std::string>());
    if (!ref)
      fail(at, ref.error().message);
    else if (!*ref)
      fail(at, "expected exactly one \"${...}\" reference, got \""
                 + r.get<std::string>() + "\"");
    else
      cond.ref = std::move(**ref);
  };
  const bool has_exists = value.contains("exists");
  const bool has_path = value.contains("path");
  const bool has_eq = value.contains("equals");
  const bool has_ne = value.contains("notEquals");
  if (has_exists) {
    if (has_path || has_eq || has_ne)
      fail(where,
           "\"exists\" cannot be combined with path, equals or notEquals");
    read_ref("exists");
  } else if (has_path) {
    if (has_eq == has_ne)
      fail(where, "\"path\" needs exactly one of \"equals\" or \"notEquals\"");
    read_ref("path");
    cond.op =
      has_eq ? condition_spec::kind::equals : condition_spec::kind::not_equals;
    cond.value = value.value(has_eq ? "equals" : "notEquals", json{});
  } else {
    fail(where, "expected \"exists\" or \"path\"");
  }
  if (problems.size() != before)
    return std::nullopt;
  return cond;
}

bool evaluate_condition(const condition_spec& cond, const json& scope) {
  const json* v = resolve(cond.ref, scope);
  switch (cond.op) {
  case condition_spec::kind::exists:
    return v != nullptr;
  case condition_spec::kind::equals:
    return v != nullptr && *v == cond.value;
  case condition_spec::kind::not_equals:
    return v == nullptr || *v != cond.value;
  }
  return false;
}

std::string check_step_reference(const placeholder& ref,
                                 const std::vector<step_spec>& steps,
                                 std::size_t index) {
  const auto text = reference_text(ref);
  const auto& root = ref.path.front();
  if (root == "input")
    return {};
  if (root == "job") {
    if (ref.path.size() == 2 && (ref.path[1] == "id" || ref.path[1] == "queue"))
      return {};
    return text + ": a job reference is ${job.id} or ${job.queue}";
  }
  if (root != "steps")
    return text + ": unknown reference root '" + root
           + "' (expected input, steps or job)";
  if (ref.path.size() < 3 || ref.path[2] != "output")
    return text + ": expected ${steps.<id>.output...}";
  const auto& id = ref.path[1];
  auto it = std::find_if(steps.begin(), steps.end(),
                         [&](const step_spec& s) { return s.id == id; });
  if (it == steps.end())
    return text + " refers to unknown step '" + id + "'";
  if (static_cast<std::size_t>(it - steps.begin()) >= index)
    return text + " refers to step '" + id + "', which is not an earlier step";
  return {};
}

std::vector<std::string> step_dependencies(const step_spec& step) {
  std::vector<located_placeholder> refs;
  std::vector<std::string> ignored; // reported at load time
  collect_placeholders(step.input, "input", refs, ignored);
  if (step.condition)
    refs.push_back(located_placeholder{"condition", step.condition->ref});
  std::vector<std::string> ids;
  for (const auto& r : refs)
    if (r.ref.path.size() >= 2 && r.ref.path[0] == "steps"
        && std::find(ids.begin(), ids.end(), r.ref.path[1]) == ids.end())
      ids.push_back(r.ref.path[1]);
  return ids;
}

json workflow_scope(const workflow_context& wf, const declarative_spec& spec) {
  json job = {{"id", wf.job().id}, {"queue", wf.job().queue}};
  json steps = json::object();
  for (const auto& step : spec.steps) {
    const auto* state =
      model::find_task_state(wf.task_status(), step.task, step.id);
    if (state && state->complete)
      steps[step.id] = json{{"output", state->output}};
  }
  return json{{"input", wf.input()},
              {"job", std::move(job)},
              {"steps", std::move(steps)}};
}

namespace {

/// The steps of the next round (see run_declarative), marked in `ran`.
/// Kept out of the coroutine body: GCC 12 mishandles temporaries there.
std::vector<step_awaitable> next_round(workflow_context& wf,
                                       const declarative_spec& spec,
                                       std::vector<bool>& ran) {
  const json scope = workflow_scope(wf, spec);
  const json& done = scope.at("steps");
  std::vector<step_awaitable> batch;
  for (std::size_t i = 0; i < spec.steps.size(); ++i) {
    const auto& step = spec.steps[i];
    if (ran[i] || done.contains(step.id))
      continue;
    auto deps = step_dependencies(step);
    if (!std::all_of(deps.begin(), deps.end(),
                     [&](const std::string& d) { return done.contains(d); }))
      continue;
    if (step.condition && !evaluate_condition(*step.condition, scope))
      continue;
    auto input = render_template(step.input, scope);
    if (!input)
      throw std::runtime_error("step '" + step.id
                               + "': " + input.error().message);
    if (!input->is_object())
      throw std::runtime_error("step '" + step.id
                               + "': input must render to an object, got "
                               + input->type_name());
    ran[i] = true;
    batch.push_back(wf.task(step.task, step.id,
                            task_options{std::move(*input), step.retries}));
  }
  return batch;
}

bool completed_by_step(const workflow_context& wf,
                       const declarative_spec& spec) {
  return std::any_of(spec.steps.begin(), spec.steps.end(),
                     [&](const step_spec& s) {
                       const auto* state =
                         model::find_task_state(wf.task_status(), s.task, s.id);
                       return s.completes_job && state && state->complete;
                     });
}

} // namespace

namespace {

/// `keep_alive` owns `spec` when the caller handed over ownership.
workflow run_rounds(
  workflow_context& wf, const declarative_spec& spec,
  [[maybe_unused]] std::shared_ptr<const declarative_spec> keep_alive) {
  // Every round either runs at least one step that has not run in this
  // attempt or ends the workflow, so this loop ends after at most
  // spec.steps.size() + 1 rounds.
  std::vector<bool> ran(spec.steps.size(), false);
  for (;;) {
    std::vector<step_awaitable> batch = next_round(wf, spec, ran);
    if (batch.empty())
      co_return;
    co_await wf.all(std::move(batch));
    if (completed_by_step(wf, spec))
      co_return;
  }
}

} // namespace

workflow run_declarative(workflow_context& wf, const declarative_spec& spec) {
  return run_rounds(wf, spec, nullptr);
}

workflow run_declarative(workflow_context& wf,
                         std::shared_ptr<const declarative_spec> spec) {
  const auto& ref = *spec;
  return run_rounds(wf, ref, std::move(spec));
}

} // namespace conveyor::tasks
