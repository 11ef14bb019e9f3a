#pragma once

// What every connection of one node shares: the limits, the token check,
// the count of open connections, and the deadlines of connections that have
// not authenticated yet.
//
// A deadline is enforced by a small thread that shuts the socket down
// (shutdown(2) is safe from any thread); CAF's multiplexer then sees the
// connection end like any other and cleans up on its own thread. A scribe
// disarms its deadline in its destructor, under the same lock, before its
// socket is closed, so the thread never touches a descriptor that was
// closed and reused.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace conveyor::net {

struct guard_limits {
  /// Largest BASP frame an authenticated peer may announce.
  std::size_t max_message_bytes = 16u << 20;
  /// Open connections at once (accepted, any state).
  std::size_t max_connections = 1024;
  /// From accept until the token was checked.
  std::chrono::milliseconds handshake_timeout{5000};
};

/// Counters for tests, logs and metrics.
struct guard_stats {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused_over_capacity{0};
  std::atomic<std::uint64_t> refused_bad_preamble{0};
  std::atomic<std::uint64_t> refused_unknown_token{0};
  std::atomic<std::uint64_t> closed_by_timeout{0};
  std::atomic<std::uint64_t> closed_oversized{0};
  std::atomic<std::uint64_t> authenticated{0};
  std::atomic<std::int64_t> open{0};
};

class connection_guard {
public:
  using clock = std::chrono::steady_clock;
  using token_check = std::function<bool(const std::string& token)>;

  connection_guard(guard_limits limits, token_check check);
  ~connection_guard();
  connection_guard(const connection_guard&) = delete;
  connection_guard& operator=(const connection_guard&) = delete;

  const guard_limits& limits() const { return limits_; }
  guard_stats& stats() { return stats_; }

  /// Whether the token belongs to someone (thread-safe; no check: refuse).
  bool check(const std::string& token) const;
  void set_check(token_check check);

  /// Counts a new connection; false (and nothing counted) at capacity.
  bool admit();
  /// A connection admitted by admit() ended.
  void release();

  /// Shuts `fd` down at `when` unless disarmed first.
  void arm(const void* owner, int fd, clock::time_point when);
  void disarm(const void* owner);

private:
  void sweep_loop();

  guard_limits limits_;
  mutable std::mutex check_mutex_;
  token_check check_;
  guard_stats stats_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<const void*, std::pair<int, clock::time_point>> deadlines_;
  std::thread sweeper_;
};

} // namespace conveyor::net
