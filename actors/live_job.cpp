#include "actors/live_job.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "model/text.hpp"
#include "model/time.hpp"

namespace conveyor::actors {

live_job::live_job(job_ptr job, publisher publish, clock now)
    : job_(std::move(job)), publish_(std::move(publish)), now_(std::move(now)) {
}

void live_job::step_started(std::uint64_t number, const std::string& slug,
                            const std::string& id,
                            const std::optional<model::task_ref>& parent) {
  std::lock_guard guard{mutex_};
  if (running_.size() >= max_running_steps)
    return; // shown once another ends; the log has it anyway
  auto& s = running_.emplace_back(number, step{}).second;
  s.slug = slug;
  s.id = id;
  s.parent = parent;
  s.started_at = now_();
  publish_locked("step_started");
}

std::string live_job::step_finished(std::uint64_t number,
                                    std::string_view state) {
  std::lock_guard guard{mutex_};
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const auto& r) { return r.first == number; });
  if (it == running_.end())
    return {};
  auto s = std::move(it->second);
  running_.erase(it);
  if (last_progress_ == number)
    last_progress_.reset();
  auto kept = model::text_tail(s.tail, logged_tail_bytes);
  s.state = std::string{state};
  s.ended_at = now_();
  s.tail.clear(); // the log entry has it now
  if (finished_.size() >= max_finished_steps)
    finished_.erase(finished_.begin());
  finished_.push_back(std::move(s));
  publish_locked("step_finished");
  return kept;
}

bool live_job::progress(std::uint64_t number, double fraction,
                        std::string_view message) {
  if (std::isnan(fraction))
    return false;
  std::lock_guard guard{mutex_};
  auto* found = find_running(number);
  if (!found)
    return false;
  auto& s = *found;
  s.fraction = std::clamp(fraction, 0.0, 1.0);
  // Repairing may grow it (a bad byte becomes three): cut after.
  s.message = std::string{model::utf8_head(
    model::repaired_utf8(model::utf8_head(message, max_progress_message)),
    max_progress_message)};
  s.progress_at = now_();
  last_progress_ = number;
  return update_locked(true);
}

bool live_job::append_tail(std::uint64_t number, std::string_view text) {
  if (text.empty())
    return false;
  std::lock_guard guard{mutex_};
  auto* found = find_running(number);
  if (!found)
    return false;
  auto& tail = found->tail;
  if (text.size() >= live_tail_bytes) {
    tail.assign(text.substr(text.size() - live_tail_bytes));
  } else {
    tail.append(text);
    // Trimmed in batches: each byte is moved at most once per
    // live_tail_bytes appended.
    if (tail.size() > 2 * live_tail_bytes)
      tail.erase(0, tail.size() - live_tail_bytes);
  }
  return update_locked(false);
}

bool live_job::update_locked(bool is_progress) {
  auto now = std::chrono::steady_clock::now();
  if (!owed_ && now - last_event_ >= progress_interval) {
    publish_update_locked(is_progress, now);
    return false;
  }
  owed_ = true;
  owed_progress_ = owed_progress_ || is_progress;
  if (flush_armed_)
    return false;
  flush_armed_ = true;
  return true;
}

void live_job::flush() {
  std::lock_guard guard{mutex_};
  flush_armed_ = false;
  if (owed_)
    publish_update_locked(owed_progress_, std::chrono::steady_clock::now());
}

void live_job::publish_update_locked(
  bool progress, std::chrono::steady_clock::time_point now) {
  // Only these count against the interval (steps are few).
  last_event_ = now;
  publish_locked(progress ? "progress" : "output");
}

void live_job::publish_locked(std::string_view type) {
  // Every event carries the whole record: nothing is owed after one.
  owed_ = false;
  owed_progress_ = false;
  ++version_;
  if (publish_ && job_)
    publish_(type, *job_, render_locked());
  if (on_change_)
    std::exchange(on_change_, nullptr)();
}

void live_job::watch(std::function<void()> on_change) {
  std::lock_guard guard{mutex_};
  on_change_ = std::move(on_change);
}

std::uint64_t live_job::version() const {
  std::lock_guard guard{mutex_};
  return version_;
}

std::uint64_t live_job::next_nested_step() {
  std::lock_guard guard{mutex_};
  return nested_++;
}

live_job::step* live_job::find_running(std::uint64_t number) {
  for (auto& [n, s] : running_)
    if (n == number)
      return &s;
  return nullptr;
}

const live_job::step* live_job::find_running(std::uint64_t number) const {
  for (const auto& [n, s] : running_)
    if (n == number)
      return &s;
  return nullptr;
}

json live_job::render(const step& s, model::time_ms now) const {
  json out = {
    {"taskSlug", s.slug},
    {"taskID", s.id},
    {"state", s.state},
    {"startedAt", model::format_iso8601(s.started_at)},
    {"durationMs", std::max<model::time_ms>(0, (s.ended_at ? s.ended_at : now)
                                                 - s.started_at)}};
  if (s.parent)
    out["parent"] = {{"taskSlug", s.parent->task_slug},
                     {"taskID", s.parent->task_id}};
  if (s.fraction) {
    out["progress"] = *s.fraction;
    out["message"] = s.message;
    out["progressAt"] = model::format_iso8601(s.progress_at);
  }
  if (!s.tail.empty())
    out["stderrTail"] = model::text_tail(s.tail, live_tail_bytes);
  return out;
}

json live_job::render_locked() const {
  auto now = now_();
  json steps = json::array();
  for (const auto& s : finished_)
    steps.push_back(render(s, now));
  const step* current = nullptr;
  for (const auto& [number, s] : running_) {
    steps.push_back(render(s, now));
    if (!current || s.started_at >= current->started_at)
      current = &s;
  }
  json out = {{"steps", std::move(steps)},
              {"currentStep", nullptr},
              {"progress", nullptr}};
  if (current)
    out["currentStep"] = {{"taskSlug", current->slug}, {"taskID", current->id}};
  if (last_progress_) {
    const auto& s = *find_running(*last_progress_);
    out["progress"] = {{"taskSlug", s.slug},
                       {"taskID", s.id},
                       {"fraction", *s.fraction},
                       {"message", s.message}};
  }
  return out;
}

json live_job::to_json() const {
  std::lock_guard guard{mutex_};
  return render_locked();
}

void live_reporter::progress(double fraction, std::string_view message) {
  if (live_.progress(number_, fraction, message))
    caf::delayed_anon_send(driver_, progress_interval, live_flush_atom::value);
}

void live_reporter::append_tail(std::string_view text) {
  if (live_.append_tail(number_, text))
    caf::delayed_anon_send(driver_, progress_interval, live_flush_atom::value);
}

} // namespace conveyor::actors
