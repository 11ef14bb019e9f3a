#pragma once

// The Conveyor config file: JSON shaped like Payload's `jobs` config, plus a
// `node` section. Every option, its meaning and its default: README.md.
//
// Loading validates everything up front and reports EVERY problem, one per
// line, each prefixed with its JSON path, e.g.
//
//   jobs.tasks[0].retries.backoff.type: expected "fixed" or "exponential", ...
//   jobs.workflows[1].steps[2].task: unknown task 'upload'
//   node.durability: expected "sync" or "async", got "fast"
//
// Pure data and validation: no actors here (see registry_builder.hpp).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/durability.hpp"
#include "model/error.hpp"
#include "model/limits.hpp"
#include "model/operation.hpp"
#include "model/retry.hpp"
#include "tasks/command_task.hpp"
#include "tasks/declarative_workflow.hpp"

namespace conveyor::cfg {

using json = nlohmann::json;
// Task implementations the config file describes (tasks/).
using tasks::command_spec;
using tasks::declarative_spec;

/// `node`: how this process serves.
struct node_config {
  /// host:port ("[v6]:port" for IPv6). Anything but loopback requires
  /// mutual TLS (all three tls_* files).
  std::string listen = "127.0.0.1:4242";
  /// Journal directory; relative paths resolve against the config folder.
  std::string data = "./conveyor-data";
  model::durability durability = model::durability::sync;
  /// PEM files (key `node.tls`); all three or none.
  std::string tls_certificate, tls_key, tls_ca;
  /// Threads running task handlers.
  std::size_t workers = 8;
  /// The network door (conveyor/network.hpp): largest message of an
  /// authenticated peer, open connections, time to present a token,
  /// requests waiting per connection.
  std::size_t max_message_bytes = std::size_t{16} << 20;
  std::size_t max_connections = 1024;
  std::int64_t handshake_timeout_ms = 5000;
  std::size_t max_in_flight = 256;
  /// New jobs waiting for the journal; beyond it, `overloaded`.
  std::size_t max_pending_enqueues = 100'000;
  /// A clean stop lets running tasks finish this long, then interrupts
  /// them (runtime_options::stop_grace).
  std::int64_t stop_grace_ms = 30'000;
  /// Lease of a running job (runtime_options::lease): renewed while its
  /// attempt lives; a worker node silent this long loses its attempts.
  std::int64_t lease_ms = 1'200'000; // 20 min
  /// `conveyor worker`: how often it heartbeats the jobs it runs.
  std::int64_t heartbeat_ms = 1000;
  /// The HTTP door (conveyor/http.hpp): host:port, loopback only; empty:
  /// off (key `http`: null). Its limits: body and header bytes, the time a
  /// request may take to arrive, open connections.
  std::string http = "127.0.0.1:4280";
  std::size_t http_max_body_bytes = std::size_t{4} << 20;
  std::size_t http_max_header_bytes = std::size_t{16} << 10;
  std::int64_t http_request_timeout_ms = 10'000;
  std::size_t http_max_connections = 256;
  /// Environment variables never handed to a command task, even when a
  /// task's `env` lists them (a task that does is a config error).
  std::vector<std::string> secret_env;
};

/// The operations access rules govern (model/operation.hpp).
using model::operation;

/// Who a bearer token stands for.
struct principal_config {
  std::string principal;
  std::vector<std::string> roles;
};

/// Grants an operation to principals having any of `roles` on any of
/// `queues`. "*" matches every role / every queue.
struct access_rule {
  std::vector<std::string> roles;
  std::vector<std::string> queues = {"*"};
};

/// `jobs.access`.
struct access_config {
  /// token -> principal. Tokens have at least 16 characters.
  std::map<std::string, principal_config, std::less<>> tokens;
  /// Rules per operation. An operation without an entry is open to any
  /// authenticated principal (so an empty access object allows every
  /// authenticated principal everything); an empty list denies everyone.
  std::map<operation, std::vector<access_rule>> rules;

