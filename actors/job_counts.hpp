#pragma once

// Backpressure: how many unfinished jobs (waiting, delayed or running) each
// queue and the whole node hold, checked against limits.maxQueuedPerQueue
// and limits.maxQueued before a new job is written; and which queues the
// node knows (limits.maxQueues: every queue is an actor for good).
//
// Only the supervisor admits, one request at a time, so a check and its
// addition cannot interleave with another admission; it adds before the
// journal write (concurrent enqueues cannot overshoot while one is being
// written) and takes back what was not written. Queue actors subtract when
// one of their jobs reaches a terminal state, from their own threads: the
// counters are atomics, and a decrement racing a check only makes that
// check stricter for a moment.

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "model/limits.hpp"

namespace conveyor::actors {

class job_counts {
public:
  using counter = std::atomic<std::size_t>;

  /// The counter of `queue`, created at zero; its address is stable.
  counter& of(const std::string& queue) {
    std::lock_guard lock{mutex_};
    auto& slot = by_queue_[queue];
    if (!slot)
      slot = std::make_unique<counter>(0);
    return *slot;
  }

  std::size_t total() const { return total_.load(std::memory_order_relaxed); }

  /// Why a request naming `queue` is refused (it would be one queue more
  /// than limits.maxQueues), or nullopt.
  std::optional<std::string> too_many_queues(const std::string& queue,
                                             const model::limits& lim) {
    std::lock_guard lock{mutex_};
    if (by_queue_.count(queue) || by_queue_.size() < lim.max_queues)
      return std::nullopt;
    return "the node has " + std::to_string(by_queue_.size())
           + " queues (limits.maxQueues " + std::to_string(lim.max_queues)
           + "); queue '" + queue + "' would be one more";
  }

  /// Adds `n` jobs per queue if no limit is passed; otherwise adds nothing
  /// and returns why (the `overloaded` error's message).
  std::optional<std::string>
  try_admit(const std::map<std::string, std::size_t>& n,
            const model::limits& lim) {
    std::size_t sum = 0;
    for (const auto& [queue, k] : n) {
      if (auto no = too_many_queues(queue, lim))
        return no;
      auto held = of(queue).load(std::memory_order_relaxed);
      if (held + k > lim.max_queued_per_queue)
        return "queue '" + queue + "' holds " + std::to_string(held)
               + " unfinished jobs (limits.maxQueuedPerQueue "
               + std::to_string(lim.max_queued_per_queue) + "); retry later";
      sum += k;
    }
    if (total() + sum > lim.max_queued)
      return "the node holds " + std::to_string(total())
             + " unfinished jobs (limits.maxQueued "
             + std::to_string(lim.max_queued) + "); retry later";
    for (const auto& [queue, k] : n)
      add(of(queue), k);
    return std::nullopt;
  }

  /// Jobs that joined `queue` without an admission (recovered at start).
  void add(counter& queue, std::size_t k) {
    queue.fetch_add(k, std::memory_order_relaxed);
    total_.fetch_add(k, std::memory_order_relaxed);
  }

  /// Jobs that left `queue` for good (terminal, superseded), or admitted
  /// jobs that were not written.
  void remove(counter& queue, std::size_t k) {
    queue.fetch_sub(k, std::memory_order_relaxed);
    total_.fetch_sub(k, std::memory_order_relaxed);
  }

private:
  std::mutex mutex_; ///< guards the map only (queues spawn rarely)
  std::map<std::string, std::unique_ptr<counter>> by_queue_;
  counter total_{0};
};

} // namespace conveyor::actors
