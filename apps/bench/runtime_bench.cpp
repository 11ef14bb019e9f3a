// Runtime workloads, modelled on the peer benchmarks (W1-W5): enqueue,
// drain, 3-task workflows, pickup latency, delayed-job lateness.

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "apps/bench/common.hpp"

namespace conveyor::bench {

namespace {

/// Counts terminal jobs and wakes a waiter once its target is reached
/// (only then: waking the waiting thread on every job would cost the
/// measured process a context switch per job).
struct completion_counter {
  std::mutex m;
  std::condition_variable cv;
  std::size_t done = 0;
  std::size_t target = 0;

  void bump() {
    std::lock_guard g{m};
    if (++done == target)
      cv.notify_all();
  }
  void wait_for(std::size_t n) {
    std::unique_lock g{m};
    target = n;
    cv.wait(g, [&] { return done >= n; });
  }
};

/// Queues `n` jobs in bulk chunks of 1000 into a stopped-afterwards runtime,
/// so a later phase starts from a journal full of pending jobs (as the peers
/// drain in a fresh worker process).
void prefill(const options& opt, const std::string& dir, std::size_t n,
             const queue_request& proto) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto rt = must_start(sys, noop_registry(), base_options(opt, dir));
  client jobs{sys, rt->supervisor()};
  // Paused (durably): the timed runtime recovers them without starting any.
  jobs.pause("default");
  std::vector<queue_request> chunk;
  for (std::size_t i = 0; i < n; ++i) {
    chunk.push_back(proto);
    if (chunk.size() == 1000 || i + 1 == n) {
      jobs.queue_bulk(chunk);
      chunk.clear();
    }
  }
  rt->stop();
}

struct drain_timing {
  double recovery_s = 0; ///< start() over the prefilled journal
  double drain_s = 0;    ///< resume until the last job is terminal
};

/// Starts a continuous runtime over a prefilled, paused journal, then times
/// from resuming the queue until `n` jobs are terminal (like a peer's
/// worker started against an already filled queue).
drain_timing drain_seconds(const options& opt, const std::string& dir,
                           std::size_t n) {
  bench_config cfg;
  caf::actor_system sys{cfg};
  completion_counter counter;
  auto o = base_options(opt, dir);
  o.continuous = true;
  o.on_terminal = [&](const model::job&) { counter.bump(); };
  drain_timing t;
  auto t0 = clock::now();
  auto rt = must_start(sys, noop_registry(), std::move(o));
  client jobs{sys, rt->supervisor()};
  t.recovery_s = seconds_since(t0);
  auto t1 = clock::now();
  jobs.pause("default", false);
  counter.wait_for(n);
  t.drain_s = seconds_since(t1);
  rt->stop();
  return t;
}

} // namespace

json run_enqueue(const options& opt) {
  scratch_dir dir{opt.dir};
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto rt = must_start(sys, noop_registry(), base_options(opt, dir.path()));
  queue_request req;
  req.task = "noop";
  req.input = {{"n", 1}};
  // One by one: each call returns once its job is durable.
  client jobs{sys, rt->supervisor()};
  auto seq_n = std::min<std::size_t>(opt.jobs, 5000);
  auto t0 = clock::now();
  for (std::size_t i = 0; i < seq_n; ++i)
    jobs.queue(req);
  double seq = static_cast<double>(seq_n) / seconds_since(t0);
  // 32 callers in flight: group commit shares fsyncs between them.
  constexpr std::size_t callers = 32;
  auto per = std::max<std::size_t>(opt.jobs / callers, 1);
  t0 = clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < callers; ++c)
    threads.emplace_back([&] {
      client mine{sys, rt->supervisor()};
      for (std::size_t i = 0; i < per; ++i)
        mine.queue(req);
    });
  for (auto& t : threads)
    t.join();
  double conc = static_cast<double>(callers * per) / seconds_since(t0);
  // Bulk: chunks of 1000 in one durable write each.
  std::vector<queue_request> chunk(1000, req);
  t0 = clock::now();
  std::size_t bulk_n = 0;
  while (bulk_n < opt.jobs) {
    jobs.queue_bulk(chunk);
    bulk_n += chunk.size();
  }
  double bulk = static_cast<double>(bulk_n) / seconds_since(t0);
  rt->stop();
  return json{{"workload", "enqueue"},
              {"durability", durability_name(opt)},
              {"jobs", opt.jobs},
              {"jobs_per_s", std::round(seq)},
              {"concurrent_callers", callers},
              {"concurrent_jobs_per_s", std::round(conc)},
              {"bulk_jobs_per_s", std::round(bulk)}};
}

