#pragma once

// Declarative workflows: a workflow written as data (config `steps`)
// instead of a C++ coroutine, like Payload's JSON workflows
// (docs/semantics.md §7), with inputs and conditions as templates instead
// of functions.
//
// Templates (`${...}` placeholders): tasks/templates.hpp.
//
// Conditions (a step runs only while its condition holds):
//
//   { "exists": "${ref}" }                  ref resolves (null counts)
//   { "path": "${ref}", "equals": V }       ref resolves to exactly V
//   { "path": "${ref}", "notEquals": V }    ref is missing or not V

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/workflow.hpp"
#include "model/error.hpp"
#include "model/retry.hpp"
#include "tasks/templates.hpp"

namespace conveyor::tasks {

struct condition_spec {
  enum class kind { exists, equals, not_equals };
  kind op = kind::exists;
  placeholder ref;
  json value; ///< compared with for equals / not_equals
};

/// Parses one of the three condition forms. Problems are appended as
/// "where.key: message"; nullopt when there was any.
std::optional<condition_spec>
parse_condition(const json& value, const std::string& where,
                std::vector<std::string>& problems);

/// A missing reference makes exists and equals false, notEquals true.
bool evaluate_condition(const condition_spec& cond, const json& scope);

/// One step of a declarative workflow.
struct step_spec {
  std::string id;              ///< task id: letters, digits, '-' and '_'
  std::string task;            ///< slug of a registered task
  json input = json::object(); ///< template; must render to an object
  std::optional<condition_spec> condition;
  /// The job completes as soon as a round that ran this step finishes.
  bool completes_job = false;
  std::optional<model::retry_config> retries; ///< call-site retries
};

struct declarative_spec {
  std::vector<step_spec> steps;
};

/// Why `ref` cannot be used by step number `index` (only input.*, job.id,
/// job.queue and steps.<earlier id>.output[...] can), or "" if it can.
std::string check_step_reference(const placeholder& ref,
                                 const std::vector<step_spec>& steps,
                                 std::size_t index);

/// Ids of the steps `step` references in its input and condition: it waits
/// until they all completed.
std::vector<std::string> step_dependencies(const step_spec& step);

/// {"input": ..., "job": {"id", "queue"}, "steps": {id: {"output": ...}}}
/// with the outputs of the completed steps of `spec`.
json workflow_scope(const workflow_context& wf, const declarative_spec& spec);

/// Runs `spec` as a workflow handler. In rounds: every step that has not
/// completed, whose referenced steps all completed and whose condition
/// holds runs, all of them in parallel. After a round the job completes if
/// a `completesJob` step has completed; otherwise the next round starts.
/// A round that selects nothing completes the job: unlike Payload, a
/// workflow without `completesJob` ends once every step that can run has
/// run, instead of looping forever. A step runs at most once per attempt.
///
/// A failing step escapes as task_failed (a task error: the task's retries
/// apply); a template that does not render is a workflow-level error.
/// `spec` must outlive the coroutine; the second form shares ownership.
workflow run_declarative(workflow_context& wf, const declarative_spec& spec);
workflow run_declarative(workflow_context& wf,
                         std::shared_ptr<const declarative_spec> spec);

} // namespace conveyor::tasks
