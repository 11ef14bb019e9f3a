#include "model/schedule.hpp"

#include <algorithm>

#include "model/time.hpp"

namespace conveyor::model {

namespace {

const char* kind_key(schedule_kind k) {
  return k == schedule_kind::task ? "tasks" : "workflows";
}

error bad(const std::string& path, const std::string& what) {
  return make_error(errc::invalid_input, path + ": " + what);
}

/// Reads an optional ISO time field of a stat object.
status read_time(const json& obj, const char* field, const std::string& path,
                 std::optional<time_ms>& out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null())
    return ok();
  if (!it->is_string())
    return bad(path + "." + field, "must be an ISO 8601 string");
  auto t = parse_iso8601(it->get_ref<const std::string&>());
  if (!t)
    return bad(path + "." + field,
               "'" + it->get<std::string>() + "' is not an ISO 8601 time");
  out = *t;
  return ok();
}

} // namespace

json to_json(const schedule_stats& s) {
  json queues = json::object();
  for (auto& [key, stat] : s.entries) {
    auto& [queue, kind, slug] = key;
    json e = json::object();
    if (stat.last_scheduled_run)
      e["lastScheduledRun"] = format_iso8601(*stat.last_scheduled_run);
    if (stat.last_scheduled_tick)
      e["lastScheduledTick"] = format_iso8601(*stat.last_scheduled_tick);
    queues[queue][kind_key(kind)][slug] = std::move(e);
  }
  return json{{"scheduledRuns", {{"queues", std::move(queues)}}}};
}

expected<schedule_stats> schedule_stats_from_json(const json& j) {
  schedule_stats out;
  if (!j.is_object())
    return bad("stats", "must be an object");
  auto runs = j.find("scheduledRuns");
  if (runs == j.end())
    return out;
  if (!runs->is_object())
    return bad("stats.scheduledRuns", "must be an object");
  auto queues = runs->find("queues");
  if (queues == runs->end())
    return out;
  if (!queues->is_object())
    return bad("stats.scheduledRuns.queues", "must be an object");
  for (auto& [queue, by_kind] : queues->items()) {
    auto qpath = "stats.scheduledRuns.queues." + queue;
    if (!by_kind.is_object())
      return bad(qpath, "must be an object");
    for (auto kind : {schedule_kind::task, schedule_kind::workflow}) {
      auto slugs = by_kind.find(kind_key(kind));
      if (slugs == by_kind.end())
        continue;
      auto kpath = qpath + "." + kind_key(kind);
      if (!slugs->is_object())
        return bad(kpath, "must be an object");
      for (auto& [slug, e] : slugs->items()) {
        auto spath = kpath + "." + slug;
        if (!e.is_object())
          return bad(spath, "must be an object");
        auto& stat = out.at(queue, kind, slug);
        if (auto st =
              read_time(e, "lastScheduledRun", spath, stat.last_scheduled_run);
            !st)
          return st.error();
        if (auto st = read_time(e, "lastScheduledTick", spath,
                                stat.last_scheduled_tick);
            !st)
          return st.error();
      }
    }
  }
  return out;
}

std::optional<time_ms> next_scheduled_tick(const cron_expr& cron,
                                           const schedule_stat& stat,
                                           time_ms now) {
  if (!stat.last_scheduled_tick)
    return cron.next_after(now);
  auto tick = cron.next_after(*stat.last_scheduled_tick);
  if (!tick || *tick > now)
    return tick;
  // The tick after the last one has passed already. If it is the only one,
  // schedule it (it runs at once): a tick that fell between two passes is
  // never lost. If several passed (the node was down), they are not
  // replayed: the next tick after now is.
  auto after = cron.next_after(*tick);
  if (after && *after <= now)
    return cron.next_after(now);
  return tick;
}

schedule_decision default_before_schedule(const before_schedule_args& a) {
  schedule_decision d;
  d.should_schedule = a.pending_scheduled == 0;
  d.wait_until = a.candidate.wait_until;
  return d;
}

std::string_view to_string(schedule_status s) {
  switch (s) {
  case schedule_status::queued:
    return "queued";
  case schedule_status::skipped:
    return "skipped";
  case schedule_status::errored:
    return "errored";
  }
  return "unknown";
}

void default_after_schedule(after_schedule_args& a) {
  a.stat.last_scheduled_run = a.now;
  if (a.status == schedule_status::queued && a.queued_for)
    a.stat.last_scheduled_tick = *a.queued_for;
}

} // namespace conveyor::model
