#pragma once

// What every actor of one runtime shares. Set at start, never changed
// afterwards, so actors read it without locks.

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>

#include "actors/job_counts.hpp"
#include "actors/journal_actor.hpp"
#include "actors/key_locks.hpp"
#include "actors/requests.hpp"
#include "conveyor/registry.hpp"
#include "conveyor/runtime.hpp"
#include "persistence/journal.hpp"
#include "persistence/running_set.hpp"

namespace conveyor::actors {

class task_pool;

/// The wall clock in milliseconds since the epoch: the default clock of a
/// runtime and of a worker node (tests inject their own).
inline model::time_ms system_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

struct runtime_env {
  std::shared_ptr<const registry> reg;
  /// Reads (recovery happened before the actors started); every write goes
  /// through `journal`.
  std::shared_ptr<persistence::journal_reader> db;
  journal_actor journal;
  caf::actor pool; ///< owner of the worker actors (lifecycle only)
  std::shared_ptr<task_pool> tasks; ///< where workflows submit attempts
  caf::actor remote; ///< remote_pool_actor: attempts for worker nodes
  runtime_options options;
  /// Ids of the jobs claimed by this process (survives its crash).
  std::shared_ptr<persistence::running_set> running;
  /// Exclusive concurrency keys of running jobs (all queues).
  std::shared_ptr<key_locks> keys = std::make_shared<key_locks>();
  /// Unfinished jobs per queue and in all: the backpressure check.
  std::shared_ptr<job_counts> counts = std::make_shared<job_counts>();
  /// The clock when start() ran: crons count their first tick from here,
  /// since actors initialise asynchronously, after start() returned.
  model::time_ms started_at = 0;
  /// Next job id; starts at the recovered high-water mark.
  mutable std::atomic<model::job_id> next_id{1};

  model::time_ms now() const { return options.clock(); }

  /// The longest single timer: CAF turns a timeout into int64 nanoseconds,
  /// so a waitUntil in year 9999 would overflow. Later timers re-arm.
  static constexpr model::time_ms max_timer_ms = 3'600'000;

  /// When a timer armed now for `due` fires: `due`, or an hour from now.
  model::time_ms timer_wake(model::time_ms due) const {
    auto t = now();
    return due > t + max_timer_ms ? t + max_timer_ms : due;
  }

  /// The delay of a timer armed now that fires at `wake`.
  std::chrono::milliseconds delay_until(model::time_ms wake) const {
    auto d = wake - now();
    return std::chrono::milliseconds{d < 0 ? 0 : d};
  }

  std::string order_for(const std::string& queue) const {
    auto it = options.queues.find(queue);
    if (it != options.queues.end() && !it->second.processing_order.empty())
      return it->second.processing_order;
    return options.processing_order;
  }

  /// The exclusive concurrency key of a job, or nullptr: set at queue time,
  /// exclusive unless its task/workflow says otherwise.
  const std::string* exclusive_key(const model::job& j) const {
    if (!j.concurrency_key || j.concurrency_key->empty())
      return nullptr;
    const auto* c = concurrency_of(*reg, j);
    return c && !c->exclusive ? nullptr : &*j.concurrency_key;
  }

  std::int32_t concurrency_for(const std::string& queue) const {
    auto it = options.queues.find(queue);
    return it != options.queues.end() ? it->second.concurrency : 16;
  }
};

using env_ptr = std::shared_ptr<const runtime_env>;

/// A 24-hex-digit id, unique per process run (log entries, lease tokens).
std::string make_unique_id();

} // namespace conveyor::actors
