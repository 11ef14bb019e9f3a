#include "tasks/command_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace conveyor::tasks {

void fd_guard::reset() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

namespace {

/// What the reaper tells the node about the program, in one write.
struct report {
  std::int32_t exec_errno = 0; ///< non-zero: the program could not start
  std::int32_t status = 0;     ///< its wait status otherwise
};

/// Where the reaper keeps the fds it needs (it closes every other one).
constexpr int fd_in = 3, fd_out = 4, fd_err = 5, fd_progress = 6, fd_report = 7;
constexpr int first_unused_fd = 8;
constexpr int kept_fds = first_unused_fd - fd_in;
/// The program's progress descriptor (CONVEYOR_PROGRESS_FD).
constexpr int program_progress_fd = 3;

/// Everything the reaper needs, built before the fork: the reaper is a copy
/// of a multi-threaded process and may only make async-signal-safe calls
/// (no allocation, no locks), so nothing below allocates after _Fork().
struct plan {
  std::vector<std::string> paths; ///< where to look for the program
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;
  std::vector<char*> envp;
  pid_t node = 0;
  int fds[kept_fds] = {-1, -1, -1, -1, -1}; ///< in, out, err, progress,
                                            ///< report (write end)
};

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// The paths execvp would try for `program`.
std::vector<std::string> paths_for(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return {program};
  const char* env = ::getenv("PATH");
  std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto end = path.find(':', start);
    auto dir = path.substr(start, end == std::string::npos ? end : end - start);
    out.push_back((dir.empty() ? "." : dir) + "/" + program);
    if (end == std::string::npos)
      return out;
    start = end + 1;
  }
}

void write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    auto n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

/// "/proc/self/task/<pid>/children" without allocating.
void children_path(char (&out)[64]) {
  const char head[] = "/proc/self/task/";
  const char tail[] = "/children";
  std::size_t n = 0;
  for (char c : head)
    if (c)
      out[n++] = c;
  char digits[16];
  std::size_t d = 0;
  for (auto pid = static_cast<unsigned long>(::getpid()); pid > 0; pid /= 10)
    digits[d++] = static_cast<char>('0' + pid % 10);
  while (d > 0)
    out[n++] = digits[--d];
  for (char c : tail)
    out[n++] = c; // includes the terminating NUL
}

/// SIGKILLs every child listed in the children file; -1 if it cannot be
/// read (no /proc), else how many were signalled.
int kill_listed_children(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int killed = 0;
  long pid = 0;
  char buf[512];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        pid = pid * 10 + (buf[i] - '0');
      } else if (pid > 0) {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        ++killed;
        pid = 0;
      }
    }
  }
  if (pid > 0) {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ++killed;
  }
  ::close(fd);
  return killed;
}

/// Kills and reaps every descendant. As a subreaper, the reaper inherits
/// the children of each process it kills, so it repeats until none is left.
void kill_descendants(pid_t program) {
  char path[64];
  children_path(path);
  for (;;) {
    int killed = kill_listed_children(path);
    if (killed < 0) {
      // No /proc: the program's process group is all that can be found.
      ::kill(-program, SIGKILL);
    }
    int st = 0;
    auto w = ::waitpid(-1, &st, killed > 0 ? 0 : WNOHANG);
    if (w < 0 && errno == ECHILD)
      return;
    if (killed < 0 && w == 0)
      return; // blind: leave the rest rather than wait for it forever
  }
}

