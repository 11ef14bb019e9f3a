#pragma once

// taskStatus: derived from the log, never stored (docs/semantics.md §8).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/job.hpp"

namespace conveyor::model {

struct task_state {
  bool complete = false;
  json input = json::object();
  json output = json::object();
  std::string task_slug;
  std::int32_t total_tried = 0;
  friend bool operator==(const task_state&, const task_state&) = default;
};

/// task slug -> task id -> state.
using task_status_map =
  std::map<std::string, std::map<std::string, task_state>>;

/// Walks the log in order: the first entry for (slug, id) creates the state
/// (complete iff succeeded), later entries add to total_tried, a later success
/// sets complete and replaces input/output, a later failure never clears
/// complete.
task_status_map derive_task_status(const std::vector<log_entry>& log);

/// Folds one more entry into an existing map (same rules as above), so a
/// running workflow keeps its map current without re-walking the log.
void apply_log_entry(task_status_map& map, const log_entry& entry);

/// The state of (slug, id), or nullptr.
const task_state* find_task_state(const task_status_map& map,
                                  const std::string& slug,
                                  const std::string& id);

/// {"slug": {"id": {complete, input, output, taskSlug, totalTried}}}
json to_json(const task_status_map& map);

} // namespace conveyor::model
