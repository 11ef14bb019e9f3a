#pragma once

// What one attempt of a running job is doing right now: its steps as they
// start and end, the progress each reports, and the tail of what each
// writes (a command task's stderr). GET /v1/jobs/{id} shows it under
// "live" while the job runs; runtime_options::on_live publishes changes.
//
// Shared by three parties on different threads: the job's queue actor
// answers reads with it, the actor driving the workflow records steps
// starting and ending, and the worker threads running steps report
// progress and tail. A mutex guards it; under it only small copies and the
// (short, non-blocking) publisher run, so events leave in the order the
// changes happened. Everything in it is bounded (see the constants).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/internal_messages.hpp"

namespace conveyor::actors {

/// Bytes of a running step's tail that readers see.
inline constexpr std::size_t live_tail_bytes = std::size_t{8} * 1024;
/// Bytes of the tail kept in the step's log entry when it ends.
inline constexpr std::size_t logged_tail_bytes = std::size_t{2} * 1024;
/// Bytes of a progress message kept.
inline constexpr std::size_t max_progress_message = 200;
/// Finished steps of the attempt still shown (the log has them all).
inline constexpr std::size_t max_finished_steps = 32;
/// Steps shown running at once (a workflow may start many in parallel).
inline constexpr std::size_t max_running_steps = 256;
/// At most one progress/output event per job per interval.
inline constexpr std::chrono::milliseconds progress_interval{100};

class live_job {
public:
  using publisher = std::function<void(std::string_view type, const model::job&,
                                       const json& live)>;
  using clock = std::function<model::time_ms()>;

  /// `job` (the attempt's document) is needed only to publish: without a
  /// publisher both may be null.
  live_job(job_ptr job, publisher publish, clock now);

  /// The next change (one that is published) calls `on_change` once, on
  /// the changing thread (a follower waits for it).
  void watch(std::function<void()> on_change);
  /// Grows with every published change.
  std::uint64_t version() const;

  /// Step `number` started (numbers are the driver's submission numbers;
  /// nested tasks take theirs from next_nested_step()).
  void step_started(std::uint64_t number, const std::string& slug,
                    const std::string& id,
                    const std::optional<model::task_ref>& parent);
  /// Step `number` ended ("succeeded", "failed", "cancelled" or "lost").
  /// Returns the end of its tail, for its log entry.
  std::string step_finished(std::uint64_t number, std::string_view state);
  /// The step reports `fraction` (clamped to [0, 1]; NaN ignored) and a
  /// message. True if the event was held back and nobody arranged a flush
  /// yet: the caller calls flush() after progress_interval.
  bool progress(std::uint64_t number, double fraction,
                std::string_view message);
  /// Appends to the step's tail; returns as progress() does.
  bool append_tail(std::uint64_t number, std::string_view text);
  /// Publishes the update that was held back, if any.
  void flush();

  /// {currentStep, steps: [...], progress} as readers see it.
  json to_json() const;

  /// A number for a nested task's step (apart from the driver's).
  std::uint64_t next_nested_step();

private:
  struct step {
    std::string slug;
    std::string id;
    std::optional<model::task_ref> parent;
    model::time_ms started_at = 0;
    model::time_ms ended_at = 0;
    std::string state = "running";
    std::optional<double> fraction;
    std::string message;
    model::time_ms progress_at = 0;
    std::string tail; ///< raw bytes, at most 2 * live_tail_bytes
  };

  json render(const step& s, model::time_ms now) const;
  step* find_running(std::uint64_t number);
  const step* find_running(std::uint64_t number) const;
  json render_locked() const;
  void publish_locked(std::string_view type);
  /// A progress or output event, which starts a new interval at `now`.
  void publish_update_locked(bool progress,
                             std::chrono::steady_clock::time_point now);
  /// An update to publish: now, or held back (true: arm a flush).
  bool update_locked(bool is_progress);

  mutable std::mutex mutex_;
  job_ptr job_;
  publisher publish_;
  clock now_;
  /// Few at a time (one for a task job): vectors, searched linearly, cost
  /// nothing until used.
  std::vector<std::pair<std::uint64_t, step>> running_;
  std::vector<step> finished_;
  /// The step that reported progress last (for the job-level summary).
  std::optional<std::uint64_t> last_progress_;
  std::chrono::steady_clock::time_point last_event_{};
  bool owed_ = false;          ///< an update is held back
  bool owed_progress_ = false; ///< ... and it includes progress
  bool flush_armed_ = false;
  std::uint64_t nested_ = std::uint64_t{1} << 63;
  std::uint64_t version_ = 0;
  std::function<void()> on_change_; ///< set while watched
};

using live_ptr = std::shared_ptr<live_job>;

/// How a step ended, as the live record shows it.
inline std::string_view step_end_state(const task_result& res) {
  return res.ok          ? "succeeded"
         : res.cancelled ? "cancelled"
         : res.lost      ? "lost"
                         : "failed";
}

/// The reporter a step's task_context uses, on the worker's stack for one
/// attempt (no allocation per step): it writes to the job's live record
/// and, when an event is held back, asks `driver` (the actor driving the
/// workflow) to flush it later.
class live_reporter final : public step_reporter {
public:
  live_reporter(live_job& live, std::uint64_t number, const caf::actor& driver)
      : live_(live), number_(number), driver_(driver) {}
  void progress(double fraction, std::string_view message) override;
  void append_tail(std::string_view text) override;

private:
  live_job& live_;
  std::uint64_t number_;
  const caf::actor& driver_;
};

} // namespace conveyor::actors
