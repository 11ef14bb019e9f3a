#include "model/job.hpp"

#include <array>
#include <utility>

namespace conveyor::model {

namespace {

constexpr std::array<std::pair<job_status, std::string_view>, 6> names{{
  {job_status::queued, "queued"},
  {job_status::waiting, "waiting"},
  {job_status::running, "running"},
  {job_status::completed, "completed"},
  {job_status::failed, "failed"},
  {job_status::cancelled, "cancelled"},
}};

} // namespace

std::string_view to_string(job_status s) {
  for (const auto& [status, name] : names)
    if (status == s)
      return name;
  return "unknown";
}

std::optional<job_status> parse_job_status(std::string_view text) {
  for (const auto& [status, name] : names)
    if (name == text)
      return status;
  return std::nullopt;
}

} // namespace conveyor::model
