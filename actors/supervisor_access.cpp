// The supervisor's first access check, made before any lookup or write.
// Rules that need the job itself (its queue, its input) are checked again
// once it is loaded (with_permitted_job).

#include "actors/errors.hpp"
#include "actors/queue_actor.hpp"
#include "actors/supervisor_state.hpp"

namespace conveyor::actors::sup {

using model::errc;
using model::job_id;

std::optional<caf::error> denied(supervisor_pointer self, operation op,
                                 const request_context& ctx,
                                 const access_target& target) {
  // A request context cannot cross the network (it has no wire format);
  // should a message from another node get here anyway, it is refused:
  // remote requests go through a session.
  const auto& sender = self->current_sender();
  if (sender && sender->node() != self->node())
    return make_caf_error(errc::forbidden,
                          "the supervisor serves this process only");
  if (allowed(self->state.env->options.access, op, ctx, target))
    return std::nullopt;
  return to_caf_error(forbidden(op, ctx, target));
}

} // namespace conveyor::actors::sup
