// conveyor: the runtime node (serve), remote worker nodes (worker), and the
// command-line client (queue, run, run-by-id, get, list, cancel, pause,
// resume, handle-schedules).

#include <iostream>

#include "apps/conveyor/cli.hpp"

namespace {

const char* usage_text = R"(usage:
  conveyor serve [--config FILE] [--data DIR] [--listen HOST:PORT]
                 [--http HOST:PORT|off]
  conveyor queue (--task|--workflow) SLUG [--input JSON|@file] [--queue Q]
                 [--wait-until ISO8601] [--log MSG] [--idempotency-key K]
                 [--priority N] [--wait]
  conveyor run [--queue Q | --all-queues] [--limit N] [--where JSON] [--sequential]
               [--handle-schedules]
  conveyor handle-schedules [--queue Q | --all-queues]
  conveyor run-by-id ID
  conveyor get ID
  conveyor list [--queue Q] [--status S] [--where JSON] [--limit N]
  conveyor cancel ID
  conveyor cancel --where JSON [--queue Q]
  conveyor pause Q | conveyor resume Q
  conveyor worker --queue Q [--concurrency N] [--config FILE]
common: --connect HOST:PORT (default 127.0.0.1:4242), --token-file FILE (or
        CONVEYOR_TOKEN; default: DATA/admin.token of a local node, --data DIR;
        --token T is refused: `ps` shows it), --timeout SECONDS (default 30),
        --tls-certificate F --tls-key F --tls-ca F (mutual TLS, all three)
exit codes: 0 ok, 1 failed, 2 usage, 3 forbidden, 4 not found,
            5 invalid input, 6 unreachable, 7 overloaded
serve stops on SIGTERM or SIGINT: no new job starts, running tasks get
        node.stopGraceMs (default 30 s) to finish; a second signal
        interrupts them at once (they run again at the next start)
)";

} // namespace

int main(int argc, char** argv) {
  using namespace conveyor::app;
  if (argc < 2 || std::string{argv[1]} == "--help"
      || std::string{argv[1]} == "help") {
    std::cerr << usage_text;
    return argc < 2 ? usage : ok;
  }
  std::string command = argv[1];
  try {
    if (command == "serve")
      return run_serve(argc, argv);
    if (command == "worker")
      return run_worker(argc, argv);
    if (command == "queue" || command == "run" || command == "run-by-id"
        || command == "get" || command == "list" || command == "cancel"
        || command == "pause" || command == "resume"
        || command == "handle-schedules")
      return run_client_command(command, argc, argv);
    throw usage_error("unknown command '" + command + "'");
  } catch (const usage_error& e) {
    std::cerr << "conveyor: " << e.what() << "\n" << usage_text;
    return usage;
  } catch (const conveyor::request_error& e) {
    return report(e);
  } catch (const std::exception& e) {
    std::cerr << "conveyor: " << e.what() << "\n";
    return failure;
  }
}
