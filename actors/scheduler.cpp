// Long file: one actor, the scheduler, with its two jobs (schedules and
// autoRun crons) sharing one pass loop and one timer; apart they would
// share most of their state through a header.

#include "actors/scheduler.hpp"

#include <algorithm>
#include <deque>
#include <utility>

#include "actors/errors.hpp"
#include "model/cron.hpp"
#include "model/schedule.hpp"
#include "model/time.hpp"
#include "persistence/job_records.hpp"

namespace conveyor::actors {

namespace {

using model::schedule_kind;
using model::schedule_status;
using model::time_ms;

/// One schedule entry of one task or workflow, selected by a pass.
struct candidate {
  model::queueable q;
  const schedule_entry* entry = nullptr;
  model::cron_expr cron;
};

/// One handle_schedules call, waiting for or in its turn.
struct pass {
  schedules_request req;
  std::function<void(json)> done;
};

/// The running pass: its candidates, where it is, what it found so far.
struct pass_progress {
  std::vector<candidate> candidates;
  std::size_t next = 0;
  json result = json{{"queued", json::array()},
                     {"skipped", json::array()},
                     {"errored", json::array()}};
  model::schedule_stats stats_before;
  std::function<void(json)> done;
};

struct auto_run_state {
  auto_run_entry entry;
  model::cron_expr cron;
  std::optional<time_ms> next_fire; ///< nullopt: no further tick
  bool busy = false;                ///< a tick is in progress
  bool stopped = false;             ///< shouldAutoRun said no
};

struct scheduler_state {
  static constexpr const char* name = "conveyor.scheduler";
  env_ptr env;
  supervisor_actor sup;
  model::schedule_stats stats;
  std::deque<pass> waiting;
  bool passing = false;
  std::vector<auto_run_state> autos;
  bool any_schedules = false; ///< the registry has schedule entries
  std::optional<time_ms> timer_at;
  std::uint64_t timer_gen = 0;
  /// clock_changed requests answered once no tick and no pass is left.
  std::vector<caf::typed_response_promise<bool>> settle_waiters;

  bool idle() const {
    return !passing && waiting.empty()
           && std::none_of(autos.begin(), autos.end(),
                           [](const auto_run_state& a) { return a.busy; });
  }