json run_drain(const options& opt) {
  scratch_dir dir{opt.dir};
  queue_request req;
  req.task = "noop";
  req.input = {{"n", 1}};
  prefill(opt, dir.path(), opt.jobs, req);
  auto t = drain_seconds(opt, dir.path(), opt.jobs);
  auto elapsed = t.drain_s;
  return json{
    {"workload", "drain"},
    {"durability", durability_name(opt)},
    {"jobs", opt.jobs},
    {"concurrency", opt.concurrency},
    {"workers", opt.workers},
    {"recovery_s", std::round(t.recovery_s * 1000) / 1000},
    {"seconds", std::round(elapsed * 1000) / 1000},
    {"jobs_per_s", std::round(static_cast<double>(opt.jobs) / elapsed)},
    {"peak_rss_mb", std::round(peak_rss_mb() * 10) / 10}};
}

json run_workflow(const options& opt) {
  scratch_dir dir{opt.dir};
  queue_request req;
  req.workflow = "three";
  prefill(opt, dir.path(), opt.jobs, req);
  auto elapsed = drain_seconds(opt, dir.path(), opt.jobs).drain_s;
  auto n = static_cast<double>(opt.jobs);
  return json{{"workload", "workflow"},
              {"durability", durability_name(opt)},
              {"workflows", opt.jobs},
              {"tasks_per_workflow", 3},
              {"seconds", std::round(elapsed * 1000) / 1000},
              {"workflows_per_s", std::round(n / elapsed)},
              {"tasks_per_s", std::round(3 * n / elapsed)},
              {"peak_rss_mb", std::round(peak_rss_mb() * 10) / 10}};
}

namespace {

/// Queues jobs one at a time into an idle continuous runtime and records,
/// per job, handler start minus a reference time carried in the input.
std::vector<double> probe(const options& opt, std::size_t n,
                          model::time_ms delay_ms, std::mt19937& rng) {
  scratch_dir dir{opt.dir};
  auto samples = std::make_shared<std::vector<double>>();
  auto m = std::make_shared<std::mutex>();
  auto reg = std::make_shared<registry>();
  (void)reg->add_task({.slug = "probe", .handler = [=](task_context& ctx) {
                         auto lag_us =
                           wall_us() - ctx.input().at("ref_us").get<double>();
                         std::lock_guard g{*m};
                         samples->push_back(lag_us / 1000.0);
                         return json::object();
                       }});
  bench_config cfg;
  caf::actor_system sys{cfg};
  completion_counter counter;
  auto o = base_options(opt, dir.path());
  o.continuous = true;
  o.on_terminal = [&](const model::job&) { counter.bump(); };
  auto rt = must_start(sys, reg, std::move(o));
  client jobs{sys, rt->supervisor()};
  std::uniform_int_distribution<int> pause_ms{0, 20};
  for (std::size_t i = 0; i < n; ++i) {
    queue_request req;
    req.task = "probe";
    auto now_us = wall_us();
    if (delay_ms > 0) {
      // Lateness: the reference is the due time itself.
      auto due = static_cast<model::time_ms>(now_us / 1000) + delay_ms;
      req.wait_until = due;
      req.input = {{"ref_us", static_cast<double>(due) * 1000.0}};
    } else {
      req.input = {{"ref_us", now_us}};
    }
    jobs.queue(req);
    if (delay_ms == 0) {
      counter.wait_for(i + 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    }
  }
  counter.wait_for(n);
  rt->stop();
  return *samples;
}

} // namespace

json run_latency(const options& opt) {
  std::mt19937 rng{42};
  auto n = std::min<std::size_t>(opt.jobs, 2000);
  auto xs = probe(opt, n, 0, rng);
  return json{{"workload", "latency"},
              {"durability", durability_name(opt)},
              {"jobs", n},
              {"p50_ms", std::round(quantile(xs, 0.5) * 1000) / 1000},
              {"p99_ms", std::round(quantile(xs, 0.99) * 1000) / 1000},
              {"max_ms", std::round(quantile(xs, 1.0) * 1000) / 1000}};
}

json run_delayed(const options& opt) {
  std::mt19937 rng{42};
  auto n = std::min<std::size_t>(opt.jobs, 5000);
  auto xs = probe(opt, n, 2000, rng);
  return json{{"workload", "delayed"},
              {"durability", durability_name(opt)},
              {"jobs", n},
              {"delay_ms", 2000},
              {"p50_late_ms", std::round(quantile(xs, 0.5) * 1000) / 1000},
              {"p99_late_ms", std::round(quantile(xs, 0.99) * 1000) / 1000},
              {"max_late_ms", std::round(quantile(xs, 1.0) * 1000) / 1000}};
}

} // namespace conveyor::bench

