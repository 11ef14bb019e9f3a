#pragma once

// A small stored job for persistence tests: task "t", input {"n": id},
// created at 1000 + id.

#include <string>

#include "model/job.hpp"

namespace conveyor::testing {

inline model::job sample_job(model::job_id id, std::string queue = "default",
                             std::int32_t priority = 0) {
  model::job j;
  j.id = id;
  j.task_slug = "t";
  j.queue = std::move(queue);
  j.priority = priority;
  j.input = {{"n", id}};
  j.created_at = 1000 + static_cast<model::time_ms>(id);
  j.updated_at = j.created_at;
  return j;
}

} // namespace conveyor::testing
