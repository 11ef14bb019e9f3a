#pragma once

// Jobs, failures and retry configs shared by the transition tests.

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "model/task_status.hpp"
#include "model/transitions.hpp"

using namespace conveyor::model;

/// JSON equality with both sides printed on failure (BOOST_TEST would
/// otherwise treat json as a container and compare element by element).
#define CHECK_JSON_EQ(a, b)                                                    \
  BOOST_TEST(((a) == (b)), (a).dump() << " != " << (b).dump())

namespace conveyor::model::test_support {

inline constexpr time_ms t0 = 1'700'000'000'000;
inline constexpr time_ms lease = 60'000;

inline std::string name(job_status s) {
  return std::string(to_string(s));
}
inline std::string name(run_status s) {
  return std::string(to_string(s));
}

inline retry_config attempts(std::int32_t n) {
  retry_config c;
  c.attempts = n;
  return c;
}

inline retry_config with_backoff(std::optional<std::int32_t> n,
                                 backoff_type type, time_ms delay) {
  retry_config c;
  c.attempts = n;
  c.backoff = backoff{type, delay};
  return c;
}

inline job queued_job() {
  job j;
  j.id = 7;
  j.workflow_slug = "wf";
  j.created_at = t0;
  j.updated_at = t0;
  return j;
}

inline job running_job(time_ms now = t0) {
  return claim(queued_job(), "tok", now + lease, now);
}

inline task_failure
failure_of(std::string slug, std::string id, retry_config merged = {},
           std::optional<task_state> previous = std::nullopt) {
  task_failure f;
  f.log_entry_id = "e-" + slug + "-" + id;
  f.task_slug = std::move(slug);
  f.task_id = std::move(id);
  f.input = {{"n", 1}};
  f.error = error_json("Error", "boom", "stack...");
  f.executed_at = t0 - 5;
  f.merged_retries = std::move(merged);
  f.previous = std::move(previous);
  return f;
}

inline task_state previous_state(std::int32_t tried, bool complete = false) {
  task_state s;
  s.task_slug = "t";
  s.total_tried = tried;
  s.complete = complete;
  return s;
}

} // namespace conveyor::model::test_support
