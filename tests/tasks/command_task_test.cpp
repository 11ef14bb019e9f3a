// The command runner: stdin/stdout JSON contract, failures, timeouts,
// cancellation, environment, and the limits that keep the server alive.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conveyor/errors.hpp"
#include "model/progress_lines.hpp"
#include "support/temp_dir.hpp"
#include "tasks/command_task.hpp"

using namespace conveyor;
using namespace conveyor::tasks;
using conveyor::testing::temp_dir;
using namespace std::chrono_literals;

namespace command_task_test {

command_spec sh(const std::string& script,
                std::chrono::milliseconds timeout = 0ms) {
  command_spec spec;
  spec.argv = {"sh", "-c", script};
  spec.timeout = timeout;
  return spec;
}

command_env env_of(std::string job = "7", std::string task = "1",
                   int attempt = 1) {
  command_env env;
  env.job_id = std::move(job);
  env.task_id = std::move(task);
  env.attempt = attempt;
  return env;
}

/// The what() of the std::runtime_error `f` throws ("" if none).
template <class F>
std::string failure_of(F&& f) {
  try {
    f();
  } catch (const job_cancelled&) {
    return "<cancelled>";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

/// True if `pid` no longer exists (not even as a zombie). run_command
/// returns only after the reaper killed and reaped every descendant, so no
/// waiting is needed.
bool gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

/// Waits up to 10 s for `pid` to exit: a pidfd becomes readable then.
bool exits_within_10s(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return errno == ESRCH; // already gone
  pollfd p{fd, POLLIN, 0};
  bool exited = ::poll(&p, 1, 10'000) == 1;
  ::close(fd);
  return exited;
}

/// A FIFO the test's processes write a pid into: opening it for writing
/// blocks until someone reads, so nobody polls for a file to appear.
std::string make_fifo(temp_dir& dir, const std::string& name) {
  auto path = dir.sub(name);
  BOOST_REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  return path;
}

/// Reads a pid from `fifo`, waiting at most 10 s for a writer.
pid_t read_fifo_pid(const std::string& fifo) {
  int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  pollfd p{fd, POLLIN, 0};
  char buf[32] = {};
  ssize_t n = 0;
  if (::poll(&p, 1, 10'000) == 1)
    n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 ? static_cast<pid_t>(std::atoi(buf)) : 0;
}

pid_t read_pid(const std::string& path) {
  std::ifstream in{path};
  pid_t pid = 0;
  in >> pid;
  return pid;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
    .count();
}

} // namespace command_task_test

BOOST_AUTO_TEST_SUITE(command_runner)
using namespace command_task_test;

BOOST_AUTO_TEST_CASE(input_goes_to_stdin_and_stdout_is_the_output) {
  command_spec cat;
  cat.argv = {"cat"};
  cat.max_output = 4 * 1024 * 1024; // the subject is pipes, not the limit
  json input = {
    {"path", "a.png"}, {"sizes", {1, 2, 3}}, {"unicode", "h\u00e9"}};
  BOOST_TEST(run_command(cat, input, env_of()) == input);
  BOOST_TEST(run_command(sh("cat >/dev/null"), input, env_of())
             == json::object());
  BOOST_TEST(run_command(sh("cat >/dev/null; printf '  \\n'"), input, env_of())
             == json::object());
}

BOOST_AUTO_TEST_CASE(stdout_must_be_a_json_object) {
  auto what =
    failure_of([] { run_command(sh("echo hello"), json::object(), env_of()); });
  BOOST_TEST(what.starts_with("task output is not JSON: "), what);
  what =
    failure_of([] { run_command(sh("echo '[1]'"), json::object(), env_of()); });
  BOOST_TEST(what == "task output is not a JSON object, got array");
}

BOOST_AUTO_TEST_CASE(a_non_zero_exit_fails_with_the_tail_of_stderr) {
  auto what = failure_of([] {
    run_command(sh("echo ignored; echo first >&2; echo 'it broke' >&2; exit 3"),
                json::object(), env_of());
  });
  BOOST_TEST(what == "first\nit broke");
  what =
    failure_of([] { run_command(sh("exit 4"), json::object(), env_of()); });
  BOOST_TEST(what == "exited with status 4");
  what =
    failure_of([] { run_command(sh("kill -9 $$"), json::object(), env_of()); });
  BOOST_TEST(what == "killed by signal 9");
  // 100 KB of noise, then the line that matters: only the tail is kept.
  what = failure_of([] {
    run_command(sh("head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; "
                   "echo 'the real reason' >&2; exit 1"),
                json::object(), env_of());
  });
  BOOST_TEST(what.size() <= stderr_tail_bytes);
  BOOST_TEST(what.ends_with("xxx\nthe real reason"));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_on_stderr_is_replaced) {
  auto what = failure_of([] {
    run_command(sh("printf 'bad \\377\\376 bytes' >&2; exit 1"), json::object(),
                env_of());
  });
  BOOST_TEST(what == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  BOOST_CHECK_NO_THROW(json(what).dump()); // it ends up in the job's error
}

BOOST_AUTO_TEST_CASE(the_timeout_kills_the_whole_process_group) {
  temp_dir dir;
  auto pidfile = dir.sub("pid");
  auto start = std::chrono::steady_clock::now();
  auto what = failure_of([&] {
    run_command(sh("sleep 30 & echo $! > " + pidfile + "; wait", 300ms),
                json::object(), env_of());
  });
  BOOST_TEST(what == "timed out after 300 ms");
  BOOST_TEST(seconds_since(start) < 5.0);
  auto pid = read_pid(pidfile);
  BOOST_REQUIRE(pid > 0);
  BOOST_TEST(gone(pid));
}

BOOST_AUTO_TEST_CASE(processes_left_behind_are_killed_when_the_program_exits) {
  temp_dir dir;
  auto pidfile = dir.sub("pid");
  auto start = std::chrono::steady_clock::now();
  // The background sleep holds stdout open; without the group kill we
  // would wait 30 s for EOF.
  auto out =
    run_command(sh("sleep 30 & echo $! > " + pidfile + "; echo '{\"ok\":1}'"),
                json::object(), env_of());
  BOOST_TEST(out == (json{{"ok", 1}}));
  BOOST_TEST(seconds_since(start) < 5.0);
  BOOST_TEST(gone(read_pid(pidfile)));
}

BOOST_AUTO_TEST_CASE(processes_that_leave_the_session_are_killed_too) {
  temp_dir dir;
  auto pidfile = dir.sub("pid");
  auto orphan = dir.sub("orphan");
  auto fifo1 = make_fifo(dir, "fifo1");
  auto fifo2 = make_fifo(dir, "fifo2");
  // One escapee in a new session, and one whose parent exits at once
  // (an orphan, reparented): neither is in the program's process group.
  // Each hands its pid over a FIFO, which the program reads before exiting.
  auto out = run_command(sh("setsid sh -c 'echo $$ > " + fifo1
                            + "; exec sleep 30' </dev/null >/dev/null 2>&1 &"
                            + " (setsid sh -c 'echo $$ > " + fifo2
                            + "; exec sleep 30' &) </dev/null >/dev/null 2>&1;"
                            + " read a < " + fifo1 + "; read b < " + fifo2
                            + "; echo $a > " + pidfile + "; echo $b > " + orphan
                            + "; echo '{\"ok\":1}'"),
                         json::object(), env_of());
  BOOST_TEST(out == (json{{"ok", 1}}));
  auto escapee = read_pid(pidfile);
  auto orphaned = read_pid(orphan);
  BOOST_REQUIRE(escapee > 0);
  BOOST_REQUIRE(orphaned > 0);
  BOOST_TEST(gone(escapee));
  BOOST_TEST(gone(orphaned));
}

BOOST_AUTO_TEST_CASE(a_cancel_kills_processes_outside_the_group) {
  temp_dir dir;
  auto pidfile = dir.sub("pid");
  auto env = env_of();
  env.stop = [&] { return read_pid(pidfile) > 0; };
  auto what = failure_of([&] {
    run_command(sh("setsid sh -c 'echo $$ > " + pidfile
                   + "; exec sleep 30' </dev/null >/dev/null 2>&1 & sleep 30"),
                json::object(), env);
  });
  BOOST_TEST(what == "<cancelled>");
  BOOST_TEST(gone(read_pid(pidfile)));
}

BOOST_AUTO_TEST_CASE(descendants_die_with_the_node) {
  temp_dir dir;
  auto pidfile = make_fifo(dir, "pid");
  // The "node" is a forked copy of this test running one command.
  pid_t node = ::fork();
  BOOST_REQUIRE(node >= 0);
  if (node == 0) {
    try {
      run_command(
        sh("setsid sh -c 'echo $$ > " + pidfile
           + "; exec sleep 30' </dev/null >/dev/null 2>&1 & sleep 30"),
        json::object(), env_of());
    } catch (...) {
    }
    ::_exit(0);
  }
  auto escapee = read_fifo_pid(pidfile);
  ::kill(node, SIGKILL);
  int st = 0;
  ::waitpid(node, &st, 0);
  BOOST_REQUIRE(escapee > 0);
  BOOST_TEST(exits_within_10s(escapee));
}

BOOST_AUTO_TEST_CASE(the_environment_carries_job_task_and_attempt) {
  ::setenv("CONVEYOR_TEST_INHERITED", "yes", 1);
  ::setenv("CONVEYOR_ATTEMPT", "99", 1); // ours wins over an inherited one
  auto out = run_command(
    sh("printf "
       "'{\"job\":\"%s\",\"task\":\"%s\",\"attempt\":\"%s\",\"inherited\":\"%"
       "s\"}' "
       "\"$CONVEYOR_JOB_ID\" \"$CONVEYOR_TASK_ID\" \"$CONVEYOR_ATTEMPT\" "
       "\"$CONVEYOR_TEST_INHERITED\""),
    json::object(), env_of("42", "resize-1", 3));
  ::unsetenv("CONVEYOR_ATTEMPT");
  ::unsetenv("CONVEYOR_TEST_INHERITED");
  BOOST_TEST(out["job"] == "42");
  BOOST_TEST(out["task"] == "resize-1");
  BOOST_TEST(out["attempt"] == "3");
  // Not on the allow-list (spec.env): not passed.
  BOOST_TEST(out["inherited"] == "");
}

BOOST_AUTO_TEST_CASE(the_environment_is_the_allow_list_and_never_the_token) {
  ::setenv("CONVEYOR_TOKEN", "node-secret-token", 1);
  ::setenv("CONVEYOR_TEST_SECRET", "s3cret", 1);
  ::setenv("CONVEYOR_TEST_PASSED", "passed", 1);
  auto spec = sh("env");
  spec.argv = {"sh", "-c",
               "env | grep -c . >/dev/null; printf '{\"env\":\"%s\"}' \"$(env "
               "| tr '\\n' ' ')\""};
  auto out = run_command(spec, json::object(), env_of());
  auto text = out["env"].get<std::string>();
  BOOST_TEST(text.find("node-secret-token") == std::string::npos, text);
  BOOST_TEST(text.find("s3cret") == std::string::npos, text);
  BOOST_TEST(text.find("CONVEYOR_TEST_PASSED") == std::string::npos, text);
  BOOST_TEST(text.find("PATH=") != std::string::npos, text);
  spec.env = {"PATH", "CONVEYOR_TEST_PASSED", "FIXED=value", "CONVEYOR_TOKEN"};
  out = run_command(spec, json::object(), env_of());
  text = out["env"].get<std::string>();
  ::unsetenv("CONVEYOR_TOKEN");
  ::unsetenv("CONVEYOR_TEST_SECRET");
  ::unsetenv("CONVEYOR_TEST_PASSED");
  BOOST_TEST(text.find("CONVEYOR_TEST_PASSED=passed") != std::string::npos,
             text);
  BOOST_TEST(text.find("FIXED=value") != std::string::npos, text);
  BOOST_TEST(text.find("node-secret-token") == std::string::npos, text);
  BOOST_TEST(text.find("HOME=") == std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(secret_names_are_dropped_even_when_allow_listed) {
  ::setenv("CONVEYOR_TEST_DEPLOY_KEY", "deploy-s3cret", 1);
  auto spec = sh("printf '{\"env\":\"%s\"}' \"$(env | tr '\\n' ' ')\"");
  spec.env = {"PATH", "CONVEYOR_TEST_DEPLOY_KEY", "CONVEYOR_TEST_FIXED=x"};
  spec.secret_env = {"CONVEYOR_TEST_DEPLOY_KEY", "CONVEYOR_TEST_FIXED"};
  auto out = run_command(spec, json::object(), env_of());
  ::unsetenv("CONVEYOR_TEST_DEPLOY_KEY");
  auto text = out["env"].get<std::string>();
  BOOST_TEST(text.find("deploy-s3cret") == std::string::npos, text);
  BOOST_TEST(text.find("CONVEYOR_TEST_FIXED") == std::string::npos, text);
  BOOST_TEST(text.find("PATH=") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(the_stop_callback_kills_the_program_and_cancels) {
  std::atomic<int> polls{0};
  auto start = std::chrono::steady_clock::now();
  auto env = env_of();
  env.stop = [&] {
    ++polls;
    return seconds_since(start) > 0.2;
  };
  auto what =
    failure_of([&] { run_command(sh("sleep 30"), json::object(), env); });
  BOOST_TEST(what == "<cancelled>");
  BOOST_TEST(seconds_since(start) < 5.0);
  // Polled on a 50 ms tick, not in a busy loop.
  BOOST_TEST(polls.load() <= 40);
  BOOST_TEST(polls.load() >= 2);
}

BOOST_AUTO_TEST_CASE(large_input_and_output_do_not_deadlock) {
  // cat writes its output while we are still writing its input: both pipes
  // must be serviced together.
  json input = {{"blob", std::string(1024 * 1024, 'a')}};
  command_spec cat;
  cat.argv = {"cat"};
  cat.max_output = 4 * 1024 * 1024; // the subject is pipes, not the limit
  BOOST_TEST(run_command(cat, input, env_of()) == input);
  // A program that never reads its input must not kill us with SIGPIPE.
  BOOST_TEST(run_command(sh("echo '{\"ok\":true}'"), input, env_of())
             == (json{{"ok", true}}));
}

BOOST_AUTO_TEST_CASE(stdout_is_capped) {
  auto what = failure_of([] {
    run_command(sh("head -c 3000000 /dev/zero | tr '\\0' x"), json::object(),
                env_of());
  });
  BOOST_TEST(what
             == "task output exceeds 1048576 bytes"); // limits.maxOutputBytes
  auto spec = sh("echo '{\"a\":\"0123456789\"}'");
  spec.max_output = 10;
  what = failure_of([&] { run_command(spec, json::object(), env_of()); });
  BOOST_TEST(what == "task output exceeds 10 bytes");
}

BOOST_AUTO_TEST_CASE(a_missing_program_is_reported) {
  command_spec spec;
  spec.argv = {"conveyor-no-such-program"};
  auto what = failure_of([&] { run_command(spec, json::object(), env_of()); });
  BOOST_TEST(
    what
    == "cannot start 'conveyor-no-such-program': No such file or directory");
  spec.argv.clear();
  what = failure_of([&] { run_command(spec, json::object(), env_of()); });
  BOOST_TEST(what == "command task has no program to run");
}

BOOST_AUTO_TEST_CASE(runs_in_parallel_threads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      auto out = run_command(sh("cat"), json{{"i", i}}, env_of());
      if (out == json{{"i", i}})
        ++ok;
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(ok.load() == 6);
}

BOOST_AUTO_TEST_CASE(progress_lines_on_fd_3_are_reported_as_they_come) {
  auto env = env_of();
  std::vector<std::pair<double, std::string>> seen;
  env.on_progress = [&](double f, std::string_view m) {
    seen.emplace_back(f, std::string{m});
  };
  auto out = run_command(
    sh("test \"$CONVEYOR_PROGRESS_FD\" = 3 || exit 9; "
       "echo '0.25 first' >&3; echo 'garbage' >&3; echo '1.7 over' >&3; "
       "printf '0.5 half\\n0.75' >&3; echo '{}'"),
    json::object(), env);
  BOOST_TEST(out == json::object());
  BOOST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(seen[0].first == 0.25);
  BOOST_TEST(seen[0].second == "first");
  BOOST_TEST(seen[1].second == "half");
  BOOST_TEST(seen[2].first == 0.75); // a last line without a newline
}

BOOST_AUTO_TEST_CASE(stderr_is_streamed_while_the_program_runs) {
  // The program waits for its stderr to have been seen: it blocks on a
  // FIFO that the callback opens once "ready" arrived.
  temp_dir dir;
  auto fifo = dir.path() + "/seen";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto env = env_of();
  std::string streamed;
  bool released = false;
  env.on_stderr = [&](std::string_view bytes) {
    streamed.append(bytes);
    if (!released && streamed.find("ready") != std::string::npos) {
      released = true;
      // Blocks until the program opens its end (right after "ready").
      int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        (void)::write(fd, "go\n", 3);
        ::close(fd);
      }
    }
  };
  auto out = run_command(sh("echo ready >&2; read line < " + fifo
                            + "; echo done >&2; echo '{\"ok\":true}'"),
                         json::object(), env);
  BOOST_TEST(out["ok"] == true);
  BOOST_TEST(released);
  BOOST_TEST(streamed == "ready\ndone\n");
}

BOOST_AUTO_TEST_CASE(a_program_flooding_fd_3_is_contained) {
  auto env = env_of();
  std::size_t reports = 0;
  env.on_progress = [&](double, std::string_view m) {
    ++reports;
    BOOST_TEST(m.size() <= model::progress_lines::max_line_bytes);
  };
  // 4 MB without a newline, then a report: one report, bounded memory.
  auto out = run_command(sh("head -c 4000000 /dev/zero | tr '\\0' 'x' >&3; "
                            "echo >&3; echo '0.5 ok' >&3; echo '{}'"),
                         json::object(), env);
  BOOST_TEST(out == json::object());
  BOOST_TEST(reports == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