  /// The principal of `token`, or nullptr. Compares every token in
  /// constant time per byte, so timing does not reveal near misses.
  const principal_config* authenticate(std::string_view token) const;
  /// Whether a principal with `roles` may do `op` on `queue` ("*" for all
  /// queues at once: only a rule listing "*" grants that).
  bool allows(operation op, const std::vector<std::string>& roles,
              std::string_view queue) const;
  /// Whether some rule may allow `op` to `roles` on some queue: the check
  /// for a request by id before its job (and so its queue) is known.
  bool may_allow(operation op, const std::vector<std::string>& roles) const;
};

/// `schedule: [{cron, queue}]` on a task or workflow
/// (docs/semantics.md §17).
struct schedule_config {
  std::string cron;
  std::string queue;
};

/// `jobs.autoRun` entries (docs/semantics.md §18).
struct autorun_config {
  std::string cron = "* * * * *";
  std::int32_t limit = 10;
  std::string queue = "default";
  bool all_queues = false;
  bool disable_scheduling = false;
  bool silent = false;
};

/// `concurrency` on a task or workflow (docs/semantics.md §14): a bare key
/// template string, or {key, exclusive, supersedes}. The key is a template over
/// `${input...}` and `${queue}`.
struct concurrency_config {
  std::string key;
  bool exclusive = true;
  bool supersedes = false;
};

/// The key of a job queued with `input` on `queue`. Errors name a missing
/// reference.
model::expected<std::string> render_concurrency_key(const concurrency_config& c,
                                                    const json& input,
                                                    const std::string& queue);

/// `jobs.queues.<name>`.
struct queue_config {
  std::int32_t concurrency = 16;
  std::string processing_order; ///< empty: jobs.processingOrder
};

/// `jobs.tasks[]`: a command task.
struct task_config {
  std::string slug;
  command_spec command; ///< `run` and `timeout`; argv[0] already resolved
  std::optional<model::retry_config> retries;
  json input_schema;  ///< null: no validation
  json output_schema; ///< null: no validation
  std::string label;
  std::vector<schedule_config> schedule;
  std::optional<concurrency_config> concurrency;
  std::int32_t priority = 0; ///< default priority of jobs of this task
  /// Run by remote worker nodes (`conveyor worker`), not by this node.
  bool remote = false;
};

/// `jobs.workflows[]`: a declarative workflow.
struct workflow_config {
  std::string slug;
  std::optional<std::string> queue;
  std::optional<model::retry_config> retries;
  json input_schema; ///< null: no validation
  declarative_spec spec;
  std::string label;
  std::vector<schedule_config> schedule;
  std::optional<concurrency_config> concurrency;
  std::int32_t priority = 0;
};

struct config {
  std::vector<task_config> tasks;
  std::vector<workflow_config> workflows;
  std::map<std::string, queue_config> queues;
  /// "createdAt" (FIFO) or "-createdAt" (LIFO).
  std::string processing_order = "createdAt";
  bool delete_job_on_complete = true;
  /// runtime_options::max_interruptions (0: no limit).
  std::int32_t max_interruptions = 3;
  access_config access;
  std::vector<autorun_config> auto_run;
  node_config node;
  /// `limits`: size, depth and length limits (model/limits.hpp), e.g.
  /// {"limits": {"maxInputBytes": 65536}}; unlisted keys keep defaults.
  model::limits limits;
  /// The folder relative paths were resolved against.
  std::string base_dir;

  const task_config* find_task(std::string_view slug) const;
  const workflow_config* find_workflow(std::string_view slug) const;
};

/// Reads and validates a config file (at most model::max_config_bytes).
/// Relative paths in it resolve against the file's folder. Errors:
/// invalid_input listing every problem, one per line, or the reason the file
/// could not be read/parsed.
model::expected<config> load_config(const std::string& path);

/// Validates an already-parsed document; relative paths resolve against
/// `base_dir`. Never throws.
model::expected<config> parse_config(const json& doc,
                                     const std::string& base_dir);

} // namespace conveyor::cfg
