#include "actors/job_actor.hpp"

#include "actors/errors.hpp"
#include "actors/job_state.hpp"

namespace conveyor::actors {

namespace {

/// The job actor of a workflow job: a workflow actor runs the workflow;
/// this one settles its outcome (or its death).
job_actor::behavior_type supervise_workflow(job_pointer self) {
  auto& st = self->state;
  st.child = spawn_workflow_actor(self);
  self->monitor(st.child);
  self->set_down_handler([=](caf::down_msg&) {
    auto& st = self->state;
    if (st.finished)
      return;
    st.finished = true;
    workflow_outcome out;
    out.what = workflow_outcome::kind::workflow_error;
    out.job = st.claimed;
    out.error = model::error_json("Error", "workflow actor died");
    on_outcome(self, out);
  });
  auto not_driving = [] {
    return make_caf_error(model::errc::conflict,
                          "this job's workflow runs in its workflow actor");
  };
  return {
    [=](step_done_atom, std::uint64_t, task_result&) {},
    [=](nested_begin_atom, const std::string&, const std::string&,
        const std::optional<model::retry_config>&)
      -> caf::result<nested_decision> { return not_driving(); },
    [=](nested_end_atom, model::log_entry&) -> caf::result<bool> {
      return not_driving();
    },
    [=](cancel_job_atom, const std::string& message) {
      self->send(self->state.child, cancel_job_atom::value, message);
    },
    [=](interrupt_atom) {
      self->send(self->state.child, interrupt_atom::value);
    },
    [=](live_flush_atom) {
      // Steps run in the workflow actor, which gets the flushes.
    },
    [=](outcome_atom, workflow_outcome& out) {
      // From this job's workflow actor.
      auto& st = self->state;
      if (st.finished)
        return;
      st.finished = true;
      on_outcome(self, out);
    },
  };
}

/// A job nobody can run (its slug is not registered) fails at once.
bool settle_unregistered(job_pointer self) {
  auto& st = self->state;
  const auto& j = st.claimed;
  const auto& reg = *st.env->reg;
  bool known = j.workflow_slug ? reg.find_workflow(*j.workflow_slug) != nullptr
               : j.task_slug   ? reg.find_task(*j.task_slug) != nullptr
                               : false;
  if (known)
    return false;
  std::string what = j.workflow_slug ? "Workflow '" + *j.workflow_slug + "'"
                     : j.task_slug   ? "Task '" + *j.task_slug + "'"
                                     : std::string{"Job without a slug"};
  st.finished = true;
  settle(
    self, std::make_shared<const model::job>(j),
    model::fail_unregistered(j, what + " is not registered", st.env->now()));
  return true;
}

job_actor::behavior_type job_impl(job_pointer self, env_ptr env,
                                  model::job claimed, queue_actor queue,
                                  std::shared_ptr<live_job> live) {
  auto& st = self->state;
  st.env = std::move(env);
  st.live = std::move(live);
  st.queue = std::move(queue);
  st.claimed = std::move(claimed);
  if (settle_unregistered(self))
    return driving_behavior(self); // finished: every message is a no-op
  if (st.claimed.workflow_slug)
    return supervise_workflow(self);
  // A task job is a one-step workflow, run by its job actor without a
  // second actor.
  guarded(self, [=] { start_workflow(self); });
  return driving_behavior(self);
}

} // namespace

job_actor spawn_job_actor(caf::actor_system& sys, env_ptr env,
                          model::job claimed, queue_actor queue,
                          std::shared_ptr<live_job> live) {
  return sys.spawn(job_impl, std::move(env), std::move(claimed),
                   std::move(queue), std::move(live));
}

} // namespace conveyor::actors
