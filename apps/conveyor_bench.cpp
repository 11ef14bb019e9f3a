// conveyor-bench: measures the runtime on the peer workloads.
//
//   conveyor-bench journal|enqueue|drain|workflow|latency|delayed|cancel|http
//                  [--jobs N] [--json] [--durability sync|async]
//                  [--workers N] [--concurrency N] [--dir DIR]

#include <cstring>
#include <iostream>

#include "apps/bench/common.hpp"

namespace {

int usage() {
  std::cerr
    << "usage: conveyor-bench journal|enqueue|drain|workflow|latency|"
       "delayed|cancel|http [--jobs N] [--json] [--durability sync|async] "
       "[--workers N] [--concurrency N] [--dir DIR]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  using namespace conveyor::bench;
  if (argc < 2)
    return usage();
  options opt;
  opt.workload = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--json")
        opt.json_output = true;
      else if (arg == "--jobs")
        opt.jobs = std::stoul(value());
      else if (arg == "--workers")
        opt.workers = std::stoul(value());
      else if (arg == "--concurrency")
        opt.concurrency = std::stoi(value());
      else if (arg == "--dir")
        opt.dir = value();
      else if (arg == "--durability") {
        auto v = value();
        if (v == "sync")
          opt.durability = conveyor::model::durability::sync;
        else if (v == "async")
          opt.durability = conveyor::model::durability::async;
        else
          throw std::invalid_argument("--durability: sync or async");
      } else
        throw std::invalid_argument("unknown option " + arg);
    } catch (const std::exception& e) {
      std::cerr << "conveyor-bench: " << e.what() << "\n";
      return usage();
    }
  }
  if (opt.jobs == 0)
    return usage();
  try {
    conveyor::json result;
    if (opt.workload == "journal")
      result = run_journal(opt);
    else if (opt.workload == "enqueue")
      result = run_enqueue(opt);
    else if (opt.workload == "drain")
      result = run_drain(opt);
    else if (opt.workload == "workflow")
      result = run_workflow(opt);
    else if (opt.workload == "latency")
      result = run_latency(opt);
    else if (opt.workload == "delayed")
      result = run_delayed(opt);
    else if (opt.workload == "cancel")
      result = run_cancel(opt);
    else if (opt.workload == "http")
      result = run_http(opt);
    else
      return usage();
    print_result(opt, result);
  } catch (const std::exception& e) {
    std::cerr << "conveyor-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
