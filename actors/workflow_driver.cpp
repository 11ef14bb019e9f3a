// Long file: one sequence (await, dispatch, collect, journal, resume) whose
// steps call each other in both directions; split, every step would be a
// declaration in a header.

#include <map>

#include "actors/errors.hpp"
#include "actors/job_state.hpp"
#include "actors/remote/remote_pool.hpp"
#include "actors/worker_pool.hpp"
#include "model/job_json.hpp"
#include "model/json_guard.hpp"
#include "persistence/job_records.hpp"

// Drives a workflow's coroutine: restores cached steps, hands the others to
// the worker pool (or to remote worker nodes), journals each step's success
// while its siblings still run, or before the workflow goes on, and honours
// cancel requests between steps.

namespace conveyor::actors {

namespace {

/// The synthetic one-step workflow of a task job (docs/semantics.md §7).
workflow single_task_workflow(workflow_context& wf, std::string slug) {
  co_await wf.task(std::move(slug), "1", {wf.input()});
}

void advance(job_pointer self);
void resume_and_advance(job_pointer self);

void finish_cancelled(job_pointer self) {
  workflow_outcome out;
  out.what = workflow_outcome::kind::cancelled;
  out.cancel_message = self->state.cancel_message;
  finish(self, std::move(out));
}

/// Appends failed log entries of the current await except `thrown` (every
/// parallel failure is recorded, not only the first).
void record_other_failures(job_pointer self,
                           const std::pair<std::string, std::string>& thrown) {
  auto& st = self->state;
  for (auto& [key, f] : st.failures) {
    if (key == thrown)
      continue;
    auto e = model::failed_entry(f, st.env->now());
    st.ctx->mutable_job().log.push_back(e);
    model::apply_log_entry(st.ctx->mutable_status(), e);
  }
}

/// The coroutine returned: turn how it ended into an outcome.
void conclude(job_pointer self) {
  auto& st = self->state;
  auto& promise = st.coro.handle().promise();
  workflow_outcome out;
  if (!promise.error) {
    out.what = workflow_outcome::kind::success;
    finish(self, std::move(out));
    return;
  }
  try {
    std::rethrow_exception(promise.error);
  } catch (const job_cancelled& e) {
    out.what = workflow_outcome::kind::cancelled;
    out.cancel_message = e.what();
  } catch (const task_failed& e) {
    auto key = std::make_pair(e.slug(), e.id());
    auto it = st.failures.find(key);
    if (it != st.failures.end()) {
      out.what = workflow_outcome::kind::task_error;
      out.failure = it->second;
      record_other_failures(self, key);
    } else {
      out.what = workflow_outcome::kind::workflow_error;
      out.error = e.error();
    }
  } catch (const std::exception& e) {
    out.what = workflow_outcome::kind::workflow_error;
    out.error = model::error_json("Error", e.what());
  } catch (...) {
    out.what = workflow_outcome::kind::workflow_error;
    out.error = model::error_json("Error", "unknown exception");
  }
  finish(self, std::move(out));
}

void step_finished(job_pointer self) {
  auto& st = self->state;
  if (--st.outstanding > 0)
    return;
  if (st.cancel_requested) {
    finish_cancelled(self);
    return;
  }
  resume_and_advance(self);
}

/// Results of worker nodes arrive here checked only against the transport's
/// hard maxima (local ones passed the worker pool's check too, which this
/// repeats cheaply): over the configured limits they must not reach the
/// journal, whose documents are read back with a bounded depth.
void enforce_limits(const model::limits& lim, task_result& res) {
  const auto bounds = lim.json(lim.max_output_bytes);
  if (res.ok) {
    if (auto st = model::check_json(res.output, bounds, "output"); !st) {
      res.ok = false;
      res.output = json::object();
      res.error = model::error_json("InvalidOutput", st.error().message);
    }
  } else if (auto st = model::check_json(
               res.error,
               // Our own error objects (messages, stderr tails) stay small,
               // but must fit whatever the output limit is set to.
               lim.json(std::max(lim.max_output_bytes, 64 * model::kib)),
               "error");
             !st) {
    res.error = model::error_json("Error", "task error over the limits: "
                                             + st.error().message);
  }
}

void fail_storage(job_pointer self, const caf::error& err) {
  workflow_outcome out;
  out.what = workflow_outcome::kind::workflow_error;
  out.error = model::error_json("StorageError", from_caf_error(err).message);
  finish(self, std::move(out));
}

/// Journals the step successes held in memory, then runs `then`.
template <class F>
void journal_successes(job_pointer self, F then) {
  auto& st = self->state;
  persistence::write_batch batch;
  persistence::add_job_write(batch, st.ctx->job(), &st.journaled);
  st.journaled = st.ctx->job();
  st.dirty = false;
  ++st.outstanding; // the workflow waits for this write like for a step
  self
    ->request(st.env->journal, caf::infinite, commit_atom::value,
              std::move(batch))
    .then(
      [=](std::uint64_t) {
        --self->state.outstanding;
        then();
      },
      [=](caf::error& err) { fail_storage(self, err); });
}

void on_step_result(job_pointer self, const std::shared_ptr<step_state>& step,
                    task_result res) {
  auto& st = self->state;
  if (st.finished)
    return;
  enforce_limits(st.env->options.limits, res);
  auto meta = st.meta[step.get()];
  st.meta.erase(step.get());
  if (res.ok) {
    model::log_entry e;
    e.id = make_unique_id();
    e.executed_at = res.executed_at;
    e.completed_at = res.completed_at;
    e.task_slug = step->slug;
    e.task_id = step->id;
    e.input = step->options.input;
    e.output = res.output;
    e.state = model::log_state::succeeded;
    e.stderr_tail = std::move(res.stderr_tail);
    model::apply_log_entry(st.ctx->mutable_status(), e);
    st.ctx->mutable_job().log.push_back(std::move(e));
    st.dirty = true;
    step->output = std::move(res.output);
    step->done = true;
    if (st.outstanding > 1) {
      // Other steps of this await still run (or a write is on its way):
      // the workflow cannot go on yet, so this success is journaled now and
      // a crash or stop before the await ends does not run it again.
      journal_successes(self, [=] {
        if (!self->state.finished)
          step_finished(self);
      });
      return;
    }
    // The last one: the workflow goes on at once, and its next step
    // (journaled first) or its end (journaled with the final state) carries
    // this success. A task job costs a single write.
    step_finished(self);
    return;
  }
  if (res.lost) {
    workflow_outcome out;
    out.what = workflow_outcome::kind::lost;
    finish(self, std::move(out));
    return;
  }
  step->done = true;
  step->error = res.error;
  if (res.cancelled) {
    st.cancel_requested = true;
    st.cancel_message = res.error.value("message", "job cancelled");
  } else {
    model::task_failure f;
    f.log_entry_id = make_unique_id();
    f.task_slug = step->slug;
    f.task_id = step->id;
    f.input = step->options.input;
    f.error = res.error;
    f.executed_at = res.executed_at;
    f.merged_retries = meta.merged;
    f.previous = meta.previous;
    f.stderr_tail = std::move(res.stderr_tail);
    st.failures[{step->slug, step->id}] = std::move(f);
  }
  step_finished(self);
}

bool should_restore(const step_meta& m, const step_state& step,
                    const model::job& job) {
  if (!m.previous || !m.previous->complete)
    return false;
  if (m.def && m.def->should_restore)
    return m.def->should_restore(
      task_hook_args{step.options.input, job, &*m.previous});
  return m.merged.should_restore.value_or(true);
}

step_meta describe(const runtime_env& env, const workflow_context& ctx,
                   const step_state& step,
                   const std::optional<model::retry_config>& call_site) {
  step_meta m;
  if (step.slug != "inline")
    m.def = env.reg->find_task(step.slug);
  if (auto* s = model::find_task_state(ctx.task_status(), step.slug, step.id))
    m.previous = *s;
  m.merged =
    model::merge_retries(m.def ? m.def->retries : std::nullopt, call_site);
  return m;
}

/// Hands an attempt of a remote task to the remote worker pool.
void submit_remote(job_pointer self, const task_request& req,
                   std::uint64_t number) {
  auto& st = self->state;
  remote_dispatch d;
  const auto& job = st.ctx->job();
  d.task.job_id = job.id;
  d.task.lease_token = job.processing_token.value_or("");
  d.task.attempt_no = number;
  d.task.slug = req.slug;
  d.task.task_id = req.id;
  d.task.input = req.input;
  d.task.job = model::to_json(job, st.env->now());
  d.queue = job.queue;
  d.reply_to = caf::actor_cast<caf::actor>(self);
  d.step = number;
  self->send(caf::actor_cast<remote_pool_actor>(st.env->remote),
             remote_exec_atom::value, std::move(d));
}

/// Sends requested steps to the worker pool (or restores them); returns how
/// many were dispatched.
std::size_t
dispatch_steps(job_pointer self,
               const std::vector<std::shared_ptr<step_state>>& requested) {
  auto& st = self->state;
  std::size_t dispatched = 0;
  for (auto& step : requested) {
    auto m = describe(*st.env, *st.ctx, *step, step->options.retries);
    if (step->slug != "inline" && !m.def) {
      // Calling a task that is not registered is a workflow-level error
      // (Payload: a TypeError in the handler).
      step->done = true;
      step->workflow_level = true;
      step->error = model::error_json("Error", "Task '" + step->slug
                                                 + "' is not registered");
      continue;
    }
    if (should_restore(m, *step, st.ctx->job())) {
      step->done = true;
      step->output = m.previous->output;
      continue;
    }
    task_request req;
    req.job = std::make_shared<const model::job>(st.ctx->job());
    req.slug = step->slug;
    req.id = step->id;
    req.input = step->options.input;
    req.handler = m.def ? m.def->handler : step->inline_handler;
    req.def = m.def;
    req.previous = m.previous;
    req.stop = st.stop;
    req.workflow = caf::actor_cast<caf::actor>(self);
    st.meta[step.get()] = std::move(m);
    ++dispatched;
    ++st.outstanding;
    auto number = ++st.step_counter;
    st.in_flight.emplace(number, step);
    if (st.live) {
      st.live->step_started(number, step->slug, step->id, std::nullopt);
      req.live = st.live;
      req.live_step = number;
    }
    if (req.def && req.def->remote) {
      ++st.remote_steps;
      submit_remote(self, req, number);
    } else
      st.env->tasks->submit(
        task_item{std::move(req), caf::actor_cast<caf::actor>(self), number});
  }
  return dispatched;
}

/// Starts the steps the coroutine asked for (after it suspended).
void advance(job_pointer self) {
  auto& st = self->state;
  while (!st.finished) {
    if (st.coro.handle().done()) {
      // Successes still in memory go out with the job's final write.
      conclude(self);
      return;
    }
    auto requested = st.ctx->take_requested();
    if (requested.empty())
      return; // waiting for outstanding steps
    if (st.cancel_requested) {
      finish_cancelled(self);
      return;
    }
    // A new await: failures of the previous one were caught by the workflow.
    st.failures.clear();
    if (st.dirty) {
      // Earlier successes become durable before any later step starts.
      journal_successes(self, [=] {
        auto& st = self->state;
        if (st.finished)
          return;
        if (st.cancel_requested) {
          finish_cancelled(self);
          return;
        }
        if (dispatch_steps(self, requested) == 0)
          resume_and_advance(self);
      });
      return;
    }
    if (dispatch_steps(self, requested) > 0)
      return;
    // Everything was restored (or failed to resolve): continue at once.
    auto h = st.ctx->suspended();
    st.ctx->clear_suspended();
    if (h)
      h.resume();
  }
}

/// Flips the stop token of local steps and tells worker nodes running (or
/// about to run) remote ones.
void stop_running_steps(job_pointer self) {
  auto& st = self->state;
  st.stop->store(true);
  if (st.remote_steps > 0) {
    const auto& job = st.ctx->job();
    self->send(caf::actor_cast<remote_pool_actor>(st.env->remote),
               cancel_task_atom::value, job.id,
               job.processing_token.value_or(""));
  }
}

void resume_and_advance(job_pointer self) {
  auto& st = self->state;
  auto h = st.ctx->suspended();
  st.ctx->clear_suspended();
  if (h)
    h.resume();
  advance(self);
}
} // namespace

void finish(job_pointer self, workflow_outcome outcome) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  // The workflow ends here: its document moves into the outcome.
  outcome.job = st.ctx ? std::move(st.ctx->mutable_job()) : st.claimed;
  if (st.parent) {
    self->send(st.parent, outcome_atom::value, std::move(outcome));
    self->quit();
    return;
  }
  on_outcome(self, outcome);
}

