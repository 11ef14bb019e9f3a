#include "tasks/command_task.hpp"
#include "tasks/command_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conveyor/errors.hpp"
#include "model/json_guard.hpp"
#include "model/progress_lines.hpp"
#include "model/text.hpp"

namespace conveyor::tasks {

namespace {

using steady = std::chrono::steady_clock;

/// How often the stop callback and the child's exit are checked while the
/// pipes are quiet.
constexpr auto tick = std::chrono::milliseconds(50);
/// How long pipes may stay open after the program was reaped or killed: a
/// process outside its group (setsid) could hold them open forever.
constexpr auto drain_grace = std::chrono::seconds(1);

[[noreturn]] void fail_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct pipe_ends {
  fd_guard read;
  fd_guard write;
};

/// Close-on-exec, so concurrent spawns on other threads never inherit them.
pipe_ends make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    fail_errno("pipe2");
  return {fd_guard{fds[0]}, fd_guard{fds[1]}};
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    fail_errno("fcntl");
}

/// Writing to a pipe whose reader is gone raises SIGPIPE, which would kill
/// the whole server. Block it on this thread while we run, and swallow the
/// one we caused (a command that ignores its stdin is not an error).
class sigpipe_guard {
public:
  sigpipe_guard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    was_pending_ = pending();
  }
  ~sigpipe_guard() {
    if (!was_pending_ && pending()) {
      timespec zero{};
      sigtimedwait(&set_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
  bool pending() const {
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, SIGPIPE) == 1;
  }
  sigset_t set_;
  sigset_t old_;
  bool was_pending_ = false;
};

/// The allow-listed environment (spec.env) with our three variables set
/// (they replace any listed value, so a nested conveyor cannot leak its own
/// ids). Never the node's token.
std::vector<std::string> make_environment(const command_spec& spec,
                                          const command_env& env) {
  std::vector<std::string> out;
  for (const auto& entry : spec.env) {
    auto eq = entry.find('=');
    auto name = entry.substr(0, eq);
    if (name.empty() || name == "CONVEYOR_TOKEN" || name == "CONVEYOR_JOB_ID"
        || name == "CONVEYOR_TASK_ID" || name == "CONVEYOR_ATTEMPT"
        || name == "CONVEYOR_PROGRESS_FD"
        || std::find(spec.secret_env.begin(), spec.secret_env.end(), name)
             != spec.secret_env.end())
      continue;
    if (eq != std::string::npos)
      out.push_back(entry);
    else if (const char* value = ::getenv(name.c_str()))
      out.push_back(name + "=" + value);
  }
  out.push_back("CONVEYOR_JOB_ID=" + env.job_id);
  out.push_back("CONVEYOR_TASK_ID=" + env.task_id);
  out.push_back("CONVEYOR_ATTEMPT=" + std::to_string(env.attempt));
  out.emplace_back("CONVEYOR_PROGRESS_FD=3");
  return out;
}

/// Reads what is available, at most 1 MiB (a program writing as fast as we
/// read must not keep us here, nor grow `into` without a bound); false at
/// EOF (or on a read error).
bool drain(int fd, std::string& into) {
  char buf[64 * 1024];
  for (int reads = 0; reads < 16; ++reads) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

enum class kill_reason { none, timeout, stopped, too_large };

json parse_output(const std::string& text, std::size_t max_output) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return json::object();
  model::json_limits limits;
  limits.max_bytes = std::max(max_output, std::size_t{1});
  auto parsed = model::parse_json_guarded(text, limits);
  if (!parsed)
    throw std::runtime_error("task output is not JSON: "
                             + parsed.error().message);
  if (!parsed->is_object())
    throw std::runtime_error(
      std::string{"task output is not a JSON object, got "}
      + parsed->type_name());
  return std::move(*parsed);
}

} // namespace

json run_command(const command_spec& spec, const json& input,
                 const command_env& env) {
  if (spec.argv.empty() || spec.argv[0].empty())
    throw std::runtime_error("command task has no program to run");
  const std::string payload =
    input.dump(-1, ' ', false, json::error_handler_t::replace);
  sigpipe_guard no_sigpipe;
  auto in = make_pipe();
  auto out = make_pipe();
  auto err = make_pipe();
  auto progress = make_pipe();
  command_process child{spec.argv,       make_environment(spec, env),
                        in.read.get(),   out.write.get(),
                        err.write.get(), progress.write.get()};
  in.read.reset();
  out.write.reset();
  err.write.reset();
  progress.write.reset();
  set_nonblocking(in.write.get());
  set_nonblocking(out.read.get());
  set_nonblocking(err.read.get());
  set_nonblocking(progress.read.get());
  model::progress_lines progress_lines{[&](const model::progress_report& r) {
    if (env.on_progress)
      env.on_progress(r.fraction, r.message);
  }};

  const auto start = steady::now();
  const auto deadline =
    spec.timeout.count() > 0 ? start + spec.timeout : steady::time_point::max();
  auto next_stop_check = start + tick;
  std::optional<steady::time_point> drain_until;
  kill_reason killed = kill_reason::none;
  auto kill = [&](kill_reason why) {
    if (killed != kill_reason::none)
      return;
    killed = why;
    child.stop();
  };
  std::string stdout_text;
  std::string stderr_text;
  std::size_t written = 0;

  for (;;) {
    if (!drain_until && child.try_reap())
      drain_until = steady::now() + drain_grace;
    if (drain_until)
      in.write.reset(); // nobody left to read it
    if (drain_until && !out.read.open() && !err.read.open()
        && !progress.read.open())
      break;
    auto now = steady::now();
    if (drain_until && now >= *drain_until) {
      out.read.reset();
      err.read.reset();
      progress.read.reset();
      continue;
    }
    // Once the program has exited its result stands, late stop or not.
    if (!drain_until && now >= deadline)
      kill(kill_reason::timeout);
    if (!drain_until && env.stop && now >= next_stop_check) {
      next_stop_check = now + tick;
      if (env.stop())
        kill(kill_reason::stopped);
    }

    pollfd fds[4];
    nfds_t n = 0;
    auto watch = [&](const fd_guard& fd, short events) {
      if (fd.open())
        fds[n++] = pollfd{fd.get(), events, 0};
    };
    watch(in.write, POLLOUT);
    watch(out.read, POLLIN);
    watch(err.read, POLLIN);
    watch(progress.read, POLLIN);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min<steady::duration>(
        tick, std::max<steady::duration>(deadline - now, steady::duration{0})));
    if (::poll(fds, n, static_cast<int>(wait.count())) < 0 && errno != EINTR)
      fail_errno("poll");

    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0)
        continue;
      if (fds[i].fd == in.write.get()) {
        ssize_t w = ::write(fds[i].fd, payload.data() + written,
                            payload.size() - written);
        if (w > 0)
          written += static_cast<std::size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR)
          in.write.reset(); // EPIPE: the program does not read its input
        if (written == payload.size())
          in.write.reset(); // EOF tells the program the input is complete
      } else if (fds[i].fd == out.read.get()) {
        if (!drain(fds[i].fd, stdout_text))
          out.read.reset();
        if (stdout_text.size() > spec.max_output) {
          kill(kill_reason::too_large);
          out.read.reset();
        }
      } else if (fds[i].fd == err.read.get()) {
        auto before = stderr_text.size();
        if (!drain(fds[i].fd, stderr_text))
          err.read.reset();
        if (env.on_stderr && stderr_text.size() > before)
          env.on_stderr(std::string_view{stderr_text}.substr(before));
        if (stderr_text.size() > 16 * stderr_tail_bytes)
          stderr_text.erase(0, stderr_text.size() - 2 * stderr_tail_bytes);
      } else if (fds[i].fd == progress.read.get()) {
        std::string chunk;
        if (!drain(fds[i].fd, chunk))
          progress.read.reset();
        progress_lines.feed(chunk);
        if (!progress.read.open())
          progress_lines.finish();
      }
    }
  }

  switch (killed) {
  case kill_reason::stopped:
    throw job_cancelled("cancelled while the command was running");
  case kill_reason::timeout:
    throw std::runtime_error("timed out after "
                             + std::to_string(spec.timeout.count()) + " ms");
  case kill_reason::too_large:
    throw std::runtime_error("task output exceeds "
                             + std::to_string(spec.max_output) + " bytes");
  case kill_reason::none:
    break;
  }
  int st = child.status();
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
    return parse_output(stdout_text, spec.max_output);
  auto tail = model::text_tail(stderr_text, stderr_tail_bytes);
  if (!tail.empty())
    throw std::runtime_error(tail);
  if (WIFSIGNALED(st))
    throw std::runtime_error("killed by signal "
                             + std::to_string(WTERMSIG(st)));
  throw std::runtime_error("exited with status "
                           + std::to_string(WEXITSTATUS(st)));
}

} // namespace conveyor::tasks