/// The program's side of the second fork: fds 0-3, default signals, exec.
[[noreturn]] void exec_program(const plan& p, int exec_error) {
  ::dup2(fd_in, 0);
  ::dup2(fd_out, 1);
  ::dup2(fd_err, 2);
  ::dup2(fd_progress, program_progress_fd); // fd_in is on 0 by now
  for (int fd = program_progress_fd + 1; fd < first_unused_fd; ++fd)
    ::close(fd);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  ::sigaction(SIGTERM, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int err = ENOENT;
  for (const auto& path : p.paths) {
    ::execve(path.c_str(), p.argv.data(), p.envp.data());
    if (errno != ENOENT && errno != ENOTDIR)
      err = errno; // e.g. EACCES: keep looking, report it if nothing runs
  }
  write_all(exec_error, &err, sizeof err);
  ::_exit(127);
}

/// The reaper. Starts with SIGCHLD and SIGTERM blocked (the forking thread
/// blocked them), so neither is lost before it waits for them.
[[noreturn]] void reaper_main(const plan& p) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != p.node)
    ::_exit(111); // the node died before we could ask to be told
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::setpgid(0, 0);
  // Keep in, out, err, progress and the report pipe as fds 3-7: copy them
  // above all five first, so moving one down never overwrites another.
  int top = first_unused_fd;
  for (int fd : p.fds)
    top = fd >= top ? fd + 1 : top;
  int moved[kept_fds];
  for (int i = 0; i < kept_fds; ++i)
    if ((moved[i] = ::fcntl(p.fds[i], F_DUPFD, top)) < 0)
      ::_exit(112);
  for (int i = 0; i < kept_fds; ++i)
    ::dup2(moved[i], fd_in + i);
  ::close_range(first_unused_fd, ~0U, 0);

  report r;
  int exec_error[2];
  if (::pipe2(exec_error, O_CLOEXEC) != 0) {
    r.exec_errno = errno;
    write_all(fd_report, &r, sizeof r);
    ::_exit(0);
  }
  pid_t program = ::_Fork();
  if (program == 0) {
    ::close(exec_error[0]);
    exec_program(p, exec_error[1]);
  }
  ::close(exec_error[1]);
  for (int fd = fd_in; fd < fd_report; ++fd)
    ::close(fd);
  if (program < 0) {
    r.exec_errno = errno;
    write_all(fd_report, &r, sizeof r);
    ::_exit(0);
  }

  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, SIGTERM);
  bool done = false;
  while (!done) {
    siginfo_t info;
    if (::sigwaitinfo(&wanted, &info) == SIGTERM)
      ::kill(program, SIGKILL); // the rest follows below
    int st = 0;
    pid_t w;
    while ((w = ::waitpid(-1, &st, WNOHANG)) > 0)
      if (w == program) {
        r.status = st;
        done = true;
      }
    if (w < 0 && errno == ECHILD && !done)
      done = true; // cannot happen: the program is our child
  }
  kill_descendants(program);
  int err = 0;
  if (::read(exec_error[0], &err, sizeof err) == sizeof err)
    r.exec_errno = err;
  write_all(fd_report, &r, sizeof r);
  ::_exit(0);
}

} // namespace

command_process::command_process(const std::vector<std::string>& argv,
                                 std::vector<std::string> environment, int in,
                                 int out, int err, int progress)
    : program_(argv.at(0)) {
  plan p;
  p.paths = paths_for(program_);
  p.args = argv;
  p.env = std::move(environment);
  p.argv = pointers(p.args);
  p.envp = pointers(p.env);
  p.node = ::getpid();
  int rep[2];
  if (::pipe2(rep, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  report_ = fd_guard{rep[0]};
  fd_guard report_write{rep[1]};
  p.fds[0] = in;
  p.fds[1] = out;
  p.fds[2] = err;
  p.fds[3] = progress;
  p.fds[4] = rep[1];

  sigset_t block;
  sigset_t old;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigaddset(&block, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  // _Fork, not fork: no atfork handlers, which could take locks that other
  // threads of the node hold.
  pid_t pid = ::_Fork();
  if (pid == 0)
    reaper_main(p);
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0)
    throw std::system_error(fork_errno, std::generic_category(), "fork");
  reaper_ = pid;
}

command_process::~command_process() {
  if (reaper_ < 0 || reaped_)
    return;
  stop();
  int st = 0;
  while (::waitpid(reaper_, &st, 0) < 0 && errno == EINTR) {
  }
}

void command_process::stop() {
  // Only before reaping: the zombie keeps the pid from being reused.
  if (!reaped_)
    ::kill(reaper_, SIGTERM);
}

bool command_process::try_reap() {
  if (reaped_)
    return true;
  int st = 0;
  auto w = ::waitpid(reaper_, &st, WNOHANG);
  if (w == 0 || (w < 0 && errno == EINTR))
    return false;
  if (w < 0)
    throw std::system_error(errno, std::generic_category(), "waitpid");
  reaped_ = true;
  report r;
  if (::read(report_.get(), &r, sizeof r) == sizeof r) {
    exec_errno_ = r.exec_errno;
    status_ = r.status;
  } else {
    status_ = st; // the reaper itself was killed
  }
  return true;
}

int command_process::status() const {
  if (exec_errno_)
    throw std::runtime_error("cannot start '" + program_ + "': "
                             + std::generic_category().message(exec_errno_));
  return status_.value();
}

} // namespace conveyor::tasks
