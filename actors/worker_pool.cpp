#include "actors/worker_pool.hpp"

#include <deque>

#include "actors/errors.hpp"
#include "actors/live_job.hpp"
#include "model/json_guard.hpp"
#include "model/schema.hpp"
#include "model/transitions.hpp"

namespace conveyor::actors {

namespace {

json exception_error(const std::exception& e) {
  return model::error_json("Error", e.what());
}

/// Output must be JSON we can store: an object (null counts as {}), valid
/// UTF-8, within the configured limits (depth first: dump would recurse on
/// a hostile value), matching the outputSchema if there is one.
std::optional<json> check_output(const task_request& req, json& output,
                                 const model::limits& lim) {
  if (output.is_null())
    output = json::object();
  if (auto st =
        model::check_json(output, lim.json(lim.max_output_bytes), "output");
      !st)
    return model::error_json("InvalidOutput", st.error().message);
  if (req.def && !req.def->output_schema.is_null()) {
    if (auto st = model::validate(req.def->output_schema, output, "output");
        !st)
      return model::error_json("InvalidOutput", st.error().message);
  }
  return std::nullopt;
}

void call_hook(const std::function<void(const task_hook_args&)>& hook,
               const task_request& req) {
  const model::task_state* prev = req.previous ? &*req.previous : nullptr;
  run_hook(hook, task_hook_args{req.input, *req.job, prev});
}

nested_runner make_nested_runner(caf::actor_system& sys, const runtime_env& env,
                                 const task_request& parent);

} // namespace

void run_hook(const std::function<void(const task_hook_args&)>& hook,
              const task_hook_args& args) {
  if (!hook)
    return;
  try {
    hook(args);
  } catch (...) {
    // Hooks observe; their failure must not change the task's outcome.
  }
}

task_result run_task_attempt(caf::actor_system& sys, const runtime_env& env,
                             const task_request& req) {
  task_result res;
  res.executed_at = env.now();
  // Inputs of jobs are checked at queue time; inputs a workflow builds for
  // its steps are checked here, before the handler sees them.
  if (req.def && !req.def->input_schema.is_null()) {
    if (auto st = model::validate(req.def->input_schema, req.input, "input");
        !st) {
      res.error = model::error_json("InvalidInput", st.error().message);
      res.completed_at = env.now();
      return res;
    }
  }
  // The reporter lives here, for the attempt; the context refers to it
  // without owning it (an aliasing pointer: no allocation per step).
  std::optional<live_reporter> reporter;
  std::shared_ptr<step_reporter> reporting;
  if (req.live) {
    reporter.emplace(*req.live, req.live_step, req.workflow);
    reporting =
      std::shared_ptr<step_reporter>(std::shared_ptr<void>{}, &*reporter);
  }
  try {
    task_context ctx{req.input, *req.job, req.slug,
                     req.id,    req.stop, make_nested_runner(sys, env, req),
                     reporting};
    res.output = req.handler(ctx);
    if (auto bad = check_output(req, res.output, env.options.limits)) {
      res.error = std::move(*bad);
    } else {
      res.ok = true;
    }
  } catch (const job_cancelled& e) {
    res.cancelled = true;
    res.error = json{{"cancelled", true}, {"message", e.what()}};
  } catch (const task_failed& e) {
    res.error = e.error();
  } catch (const std::exception& e) {
    res.error = exception_error(e);
  } catch (...) {
    res.error = model::error_json("Error", "unknown exception");
  }
  res.completed_at = env.now();
  if (res.ok)
    call_hook(req.def ? req.def->on_success : nullptr, req);
  if (!res.ok)
    res.output = json::object();
  return res;
}

namespace {

nested_runner make_nested_runner(caf::actor_system& sys, const runtime_env& env,
                                 const task_request& parent) {
  return [&sys, &env, &parent](const std::string& slug, const std::string& id,
                               task_handler inline_handler,
                               task_options opts) -> json {
    task_request req;
    req.job = parent.job;
    req.slug = slug;
    req.id = id;
    req.input = std::move(opts.input);
    req.stop = parent.stop;
    req.workflow = parent.workflow;
    req.parent = model::task_ref{parent.slug, parent.id};
    if (inline_handler) {
      req.handler = std::move(inline_handler);
    } else {
      req.def = env.reg->find_task(slug);
      if (!req.def)
        throw std::runtime_error("task '" + slug + "' is not registered");
      req.handler = req.def->handler;
    }
    caf::scoped_actor self{sys};
    nested_decision decision;
    bool asked = false;
    self
      ->request(parent.workflow, caf::infinite, nested_begin_atom::value, slug,
                id, opts.retries)
      .receive(
        [&](nested_decision& d) {
          decision = std::move(d);
          asked = true;
        },
        [&](caf::error&) {});
    if (!asked)
      throw std::runtime_error("workflow of nested task '" + slug
                               + "' is gone");
    if (decision.restore)
      return decision.output;
    req.previous = decision.previous;
    if (parent.live) {
      // Shown as a step of its own, beside its parent.
      req.live = parent.live;
      req.live_step = parent.live->next_nested_step();
      parent.live->step_started(req.live_step, slug, id, req.parent);
    }
    auto res = run_task_attempt(sys, env, req);
    std::string tail;
    if (req.live)
      tail = req.live->step_finished(req.live_step, step_end_state(res));
    if (res.cancelled)
      throw job_cancelled(res.error.value("message", "job cancelled"));
    model::log_entry entry;
    entry.id = make_unique_id();
    entry.executed_at = res.executed_at;
    entry.completed_at = res.completed_at;
    entry.task_slug = slug;
    entry.task_id = id;
    entry.input = req.input;
    entry.parent = req.parent;
    if (!res.ok) {
      // Payload re-wraps a failing sub-task as a failure of its parent: the
      // parent's retry settings apply and only the parent's attempt is logged.
      throw task_failed(slug, id, res.error);
    }
    entry.output = res.output;
    entry.state = model::log_state::succeeded;
    entry.stderr_tail = std::move(tail);
    bool recorded = false;
    self
      ->request(parent.workflow, caf::infinite, nested_end_atom::value,
                std::move(entry))
      .receive([&](bool) { recorded = true; }, [&](caf::error&) {});
    if (!recorded)
      throw std::runtime_error("cannot journal nested task '" + slug + "'");
    return res.output;
  };
}

// -- workers
// -------------------------------------------------------------------

worker_actor::behavior_type worker(worker_actor::pointer self,
                                   const env_ptr& env,
                                   const std::shared_ptr<task_pool>& pool) {
  return {
    [=](wake_atom) {
      worker_actor me{self};
      bool woken = true;
      while (auto item = pool->take(me, woken)) {
        woken = false;
        if (item->chore) {
          item->chore();
          continue;
        }
        auto res = run_task_attempt(self->system(), *env, item->req);
        caf::anon_send(item->reply_to, step_done_atom::value, item->step,
                       std::move(res));
      }
    },
  };
}

caf::behavior pool_owner(caf::event_based_actor* self, env_ptr env,
                         std::shared_ptr<task_pool> pool, std::size_t workers) {
  for (std::size_t i = 0; i < std::max<std::size_t>(workers, 1); ++i) {
    auto w = self->spawn<caf::detached + caf::linked>(worker, env, pool);
    caf::anon_send(w, wake_atom::value); // registers itself as idle
  }
  self->attach_functor([pool] { pool->close(); });
  return {[](const caf::unit_t&) {}};
}

} // namespace

void task_pool::submit(task_item item) {
  worker_actor wake;
  {
    std::lock_guard guard{mutex_};
    if (closed_)
      return;
    queue_.push_back(std::move(item));
    // One woken worker at a time: it wakes the next one if work is left
    // when it takes its item. Waking a worker per submit costs a futex wake
    // and a context switch per task, most of them for nothing when tasks
    // are short (the awake worker drains the queue first).
    if (waking_ == 0 && !idle_.empty()) {
      wake = std::move(idle_.back());
      idle_.pop_back();
      ++waking_;
    }
  }
  if (wake)
    caf::anon_send(wake, wake_atom::value);
}

std::optional<task_item> task_pool::take(const worker_actor& me, bool woken) {
  worker_actor next;
  std::optional<task_item> item;
  {
    std::lock_guard guard{mutex_};
    if (woken && waking_ > 0)
      --waking_;
    if (queue_.empty() || closed_) {
      idle_.push_back(me);
      return std::nullopt;
    }
    item = std::move(queue_.front());
    queue_.pop_front();
    if (!queue_.empty() && waking_ == 0 && !idle_.empty()) {
      next = std::move(idle_.back());
      idle_.pop_back();
      ++waking_;
    }
  }
  if (next)
    caf::anon_send(next, wake_atom::value);
  return item;
}

void task_pool::close() {
  std::lock_guard guard{mutex_};
  closed_ = true;
  queue_.clear();
  idle_.clear();
}

caf::actor spawn_worker_pool(caf::actor_system& sys, env_ptr env,
                             std::shared_ptr<task_pool> pool,
                             std::size_t workers) {
  return sys.spawn(pool_owner, std::move(env), std::move(pool), workers);
}

} // namespace conveyor::actors
