#pragma once

// What GET /metrics shows, in Prometheus' text format (prometheus-cpp core;
// docs/http.md lists every series). Counters are fed as things happen (HTTP
// answers, jobs ending); queue gauges and process memory are read when
// scraped, so no thread of ours samples anything.

#include <memory>
#include <string>
#include <string_view>

#include "conveyor/messages.hpp"
#include "conveyor/runtime.hpp"
#include "model/job.hpp"

namespace prometheus {
class Registry;
}

namespace conveyor::http {

class metrics {
public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// One answered request: its route pattern and status.
  void http_request(const std::string& route, unsigned status);
  /// A job reached a terminal state: wait (created to first start) and run
  /// (first start to end) times per task or workflow slug.
  void job_finished(const model::job& j);
  /// The supervisor's queue counts (queue_stats_atom), as of this scrape.
  void queues(const json& stats);
  /// An attempt ended and its job waits for another: "retrying" (it
  /// failed, a retry is left) or "interrupted" (it was lost: nothing
  /// consumed).
  void job_requeued(std::string_view type, const model::job& j);
  /// Every series in the text exposition format, with the journal's
  /// histograms as the runtime gives them now.
  std::string scrape(const journal_figures& journal);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace conveyor::http
