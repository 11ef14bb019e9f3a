#include "apps/conveyor/follow.hpp"

#include <cmath>

namespace conveyor::app {

namespace {

std::string text_of(const json& v, const char* key) {
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get<std::string>()
                                          : std::string{};
}

} // namespace

void change_printer::show(const json& job) {
  auto status = text_of(job, "status");
  if (status != status_) {
    std::fprintf(out_, "job %s: %s\n", text_of(job, "id").c_str(),
                 status.c_str());
    status_ = status;
  }
  // Steps that ended since the last answer, from the log (the live record
  // keeps only the attempt's last ones).
  if (auto log = job.find("log"); log != job.end() && log->is_array()) {
    for (std::size_t i = logged_; i < log->size(); ++i) {
      const auto& e = (*log)[i];
      std::fprintf(out_, "  step %s %s: %s\n", text_of(e, "taskID").c_str(),
                   text_of(e, "taskSlug").c_str(), text_of(e, "state").c_str());
    }
    logged_ = log->size();
  }
  auto live = job.find("live");
  if (live == job.end() || !live->is_object())
    return;
  if (auto steps = live->find("steps"); steps != live->end())
    for (const auto& s : *steps)
      if (s.is_object())
        show_step(s);
}

void change_printer::show_step(const json& step) {
  auto key = text_of(step, "taskID") + " " + text_of(step, "taskSlug");
  auto state = text_of(step, "state");
  if (state == "running" && states_[key] != state)
    std::fprintf(out_, "  step %s: running\n", key.c_str());
  states_[key] = state;
  if (auto p = step.find("progress"); p != step.end() && p->is_number()) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%d%%",
                  static_cast<int>(std::lround(p->get<double>() * 100)));
    auto shown = std::string{pct} + " " + text_of(step, "message");
    if (progress_[key] != shown)
      std::fprintf(out_, "  step %s: %s\n", key.c_str(), shown.c_str());
    progress_[key] = shown;
  }
  show_tail(key, text_of(step, "stderrTail"));
}

void change_printer::show_tail(const std::string& key,
                               const std::string& tail) {
  auto& seen = tails_[key];
  if (tail.empty() || tail == seen)
    return;
  // The tail is a sliding window: print what follows the part already
  // shown, or all of it if that part slid out.
  std::string fresh = tail;
  if (!seen.empty()) {
    auto last_line = seen.substr(
      seen.rfind('\n') == std::string::npos ? 0 : seen.rfind('\n') + 1);
    if (auto at = tail.rfind(last_line); at != std::string::npos) {
      auto after = at + last_line.size();
      fresh = after < tail.size() ? tail.substr(after + 1) : std::string{};
    }
  }
  seen = tail;
  std::size_t start = 0;
  while (start < fresh.size()) {
    auto end = fresh.find('\n', start);
    if (end == std::string::npos)
      end = fresh.size();
    std::fprintf(out_, "  | %s\n", fresh.substr(start, end - start).c_str());
    start = end + 1;
  }
}

json follow_job(client& jobs, model::job_id id) {
  change_printer printer{stderr};
  std::string cursor;
  for (;;) {
    auto answer = jobs.follow(id, cursor);
    printer.show(answer["job"]);
    std::fflush(stderr);
    cursor = answer.value("cursor", "final");
    if (cursor == "final")
      return answer["job"];
  }
}

} // namespace conveyor::app
