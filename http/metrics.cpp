#include "http/metrics.hpp"

#include <fstream>
#include <limits>
#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace conveyor::http {

namespace {

namespace prom = prometheus;

/// Seconds, from 1 ms to 1 h.
const prom::Histogram::BucketBoundaries& time_buckets() {
  static const prom::Histogram::BucketBoundaries buckets{
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600};
  return buckets;
}

double resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  double pages_total = 0;
  double pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

/// A histogram counted elsewhere (the journal's own threads count it
/// without a lock), shown as Prometheus shows its own.
prom::MetricFamily histogram_family(std::string name, std::string help,
                                    const histogram_figures& h) {
  prom::ClientMetric metric;
  metric.histogram.sample_count = h.count;
  metric.histogram.sample_sum = h.sum;
  for (std::size_t i = 0; i < h.bounds.size() && i < h.cumulative.size(); ++i)
    metric.histogram.bucket.push_back(
      {.cumulative_count = h.cumulative[i], .upper_bound = h.bounds[i]});
  metric.histogram.bucket.push_back(
    {.cumulative_count = h.count,
     .upper_bound = std::numeric_limits<double>::infinity()});
  return {.name = std::move(name),
          .help = std::move(help),
          .type = prom::MetricType::Histogram,
          .metric = {std::move(metric)}};
}

} // namespace

struct metrics::impl {
  std::shared_ptr<prom::Registry> registry = std::make_shared<prom::Registry>();
  prom::Family<prom::Counter>& requests =
    prom::BuildCounter()
      .Name("conveyor_http_requests_total")
      .Help("HTTP requests answered, by route pattern and status code")
      .Register(*registry);
  prom::Family<prom::Gauge>& queue_jobs =
    prom::BuildGauge()
      .Name("conveyor_queue_jobs")
      .Help("Jobs a queue holds now, by state (queued, delayed, running)")
      .Register(*registry);
  prom::Family<prom::Gauge>& queue_paused = prom::BuildGauge()
                                              .Name("conveyor_queue_paused")
                                              .Help("1 if the queue is paused")
                                              .Register(*registry);
  prom::Family<prom::Gauge>& queue_concurrency =
    prom::BuildGauge()
      .Name("conveyor_queue_concurrency")
      .Help("Jobs the queue runs at once at most")
      .Register(*registry);
  prom::Family<prom::Counter>& finished =
    prom::BuildCounter()
      .Name("conveyor_jobs_finished_total")
      .Help("Jobs that reached a terminal state, by queue and status")
      .Register(*registry);
  prom::Family<prom::Histogram>& wait =
    prom::BuildHistogram()
      .Name("conveyor_job_wait_seconds")
      .Help("From a job's creation to its first start, by task or workflow")
      .Register(*registry);
  prom::Family<prom::Histogram>& run =
    prom::BuildHistogram()
      .Name("conveyor_job_run_seconds")
      .Help("From a job's first start to its end, by task or workflow")
      .Register(*registry);
  prom::Family<prom::Counter>& requeued =
    prom::BuildCounter()
      .Name("conveyor_jobs_requeued_total")
      .Help("Attempts that ended with their job pending again, by queue and "
            "reason: retrying (failed, a retry left) or interrupted (lost "
            "to a dead worker or a stop; nothing consumed)")
      .Register(*registry);
  prom::Gauge& rss = prom::BuildGauge()
                       .Name("conveyor_process_resident_memory_bytes")
                       .Help("Resident memory of the node's process")
                       .Register(*registry)
                       .Add({});
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}

metrics::~metrics() = default;

void metrics::http_request(const std::string& route, unsigned status) {
  impl_->requests.Add({{"route", route}, {"code", std::to_string(status)}})
    .Increment();
}

void metrics::job_finished(const model::job& j) {
  impl_->finished
    .Add(
      {{"queue", j.queue}, {"status", std::string{model::to_string(j.status)}}})
    .Increment();
  if (j.log.empty())
    return;
  auto slug = j.slug();
  auto first_start = j.log.front().executed_at;
  auto end = j.completed_at.value_or(j.log.back().completed_at);
  if (first_start >= j.created_at)
    impl_->wait.Add({{"slug", slug}}, time_buckets())
      .Observe(static_cast<double>(first_start - j.created_at) / 1000.0);
  if (end >= first_start)
    impl_->run.Add({{"slug", slug}}, time_buckets())
      .Observe(static_cast<double>(end - first_start) / 1000.0);
}

void metrics::queues(const json& stats) {
  if (!stats.is_array())
    return;
  for (const auto& q : stats) {
    auto name = q.value("name", std::string{});
    for (const char* state : {"queued", "delayed", "running"})
      impl_->queue_jobs.Add({{"queue", name}, {"state", state}})
        .Set(q.value(state, 0.0));
    impl_->queue_paused.Add({{"queue", name}})
      .Set(q.value("paused", false) ? 1.0 : 0.0);
    impl_->queue_concurrency.Add({{"queue", name}})
      .Set(q.value("concurrency", 0.0));
  }
}

void metrics::job_requeued(std::string_view type, const model::job& j) {
  impl_->requeued.Add({{"queue", j.queue}, {"reason", std::string{type}}})
    .Increment();
}

std::string metrics::scrape(const journal_figures& journal) {
  impl_->rss.Set(resident_bytes());
  auto families = impl_->registry->Collect();
  families.push_back(histogram_family(
    "conveyor_journal_group_size",
    "Job transitions made durable by one group commit", journal.group_size));
  families.push_back(histogram_family("conveyor_journal_fsync_seconds",
                                      "Duration of each fsync of the journal",
                                      journal.fsync_seconds));
  return prom::TextSerializer{}.Serialize(families);
}

} // namespace conveyor::http
