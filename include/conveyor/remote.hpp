#pragma once

// Remote nodes: what a serve node publishes, and the protocol of remote
// worker nodes. Both sides must call conveyor::register_types.
//
// A worker node connects to the serve node (conveyor/network.hpp), says
// hello with its token and registers, through its session, the queues it
// serves and the task slugs it implements. The serve node then
// sends it task attempts of those queues (tasks declared `remote` in its own
// registry); the worker runs each on its own threads and answers with the
// result. Every attempt carries the job's lease token; a result whose lease
// is gone (the worker was declared dead and the job handed to another) is
// rejected. When a worker node's connection drops, the serve node notices
// through actor monitoring at once and makes its in-flight jobs claimable
// again without consuming a retry. While it runs attempts, a worker node
// sends a heartbeat naming their jobs every `heartbeat` (default 1 s); an
// attempt not named for a whole lease (runtime_options::lease) is lost the
// same way, so a worker that hangs with its connection up cannot hold jobs
// for ever.

#include <string>
#include <vector>

#include "conveyor/runtime.hpp"

namespace conveyor {

using run_task_atom = caf::atom_constant<caf::atom("cv_rtask")>;
using register_worker_atom = caf::atom_constant<caf::atom("cv_regwork")>;
using cancel_task_atom = caf::atom_constant<caf::atom("cv_rcancel")>;
using heartbeat_atom = caf::atom_constant<caf::atom("cv_beat")>;

/// One task attempt sent to a worker node.
struct remote_task {
  std::uint64_t job_id = 0;
  std::string lease_token; ///< fencing token of the job's current lease
  std::uint64_t attempt_no = 0;
  std::string slug;
  std::string task_id;
  json input = json::object();
  json job; ///< the job document when the attempt started
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_task& x) {
  return f(caf::meta::type_name("conveyor::remote_task"), x.job_id,
           x.lease_token, x.attempt_no, x.slug, x.task_id, x.input, x.job);
}

/// What a worker node answers.
struct remote_result {
  std::uint64_t job_id = 0;
  std::string lease_token;
  std::uint64_t attempt_no = 0;
  bool ok = false;
  bool cancelled = false;
  json output = json::object();
  json error;
  std::int64_t executed_at = 0;
  std::int64_t completed_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_result& x) {
  return f(caf::meta::type_name("conveyor::remote_result"), x.job_id,
           x.lease_token, x.attempt_no, x.ok, x.cancelled, x.output, x.error,
           x.executed_at, x.completed_at);
}

/// The actor a worker node registers. It answers each attempt with a
/// remote_result message sent back to the attempt's sender (not a request
/// reply: the serve node must never wait on a request to a node that may
/// vanish).
///
/// cancel_task(job, lease token): the job was cancelled; the attempts of that
/// lease running here see their task context's stop_requested() flip.
using worker_node_actor = caf::typed_actor<
  caf::reacts_to<run_task_atom, remote_task>,
  caf::reacts_to<cancel_task_atom, std::uint64_t, std::string>>;

using hello_atom = caf::atom_constant<caf::atom("cv_hello")>;

/// What a remote client may ask of a node, through its session. The same
/// operations as the supervisor's, without a request context: the session
/// attaches the principal it authenticated, and access rules always apply.
/// Replies come from the session; no other actor of the node is ever
/// named to a peer.
using session_actor = caf::typed_actor<
  caf::replies_to<queue_atom, queue_request>::with<json>,
  caf::replies_to<queue_bulk_atom, std::vector<queue_request>>::with<json>,
  caf::replies_to<run_atom, run_request>::with<json>,
  caf::replies_to<run_by_id_atom, std::uint64_t>::with<json>,
  caf::replies_to<get_job_atom, std::uint64_t>::with<json>,
  caf::replies_to<find_atom, find_request>::with<json>,
  caf::replies_to<cancel_by_id_atom, std::uint64_t>::with<json>,
  caf::replies_to<cancel_atom, cancel_request>::with<json>,
  caf::replies_to<wait_job_atom, std::uint64_t>::with<json>,
  caf::replies_to<follow_job_atom, std::uint64_t, std::string>::with<json>,
  caf::replies_to<pause_queue_atom, std::string, bool>::with<json>,
  caf::replies_to<set_concurrency_atom, std::string, std::int32_t>::with<json>,
  caf::replies_to<handle_schedules_atom, schedules_request>::with<json>,
  caf::replies_to<count_active_atom, count_request>::with<std::int64_t>,
  /// this connection's worker node (it must live on the connecting node):
  /// the queues it serves and the task slugs it implements
  caf::replies_to<register_worker_atom, worker_node_actor,
                  std::vector<std::string>,
                  std::vector<std::string>>::with<bool>,
  /// a registered worker node's answer to an attempt
  caf::reacts_to<remote_result>,
  /// a registered worker node still runs attempts of these jobs (at most
  /// 65,536 ids; a longer list is dropped)
  caf::reacts_to<heartbeat_atom, std::vector<std::uint64_t>>>;

/// What a node publishes: the door. hello(token) authenticates a
/// connection once and answers with a session bound to the token's
/// principal, serving only the node that asked, and ending when that
/// node's connection does.
/// (The session travels as an untyped handle: CAF 0.17 cannot spawn a
/// typed actor whose reply type is itself a typed handle.)
using door_actor =
  caf::typed_actor<caf::replies_to<hello_atom, std::string>::with<caf::actor>>;

/// Who a token belongs to.
struct principal_info {
  std::string principal;
  std::vector<std::string> roles;
};

/// Maps a presented token to a principal; nullopt: unknown token. Called
/// from several threads at once.
using authenticator =
  std::function<std::optional<principal_info>(const std::string& token)>;

/// Serves `slugs` of `reg` for a serve node: the actor to register with
/// register_worker_atom. Attempts run on `workers` threads. While any runs,
/// it heartbeats their jobs to whoever sent them every `heartbeat`: keep
/// that well below the serve node's lease (20 min by default).
worker_node_actor spawn_worker_node(
  caf::actor_system& sys, std::shared_ptr<const registry> reg,
  std::size_t workers,
  std::chrono::milliseconds heartbeat = std::chrono::seconds(1));

/// Registers `node` through `session` (network::connect) for `queues` and
/// the task `slugs` it implements. Errors: forbidden (the `run` rule refused
/// a queue), invalid_input, conflict (the session has a worker already),
/// unavailable (no answer within `timeout`).
model::status
register_worker(caf::actor_system& sys, const caf::actor& session,
                const worker_node_actor& node, std::vector<std::string> queues,
                std::vector<std::string> slugs,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace conveyor
