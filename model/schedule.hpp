#pragma once

// Schedules (docs/semantics.md §17), the pure part: when the next scheduled
// job of a (queue, task|workflow) is due, the default before/after hooks, and
// the
// stats document that remembers what was scheduled.
//
// Differences from Payload, on purpose:
// * Besides lastScheduledRun (when scheduling last happened) the stats keep
//   lastScheduledTick, the cron tick the last queued job was for. The next
//   tick is the one after lastScheduledTick, so a job that ran and was
//   deleted on completion never makes the same (past) tick run twice, and a
//   tick that passed between two handle_schedules calls is still scheduled
//   (once; after downtime, missed ticks are not replayed).
// * The default "one pending scheduled job" rule counts every scheduled job
//   that is not terminal, including one awaiting a workflow-level retry
//   (Payload misses those because their `error` is set).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "model/cron.hpp"
#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::model {

enum class schedule_kind : std::uint8_t { task, workflow };

/// What the stats remember of one (queue, kind, slug).
struct schedule_stat {
  std::optional<time_ms> last_scheduled_run; ///< when it was last handled
  std::optional<time_ms>
    last_scheduled_tick; ///< waitUntil of the last job queued
  bool operator==(const schedule_stat&) const = default;
};

/// The stats of every scheduled (queue, kind, slug).
struct schedule_stats {
  using key = std::tuple<std::string, schedule_kind, std::string>;
  std::map<key, schedule_stat> entries;

  schedule_stat& at(const std::string& queue, schedule_kind kind,
                    const std::string& slug) {
    return entries[key{queue, kind, slug}];
  }
  bool operator==(const schedule_stats&) const = default;
};

/// Payload's shape: {"scheduledRuns": {"queues": {Q: {"tasks"|"workflows":
/// {slug: {"lastScheduledRun": iso, "lastScheduledTick": iso}}}}}}.
json to_json(const schedule_stats& s);
/// Errors (invalid_input) name the offending path.
expected<schedule_stats> schedule_stats_from_json(const json& j);

/// The tick the next scheduled job is for: the cron occurrence after
/// last_scheduled_tick, if it is in the future or is the only one that
/// passed since; otherwise (nothing queued yet, or several ticks missed) the
/// first occurrence after now. nullopt if the cron has no further
/// occurrence.
std::optional<time_ms> next_scheduled_tick(const cron_expr& cron,
                                           const schedule_stat& stat,
                                           time_ms now);

/// One candidate of a handle_schedules pass ("queueable").
struct queueable {
  std::string queue;
  schedule_kind kind = schedule_kind::task;
  std::string slug;
  std::string cron;
  time_ms wait_until = 0; ///< the next tick
};

/// What a beforeSchedule hook decides.
struct schedule_decision {
  bool should_schedule = false;
  json input = json::object();
  std::optional<time_ms> wait_until; ///< nullopt: runnable at once
};

struct before_schedule_args {
  const queueable& candidate;
  /// Scheduled jobs of this (queue, slug) that are not terminal yet.
  std::int64_t pending_scheduled = 0;
  const schedule_stat& stat;
  time_ms now = 0;
  /// The oldest of those pending scheduled jobs (the API's job document),
  /// or nullptr when there is none.
  const json* pending_job = nullptr;
};

/// Schedule only if no scheduled job of this (queue, slug) is pending;
/// input {}, waitUntil = the next tick.
schedule_decision default_before_schedule(const before_schedule_args& a);

enum class schedule_status : std::uint8_t { queued, skipped, errored };
std::string_view to_string(schedule_status s);

struct after_schedule_args {
  const queueable& candidate;
  schedule_status status = schedule_status::skipped;
  const json* job = nullptr;         ///< the queued job (queued only)
  std::optional<time_ms> queued_for; ///< its waitUntil (queued only)
  std::string error;                 ///< errored only
  schedule_stat& stat;               ///< persisted after the pass
  time_ms now = 0;
};

/// lastScheduledRun = now; on queued, lastScheduledTick = queued_for (if
/// the job has a waitUntil).
void default_after_schedule(after_schedule_args& a);

} // namespace conveyor::model
