// Remote nodes: the gateway a serve node publishes, its pool of remote
// worker nodes, and the worker-node actor itself.

#include <map>
#include <set>

#include "actors/errors.hpp"
#include "actors/remote_pool.hpp"
#include "actors/requests.hpp"
#include "actors/worker_pool.hpp"
#include "conveyor/remote.hpp"
#include "model/job_json.hpp"

namespace conveyor::actors {

namespace {

// -- remote pool -----------------------------------------------------------------

struct registered_worker {
  worker_node_actor handle;
  std::vector<std::string> queues; ///< "*" serves every queue
  std::vector<std::string> slugs;
  std::size_t in_flight = 0;

  bool serves(const remote_dispatch& d) const {
    auto has = [](const std::vector<std::string>& xs, const std::string& x) {
      return std::find(xs.begin(), xs.end(), x) != xs.end();
    };
    return (has(queues, d.queue) || has(queues, "*")) && has(slugs, d.task.slug);
  }
};

using attempt_key = std::tuple<std::uint64_t, std::string, std::uint64_t>;

struct remote_pool_state {
  static constexpr const char* name = "conveyor.remote_pool";
  std::shared_ptr<remote_stats> stats;
  std::function<model::time_ms()> clock;
  std::vector<registered_worker> workers;
  /// Attempts sent to a worker, by (job, lease token, attempt).
  std::map<attempt_key, std::pair<caf::actor_addr, remote_dispatch>> in_flight;
  /// Attempts no registered worker can take yet.
  std::deque<remote_dispatch> waiting;
};

using remote_pool_pointer = remote_pool_actor::stateful_pointer<remote_pool_state>;

attempt_key key_of(const remote_task& t) {
  return {t.job_id, t.lease_token, t.attempt_no};
}

/// Sends `d` to the least loaded worker that serves it; false if none does.
bool try_dispatch(remote_pool_pointer self, remote_dispatch& d) {
  auto& st = self->state;
  registered_worker* best = nullptr;
  for (auto& w : st.workers)
    if (w.serves(d) && (!best || w.in_flight < best->in_flight))
      best = &w;
  if (!best)
    return false;
  ++best->in_flight;
  st.stats->dispatched.fetch_add(1, std::memory_order_relaxed);
  // A plain send: the worker's reply arrives as a remote_result message, so
  // no request (and no timer) stays pending if the worker dies.
  self->send(best->handle, run_task_atom::value, d.task);
  auto key = key_of(d.task); // before `d` is moved below
  st.in_flight.emplace(std::move(key),
                       std::make_pair(best->handle.address(), std::move(d)));
  return true;
}

void drain_waiting(remote_pool_pointer self) {
  auto& st = self->state;
  std::deque<remote_dispatch> still;
  while (!st.waiting.empty()) {
    auto d = std::move(st.waiting.front());
    st.waiting.pop_front();
    if (!try_dispatch(self, d))
      still.push_back(std::move(d));
  }
  st.waiting = std::move(still);
}

void report(const remote_dispatch& d, task_result res) {
  caf::anon_send(caf::actor_cast<workflow_actor>(d.reply_to),
                 step_done_atom::value, d.step, std::move(res));
}

remote_pool_actor::behavior_type
remote_pool_impl(remote_pool_pointer self, std::shared_ptr<remote_stats> stats,
                 std::function<model::time_ms()> clock) {
  self->state.stats = std::move(stats);
  self->state.clock = std::move(clock);
  // A worker node that goes away loses its attempts at once; each job goes
  // back to pending with nothing consumed.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    st.workers.erase(std::remove_if(st.workers.begin(), st.workers.end(),
                                    [&](const registered_worker& w) {
                                      return w.handle.address() == dm.source;
                                    }),
                     st.workers.end());
    for (auto it = st.in_flight.begin(); it != st.in_flight.end();) {
      if (it->second.first == dm.source) {
        task_result lost;
        lost.lost = true;
        st.stats->lost.fetch_add(1, std::memory_order_relaxed);
        report(it->second.second, std::move(lost));
        it = st.in_flight.erase(it);
      } else {
        ++it;
      }
    }
  });
  return {
    [=](register_worker_atom, worker_node_actor w,
        std::vector<std::string>& queues, std::vector<std::string>& slugs) {
      self->monitor(w);
      self->state.workers.push_back({w, std::move(queues), std::move(slugs), 0});
      drain_waiting(self);
    },
    [=](remote_exec_atom, remote_dispatch& d) {
      if (!try_dispatch(self, d))
        self->state.waiting.push_back(std::move(d));
    },
    [=](cancel_task_atom, std::uint64_t job, const std::string& lease) {
      auto& st = self->state;
      auto of_job = [&](const remote_task& t) {
        return t.job_id == job && t.lease_token == lease;
      };
      // Not sent anywhere yet: nothing ran, the attempt ends cancelled.
      for (auto it = st.waiting.begin(); it != st.waiting.end();) {
        if (!of_job(it->task)) {
          ++it;
          continue;
        }
        task_result res;
        res.cancelled = true;
        res.error = model::error_json("Error", "job cancelled");
        report(*it, std::move(res));
        it = st.waiting.erase(it);
      }
      std::set<caf::actor_addr> told;
      for (auto& [key, entry] : st.in_flight) {
        if (!of_job(entry.second.task) || !told.insert(entry.first).second)
          continue;
        for (auto& w : st.workers)
          if (w.handle.address() == entry.first)
            self->send(w.handle, cancel_task_atom::value, job, lease);
      }
    },
    [=](remote_result& r) {
      auto& st = self->state;
      auto it = st.in_flight.find({r.job_id, r.lease_token, r.attempt_no});
      if (it == st.in_flight.end()) {
        // Fencing: this attempt was declared lost (its lease is gone).
        st.stats->stale_rejected.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      auto source = it->second.first;
      auto d = std::move(it->second.second);
      st.in_flight.erase(it);
      for (auto& w : st.workers)
        if (w.handle.address() == source && w.in_flight > 0)
          --w.in_flight;
      task_result res;
      res.ok = r.ok;
      res.cancelled = r.cancelled;
      res.output = std::move(r.output);
      res.error = std::move(r.error);
      res.executed_at = r.executed_at;
      res.completed_at = r.completed_at;
      report(d, std::move(res));
      drain_waiting(self);
    },
  };
}

