#pragma once

// One run of a command task's program, inside a reaper process of its own.
//
// A process group is not enough to clean up after a program: anything it
// starts can call setsid() and leave the group, and would outlive the job.
// So the node forks a small reaper first. The reaper marks itself a child
// subreaper (prctl PR_SET_CHILD_SUBREAPER), so every orphan among the
// program's descendants becomes its child, setsid or not; it starts the
// program, and once the program exits (or the node asks it to stop, or the
// node dies: PR_SET_PDEATHSIG) it kills every descendant left and reaps it
// before it exits. When try_reap() returns true nothing the program started
// is still running.

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace conveyor::tasks {

/// An owned file descriptor.
class fd_guard {
public:
  explicit fd_guard(int fd = -1) : fd_(fd) {}
  ~fd_guard() { reset(); }
  fd_guard(fd_guard&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard& operator=(fd_guard&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset();

private:
  int fd_;
};

class command_process {
public:
  /// Starts argv (argv[0] looked up in PATH unless it contains '/') with
  /// exactly `environment`, `in`/`out`/`err` as fds 0-2, `progress` as fd 3
  /// and no other fd.
  /// Throws std::system_error when the reaper cannot be forked; a program
  /// that cannot be executed is reported by status().
  command_process(const std::vector<std::string>& argv,
                  std::vector<std::string> environment, int in, int out,
                  int err, int progress);
  /// Stops and reaps whatever still runs.
  ~command_process();
  command_process(const command_process&) = delete;
  command_process& operator=(const command_process&) = delete;

  /// Asks the reaper to kill the program and all its descendants.
  void stop();

  /// True once the reaper exited, i.e. the program and every descendant are
  /// gone. Does not block.
  bool try_reap();

  /// After try_reap(): the program's wait status. Throws std::runtime_error
  /// "cannot start '<argv0>': <reason>" if it could not be executed.
  int status() const;

private:
  std::string program_;
  pid_t reaper_ = -1;
  fd_guard report_; ///< the reaper writes the program's fate here
  bool reaped_ = false;
  std::optional<int> status_;
  int exec_errno_ = 0;
};

} // namespace conveyor::tasks
