#include "config/registry_builder.hpp"

#include "conveyor/runtime.hpp"
#include "model/task_status.hpp"

namespace conveyor::cfg {

using namespace tasks; // the task kinds a config describes

namespace {

task_handler command_handler(command_spec command) {
  return [command = std::move(command)](task_context& ctx) {
    // The job as of this attempt's start: its log holds every earlier try.
    auto status = model::derive_task_status(ctx.job().log);
    const auto* previous =
      model::find_task_state(status, ctx.task_slug(), ctx.task_id());
    command_env env;
    env.job_id = std::to_string(ctx.job().id);
    env.task_id = ctx.task_id();
    env.attempt = (previous ? previous->total_tried : 0) + 1;
    env.stop = [&ctx] { return ctx.stop_requested(); };
    env.on_progress = [&ctx](double fraction, std::string_view message) {
      ctx.progress(fraction, message);
    };
    env.on_stderr = [&ctx](std::string_view bytes) { ctx.append_tail(bytes); };
    return run_command(command, ctx.input(), env);
  };
}

/// A runtime access rule backed by the config's rules: authenticated
/// principals only, then the rules for `op` (docs/semantics.md §16).
conveyor::access_rule rule_for(std::shared_ptr<const access_config> access,
                               operation op) {
  return [access = std::move(access), op](const request_context& ctx,
                                          const access_target& target) {
    if (ctx.principal.empty())
      return false;
    return target.queue ? access->allows(op, ctx.roles, *target.queue)
                        : access->may_allow(op, ctx.roles);
  };
}

/// The config's key template as a key function (docs/semantics.md §14).
std::optional<conveyor::concurrency_config>
to_concurrency(const std::optional<concurrency_config>& c) {
  if (!c)
    return std::nullopt;
  conveyor::concurrency_config out;
  out.exclusive = c->exclusive;
  out.supersedes = c->supersedes;
  out.key = [c = *c](const json& input, const std::string& queue) {
    auto key = render_concurrency_key(c, input, queue);
    if (!key) // reported as "concurrency key: ..." and nothing is written
      throw std::runtime_error(key.error().message);
    return *key;
  };
  return out;
}

/// `schedule` entries as the registry takes them (the default hooks).
std::vector<conveyor::schedule_entry>
to_schedule(const std::vector<schedule_config>& entries) {
  std::vector<conveyor::schedule_entry> out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    conveyor::schedule_entry s;
    s.cron = e.cron;
    s.queue = e.queue;
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace

model::expected<std::shared_ptr<registry>> build_registry(const config& cfg) {
  auto reg = std::make_shared<registry>();
  for (const auto& t : cfg.tasks) {
    task_definition def;
    def.slug = t.slug;
    if (t.remote)
      def.remote = true;
    else
      def.handler = command_handler(t.command);
    def.retries = t.retries;
    def.input_schema = t.input_schema;
    def.output_schema = t.output_schema;
    def.label = t.label;
    def.concurrency = to_concurrency(t.concurrency);
    def.schedule = to_schedule(t.schedule);
    def.priority = t.priority;
    if (auto st = reg->add_task(std::move(def)); !st)
      return st.error();
  }
  for (const auto& w : cfg.workflows) {
    // Shared by the handler and every coroutine it starts.
    auto spec = std::make_shared<const declarative_spec>(w.spec);
    workflow_definition def;
    def.slug = w.slug;
    def.handler = [spec](workflow_context& wf) {
      return run_declarative(wf, spec);
    };
    def.queue = w.queue;
    def.retries = w.retries;
    def.input_schema = w.input_schema;
    def.label = w.label;
    def.concurrency = to_concurrency(w.concurrency);
    def.schedule = to_schedule(w.schedule);
    def.priority = w.priority;
    if (auto st = reg->add_workflow(std::move(def)); !st)
      return st.error();
  }
  return reg;
}

runtime_options to_runtime_options(const config& cfg) {
  runtime_options opts;
  opts.data_dir = cfg.node.data;
  opts.durability = cfg.node.durability;
  opts.workers = cfg.node.workers;
  opts.max_pending_enqueues = cfg.node.max_pending_enqueues;
  opts.stop_grace = std::chrono::milliseconds{cfg.node.stop_grace_ms};
  opts.lease = std::chrono::milliseconds{cfg.node.lease_ms};
  opts.delete_job_on_complete = cfg.delete_job_on_complete;
  opts.max_interruptions = cfg.max_interruptions;
  opts.processing_order = cfg.processing_order;
  opts.limits = cfg.limits;
  auto access = std::make_shared<const access_config>(cfg.access);
  opts.access.queue = rule_for(access, operation::queue);
  opts.access.run = rule_for(access, operation::run);
  opts.access.cancel = rule_for(access, operation::cancel);
  opts.access.read = rule_for(access, operation::read);
  for (const auto& [name, q] : cfg.queues) {
    queue_options qo;
    qo.concurrency = q.concurrency;
    qo.processing_order = q.processing_order;
    opts.queues[name] = qo;
  }
  for (const auto& a : cfg.auto_run) {
    auto_run_entry e;
    e.cron = a.cron;
    e.limit = a.limit;
    e.queue = a.queue;
    e.all_queues = a.all_queues;
    e.disable_scheduling = a.disable_scheduling;
    e.silent = a.silent;
    opts.auto_run.push_back(std::move(e));
  }
  return opts;
}

} // namespace conveyor::cfg
