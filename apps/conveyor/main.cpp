// conveyor: the runtime node (serve), remote worker nodes (worker), the
// command-line client (queue, run, run-by-id, get, list, cancel, pause,
// resume, handle-schedules) and config checks (config check).

#include <iostream>

#include "apps/conveyor/cli.hpp"
#include "apps/conveyor/help.hpp"
#include "model/text.hpp"

int main(int original_argc, char** original_argv) {
  using namespace conveyor::app;
  auto line = command_first(original_argc, original_argv);
  line.push_back(nullptr); // argv[argc] is null, as main's own
  int argc = static_cast<int>(line.size()) - 1;
  char** argv = line.data();
  if (auto answered = answer_help_or_version(argc, argv))
    return *answered;
  if (argc < 2) {
    print_usage(std::cerr);
    return usage;
  }
  std::string command = argv[1];
  try {
    if (command == "serve")
      return run_serve(argc, argv);
    if (command == "worker")
      return run_worker(argc, argv);
    if (command == "config")
      return run_config_command(argc, argv);
    if (command == "queue" || command == "run" || command == "run-by-id"
        || command == "get" || command == "list" || command == "cancel"
        || command == "pause" || command == "resume"
        || command == "handle-schedules")
      return run_client_command(command, argc, argv);
    throw usage_error("unknown command "
                      + conveyor::model::shown(conveyor::json(command)));
  } catch (const usage_error& e) {
    std::cerr << "conveyor: " << e.what() << "\n";
    print_usage(std::cerr);
    return usage;
  } catch (const conveyor::request_error& e) {
    return report(e);
  } catch (const std::exception& e) {
    std::cerr << "conveyor: " << e.what() << "\n";
    return failure;
  }
}
