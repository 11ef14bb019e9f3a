#include "actors/job_state.hpp"

// The workflow actor: one per running workflow job, a child of its job
// actor. It drives the workflow (workflow_driver.cpp) and sends the outcome
// to its parent, which settles it; if it dies instead, the parent settles
// that. A task job has no workflow actor: its job actor drives the single
// step itself, saving a spawn and an exit per job.

namespace conveyor::actors {

namespace {

job_actor::behavior_type workflow_impl(job_pointer self, env_ptr env,
                                       model::job claimed, queue_actor queue,
                                       job_actor parent, live_ptr parent_live) {
  auto& st = self->state;
  st.env = std::move(env);
  st.queue = std::move(queue);
  st.claimed = std::move(claimed);
  st.parent = std::move(parent);
  st.live = std::move(parent_live);
  guarded(self, [=] { start_workflow(self); });
  return driving_behavior(self);
}

} // namespace

job_actor spawn_workflow_actor(job_pointer parent) {
  auto& st = parent->state;
  return parent->spawn(workflow_impl, st.env, st.claimed, st.queue,
                       job_actor{parent}, st.live);
}

} // namespace conveyor::actors
