#pragma once

// `conveyor get --follow ID`: what a job does, as it happens (docs/live.md).

#include <cstdio>
#include <map>
#include <string>

#include "conveyor/client.hpp"

namespace conveyor::app {

/// Turns successive documents of one job into lines for a person: status
/// changes, steps starting and ending, progress, new stderr lines.
class change_printer {
public:
  explicit change_printer(std::FILE* out) : out_(out) {}
  void show(const json& job);

private:
  void show_step(const json& step);
  void show_tail(const std::string& key, const std::string& tail);

  std::FILE* out_;
  std::string status_;
  std::size_t logged_ = 0;
  /// What was shown of each step: state, progress text, tail.
  std::map<std::string, std::string> states_, progress_, tails_;
};

/// Follows job `id` until it finished: change lines on stderr, the final
/// document on stdout. Returns the job's final document.
json follow_job(client& jobs, model::job_id id);

} // namespace conveyor::app