void start_workflow(job_pointer self) {
  auto& st = self->state;
  auto job = st.claimed;
  auto status = model::derive_task_status(job.log);
  st.journaled = job;
  st.ctx =
    std::make_unique<workflow_context>(std::move(job), std::move(status));
  const auto& j = st.ctx->job();
  if (j.workflow_slug)
    st.coro = st.env->reg->find_workflow(*j.workflow_slug)->handler(*st.ctx);
  else
    st.coro = single_task_workflow(*st.ctx, *j.task_slug);
  st.coro.handle().resume();
  advance(self);
}

job_actor::behavior_type driving_behavior(job_pointer self) {
  return {
    [=](step_done_atom, std::uint64_t number, task_result& res) {
      auto& st = self->state;
      auto it = st.in_flight.find(number);
      if (it == st.in_flight.end())
        return;
      auto step = std::move(it->second);
      st.in_flight.erase(it);
      if (st.live)
        res.stderr_tail = st.live->step_finished(number, step_end_state(res));
      guarded(self, [&] { on_step_result(self, step, std::move(res)); });
    },
    [=](live_flush_atom) {
      if (self->state.live)
        self->state.live->flush();
    },
    [=](nested_begin_atom, const std::string& slug, const std::string& id,
        const std::optional<model::retry_config>& call_site)
      -> caf::result<nested_decision> {
      auto& st = self->state;
      if (!st.ctx || st.finished)
        return make_caf_error(model::errc::conflict, "the job's attempt ended");
      step_state probe;
      probe.slug = slug;
      probe.id = id;
      auto m = describe(*st.env, *st.ctx, probe, call_site);
      nested_decision d;
      d.previous = m.previous;
      d.merged_retries = m.merged;
      // A throwing shouldRestore fails the nested task, not this actor.
      try {
        d.restore = should_restore(m, probe, st.ctx->job());
      } catch (const std::exception& e) {
        return make_caf_error(model::errc::invalid_input,
                              std::string{"shouldRestore threw: "} + e.what());
      }
      if (d.restore)
        d.output = m.previous->output;
      return d;
    },
    [=](nested_end_atom, model::log_entry& e) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.ctx || st.finished)
        return make_caf_error(model::errc::conflict, "the job's attempt ended");
      auto after = model::append_success(st.ctx->job(), e);
      persistence::write_batch batch;
      persistence::add_job_write(batch, after, &st.journaled);
      st.ctx->mutable_job() = after;
      st.journaled = std::move(after);
      st.dirty = false;
      model::apply_log_entry(st.ctx->mutable_status(), e);
      auto rp = self->make_response_promise<bool>();
      self
        ->request(st.env->journal, caf::infinite, commit_atom::value,
                  std::move(batch))
        .then([=](std::uint64_t) mutable { rp.deliver(true); },
              [=](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](cancel_job_atom, const std::string& message) {
      auto& st = self->state;
      if (st.finished)
        return;
      st.cancel_requested = true;
      if (st.cancel_message.empty())
        st.cancel_message = message;
      stop_running_steps(self);
      if (st.outstanding == 0)
        finish_cancelled(self);
    },
    [=](interrupt_atom) {
      if (self->state.finished)
        return;
      stop_running_steps(self);
      // Steps still running are abandoned (their results are dropped); the
      // successes so far go out with the interrupted document.
      workflow_outcome out;
      out.what = workflow_outcome::kind::lost;
      finish(self, std::move(out));
    },
    [=](outcome_atom, workflow_outcome&) {
      // Only a job actor supervising a workflow actor gets outcomes.
    },
  };
}

} // namespace conveyor::actors
