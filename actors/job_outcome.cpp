#include "actors/job_state.hpp"
#include "actors/worker_pool.hpp"
#include "model/transitions.hpp"
#include "persistence/job_records.hpp"

// How an attempt ends: the failure rules of model/transitions.hpp turn the
// workflow's outcome into the job's next document, which is journaled
// before the queue hears of it.

namespace conveyor::actors {

namespace {

std::optional<model::retry_config> workflow_retries(const runtime_env& env,
                                                    const model::job& j) {
  if (!j.workflow_slug)
    return std::nullopt; // a task job is a workflow without retries
  const auto* def = env.reg->find_workflow(*j.workflow_slug);
  return def ? def->retries : std::nullopt;
}

/// Payload calls a task's onFail when its error escapes the workflow
/// handler, on every such attempt (docs/semantics.md §7): not for an error
/// the workflow caught, nor for a nested sub-task (its failure is its
/// parent's). Hooks are user code, so they run on a worker thread.
void call_on_fail(const job_pointer& self, const model::task_failure& f) {
  const auto& env = self->state.env;
  const auto* def = env->reg->find_task(f.task_slug);
  if (!def || !def->on_fail || !env->tasks)
    return;
  task_item item;
  // The hook is a member of the registry: the chore keeps that alive.
  item.chore = [reg = env->reg, hook = &def->on_fail, input = f.input,
                job = self->state.claimed, previous = f.previous] {
    run_hook(*hook,
             task_hook_args{input, job, previous ? &*previous : nullptr});
  };
  env->tasks->submit(std::move(item));
}

} // namespace

void settle(job_pointer self,
            const std::shared_ptr<const model::job>& before_ptr,
            model::transition t) {
  auto& st = self->state;
  const auto& before = *before_ptr;
  st.finished = true;
  persistence::write_batch batch;
  bool erase = t.next.status == model::job_status::completed
               && st.env->options.delete_job_on_complete;
  if (erase)
    persistence::add_job_erase(batch, before);
  else
    persistence::add_job_write(batch, t.next, &before);
  self->send(st.queue, handler_done_atom::value, before.id);
  // Shared, not copied into both continuations: a job document is costly
  // to copy (input, log).
  auto done = std::make_shared<model::transition>(std::move(t));
  self
    ->request(st.env->journal, caf::infinite, commit_atom::value,
              std::move(batch))
    .then(
      [=](std::uint64_t) {
        self->send(self->state.queue, attempt_done_atom::value, done->next.id,
                   done->status, std::move(done->next));
        self->quit();
      },
      [=](caf::error&) {
        // The journal refuses writes after a failure: leave the job as it is
        // on disk; recovery will make it claimable again.
        auto released = model::release(*before_ptr, self->state.env->now());
        self->send(self->state.queue, attempt_done_atom::value, released.id,
                   model::run_status::error, released);
        self->quit();
      });
}

void on_outcome(job_pointer self, workflow_outcome& out) {
  auto& st = self->state;
  auto now = st.env->now();
  auto before_ptr = std::make_shared<const model::job>(out.job);
  const auto& before = *before_ptr;
  auto wf_retries = workflow_retries(*st.env, before);
  using kind = workflow_outcome::kind;
  switch (out.what) {
  case kind::success:
    settle(self, before_ptr, model::complete(std::move(out.job), now));
    break;
  case kind::task_error:
    call_on_fail(self, out.failure);
    settle(self, before_ptr,
           model::fail_task(std::move(out.job), wf_retries, out.failure, now));
    break;
  case kind::workflow_error:
    settle(self, before_ptr,
           model::fail_workflow(std::move(out.job), wf_retries,
                                std::move(out.error), now));
    break;
  case kind::cancelled: {
    std::optional<std::string> msg;
    if (!out.cancel_message.empty())
      msg = out.cancel_message;
    settle(self, before_ptr, model::cancel(std::move(out.job), msg, now));
    break;
  }
  case kind::lost:
    // Step successes so far are kept; the job is pending again with no
    // retry consumed (like a crash of this node), up to the limit.
    settle(self, before_ptr,
           model::interrupt(std::move(out.job),
                            self->state.env->options.max_interruptions, now));
    break;
  }
}

} // namespace conveyor::actors
