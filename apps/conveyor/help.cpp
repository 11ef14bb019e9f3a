#include "apps/conveyor/help.hpp"

#include <iostream>
#include <string_view>

#include "apps/conveyor/cli.hpp"
#include "conveyor/version.hpp"
#include "model/text.hpp"

namespace conveyor::app {

namespace {

struct command_help {
  std::string_view name;
  std::string_view synopsis;
  std::string_view about;
  std::string_view examples;
};

constexpr command_help commands[] = {
  {"serve",
   "conveyor serve [--config FILE] [--data DIR] [--listen HOST:PORT]\n"
   "               [--http HOST:PORT|off]",
   "Runs a node: the journal in DATA (default ./conveyor-data), the actor\n"
   "door on --listen (default 127.0.0.1:4242) and the HTTP door on --http\n"
   "(default 127.0.0.1:4280). Without --config, built-in defaults and no\n"
   "tasks. The admin token is written to DATA/admin.token. Stops on\n"
   "SIGTERM or SIGINT: no new job starts, running tasks get node.stopGraceMs\n"
   "(default 30 s) to finish; a second signal interrupts them at once.",
   "conveyor serve --config config/conveyor.json\n"
   "conveyor serve --data /var/lib/conveyor --http off"},
  {"queue",
   "conveyor queue (--task|--workflow) SLUG [--input JSON|@file] [--queue Q]\n"
   "               [--wait-until ISO8601] [--log MSG] [--idempotency-key K]\n"
   "               [--priority N] [--wait]",
   "Queues a job and prints its document; --wait waits for it to end\n"
   "(exit 1 if it failed).",
   "conveyor queue --task email --input '{\"to\":\"a@example.com\"}'\n"
   "conveyor queue --workflow onboard --input @user.json --wait"},
  {"run",
   "conveyor run [--queue Q | --all-queues] [--limit N] [--where JSON]\n"
   "             [--sequential] [--handle-schedules]",
   "Runs due jobs now (Payload's run) and prints the RunJobsResult.",
   "conveyor run --queue nightly --limit 100\n"
   "conveyor run --all-queues --handle-schedules"},
  {"handle-schedules", "conveyor handle-schedules [--queue Q | --all-queues]",
   "Queues the scheduled jobs that are due and prints what it queued.",
   "conveyor handle-schedules --all-queues"},
  {"run-by-id", "conveyor run-by-id ID",
   "Runs one job now if it is due, concurrency notwithstanding.",
   "conveyor run-by-id 42"},
  {"get", "conveyor get ID [--follow]",
   "Prints a job's document; a running job's shows what it does now\n"
   "(\"live\": steps, progress, stderr tail). --follow prints each change\n"
   "(status, steps, progress, new stderr lines) on stderr until the job\n"
   "finished, then its document; exit 0 if it completed, 1 if not.",
   "conveyor get 42\nconveyor get --follow 42"},
  {"list", "conveyor list [--queue Q] [--status S] [--where JSON] [--limit N]",
   "Lists jobs, oldest first.",
   "conveyor list --status failed --limit 20\n"
   "conveyor list --where '{\"input.user\": {\"equals\": 7}}'"},
  {"cancel", "conveyor cancel ID\nconveyor cancel --where JSON [--queue Q]",
   "Cancels a job, or every unfinished job a where query matches. A running\n"
   "workflow stops between its steps.",
   "conveyor cancel 42\n"
   "conveyor cancel --where '{\"input.tag\": {\"equals\": \"sweep\"}}'"},
  {"pause", "conveyor pause Q", "Stops starting jobs of queue Q.",
   "conveyor pause emails"},
  {"resume", "conveyor resume Q", "Starts jobs of queue Q again.",
   "conveyor resume emails"},
  {"worker", "conveyor worker --queue Q [--concurrency N] [--config FILE]",
   "Runs a remote worker node: serves the tasks of its own config file for\n"
   "queue Q of the node at --connect.",
   "conveyor worker --queue media --concurrency 4 --config worker.json"},
  {"config",
   "conveyor config check FILE\nconveyor config defaults\n"
   "conveyor config init [FILE]",
   "check: validates a config file as serve and worker would load it,\n"
   "without starting anything: prints {config, valid, tasks, workflows} and\n"
   "exits 0, or lists every problem with its JSON path and exits 5.\n"
   "defaults: prints every built-in setting as a config document.\n"
   "init: writes a config to start from (default ./conveyor.json; an\n"
   "existing file is never overwritten: exit 1).",
   "conveyor config check config/conveyor.json\n"
   "conveyor config defaults\nconveyor config init my-node.json"},
};

constexpr std::string_view common_options =
  "common (before or after the command): --connect HOST:PORT (or\n"
  "        CONVEYOR_CONNECT; default 127.0.0.1:4242), --token-file FILE "
  "(or\n"
  "        CONVEYOR_TOKEN; default: DATA/admin.token of a local node, --data "
  "DIR;\n"
  "        --token T is refused: `ps` shows it), --timeout SECONDS (default "
  "30),\n"
  "        --tls-certificate F --tls-key F --tls-ca F (mutual TLS, all "
  "three)\n";

constexpr std::string_view exit_codes =
  "exit codes: 0 ok, 1 failed, 2 usage, 3 forbidden, 4 not found,\n"
  "            5 invalid input, 6 unreachable, 7 overloaded\n";

bool is_help(std::string_view arg) {
  return arg == "--help" || arg == "-h";
}

} // namespace

void print_usage(std::ostream& out) {
  out << "usage:\n";
  for (const auto& c : commands) {
    std::string_view rest = c.synopsis;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      out << "  " << rest.substr(0, nl) << "\n";
      rest =
        nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
  }
  out << "  conveyor help COMMAND | conveyor COMMAND --help | conveyor "
         "--version\n"
      << common_options << exit_codes;
}

bool print_command_help(std::ostream& out, const std::string& command) {
  for (const auto& c : commands) {
    if (c.name != command)
      continue;
    out << "usage: " << c.synopsis << "\n\n"
        << c.about << "\n\nexamples:\n"
        << c.examples << "\n\n"
        << common_options << exit_codes;
    return true;
  }
  return false;
}

std::optional<int> answer_help_or_version(int argc, char** argv) {
  if (argc < 2)
    return std::nullopt;
  std::string_view first = argv[1];
  if (first == "--version" || first == "-V" || first == "version") {
    std::cout << "conveyor " << version_string << "\n";
    return ok;
  }
  if (is_help(first) || first == "help") {
    if (argc > 2 && !is_help(argv[2])) {
      if (print_command_help(std::cout, argv[2]))
        return ok;
      // Quoted and cut short: the argument may be anything, of any size.
      std::cerr << "conveyor: no command " << model::shown(json(argv[2]))
                << "\n";
      print_usage(std::cerr);
      return usage;
    }
    print_usage(std::cout);
    return ok;
  }
  for (int i = 2; i < argc; ++i)
    if (is_help(argv[i]) && print_command_help(std::cout, argv[1]))
      return ok;
  return std::nullopt;
}

} // namespace conveyor::app
