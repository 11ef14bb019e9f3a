#pragma once

// Retry configuration and its precedence rules (docs/semantics.md §9).

#include <cstdint>
#include <optional>

#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::model {

enum class backoff_type : std::uint8_t { fixed, exponential };

struct backoff {
  backoff_type type = backoff_type::fixed;
  std::optional<time_ms> delay; ///< milliseconds; absent means 0
  /// 0..1: each wait is drawn uniformly from [d * (1 - jitter), d], where d
  /// is the fixed or exponential delay, so retries of many jobs that failed
  /// together spread out instead of returning at once. Absent means 0.
  std::optional<double> jitter;
  friend bool operator==(const backoff&, const backoff&) = default;
};

/// `N` is shorthand for `{attempts: N}`. `attempts` counts retries, not
/// tries: a task runs at most 1 + attempts times.
struct retry_config {
  std::optional<std::int32_t> attempts;
  std::optional<model::backoff> backoff;
  /// Whether a task that already succeeded returns its cached output (true,
  /// the default) or runs again. A predicate form lives in the public
  /// registry and overrides this flag.
  std::optional<bool> should_restore;
  friend bool operator==(const retry_config&, const retry_config&) = default;
};

/// Accepts a non-negative integer or an object {attempts?, backoff?: {type:
/// "fixed"|"exponential", delay?, jitter? (0..1)}, shouldRestore?: bool}.
/// Unknown keys, wrong types and negative numbers are invalid_input errors
/// naming the field.
expected<retry_config> parse_retry_config(const json& value);

json to_json(const retry_config& cfg);

/// Call-site retries shallow-merged over the task config's retries: each field
/// set at the call site wins.
retry_config merge_retries(const std::optional<retry_config>& task_config,
                           const std::optional<retry_config>& call_site);

/// docs/semantics.md §9: merged task attempts if set; else the workflow's
/// attempts (0 if the workflow has a retries object without attempts); else
/// 0.
std::int32_t max_task_retries(const retry_config& merged_task,
                              const std::optional<retry_config>& workflow);

/// The earliest time a retry may run: now + delay (fixed) or now + delay *
/// 2^previous_attempts (exponential), less up to `jitter` of it as `draw`
/// (uniform over 64 bits) says; now when there is no backoff.
time_ms backoff_until(const std::optional<backoff>& b,
                      std::int32_t previous_attempts, time_ms now,
                      std::uint64_t draw = 0);

/// The jitter draw of one job's attempt: uniform across jobs and attempts,
/// yet the same for the same (job, attempt), so transitions stay pure and a
/// replayed failure waits as long as the first time.
std::uint64_t jitter_draw(job_id id, std::int32_t attempt);

} // namespace conveyor::model
