#include "model/task_status.hpp"

namespace conveyor::model {

void apply_log_entry(task_status_map& map, const log_entry& entry) {
  const bool succeeded = entry.state == log_state::succeeded;
  auto& by_id = map[entry.task_slug];
  auto it = by_id.find(entry.task_id);
  if (it == by_id.end()) {
    by_id.emplace(entry.task_id, task_state{succeeded, entry.input,
                                            entry.output, entry.task_slug, 1});
    return;
  }
  task_state& state = it->second;
  ++state.total_tried;
  // A later failure (e.g. a re-run with shouldRestore=false) never makes a
  // completed task incomplete again: its cached output stays usable.
  if (succeeded) {
    state.complete = true;
    state.input = entry.input;
    state.output = entry.output;
  }
}

task_status_map derive_task_status(const std::vector<log_entry>& log) {
  task_status_map map;
  for (const log_entry& entry : log)
    apply_log_entry(map, entry);
  return map;
}

const task_state* find_task_state(const task_status_map& map,
                                  const std::string& slug,
                                  const std::string& id) {
  auto by_slug = map.find(slug);
  if (by_slug == map.end())
    return nullptr;
  auto by_id = by_slug->second.find(id);
  return by_id == by_slug->second.end() ? nullptr : &by_id->second;
}

json to_json(const task_status_map& map) {
  json out = json::object();
  for (const auto& [slug, by_id] : map) {
    json& ids = out[slug] = json::object();
    for (const auto& [id, state] : by_id)
      ids[id] = json{{"complete", state.complete},
                     {"input", state.input},
                     {"output", state.output},
                     {"taskSlug", state.task_slug},
                     {"totalTried", state.total_tried}};
  }
  return out;
}

} // namespace conveyor::model
