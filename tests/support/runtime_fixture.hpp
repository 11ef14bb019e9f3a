#pragma once

// A runtime in a temporary directory, with a controllable clock and a
// blocking client. Restartable, to test recovery.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "caf/all.hpp"
#include "conveyor/client.hpp"
#include "conveyor/registry.hpp"
#include "conveyor/runtime.hpp"
#include "support/temp_dir.hpp"

namespace conveyor::testing {

struct runtime_fixture {
  struct config : caf::actor_system_config {
    config() {
      register_types(*this);
      set("scheduler.max-threads", 2);
    }
  };

  temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<registry> reg = std::make_shared<registry>();
  runtime_options options;
  std::unique_ptr<runtime> rt;
  std::unique_ptr<client> jobs;
  /// The runtime's clock: tests move it explicitly.
  std::atomic<model::time_ms> now{1'800'000'000'000};

  /// Counters handlers bump, by name.
  std::mutex counts_mutex;
  std::map<std::string, int> counts;

  runtime_fixture() {
    options.data_dir = dir.sub("data");
    options.clock = [this] { return now.load(); };
  }

  ~runtime_fixture() { stop(); }

  /// Boost.Test calls this on the test's fixture object before destroying
  /// it: the runtime stops while the members of derived fixtures (which
  /// handlers, hooks and log callbacks use) still exist. The destructor
  /// above runs only after those members are gone.
  void teardown() { stop(); }

  void bump(const std::string& name) {
    std::lock_guard guard{counts_mutex};
    ++counts[name];
  }

  int count(const std::string& name) {
    std::lock_guard guard{counts_mutex};
    return counts[name];
  }

  void start() {
    auto started = conveyor::start(sys, reg, options);
    if (!started)
      throw std::runtime_error("start failed: " + started.error().message);
    rt = std::move(*started);
    jobs = std::make_unique<client>(sys, rt->supervisor());
  }

  void stop() {
    jobs.reset();
    if (rt)
      rt->stop();
    rt.reset();
  }

  void restart() {
    stop();
    start();
  }

  void add_task(task_definition def) {
    auto st = reg->add_task(std::move(def));
    if (!st)
      throw std::runtime_error(st.error().message);
  }

  void add_workflow(workflow_definition def) {
    auto st = reg->add_workflow(std::move(def));
    if (!st)
      throw std::runtime_error(st.error().message);
  }

  model::job_id queue_task(const std::string& slug, json input = json::object(),
                           std::string queue = {}) {
    queue_request req;
    req.task = slug;
    req.input = std::move(input);
    req.queue = std::move(queue);
    return client::id_of(jobs->queue(req));
  }

  model::job_id queue_workflow(const std::string& slug,
                               json input = json::object()) {
    queue_request req;
    req.workflow = slug;
    req.input = std::move(input);
    return client::id_of(jobs->queue(req));
  }

  /// Waits for the job to end; one that never ends fails the test (the
  /// client's request times out) instead of hanging it.
  json bounded_wait(model::job_id id,
                    std::chrono::seconds limit = std::chrono::seconds(30)) {
    client bounded{sys, rt->supervisor(), {}, caf::duration{limit}};
    return bounded.wait(id);
  }

  /// Runs until no job is left, moving the clock a minute before every call
  /// so any backoff has passed; returns the number of calls that found work.
  int run_until_empty(run_request req = {}, int max_rounds = 50) {
    int rounds = 0;
    for (int i = 0; i < max_rounds; ++i) {
      now += 60'000;
      auto res = jobs->run(req);
      if (res.value("noJobsRemaining", false))
        return rounds;
      ++rounds;
    }
    return rounds;
  }
};

} // namespace conveyor::testing
