#pragma once

// Workflow handlers are C++20 coroutines:
//
//   conveyor::workflow publish(conveyor::workflow_context& wf) {
//     auto img = co_await wf.task("resize", "1", {wf.input()});
//     auto outs = co_await wf.all(wf.task("upload", "2a"),
//                                 wf.task("notify", "2b"));
//   }
//
// `co_await wf.task(slug, id, ...)` returns the task's output. If (slug, id)
// already succeeded in an earlier attempt, the stored output is returned and
// the task does not run again (docs/semantics.md §8). Otherwise the step
// goes to a worker and the workflow is suspended: a waiting workflow holds no
// thread.
//
// Workflow code runs on the runtime's actor threads between steps: keep it to
// orchestration and never block in it; blocking work belongs in tasks.
//
// GCC 12 rejects braced initializer lists inside a co_await expression
// ("array used as initializer", a compiler bug). Build JSON inputs before the
// co_await (`json in = {{"k", v}}; co_await wf.task("t", "1", {in});`) and
// pass parallel steps as arguments: `co_await wf.all(wf.task(...), ...)`.

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/job.hpp"
#include "model/retry.hpp"
#include "model/task_status.hpp"

namespace conveyor {

using json = nlohmann::json;
class task_context;

/// A task handler: runs on a worker thread (may block), returns the output
/// object, throws to fail (any std::exception; job_cancelled cancels).
using task_handler = std::function<json(task_context&)>;

/// Input and call-site retries of one task invocation.
///
/// Deliberately not an aggregate: GCC 12 destroys aggregate temporaries
/// created inside a co_await expression twice (a compiler bug that corrupts
/// the heap). A class with constructors is handled correctly, so
/// `co_await wf.task("t", "1", {input})` is safe.
struct task_options {
  // User-provided on purpose (see above), so not `= default`:
  task_options() {} // NOLINT(modernize-use-equals-default)
  task_options(json in) : input(std::move(in)) {}
  task_options(json in, std::optional<model::retry_config> r)
      : input(std::move(in)), retries(r) {}

  json input = json::object();
  /// Call-site retries, merged over the task's own (docs/semantics.md §9).
  std::optional<model::retry_config> retries;
};

/// The coroutine type of workflow handlers.
class workflow {
public:
  struct promise_type {
    std::exception_ptr error;
    workflow get_return_object() {
      return workflow{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  workflow() = default;
  explicit workflow(std::coroutine_handle<promise_type> h) : handle_(h) {}
  workflow(workflow&& other) noexcept : handle_(other.handle_) {
    other.handle_ = nullptr;
  }
  workflow& operator=(workflow&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = other.handle_;
      other.handle_ = nullptr;
    }
    return *this;
  }
  workflow(const workflow&) = delete;
  workflow& operator=(const workflow&) = delete;
  ~workflow() { reset(); }

  std::coroutine_handle<promise_type> handle() const { return handle_; }

private:
  void reset() {
    if (handle_)
      handle_.destroy();
    handle_ = nullptr;
  }
  std::coroutine_handle<promise_type> handle_;
};

/// One requested step, filled in by the runtime.
struct step_state {
  std::string slug; ///< "inline" for inline tasks
  std::string id;
  task_options options;
  task_handler inline_handler; ///< set for inline tasks only
  bool done = false;
  json output;
  std::optional<json> error; ///< set when the step failed
  /// The step could not start (e.g. unknown task): a workflow-level error.
  bool workflow_level = false;
};

class workflow_context;

/// `co_await wf.task(...)`: suspends until the step finished.
class step_awaitable {
public:
  step_awaitable(workflow_context* ctx, std::shared_ptr<step_state> step)
      : ctx_(ctx), step_(std::move(step)) {}
  bool await_ready() const noexcept { return step_->done; }
  void await_suspend(std::coroutine_handle<> h);
  json await_resume();
  const std::shared_ptr<step_state>& step() const { return step_; }

private:
  workflow_context* ctx_;
  std::shared_ptr<step_state> step_;
};

/// `co_await wf.all({...})`: runs the steps in parallel; returns their
/// outputs in order. Every failure is recorded in the log; the first failing
/// step (in argument order) is the one thrown.
class all_awaitable {
public:
  all_awaitable(workflow_context* ctx, std::vector<step_awaitable> steps)
      : ctx_(ctx), steps_(std::move(steps)) {}
  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> h);
  std::vector<json> await_resume();

private:
  workflow_context* ctx_;
  std::vector<step_awaitable> steps_;
};

/// What a workflow handler sees. Owned by the runtime; valid for the whole
/// run of the handler.
class workflow_context {
public:
  workflow_context(model::job job, model::task_status_map status)
      : job_(std::move(job)), status_(std::move(status)) {}

  const model::job& job() const { return job_; }
  const json& input() const { return job_.input; }
  /// Kept current after every step (docs/semantics.md §8).
  const model::task_status_map& task_status() const { return status_; }

  step_awaitable task(std::string slug, std::string id, task_options opts = {});
  step_awaitable inline_task(std::string id, task_handler handler,
                             task_options opts = {});
  all_awaitable all(std::vector<step_awaitable> steps) {
    return all_awaitable{this, std::move(steps)};
  }
  /// `co_await wf.all(wf.task(...), wf.task(...))`
  template <class... Steps>
  requires(std::is_same_v<std::decay_t<Steps>, step_awaitable>&&...)
    all_awaitable all(Steps&&... steps) {
    std::vector<step_awaitable> v;
    v.reserve(sizeof...(Steps));
    (v.push_back(std::forward<Steps>(steps)), ...);
    return all_awaitable{this, std::move(v)};
  }

  // -- runtime side ----------------------------------------------------------

  /// Steps requested since the last call, in request order.
  std::vector<std::shared_ptr<step_state>> take_requested() {
    return std::exchange(requested_, {});
  }
  std::coroutine_handle<> suspended() const { return suspended_; }
  void clear_suspended() { suspended_ = nullptr; }
  model::job& mutable_job() { return job_; }
  model::task_status_map& mutable_status() { return status_; }

private:
  friend class step_awaitable;
  friend class all_awaitable;
  model::job job_;
  model::task_status_map status_;
  std::vector<std::shared_ptr<step_state>> requested_;
  std::coroutine_handle<> suspended_;
};

} // namespace conveyor
