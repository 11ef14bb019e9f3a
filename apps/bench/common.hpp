#pragma once

// Shared pieces of conveyor-bench workloads: options, timing, statistics,
// and a runtime in a fresh temporary directory.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "conveyor/client.hpp"
#include "conveyor/runtime.hpp"

namespace conveyor::bench {

struct options {
  std::string workload;
  std::size_t jobs = 10'000;
  bool json_output = false;
  model::durability durability = model::durability::sync;
  std::size_t workers = 8;
  std::int32_t concurrency = 100; ///< per-queue limit in continuous mode
  std::string dir;                ///< empty: a fresh temporary directory
};

inline const char* durability_name(const options& opt) {
  return opt.durability == model::durability::sync ? "sync" : "async";
}

using clock = std::chrono::steady_clock;

inline double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

inline model::time_ms wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

inline double wall_us() {
  using namespace std::chrono;
  return static_cast<double>(
    duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count());
}

/// Value at quantile q (0..1) of an unsorted sample.
double quantile(std::vector<double> xs, double q);

/// Peak resident set size of this process, MiB.
double peak_rss_mb();

/// A data directory that is removed at exit unless the user chose one.
class scratch_dir {
public:
  explicit scratch_dir(const std::string& chosen);
  ~scratch_dir();
  const std::string& path() const { return path_; }

private:
  std::string path_;
  bool owned_ = false;
};

struct bench_config : caf::actor_system_config {
  bench_config() {
    register_types(*this);
    set("scheduler.max-threads", env_int("CONVEYOR_BENCH_THREADS", 2));
    // Same scheduler as `conveyor serve` unless overridden.
    const char* p = std::getenv("CONVEYOR_BENCH_POLICY");
    const std::string policy = p ? p : "sharing";
    set("scheduler.policy", caf::atom_from_string(policy));
  }
  static int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : fallback;
  }
};

/// A registry with the "noop" task and the 3-step "three" workflow.
std::shared_ptr<registry> noop_registry();
/// Runtime options from the benchmark options, data in `dir`.
runtime_options base_options(const options& opt, const std::string& dir);
/// start() or throw.
std::unique_ptr<runtime> must_start(caf::actor_system& sys,
                                    std::shared_ptr<const registry> reg,
                                    runtime_options o);

/// Prints one result: a JSON object with --json, else aligned text.
void print_result(const options& opt, const json& result);

/// Workloads: each returns its result object.
json run_journal(const options& opt);
json run_enqueue(const options& opt);
json run_drain(const options& opt);
json run_workflow(const options& opt);
json run_latency(const options& opt);
json run_delayed(const options& opt);
json run_cancel(const options& opt);
json run_http(const options& opt);

} // namespace conveyor::bench
