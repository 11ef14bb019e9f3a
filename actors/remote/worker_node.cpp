// A worker node: runs attempts of remote tasks that a serve node sends it
// (through the session of its connection) and answers each with a
// remote_result sent back to that session.

#include <map>
#include <utility>

#include "actors/errors.hpp"
#include "actors/remote/remote_pool.hpp"
#include "actors/worker_pool.hpp"
#include "conveyor/remote.hpp"
#include "model/job_json.hpp"

namespace conveyor::actors {

namespace {

/// Where a worker node answers: the session that sent the attempt.
using result_sink = caf::typed_actor<caf::reacts_to<remote_result>>;
using heartbeat_sink =
  caf::typed_actor<caf::reacts_to<heartbeat_atom, std::vector<std::uint64_t>>>;

struct worker_node_state {
  static constexpr const char* name = "conveyor.worker_node";
  std::shared_ptr<runtime_env> env;
  /// An attempt running here: where to answer, what, and its stop token
  /// (flipped by a cancel).
  struct attempt {
    caf::actor reply_to;
    remote_task task;
    std::shared_ptr<std::atomic<bool>> stop;
  };
  std::map<std::uint64_t, attempt> running;
  std::uint64_t counter = 0;
  std::chrono::milliseconds heartbeat{};
  bool beating = false; ///< the heartbeat timer is armed
};

using worker_node_impl_actor = worker_node_actor::extend<
  caf::reacts_to<step_done_atom, std::uint64_t, task_result>,
  caf::reacts_to<renew_atom>>;
using worker_node_pointer =
  worker_node_impl_actor::stateful_pointer<worker_node_state>;

/// Arms the heartbeat timer while any attempt runs here.
void keep_beating(worker_node_pointer self) {
  auto& st = self->state;
  if (st.beating || st.running.empty())
    return;
  st.beating = true;
  self->delayed_send(self, st.heartbeat, renew_atom::value);
}

/// Tells each sender of running attempts which of its jobs still run here.
void send_heartbeats(worker_node_pointer self) {
  std::map<caf::actor, std::vector<std::uint64_t>> by_sender;
  for (auto& [n, a] : self->state.running)
    by_sender[a.reply_to].push_back(a.task.job_id);
  for (auto& [to, jobs] : by_sender)
    self->send(caf::actor_cast<heartbeat_sink>(to), heartbeat_atom::value,
               std::move(jobs));
}

worker_node_impl_actor::behavior_type
worker_node_impl(worker_node_pointer self, std::shared_ptr<runtime_env> env,
                 std::chrono::milliseconds heartbeat) {
  self->state.env = std::move(env);
  self->state.heartbeat = heartbeat;
  return {
    [=](run_task_atom, remote_task& t) {
      auto& st = self->state;
      auto reply_to = caf::actor_cast<caf::actor>(self->current_sender());
      const auto* def = st.env->reg->find_task(t.slug);
      if (!def || !def->handler) {
        remote_result r;
        r.job_id = t.job_id;
        r.lease_token = t.lease_token;
        r.attempt_no = t.attempt_no;
        r.error = model::error_json(
          "Error", "Task '" + t.slug + "' is not registered on this worker");
        self->send(caf::actor_cast<result_sink>(reply_to), std::move(r));
        return;
      }
      task_request req;
      auto doc = model::job_from_json(t.job);
      req.job = std::make_shared<const model::job>(doc ? std::move(*doc)
                                                       : model::job{});
      req.slug = t.slug;
      req.id = t.task_id;
      req.input = t.input;
      req.handler = def->handler;
      req.def = def;
      req.stop = std::make_shared<std::atomic<bool>>(false);
      auto n = ++st.counter;
      st.running.emplace(
        n, worker_node_state::attempt{reply_to, std::move(t), req.stop});
      st.env->tasks->submit(
        task_item{std::move(req), caf::actor_cast<caf::actor>(self), n});
      keep_beating(self);
    },
    [=](renew_atom) {
      self->state.beating = false;
      send_heartbeats(self);
      keep_beating(self);
    },
    [=](step_done_atom, std::uint64_t n, task_result& res) {
      auto& st = self->state;
      auto it = st.running.find(n);
      if (it == st.running.end())
        return;
      auto reply_to = std::move(it->second.reply_to);
      auto t = std::move(it->second.task);
      st.running.erase(it);
      self->send(caf::actor_cast<result_sink>(reply_to),
                 to_remote_result(t, std::move(res)));
    },
    [=](cancel_task_atom, std::uint64_t job, const std::string& lease) {
      auto& st = self->state;
      for (auto& [n, a] : st.running)
        if (a.task.job_id == job && a.task.lease_token == lease)
          a.stop->store(true);
    },
  };
}

} // namespace

} // namespace conveyor::actors

namespace conveyor {

worker_node_actor spawn_worker_node(caf::actor_system& sys,
                                    std::shared_ptr<const registry> reg,
                                    std::size_t workers,
                                    std::chrono::milliseconds heartbeat) {
  auto env = std::make_shared<actors::runtime_env>();
  env->reg = std::move(reg);
  env->options.clock = actors::system_now;
  env->tasks = std::make_shared<actors::task_pool>();
  env->pool = actors::spawn_worker_pool(sys, env, env->tasks, workers);
  auto node = sys.spawn(actors::worker_node_impl, env,
                        std::max(heartbeat, std::chrono::milliseconds{1}));
  // The worker threads live as long as the node actor.
  caf::actor_cast<caf::abstract_actor*>(node)->attach_functor(
    [pool = env->pool] {
      caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    });
  return caf::actor_cast<worker_node_actor>(node);
}

model::status register_worker(caf::actor_system& sys, const caf::actor& session,
                              const worker_node_actor& node,
                              std::vector<std::string> queues,
                              std::vector<std::string> slugs,
                              std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  model::status result = model::ok();
  self
    ->request(caf::actor_cast<session_actor>(session), timeout,
              register_worker_atom::value, node, std::move(queues),
              std::move(slugs))
    .receive([](bool) {},
             [&](caf::error& err) { result = actors::from_caf_error(err); });
  return result;
}

} // namespace conveyor
