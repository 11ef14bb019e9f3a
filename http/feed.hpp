#pragma once

// What the HTTP door learns from its runtime: finished jobs for /metrics
// and transitions for /v1/events (conveyor::feed_http hooks the runtime
// options to it).

#include "http/events.hpp"
#include "http/metrics.hpp"

namespace conveyor::http {

struct feed {
  metrics counters;
  event_hub events{64};
  /// Hooked to a runtime's options: without it, /v1/events has nothing to
  /// stream and answers 404.
  bool wired = false;
};

} // namespace conveyor::http
