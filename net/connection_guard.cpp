#include "net/connection_guard.hpp"

#include <sys/socket.h>

namespace conveyor::net {

connection_guard::connection_guard(guard_limits limits, token_check check)
    : limits_(limits), check_(std::move(check)),
      sweeper_([this] { sweep_loop(); }) {}

connection_guard::~connection_guard() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  sweeper_.join();
}

bool connection_guard::check(const std::string& token) const {
  std::lock_guard lock{check_mutex_};
  if (!check_ || token.empty())
    return false;
  try {
    return check_(token);
  } catch (...) {
    return false; // a check that throws refuses
  }
}

void connection_guard::set_check(token_check check) {
  std::lock_guard lock{check_mutex_};
  check_ = std::move(check);
}

bool connection_guard::admit() {
  auto n = stats_.open.fetch_add(1, std::memory_order_relaxed);
  if (n >= static_cast<std::int64_t>(limits_.max_connections)) {
    stats_.open.fetch_sub(1, std::memory_order_relaxed);
    stats_.refused_over_capacity.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void connection_guard::release() {
  stats_.open.fetch_sub(1, std::memory_order_relaxed);
}

void connection_guard::arm(const void* owner, int fd, clock::time_point when) {
  {
    std::lock_guard lock{mutex_};
    deadlines_[owner] = {fd, when};
  }
  wake_.notify_all();
}

void connection_guard::disarm(const void* owner) {
  std::lock_guard lock{mutex_};
  deadlines_.erase(owner);
}

void connection_guard::sweep_loop() {
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    auto next = clock::time_point::max();
    auto now = clock::now();
    for (auto it = deadlines_.begin(); it != deadlines_.end();) {
      auto [fd, when] = it->second;
      if (when <= now) {
        // The owner is alive (it disarms under this lock before its socket
        // closes), so `fd` is still its socket.
        stats_.closed_by_timeout.fetch_add(1, std::memory_order_relaxed);
        ::shutdown(fd, SHUT_RDWR);
        it = deadlines_.erase(it);
      } else {
        next = std::min(next, when);
        ++it;
      }
    }
    if (next == clock::time_point::max())
      wake_.wait(lock);
    else
      wake_.wait_until(lock, next);
  }
}

} // namespace conveyor::net