namespace conveyor::bench {

json run_cancel(const options& opt) {
  scratch_dir dir{opt.dir};
  // A cooperative long task: works until its stop token flips, then returns.
  struct shared_state {
    std::mutex m;
    std::condition_variable cv;
    bool started = false;
    double returned_us = 0;
  };
  auto shared = std::make_shared<shared_state>();
  auto reg = std::make_shared<registry>();
  (void)reg->add_task({.slug = "long", .handler = [shared](task_context& ctx) {
                         {
                           std::lock_guard g{shared->m};
                           shared->started = true;
                         }
                         shared->cv.notify_all();
                         while (!ctx.stop_requested())
                           std::this_thread::sleep_for(
                             std::chrono::microseconds(50));
                         std::lock_guard g{shared->m};
                         shared->returned_us = wall_us();
                         shared->cv.notify_all();
                         return json::object();
                       }});
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto o = base_options(opt, dir.path());
  o.continuous = true;
  auto rt = must_start(sys, reg, std::move(o));
  client jobs{sys, rt->supervisor()};
  auto n = std::min<std::size_t>(opt.jobs, 1000);
  std::vector<double> to_return, to_journaled;
  for (std::size_t i = 0; i < n; ++i) {
    {
      std::lock_guard g{shared->m};
      shared->started = false;
      shared->returned_us = 0;
    }
    queue_request req;
    req.task = "long";
    auto id = client::id_of(jobs.queue(req));
    {
      std::unique_lock g{shared->m};
      shared->cv.wait(g, [&] { return shared->started; });
    }
    auto t0 = wall_us();
    jobs.cancel_by_id(id); // returns once the cancellation is journaled
    auto t_journaled = wall_us();
    std::unique_lock g{shared->m};
    shared->cv.wait(g, [&] { return shared->returned_us > 0; });
    to_return.push_back((shared->returned_us - t0) / 1000.0);
    to_journaled.push_back((t_journaled - t0) / 1000.0);
  }
  rt->stop();
  auto r3 = [](double x) { return std::round(x * 1000) / 1000; };
  return json{{"workload", "cancel"},
              {"durability", durability_name(opt)},
              {"jobs", n},
              {"p50_ms", r3(quantile(to_return, 0.5))},
              {"p99_ms", r3(quantile(to_return, 0.99))},
              {"journaled_p50_ms", r3(quantile(to_journaled, 0.5))},
              {"journaled_p99_ms", r3(quantile(to_journaled, 0.99))}};
}

} // namespace conveyor::bench
