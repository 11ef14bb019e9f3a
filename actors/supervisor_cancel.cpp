// Cancelling: one job by id, or every match of a `where` filter. A pending
// job is cancelled by its queue at once; a running one is asked to stop and
// ends cancelled between steps. A terminal job stays in its state.

#include "actors/errors.hpp"
#include "actors/queue_actor.hpp"
#include "actors/supervisor_state.hpp"
#include "model/where.hpp"

namespace conveyor::actors::sup {

using model::errc;
using model::job_id;

caf::result<json> handle_cancel_by_id(supervisor_pointer self,
                                      const request_context& ctx,
                                      std::uint64_t id) {
  return with_job_by_id(
    self, id, operation::cancel, ctx,
    [=](const model::job& j, const queue_actor& holder, auto rp) mutable {
      if (!holder) {
        // A terminal job stays in its one terminal state.
        rp.deliver(render(self, j));
        return;
      }
      self
        ->request(holder, caf::infinite, cancel_job_atom::value, id,
                  std::string{})
        .then([=](model::job& c) mutable { rp.deliver(render(self, c)); },
              [=](caf::error&) mutable { deliver_final(self, id, rp); });
    });
}

caf::result<json> handle_cancel_where(supervisor_pointer self,
                                      const request_context& ctx,
                                      const cancel_request& req) {
  const auto& env = self->state.env;
  if (auto no = denied(self, operation::cancel, ctx,
                       {req.queue.empty() ? std::string{"*"} : req.queue}))
    return *no;
  std::shared_ptr<const model::where> where;
  if (!req.where.is_null()) {
    auto w = model::parse_where(req.where, env->options.limits);
    if (!w)
      return make_caf_error(errc::invalid_input, "where: " + w.error().message);
    where = std::make_shared<const model::where>(std::move(*w));
  }
  std::vector<queue_actor> targets;
  for (auto& [name, q] : self->state.queues)
    if ((req.queue.empty() || req.queue == name)
        && allowed(env->options.access, operation::cancel, ctx, {name}))
      targets.push_back(q);
  auto rp = self->make_response_promise<json>();
  gather_jobs(
    self, targets,
    [=](const std::vector<model::job>& done) mutable {
      std::vector<job_id> ids;
      ids.reserve(done.size());
      for (auto& j : done)
        ids.push_back(j.id);
      std::sort(ids.begin(), ids.end());
      json out = json::array();
      for (auto id : ids)
        out.push_back(std::to_string(id));
      rp.deliver(json{{"cancelled", std::move(out)}});
    },
    cancel_where_atom::value, where);
  return rp;
}

} // namespace conveyor::actors::sup
