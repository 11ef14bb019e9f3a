#pragma once

// Exceptions a task or workflow handler may throw, and the one the API throws
// back at its callers.

#include <stdexcept>
#include <string>

#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor {

using json = nlohmann::json;
using model::errc;

/// Thrown by a handler to cancel its own job, whatever its retries (Payload's
/// JobCancelledError).
class job_cancelled : public std::runtime_error {
public:
  explicit job_cancelled(const std::string& message = "job cancelled")
      : std::runtime_error(message) {}
};

/// What `co_await wf.task(...)` throws when the task failed. If the workflow
/// lets it escape, the job fails as a task error (docs/semantics.md §10);
/// if the workflow catches it, nothing is recorded and the workflow goes on.
class task_failed : public std::runtime_error {
public:
  task_failed(std::string slug, std::string id, json error)
      : std::runtime_error(error.value("message", std::string{"task failed"})),
        slug_(std::move(slug)), id_(std::move(id)), error_(std::move(error)) {}
  const std::string& slug() const { return slug_; }
  const std::string& id() const { return id_; }
  /// {name, cancelled, message, stack}
  const json& error() const { return error_; }

private:
  std::string slug_;
  std::string id_;
  json error_;
};

/// Thrown by the blocking client when a request fails.
class request_error : public std::runtime_error {
public:
  explicit request_error(model::error e)
      : std::runtime_error(std::string{model::to_string(e.code)} + ": "
                           + e.message),
        error_(std::move(e)) {}
  errc code() const { return error_.code; }
  const std::string& message() const { return error_.message; }

private:
  model::error error_;
};

} // namespace conveyor