  void log(const std::string& line) const {
    if (env->options.log)
      env->options.log(line);
  }
};

using scheduler_pointer = scheduler_actor::stateful_pointer<scheduler_state>;

request_context internal_ctx() {
  request_context ctx;
  ctx.principal = "conveyor:scheduler";
  ctx.override_access = true;
  return ctx;
}

/// Every schedule entry on the selected queue(s), tasks first, by slug.
std::vector<candidate> select(const registry& reg, const schedules_request& r) {
  std::vector<candidate> out;
  auto add = [&](schedule_kind kind, const std::string& slug,
                 const std::vector<schedule_entry>& entries) {
    for (auto& e : entries) {
      if (!r.all_queues && e.queue != r.queue)
        continue;
      auto cron = model::cron_expr::parse(e.cron); // checked at registration
      if (!cron)
        continue;
      candidate c{{e.queue, kind, slug, e.cron, 0}, &e, std::move(*cron)};
      out.push_back(std::move(c));
    }
  };
  for (auto& [slug, t] : reg.tasks())
    add(schedule_kind::task, slug, t.schedule);
  for (auto& [slug, w] : reg.workflows())
    add(schedule_kind::workflow, slug, w.schedule);
  return out;
}

json describe(const model::queueable& q) {
  json d{{"queue", q.queue},
         {q.kind == schedule_kind::task ? "task" : "workflow", q.slug},
         {"cron", q.cron},
         {"waitUntil", model::format_iso8601(q.wait_until)}};
  return d;
}

void start_next_pass(scheduler_pointer self);
void answer_if_idle(scheduler_pointer self);
void step(scheduler_pointer self, const std::shared_ptr<pass_progress>& p);

/// Records a candidate's outcome, calls its afterSchedule, goes on.
void finish_candidate(scheduler_pointer self,
                      const std::shared_ptr<pass_progress>& p,
                      schedule_status status, const json* job,
                      std::optional<time_ms> queued_for,
                      const std::string& error) {
  auto& st = self->state;
  auto& c = p->candidates[p->next];
  auto& stat = st.stats.at(c.q.queue, c.q.kind, c.q.slug);
  model::after_schedule_args args{c.q,   status, job,          queued_for,
                                  error, stat,   st.env->now()};
  try {
    if (c.entry->after_schedule)
      c.entry->after_schedule(args);
    else
      model::default_after_schedule(args);
  } catch (const std::exception& e) {
    st.log("afterSchedule of " + c.q.slug + " on queue " + c.q.queue
           + " threw: " + e.what());
  }
  auto d = describe(c.q);
  if (job)
    d["job"] = (*job)["id"];
  if (!error.empty()) {
    d["error"] = error;
    st.log("scheduling " + c.q.slug + " on queue " + c.q.queue
           + " failed: " + error);
  }
  p->result[std::string{model::to_string(status)}].push_back(std::move(d));
  ++p->next;
  step(self, p);
}

/// Asks beforeSchedule about candidate p->next (its pending count known)
/// and queues its job if told to.
void decide(scheduler_pointer self, const std::shared_ptr<pass_progress>& p,
            const json& pending) {
  auto& st = self->state;
  auto& c = p->candidates[p->next];
  const auto& stat = st.stats.at(c.q.queue, c.q.kind, c.q.slug);
  const auto& oldest = pending["job"];
  model::before_schedule_args args{c.q, pending.value("count", std::int64_t{0}),
                                   stat, st.env->now(),
                                   oldest.is_object() ? &oldest : nullptr};
  model::schedule_decision d;
  try {
    d = c.entry->before_schedule ? c.entry->before_schedule(args)
                                 : model::default_before_schedule(args);
  } catch (const std::exception& e) {
    finish_candidate(self, p, schedule_status::errored, nullptr, std::nullopt,
                     std::string{"beforeSchedule threw: "} + e.what());
    return;
  }
  if (!d.should_schedule) {
    finish_candidate(self, p, schedule_status::skipped, nullptr, std::nullopt,
                     {});
    return;
  }
  queue_request req;
  (c.q.kind == schedule_kind::task ? req.task : req.workflow) = c.q.slug;
  req.input = std::move(d.input);
  req.queue = c.q.queue;
  req.wait_until = d.wait_until.value_or(0);
  req.meta = json{{"scheduled", true}};
  auto queued_for = d.wait_until;
  self
    ->request(st.sup, caf::infinite, queue_atom::value, internal_ctx(),
              std::move(req))
    .then(
      [=](json& job) {
        finish_candidate(self, p, schedule_status::queued, &job, queued_for,
                         {});
      },
      [=](caf::error& err) {
        finish_candidate(self, p, schedule_status::errored, nullptr,
                         std::nullopt, from_caf_error(err).message);
      });
}

/// Handles candidate p->next, or ends the pass: stats durable, then answer.
void step(scheduler_pointer self, const std::shared_ptr<pass_progress>& p) {
  auto& st = self->state;
  auto now = st.env->now();
  // Candidates without a further cron occurrence are skipped silently.
  while (p->next < p->candidates.size()) {
    auto& c = p->candidates[p->next];
    auto tick = model::next_scheduled_tick(
      c.cron, st.stats.at(c.q.queue, c.q.kind, c.q.slug), now);
    if (tick) {
      c.q.wait_until = *tick;
      break;
    }
    ++p->next;
  }
  if (p->next < p->candidates.size()) {
    auto& c = p->candidates[p->next];
    count_request req;
    req.queue = c.q.queue;
    (c.q.kind == schedule_kind::task ? req.task : req.workflow) = c.q.slug;
    req.only_scheduled = true;
    self
      ->request(st.sup, caf::infinite, pending_scheduled_atom::value,
                std::move(req))
      .then([=](json& pending) { decide(self, p, pending); },
            [=](caf::error& err) {
              finish_candidate(self, p, schedule_status::errored, nullptr,
                               std::nullopt, from_caf_error(err).message);
            });
    return;
  }
  auto finish = [=](json result) {
    p->done(std::move(result));
    self->state.passing = false;
    start_next_pass(self);
    answer_if_idle(self);
  };
  if (st.stats == p->stats_before) {
    finish(std::move(p->result));
    return;
  }
  persistence::write_batch batch;
  persistence::add_meta_write(batch, schedule_stats_key,
                              model::to_json(st.stats).dump());
  self
    ->request(st.env->journal, caf::infinite, commit_atom::value,
              std::move(batch))
    .then([=](std::uint64_t) { finish(std::move(p->result)); },
          [=](caf::error& err) {
            self->state.log("schedule stats not saved: "
                            + from_caf_error(err).message);
            finish(std::move(p->result));
          });
}

void start_next_pass(scheduler_pointer self) {
  auto& st = self->state;
  if (st.passing || st.waiting.empty())
    return;
  auto next = std::move(st.waiting.front());
  st.waiting.pop_front();
  auto p = std::make_shared<pass_progress>();
  p->candidates = select(*st.env->reg, next.req);
  p->done = std::move(next.done);
  if (p->candidates.empty()) {
    // Nothing scheduled there: answer without touching the stats.
    p->done(std::move(p->result));
    start_next_pass(self);
    return;
  }
  st.passing = true;
  p->stats_before = st.stats;
  step(self, p);
}

void enqueue_pass(scheduler_pointer self, schedules_request req,
                  std::function<void(json)> done) {
  self->state.waiting.push_back({std::move(req), std::move(done)});
  start_next_pass(self);
}

// -- autoRun
// -------------------------------------------------------------------

bool has_schedules(const registry& reg) {
  for (auto& [slug, t] : reg.tasks())
    if (!t.schedule.empty())
      return true;
  for (auto& [slug, w] : reg.workflows())
    if (!w.schedule.empty())
      return true;
  return false;
}

std::string entry_name(std::size_t i) {
  return "autoRun[" + std::to_string(i) + "]";
}

/// Answers the clock_changed requests waiting for quiet, if it is quiet.
void answer_if_idle(scheduler_pointer self) {
  auto& st = self->state;
  if (st.idle())
    for (auto& rp : std::exchange(st.settle_waiters, {}))
      rp.deliver(true);
}

void tick_over(scheduler_pointer self, std::size_t i) {
  self->state.autos[i].busy = false;
  answer_if_idle(self);
}

/// The run step of a tick, then the tick is over.
void run_tick(scheduler_pointer self, std::size_t i) {
  auto& st = self->state;
  auto& a = st.autos[i];
  bool go = true;
  try {
    go = !st.env->options.should_auto_run || st.env->options.should_auto_run();
  } catch (const std::exception& e) {
    st.log(entry_name(i) + ": shouldAutoRun threw: " + e.what());
    tick_over(self, i);
    return;
  }
  if (!go) {
    a.stopped = true;
    if (!a.entry.silent)
      st.log(entry_name(i) + ": stopped (shouldAutoRun returned false)");
    tick_over(self, i);
    return;
  }
  run_request req;
  req.queue = a.entry.queue;
  req.all_queues = a.entry.all_queues;
  req.limit = a.entry.limit;
  self->request(st.sup, caf::infinite, run_atom::value, internal_ctx(), req)
    .then(
      [=](json& result) {
        const auto& a = self->state.autos[i];
        // Only ticks that ran something: an idle cron stays quiet.
        if (!a.entry.silent && !result.value("noJobsRemaining", false))
          self->state.log(entry_name(i) + ": ran " + result.dump());
        tick_over(self, i);
      },
      [=](caf::error& err) {
        if (!self->state.autos[i].entry.silent)
          self->state.log(entry_name(i)
                          + ": run failed: " + from_caf_error(err).message);
        tick_over(self, i);
      });
}

void fire(scheduler_pointer self, std::size_t i) {
  auto& st = self->state;
  auto& a = st.autos[i];
  a.busy = true;
  if (a.entry.disable_scheduling || !st.any_schedules) {
    run_tick(self, i);
    return;
  }
  schedules_request req{a.entry.queue, a.entry.all_queues};
  enqueue_pass(self, std::move(req), [=](const json&) { run_tick(self, i); });
}

void arm_timer(scheduler_pointer self) {
  auto& st = self->state;
  std::optional<time_ms> earliest;
  for (auto& a : st.autos)
    if (!a.stopped && a.next_fire && (!earliest || *a.next_fire < *earliest))
      earliest = a.next_fire;
  if (!earliest || (st.timer_at && *st.timer_at <= *earliest))
    return;
  st.timer_at = st.env->timer_wake(*earliest);
  self->delayed_send(self, st.env->delay_until(*st.timer_at),
                     scheduler_tick_atom::value, ++st.timer_gen);
}

/// Fires every entry whose tick is due. Missed ticks are not replayed: the
/// next tick is the first one after now. A due entry still busy with its
/// previous tick skips this one (no overlap).
void fire_due(scheduler_pointer self) {
  auto& st = self->state;
  auto now = st.env->now();
  for (std::size_t i = 0; i < st.autos.size(); ++i) {
    auto& a = st.autos[i];
    if (a.stopped || !a.next_fire || *a.next_fire > now)
      continue;
    a.next_fire = a.cron.next_after(now);
    if (a.busy) {
      if (!a.entry.silent)
        st.log(entry_name(i) + ": tick skipped, the previous one is running");
      continue;
    }
    fire(self, i);
  }
  arm_timer(self);
}

scheduler_actor::behavior_type scheduler_impl(scheduler_pointer self,
                                              const env_ptr& env,
                                              supervisor_actor sup) {
  auto& st = self->state;
  st.env = env;
  st.sup = std::move(sup);
  if (auto raw = env->db->get_meta(schedule_stats_key); !raw) {
    st.log("schedule stats unreadable, starting empty: " + raw.error().message);
  } else if (*raw) {
    auto doc = json::parse(**raw, nullptr, false);
    auto stats = doc.is_discarded()
                   ? model::expected<model::schedule_stats>{model::make_error(
                     model::errc::invalid_input, "stats: not JSON")}
                   : model::schedule_stats_from_json(doc);
    if (stats)
      st.stats = std::move(*stats);
    else
      st.log("schedule stats unreadable, starting empty: "
             + stats.error().message);
  }
  st.any_schedules = has_schedules(*env->reg); // read-only after start
  for (auto& e : env->options.auto_run) {
    auto cron = model::cron_expr::parse(e.cron); // checked by start()
    if (!cron)
      continue;
    auto next = cron->next_after(env->started_at);
    st.autos.push_back({e, std::move(*cron), next});
  }
  fire_due(self); // ticks that passed while the actors were starting
  return {
    [=](handle_schedules_atom, schedules_request& req) -> caf::result<json> {
      auto rp = self->make_response_promise<json>();
      enqueue_pass(self, std::move(req), [rp](json result) mutable {
        rp.deliver(std::move(result));
      });
      return rp;
    },
    [=](clock_changed_atom) -> caf::result<bool> {
      fire_due(self);
      auto& st = self->state;
      if (st.idle())
        return true;
      auto rp = self->make_response_promise<bool>();
      st.settle_waiters.push_back(rp);
      return rp;
    },
    [=](scheduler_tick_atom, std::uint64_t gen) {
      if (gen != self->state.timer_gen)
        return; // superseded by an earlier timer
      self->state.timer_at.reset();
      fire_due(self);
    },
  };
}

} // namespace

scheduler_actor spawn_scheduler(caf::actor_system& sys, env_ptr env,
                                supervisor_actor sup) {
  return sys.spawn<caf::detached>(scheduler_impl, std::move(env),
                                  std::move(sup));
}

} // namespace conveyor::actors
