#pragma once

// GET /v1/events: job transitions as Server-Sent Events. The runtime
// publishes each transition once it is durable (runtime_options::on_event,
// on a queue's actor thread); the hub sends it to every open stream whose
// queue filter and `read` rule let it through. Publishing never blocks: a
// stream's bytes are queued on its connection, and a client that falls too
// far behind loses its stream.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/access.hpp"
#include "http/exchange.hpp"
#include "model/job.hpp"

namespace conveyor::http {

class event_hub {
public:
  explicit event_hub(std::size_t max_streams) : max_streams_(max_streams) {}

  void limit(std::size_t max_streams) {
    std::lock_guard guard{mutex_};
    max_streams_ = max_streams;
  }

  /// Adds a stream; false (nothing added) when max_streams are open.
  bool subscribe(std::shared_ptr<event_stream> stream, request_context ctx,
                 std::optional<std::string> queue, const access_rules* rules);

  /// One transition: "queued", "started", "retrying", "interrupted",
  /// "completed", "failed" or "cancelled". The event carries the document.
  void publish(std::string_view type, const model::job& j);

  /// What a running job's steps do (runtime_options::on_live):
  /// "step_started", "step_finished", "progress" or "output". The event
  /// carries the job's id, queue, slug and status, and its live record.
  void publish_live(std::string_view type, const model::job& j,
                    const json& live);

  std::size_t open_streams();

private:
  /// Sends `render()`'s event to every stream that may see `j` (rendered
  /// once, for the first of them).
  template <class Render>
  void deliver(const model::job& j, Render render);

  struct subscriber {
    std::shared_ptr<event_stream> stream;
    request_context ctx;
    std::optional<std::string> queue;
    const access_rules* rules;
  };

  std::mutex mutex_;
  std::vector<subscriber> subscribers_;
  std::size_t max_streams_;
};

} // namespace conveyor::http