// -- gateway -----------------------------------------------------------------------

struct gateway_state {
  static constexpr const char* name = "conveyor.gateway";
  supervisor_actor sup;
  remote_pool_actor pool;
  authenticator auth;
  access_rules access;
};

using gateway_pointer = gateway_actor::stateful_pointer<gateway_state>;

/// A remote request: the token decides the principal, and access rules
/// always apply.
std::optional<request_context> authenticate(gateway_pointer self,
                                            const request_context& in) {
  request_context ctx;
  ctx.override_access = false;
  if (in.token.empty())
    return ctx; // anonymous: the rules decide (the default denies)
  auto who = self->state.auth ? self->state.auth(in.token) : std::nullopt;
  if (!who)
    return std::nullopt;
  ctx.principal = who->principal;
  ctx.roles = who->roles;
  return ctx;
}

caf::error unknown_token() {
  return make_caf_error(model::errc::forbidden, "unknown token");
}

template <class Result = json, class Atom, class Request>
caf::result<Result> forward(gateway_pointer self, Atom atom,
                            const request_context& in, Request&& req) {
  auto ctx = authenticate(self, in);
  if (!ctx)
    return unknown_token();
  return self->delegate(self->state.sup, atom, std::move(*ctx),
                        std::forward<Request>(req));
}

gateway_actor::behavior_type gateway_impl(gateway_pointer self,
                                          supervisor_actor sup,
                                          remote_pool_actor pool,
                                          authenticator auth,
                                          access_rules access) {
  auto& st = self->state;
  st.sup = std::move(sup);
  st.pool = std::move(pool);
  st.auth = std::move(auth);
  st.access = std::move(access);
  self->link_to(st.sup); // goes down with the runtime
  return {
    [=](queue_atom a, const request_context& c, queue_request& r) {
      return forward(self, a, c, std::move(r));
    },
    [=](queue_bulk_atom a, const request_context& c,
        std::vector<queue_request>& r) { return forward(self, a, c, std::move(r)); },
    [=](run_atom a, const request_context& c, run_request& r) {
      return forward(self, a, c, std::move(r));
    },
    [=](run_by_id_atom a, const request_context& c, std::uint64_t id) {
      return forward(self, a, c, id);
    },
    [=](get_job_atom a, const request_context& c, std::uint64_t id) {
      return forward(self, a, c, id);
    },
    [=](find_atom a, const request_context& c, find_request& r) {
      return forward(self, a, c, std::move(r));
    },
    [=](cancel_by_id_atom a, const request_context& c, std::uint64_t id) {
      return forward(self, a, c, id);
    },
    [=](cancel_atom a, const request_context& c, cancel_request& r) {
      return forward(self, a, c, std::move(r));
    },
    [=](wait_job_atom a, const request_context& c, std::uint64_t id) {
      return forward(self, a, c, id);
    },
    [=](pause_queue_atom a, const request_context& c, std::string& q,
        bool pause) -> caf::result<json> {
      auto ctx = authenticate(self, c);
      if (!ctx)
        return unknown_token();
      return self->delegate(self->state.sup, a, std::move(*ctx), std::move(q),
                            pause);
    },
    [=](set_concurrency_atom a, const request_context& c, std::string& q,
        std::int32_t limit) -> caf::result<json> {
      auto ctx = authenticate(self, c);
      if (!ctx)
        return unknown_token();
      return self->delegate(self->state.sup, a, std::move(*ctx), std::move(q),
                            limit);
    },
    [=](handle_schedules_atom a, const request_context& c,
        schedules_request& r) {
      return forward(self, a, c, std::move(r));
    },
    [=](count_active_atom a, const request_context& c, count_request& r) {
      return forward<std::int64_t>(self, a, c, std::move(r));
    },
    [=](clock_changed_atom) {
      // Only the node's own clock owner may say the clock moved.
    },
    [=](register_worker_atom, const request_context& c, worker_node_actor w,
        std::vector<std::string>& queues,
        std::vector<std::string>& slugs) -> caf::result<bool> {
      auto ctx = authenticate(self, c);
      if (!ctx)
        return unknown_token();
      // Taking jobs of a queue is running them: the run rule decides.
      for (auto& q : queues) {
        access_target target{q};
        if (!allowed(self->state.access, operation::run, *ctx, target))
          return to_caf_error(forbidden(operation::run, *ctx, target));
      }
      self->send(self->state.pool, register_worker_atom::value, std::move(w),
                 std::move(queues), std::move(slugs));
      return true;
    },
  };
}

