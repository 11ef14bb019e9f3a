#include "apps/bench/common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sys/resource.h>

namespace conveyor::bench {

double quantile(std::vector<double> xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto idx = static_cast<std::size_t>(
    std::lround(q * static_cast<double>(xs.size() - 1)));
  return xs[std::min(idx, xs.size() - 1)];
}

double peak_rss_mb() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0; // ru_maxrss is KiB
}

scratch_dir::scratch_dir(const std::string& chosen) {
  if (!chosen.empty()) {
    path_ = chosen;
    return;
  }
  std::string templ =
    (std::filesystem::temp_directory_path() / "conveyor-bench-XXXXXX").string();
  path_ = ::mkdtemp(templ.data());
  owned_ = true;
}

scratch_dir::~scratch_dir() {
  if (owned_) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

void print_result(const options& opt, const json& result) {
  if (opt.json_output) {
    std::cout << result.dump() << std::endl;
    return;
  }
  for (auto& [k, v] : result.items())
    std::printf("%-28s %s\n", k.c_str(), v.dump().c_str());
}

std::shared_ptr<registry> noop_registry() {
  auto reg = std::make_shared<registry>();
  (void)reg->add_task(
    {.slug = "noop", .handler = [](task_context&) { return json::object(); }});
  (void)reg->add_workflow(
    {.slug = "three", .handler = [](workflow_context& wf) -> workflow {
       co_await wf.task("noop", "s1");
       co_await wf.task("noop", "s2");
       co_await wf.task("noop", "s3");
     }});
  return reg;
}

runtime_options base_options(const options& opt, const std::string& dir) {
  runtime_options o;
  o.data_dir = dir;
  o.durability = opt.durability;
  o.workers = opt.workers;
  o.queues["default"].concurrency = opt.concurrency;
  return o;
}

std::unique_ptr<runtime> must_start(caf::actor_system& sys,
                                    std::shared_ptr<const registry> reg,
                                    runtime_options o) {
  auto rt = start(sys, std::move(reg), std::move(o));
  if (!rt)
    throw std::runtime_error(rt.error().message);
  return std::move(*rt);
}

} // namespace conveyor::bench
