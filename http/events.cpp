#include "http/events.hpp"

#include <algorithm>
#include <chrono>

#include "actors/requests.hpp"
#include "model/job_json.hpp"

namespace conveyor::http {

namespace {

model::time_ms wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string sse_event(std::string_view type, const json& event) {
  return "event: " + std::string{type} + "\ndata: "
         + event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

} // namespace

bool event_hub::subscribe(std::shared_ptr<event_stream> stream,
                          request_context ctx, std::optional<std::string> queue,
                          const access_rules* rules) {
  std::lock_guard guard{mutex_};
  // Streams whose clients left since the last event free their place now.
  std::erase_if(subscribers_,
                [](const subscriber& s) { return !s.stream->open(); });
  if (subscribers_.size() >= max_streams_)
    return false;
  subscribers_.push_back(
    {std::move(stream), std::move(ctx), std::move(queue), rules});
  return true;
}

template <class Render>
void event_hub::deliver(const model::job& j, Render render) {
  std::lock_guard guard{mutex_};
  if (subscribers_.empty())
    return;
  std::string text;
  std::erase_if(subscribers_, [&](const subscriber& s) {
    if (s.queue && *s.queue != j.queue)
      return false;
    if (!actors::allowed(*s.rules, model::operation::read, s.ctx,
                         {j.queue, &j}))
      return false;
    if (text.empty())
      text = render();
    return !s.stream->push(text);
  });
}

void event_hub::publish(std::string_view type, const model::job& j) {
  deliver(j, [&] {
    return sse_event(
      type, {{"type", type}, {"job", model::to_json(j, wall_clock_ms())}});
  });
}

void event_hub::publish_live(std::string_view type, const model::job& j,
                             const json& live) {
  deliver(j, [&] {
    // Progress may come ten times a second: the job's identity only, not
    // its whole document.
    json job = {
      {"id", std::to_string(j.id)}, {"queue", j.queue}, {"status", "running"}};
    if (j.task_slug)
      job["taskSlug"] = *j.task_slug;
    if (j.workflow_slug)
      job["workflowSlug"] = *j.workflow_slug;
    return sse_event(type, {{"type", type}, {"job", job}, {"live", live}});
  });
}

std::size_t event_hub::open_streams() {
  std::lock_guard guard{mutex_};
  std::erase_if(subscribers_,
                [](const subscriber& s) { return !s.stream->open(); });
  return subscribers_.size();
}

} // namespace conveyor::http
