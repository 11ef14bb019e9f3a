#pragma once

// Exclusive concurrency keys, shared by every queue actor of a runtime.
//
// Keys are global across queues, so the "is a job with this key running?"
// check and the claim must be one atomic step even when two queue actors
// claim at the same moment: try_acquire is that step (a mutex, held for a
// set lookup). A queue actor that skipped a job because its key was busy
// registers as a waiter and gets a tick when the key is released.

#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caf/all.hpp"

namespace conveyor::actors {

class key_locks {
public:
  /// Takes `key` unless a running job holds it.
  bool try_acquire(const std::string& key) {
    std::lock_guard guard{mutex_};
    return held_.insert(key).second;
  }

  /// Releases `key` and wakes the queues that waited for it.
  void release(const std::string& key) {
    std::vector<caf::actor> wake;
    {
      std::lock_guard guard{mutex_};
      held_.erase(key);
      auto it = waiters_.find(key);
      if (it != waiters_.end()) {
        wake = std::move(it->second);
        waiters_.erase(it);
      }
    }
    for (auto& q : wake)
      caf::anon_send(q, caf::tick_atom::value);
  }

  /// Asks for a tick once `key` is released (if it still is held).
  void wait_for(const std::string& key, caf::actor queue) {
    std::lock_guard guard{mutex_};
    if (!held_.count(key)) {
      caf::anon_send(queue, caf::tick_atom::value);
      return;
    }
    auto& ws = waiters_[key];
    for (auto& w : ws)
      if (w == queue)
        return;
    ws.push_back(std::move(queue));
  }

  bool held(const std::string& key) {
    std::lock_guard guard{mutex_};
    return held_.count(key) > 0;
  }

private:
  std::mutex mutex_;
  std::unordered_set<std::string> held_;
  std::unordered_map<std::string, std::vector<caf::actor>> waiters_;
};

} // namespace conveyor::actors
