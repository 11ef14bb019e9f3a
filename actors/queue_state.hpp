#pragma once

// Internal to the queue actor: its state, kept in two indexes (ready jobs
// in processing order, delayed jobs by due time) plus the running set, and
// the functions its files share: queue_index.cpp keeps the indexes,
// queue_dispatch.cpp claims, starts and ends attempts, queue_actor.cpp
// answers messages.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/env.hpp"
#include "actors/interfaces.hpp"
#include "actors/internal_messages.hpp"
#include "actors/live_job.hpp"

namespace conveyor::actors::q {

using model::job_id;
using model::time_ms;
using doc_ptr = std::shared_ptr<model::job>;

/// Processing order inside a queue: higher priority first, then id (FIFO).
struct order_key {
  std::int64_t neg_priority;
  job_id id;
  // NOLINTNEXTLINE(modernize-use-nullptr): a false positive on defaulted <=>
  auto operator<=>(const order_key&) const = default;
};

inline order_key key_of(const model::job& j) {
  return {-std::int64_t{j.priority}, j.id};
}

struct running_job {
  doc_ptr doc;
  std::string held_key; ///< exclusive concurrency key, released at the end
  job_actor actor;      ///< null until executed
  live_ptr live;        ///< what the attempt is doing; null until executed
  /// Its handlers are done; only the journal write of its outcome is left.
  /// It no longer takes a concurrency slot.
  bool settling = false;
  std::vector<caf::typed_response_promise<attempt_report>> reporters;
  std::vector<caf::typed_response_promise<model::job>> cancel_waiters;
};

struct queue_state {
  static constexpr const char* name = "conveyor.queue";
  // -- set at spawn --
  env_ptr env;
  std::string queue_name;
  std::int32_t concurrency = 16;
  bool continuous = false;
  bool lifo = false;
  bool paused = false; ///< mirror of the journal's paused/<queue> key
  /// This queue's unfinished jobs in env->counts: the supervisor adds on
  /// admission, the queue subtracts when a job finishes.
  job_counts::counter* unfinished = nullptr;
  /// Jobs that reached each terminal state since the node started.
  std::uint64_t completed = 0, failed = 0, cancelled = 0;
  // -- mirror of durable state --
  std::map<order_key, doc_ptr> ready;
  std::set<std::pair<time_ms, job_id>> delayed;
  std::unordered_map<job_id, doc_ptr> pending_docs; ///< ready + delayed
  /// Jobs queued by handle_schedules, by slug, so counting them for the
  /// default beforeSchedule is a lookup. Ids of jobs that left the queue
  /// are dropped lazily, when counted.
  std::unordered_map<std::string, std::unordered_set<job_id>> scheduled;
  // -- volatile --
  std::unordered_map<job_id, running_job> running;
  std::int32_t settling = 0; ///< running jobs with settling set
  std::unordered_map<job_id,
                     std::vector<caf::typed_response_promise<model::job>>>
    watchers;
  /// Followers waiting for a job to change (queue_follow.cpp), by job.
  struct follower {
    caf::typed_response_promise<live_document> rp;
    std::uint64_t serial = 0; ///< names its window's timer
  };
  std::unordered_map<job_id, std::vector<follower>> followers;
  std::size_t follower_count = 0;
  std::uint64_t follower_serial = 0;
  std::optional<time_ms> timer_at;
  /// The lease renewal timer is armed (while any job runs).
  bool renewing = false;
  /// A clean stop began: no job starts any more; `drained` is answered
  /// once none runs.
  bool draining = false;
  std::vector<caf::typed_response_promise<bool>> drained;

