// The remote worker pool (see remote_pool.hpp).

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "actors/errors.hpp"
#include "actors/remote/remote_pool.hpp"
#include "model/job_json.hpp"

namespace conveyor::actors {

namespace {

struct registered_worker {
  worker_node_actor handle;
  std::vector<std::string> queues; ///< "*" serves every queue
  std::vector<std::string> slugs;
  std::size_t in_flight = 0;

  bool serves(const remote_dispatch& d) const {
    auto has = [](const std::vector<std::string>& xs, const std::string& x) {
      return std::find(xs.begin(), xs.end(), x) != xs.end();
    };
    return (has(queues, d.queue) || has(queues, "*"))
           && has(slugs, d.task.slug);
  }
};

using attempt_key = std::tuple<std::uint64_t, std::string, std::uint64_t>;

/// An attempt sent to a worker.
struct sent_attempt {
  caf::actor_addr worker;
  remote_dispatch dispatch;
  model::time_ms heard_at; ///< sent, or last heartbeat naming its job
};

struct remote_pool_state {
  static constexpr const char* name = "conveyor.remote_pool";
  std::shared_ptr<remote_stats> stats;
  std::function<model::time_ms()> clock;
  std::chrono::milliseconds lease{};
  bool expiry_armed = false;
  std::vector<registered_worker> workers;
  /// Attempts sent to a worker, by (job, lease token, attempt).
  std::map<attempt_key, sent_attempt> in_flight;
  /// Attempts no registered worker can take yet.
  std::deque<remote_dispatch> waiting;
};

using remote_pool_pointer =
  remote_pool_actor::stateful_pointer<remote_pool_state>;

attempt_key key_of(const remote_task& t) {
  return {t.job_id, t.lease_token, t.attempt_no};
}

/// The registered worker at `addr`, or nullptr (it went away).
registered_worker* worker_at(remote_pool_state& st,
                             const caf::actor_addr& addr) {
  for (auto& w : st.workers)
    if (w.handle.address() == addr)
      return &w;
  return nullptr;
}

/// An attempt sent to `addr` ended: one less in flight there.
void one_less(remote_pool_state& st, const caf::actor_addr& addr) {
  if (auto* w = worker_at(st, addr); w && w->in_flight > 0)
    --w->in_flight;
}

/// Checks for expired attempts every quarter lease (at least every second)
/// while any attempt is out.
void arm_expiry(remote_pool_pointer self) {
  auto& st = self->state;
  if (st.expiry_armed || st.in_flight.empty())
    return;
  st.expiry_armed = true;
  auto every = std::clamp(st.lease / 4, std::chrono::milliseconds{1},
                          std::chrono::milliseconds{1000});
  self->delayed_send(self, every, renew_atom::value);
}

void report(const remote_dispatch& d, task_result res) {
  caf::anon_send(caf::actor_cast<workflow_actor>(d.reply_to),
                 step_done_atom::value, d.step, std::move(res));
}

/// The attempt at `it` is lost (its worker vanished or went silent): its
/// job is pending again with nothing consumed.
auto lose(remote_pool_state& st,
          std::map<attempt_key, sent_attempt>::iterator it) {
  task_result lost;
  lost.lost = true;
  st.stats->lost.fetch_add(1, std::memory_order_relaxed);
  report(it->second.dispatch, std::move(lost));
  one_less(st, it->second.worker);
  return st.in_flight.erase(it);
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
  st.in_flight.emplace(std::move(key), sent_attempt{best->handle.address(),
                                                    std::move(d), st.clock()});
  arm_expiry(self);
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

remote_pool_actor::behavior_type
remote_pool_impl(remote_pool_pointer self, std::shared_ptr<remote_stats> stats,
                 std::function<model::time_ms()> clock,
                 std::chrono::milliseconds lease) {
  self->state.stats = std::move(stats);
  self->state.clock = std::move(clock);
  self->state.lease = lease;
  // A worker node that goes away loses its attempts at once; each job goes
  // back to pending with nothing consumed.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    st.workers.erase(std::remove_if(st.workers.begin(), st.workers.end(),
                                    [&](const registered_worker& w) {
                                      return w.handle.address() == dm.source;
                                    }),
                     st.workers.end());
    for (auto it = st.in_flight.begin(); it != st.in_flight.end();)
      it = it->second.worker == dm.source ? lose(st, it) : std::next(it);
  });
  return {
    [=](register_worker_atom, const worker_node_actor& w,
        std::vector<std::string>& queues, std::vector<std::string>& slugs) {
      self->monitor(w);
      self->state.workers.push_back(
        {w, std::move(queues), std::move(slugs), 0});
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
        if (!of_job(entry.dispatch.task) || !told.insert(entry.worker).second)
          continue;
        if (auto* w = worker_at(st, entry.worker))
          self->send(w->handle, cancel_task_atom::value, job, lease);
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
      auto source = it->second.worker;
      if (self->current_sender() != source) {
        // Only the worker the attempt was sent to may answer it.
        st.stats->stale_rejected.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      auto d = std::move(it->second.dispatch);
      st.in_flight.erase(it);
      one_less(st, source);
      report(d, to_task_result(std::move(r)));
      drain_waiting(self);
    },
    [=](heartbeat_atom, const std::vector<std::uint64_t>& jobs) {
      auto& st = self->state;
      // Only attempts sent to the sender are renewed: a worker cannot keep
      // another's attempts alive.
      auto source = self->current_sender();
      std::set<std::uint64_t> alive(jobs.begin(), jobs.end());
      auto now = st.clock();
      for (auto& [key, a] : st.in_flight)
        if (a.worker == source && alive.count(a.dispatch.task.job_id))
          a.heard_at = now;
    },
    [=](renew_atom) {
      auto& st = self->state;
      st.expiry_armed = false;
      auto deadline = st.clock() - st.lease.count();
      for (auto it = st.in_flight.begin(); it != st.in_flight.end();) {
        if (it->second.heard_at >= deadline) {
          ++it;
          continue;
        }
        // The worker may yet come back: its late result is fenced off,
        // and it is told to stop the attempt.
        const auto& t = it->second.dispatch.task;
        if (auto* w = worker_at(st, it->second.worker))
          self->send(w->handle, cancel_task_atom::value, t.job_id,
                     t.lease_token);
        it = lose(st, it);
      }
      arm_expiry(self);
      drain_waiting(self);
    },
  };
}

} // namespace

remote_result to_remote_result(const remote_task& attempt, task_result&& res) {
  remote_result r;
  r.job_id = attempt.job_id;
  r.lease_token = attempt.lease_token;
  r.attempt_no = attempt.attempt_no;
  r.ok = res.ok;
  r.cancelled = res.cancelled;
  r.output = std::move(res.output);
  r.error = std::move(res.error);
  r.executed_at = res.executed_at;
  r.completed_at = res.completed_at;
  return r;
}

task_result to_task_result(remote_result&& r) {
  task_result res;
  res.ok = r.ok;
  res.cancelled = r.cancelled;
  res.output = std::move(r.output);
  res.error = std::move(r.error);
  res.executed_at = r.executed_at;
  res.completed_at = r.completed_at;
  return res;
}

remote_pool_actor spawn_remote_pool(caf::actor_system& sys,
                                    std::shared_ptr<remote_stats> stats,
                                    std::function<model::time_ms()> clock,
                                    std::chrono::milliseconds lease) {
  return sys.spawn(remote_pool_impl, std::move(stats), std::move(clock), lease);
}

} // namespace conveyor::actors
