#pragma once

// Turning a loaded config into what conveyor::start takes: a registry of
// command tasks and declarative workflows, and the runtime options.

#include <memory>

#include "config/config.hpp"
#include "conveyor/registry.hpp"

namespace conveyor {
struct runtime_options; // conveyor/runtime.hpp (kept out: it pulls in CAF)
}

namespace conveyor::cfg {

/// One task_definition per config task (its handler runs the command with
/// CONVEYOR_JOB_ID / CONVEYOR_TASK_ID / CONVEYOR_ATTEMPT set and stops it
/// when the job is cancelled) and one workflow_definition per config
/// workflow (its handler is run_declarative), each with its `schedule`
/// entries (cron and queue; the default before/after-schedule rules) and
/// its default `priority`. The registry keeps the specs alive. Errors: what
/// registry::add_task / add_workflow reject (a config that passed
/// parse_config never triggers them).
model::expected<std::shared_ptr<registry>> build_registry(const config& cfg);

/// data_dir, durability, workers, deleteJobOnComplete, processingOrder,
/// queues, the jobs.autoRun entries and the access rules (authenticated
/// principals, then jobs.access rules by role and queue) from the config.
/// Everything else (continuous, lease, clock, should_auto_run, log) keeps
/// runtime_options' defaults: how jobs get run and where scheduler lines go
/// is the caller's choice.
runtime_options to_runtime_options(const config& cfg);

} // namespace conveyor::cfg
