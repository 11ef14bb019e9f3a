#pragma once

// Command tasks: a task whose handler is an external program.
//
// Contract (see config/README.md): the task input is written as JSON to the
// program's stdin; its stdout is parsed as the task output (a JSON object;
// empty stdout means {}); a non-zero exit fails the task with the tail of
// stderr as the message. Progress lines written to fd 3 and stderr as it
// comes are reported while the program runs. The program runs under a reaper
// process of its own (tasks/command_process.hpp): when it ends, times out or is
// cancelled, or when the node dies, everything it started is killed, setsid or
// not.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/limits.hpp"

namespace conveyor::tasks {

using json = nlohmann::json;

/// What to run.
struct command_spec {
  /// argv[0] is the program: an absolute or relative path when it contains a
  /// '/', else a name looked up in PATH when the command starts.
  std::vector<std::string> argv;
  /// Killed (with every descendant) after this long. 0: no limit.
  std::chrono::milliseconds timeout{0};
  /// stdout larger than this fails the task. Default: the output limit of
  /// model/limits.hpp (config `limits.maxOutputBytes` sets it).
  std::size_t max_output = model::limits{}.max_output_bytes;
  /// The program's whole environment, besides CONVEYOR_JOB_ID, _TASK_ID and
  /// _ATTEMPT: "NAME" passes the node's value (if set), "NAME=value" sets
  /// one. Nothing else of the node's environment reaches the program (the
  /// node's token, credentials for other systems). CONVEYOR_TOKEN is never
  /// passed, even if listed.
  std::vector<std::string> env = default_env();
  /// Names dropped from `env` whatever it says (config `node.secretEnv`).
  std::vector<std::string> secret_env;

  static std::vector<std::string> default_env() {
    return {"PATH", "HOME", "LANG", "LC_ALL", "TZ"};
  }
};

/// Per-attempt facts handed to the program as environment variables, and a
/// way to stop it early.
struct command_env {
  std::string job_id;       ///< CONVEYOR_JOB_ID
  std::string task_id;      ///< CONVEYOR_TASK_ID
  std::int32_t attempt = 1; ///< CONVEYOR_ATTEMPT, 1-based
  /// Polled about every 50 ms while the program runs; returning true kills
  /// the program and makes run_command throw conveyor::job_cancelled.
  std::function<bool()> stop;
  /// Each progress report the program writes to fd 3 (CONVEYOR_PROGRESS_FD,
  /// "<fraction> [message]" lines; model/progress_lines.hpp).
  std::function<void(double fraction, std::string_view message)> on_progress;
  /// Each piece of stderr as it arrives (for a live tail).
  std::function<void(std::string_view bytes)> on_stderr;
};

/// Bytes of stderr kept for the failure message (its tail).
inline constexpr std::size_t stderr_tail_bytes = 2048;

/// Runs the program to completion and returns its output object.
///
/// Throws std::runtime_error with:
/// - the last ~2 KiB of stderr (or "exited with status N" / "killed by
///   signal N" when stderr is empty) when the program fails;
/// - "timed out after N ms" when the timeout killed it;
/// - "task output is not JSON: ..." / "task output is not a JSON object" /
///   "task output exceeds N bytes" for bad stdout;
/// - "cannot start '...': reason" when the program cannot be executed.
/// Throws conveyor::job_cancelled when env.stop asked it to stop.
///
/// Blocking: call it from a worker thread. When it returns, every process
/// the program started has been killed and reaped.
json run_command(const command_spec& spec, const json& input,
                 const command_env& env);

} // namespace conveyor::tasks