  /// On shutdown, running job actors go too; they write nothing more.
  ~queue_state() {
    for (auto& [id, r] : running)
      if (r.actor)
        caf::anon_send_exit(r.actor, caf::exit_reason::user_shutdown);
  }
};

using queue_pointer = queue_actor::stateful_pointer<queue_state>;

// -- queue_index.cpp: the pending indexes ----------------------------------

/// Arms the timer for the earliest delayed job (if not armed earlier).
void schedule_timer(queue_pointer self);
/// Queued by handle_schedules (meta.scheduled).
bool is_scheduled(const model::job& j);
/// The ids of the jobs handle_schedules queued for `slug` (a task's or a
/// workflow's: slugs are unique across both) that are still pending or
/// running; ids of jobs that left are dropped here.
const std::unordered_set<job_id>& live_scheduled(queue_state& st,
                                                 const std::string& slug);
/// Adds a pending job to the in-memory index.
void add_pending(queue_pointer self, doc_ptr doc);
/// Moves delayed jobs whose wait_until has passed into the ready index.
void promote_due(queue_pointer self, time_ms now);
doc_ptr find_pending(queue_state& st, job_id id);
void remove_pending(queue_state& st, const model::job& j);
/// A running entry ends (attempt over, released, or cancelled before it
/// started): its key is free again.
running_job take_running(queue_state& st,
                         std::unordered_map<job_id, running_job>::iterator it);
/// A job claimed by run() whose attempt has not started goes back to
/// pending untouched; false if `id` is not such a claim.
bool give_back_claim(queue_pointer self, job_id id);

/// Visits ready jobs in processing order until `f` returns false.
template <class F>
void for_each_ready(queue_state& st, bool lifo, F f) {
  if (!lifo) {
    for (auto it = st.ready.begin(); it != st.ready.end();) {
      auto next = std::next(it);
      if (!f(it->second))
        return;
      it = next;
    }
    return;
  }
  // LIFO inside each priority group, groups still by priority.
  for (auto group = st.ready.begin(); group != st.ready.end();) {
    auto end =
      st.ready.lower_bound(order_key{group->first.neg_priority + 1, 0});
    for (auto it = end; it != group;) {
      --it;
      if (!f(it->second))
        return;
    }
    group = end;
  }
}

/// Ready jobs in processing order that could be claimed now (their key is
/// not held), at most `limit`.
template <class Pred>
std::vector<doc_ptr> candidates(queue_state& st, bool lifo, std::size_t limit,
                                Pred accept) {
  std::vector<doc_ptr> out;
  for_each_ready(st, lifo, [&](const doc_ptr& d) {
    if (out.size() >= limit)
      return false;
    const auto* k = st.env->exclusive_key(*d);
    if ((!k || !st.env->keys->held(*k)) && accept(*d))
      out.push_back(d);
    return true;
  });
  return out;
}

// -- queue_dispatch.cpp: attempts -------------------------------------------

/// Takes a lease on a ready job: it leaves the ready index and is running.
/// Fails (returns false) if the job's exclusive concurrency key is held by
/// a running job of any queue; the queue then gets a tick on its release.
bool claim_job(queue_pointer self, const doc_ptr& doc);
/// Spawns the job actor of a claimed job.
void execute_job(queue_pointer self, job_id id);
/// Moves every running job's processingUntil to now + lease, and keeps a
/// timer doing so every half lease while any job runs: a job whose attempt
/// is alive never looks stale to a reader.
void renew_leases(queue_pointer self);
/// Continuous mode: start due jobs while the concurrency limit allows.
/// While draining: answer the drain once no job runs.
void pump(queue_pointer self);
/// A job reached a terminal state (durably): its slot is free, on_terminal
/// and its watchers are told.
void job_finished(queue_pointer self, const model::job& doc);
/// The job's attempt ended (or the job was cancelled while pending).
void attempt_ended(queue_pointer self, job_id id, model::run_status status,
                   const model::job& next);
// -- queue_follow.cpp: followers ----------------------------------------------

/// How long a follower waits for a change before it gets the job unchanged
/// (well inside a client's request timeout).
inline constexpr std::chrono::seconds follow_window{15};
/// Followers parked at once, per job and per queue; beyond: overloaded.
inline constexpr std::size_t max_followers_per_job = 64;
inline constexpr std::size_t max_followers = 4096;

/// The job as readers see it now (running: with its live record); nullopt
/// if it is neither pending nor running here.
std::optional<live_document> view_of(queue_state& st, job_id id);
/// Answers at once if the job's cursor differs from `cursor`, else parks
/// the request until it changes or the window ends.
caf::result<live_document> follow(queue_pointer self, job_id id,
                                  const std::string& cursor);
/// Something about job `id` changed: its followers get its new view (or
/// not_found if it left the queue).
void wake_followers(queue_pointer self, job_id id);
/// A follower's window ended: it gets the job as it is.
void follow_timed_out(queue_pointer self, job_id id, std::uint64_t serial);

/// Cancels pending jobs in one durable write; replies with the documents.
void cancel_pending(queue_pointer self, const std::vector<doc_ptr>& docs,
                    const std::string& message,
                    const std::function<void(std::vector<model::job>)>& done);

} // namespace conveyor::actors::q