// -- worker node -------------------------------------------------------------------

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
};

using worker_node_impl_actor =
  worker_node_actor::extend<caf::reacts_to<step_done_atom, std::uint64_t, task_result>>;
using worker_node_pointer =
  worker_node_impl_actor::stateful_pointer<worker_node_state>;

worker_node_impl_actor::behavior_type
worker_node_impl(worker_node_pointer self, std::shared_ptr<runtime_env> env) {
  self->state.env = env;
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
        r.error = model::error_json("Error", "Task '" + t.slug
                                               + "' is not registered on this worker");
        caf::anon_send(reply_to, std::move(r));
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
      st.running.emplace(n, worker_node_state::attempt{reply_to, std::move(t),
                                                       req.stop});
      st.env->tasks->submit(
        task_item{std::move(req), caf::actor_cast<caf::actor>(self), n});
    },
    [=](step_done_atom, std::uint64_t n, task_result& res) {
      auto& st = self->state;
      auto it = st.running.find(n);
      if (it == st.running.end())
        return;
      auto reply_to = std::move(it->second.reply_to);
      auto t = std::move(it->second.task);
      st.running.erase(it);
      remote_result r;
      r.job_id = t.job_id;
      r.lease_token = t.lease_token;
      r.attempt_no = t.attempt_no;
      r.ok = res.ok;
      r.cancelled = res.cancelled;
      r.output = std::move(res.output);
      r.error = std::move(res.error);
      r.executed_at = res.executed_at;
      r.completed_at = res.completed_at;
      caf::anon_send(reply_to, std::move(r));
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

remote_pool_actor spawn_remote_pool(caf::actor_system& sys,
                                    std::shared_ptr<remote_stats> stats,
                                    std::function<model::time_ms()> clock) {
  return sys.spawn(remote_pool_impl, std::move(stats), std::move(clock));
}

} // namespace conveyor::actors

namespace conveyor {

gateway_actor spawn_gateway(caf::actor_system& sys, runtime& rt,
                            authenticator auth) {
  return sys.spawn(actors::gateway_impl, rt.supervisor(),
                   caf::actor_cast<actors::remote_pool_actor>(rt.remote_workers()),
                   std::move(auth), rt.access());
}

worker_node_actor spawn_worker_node(caf::actor_system& sys,
                                    std::shared_ptr<const registry> reg,
                                    std::size_t workers) {
  auto env = std::make_shared<actors::runtime_env>();
  env->reg = std::move(reg);
  env->options.clock = [] {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
  };
  env->tasks = std::make_shared<actors::task_pool>();
  env->pool = actors::spawn_worker_pool(sys, env, env->tasks, workers);
  auto node = sys.spawn(actors::worker_node_impl, env);
  // The worker threads live as long as the node actor.
  caf::actor_cast<caf::abstract_actor*>(node)->attach_functor(
    [pool = env->pool] { caf::anon_send_exit(pool, caf::exit_reason::user_shutdown); });
  return caf::actor_cast<worker_node_actor>(node);
}

} // namespace conveyor
