#include "actors/reader.hpp"

#include "actors/errors.hpp"
#include "model/job_json.hpp"
#include "model/where.hpp"

namespace conveyor::actors {

using model::job_id;

model::job with_live_lease(model::job stored, const model::job& live) {
  if (model::is_terminal(stored.status))
    return stored;
  stored.status = live.status;
  stored.processing_token = live.processing_token;
  stored.processing_until = live.processing_until;
  return stored;
}

reader_actor::behavior_type reader(reader_actor::pointer, const env_ptr& env) {
  return {
    [=](read_atom, job_id id) -> caf::result<std::vector<model::job>> {
      auto j = env->db->load(id);
      if (!j)
        return to_caf_error(j.error());
      std::vector<model::job> out;
      if (*j)
        out.push_back(std::move(**j));
      return out;
    },
    [=](find_scan_atom,
        const scan_query& q) -> caf::result<std::vector<model::job>> {
      std::vector<model::job> out;
      auto now = env->now();
      auto st = env->db->scan_jobs(0, [&](const model::job& stored) {
        const model::job* j = &stored;
        model::job merged;
        if (q.overlay) {
          auto it = q.overlay->find(stored.id);
          if (it != q.overlay->end()) {
            merged = with_live_lease(stored, it->second);
            j = &merged;
          }
        }
        if (!q.queue.empty() && j->queue != q.queue)
          return true;
        if (q.visible && !q.visible(*j))
          return true;
        if (q.where && !model::matches(*q.where, model::to_json(*j, now)))
          return true;
        out.push_back(*j);
        return static_cast<std::int32_t>(out.size()) < q.limit;
      });
      if (!st)
        return to_caf_error(st.error());
      return out;
    },
  };
}

} // namespace conveyor::actors
