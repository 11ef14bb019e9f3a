// The pure schedule rules: which tick comes next, the default hooks, and the
// stats document (docs/semantics.md §17).

#include "model/schedule.hpp"

#include <boost/test/unit_test.hpp>

#include "model/time.hpp"

namespace {

using namespace conveyor::model;

time_ms at(const char* iso) {
  auto t = parse_iso8601(iso);
  BOOST_TEST_REQUIRE(t.has_value(), iso);
  return *t;
}

cron_expr cron(const char* text) {
  auto c = cron_expr::parse(text);
  BOOST_TEST_REQUIRE(c.has_value(), text);
  return *c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(schedule_tests)

BOOST_AUTO_TEST_CASE(first_tick_is_the_next_one_after_now) {
  schedule_stat never;
  auto t =
    next_scheduled_tick(cron("* * * * *"), never, at("2026-03-01T10:00:30Z"));
  BOOST_TEST(*t == at("2026-03-01T10:01:00Z"));
}

BOOST_AUTO_TEST_CASE(a_pending_tick_moves_the_next_one_past_it) {
  schedule_stat stat;
  stat.last_scheduled_tick = at("2026-03-01T10:01:00Z");
  auto t =
    next_scheduled_tick(cron("* * * * *"), stat, at("2026-03-01T10:00:40Z"));
  BOOST_TEST(*t == at("2026-03-01T10:02:00Z"));
}

// Payload's race 3: the job of tick 10:01 ran and was deleted; a pass at
// 10:01:30 must not compute 10:01 again from an older lastScheduledRun.
BOOST_AUTO_TEST_CASE(a_tick_that_already_ran_is_never_scheduled_again) {
  schedule_stat stat;
  stat.last_scheduled_run = at("2026-03-01T10:00:30Z");
  stat.last_scheduled_tick = at("2026-03-01T10:01:00Z");
  auto t =
    next_scheduled_tick(cron("* * * * *"), stat, at("2026-03-01T10:01:30Z"));
  BOOST_TEST(*t == at("2026-03-01T10:02:00Z"));
}

// A pass right after tick 10:02, with 10:01's job done: 10:02 still gets
// its job (it runs at once), so no tick is lost between two passes.
BOOST_AUTO_TEST_CASE(the_one_tick_that_passed_since_the_last_is_scheduled) {
  schedule_stat stat;
  stat.last_scheduled_tick = at("2026-03-01T10:01:00Z");
  auto t = next_scheduled_tick(cron("* * * * *"), stat,
                               at("2026-03-01T10:02:00.200Z"));
  BOOST_TEST(*t == at("2026-03-01T10:02:00Z"));
}

BOOST_AUTO_TEST_CASE(missed_ticks_are_not_replayed) {
  schedule_stat stat;
  stat.last_scheduled_tick = at("2026-03-01T10:01:00Z");
  auto t =
    next_scheduled_tick(cron("0 * * * *"), stat, at("2026-03-02T07:30:00Z"));
  BOOST_TEST(*t == at("2026-03-02T08:00:00Z"));
}

BOOST_AUTO_TEST_CASE(a_cron_without_further_ticks_yields_none) {
  schedule_stat never;
  BOOST_TEST(!next_scheduled_tick(cron("0 0 30 2 *"), never,
                                  at("2026-03-01T00:00:00Z")));
}

BOOST_AUTO_TEST_CASE(default_before_schedules_only_without_a_pending_job) {
  queueable q{"default", schedule_kind::task, "t", "* * * * *",
              at("2026-03-01T10:01:00Z")};
  schedule_stat stat;
  auto none = default_before_schedule({q, 0, stat, at("2026-03-01T10:00:30Z")});
  BOOST_TEST(none.should_schedule);
  BOOST_TEST(none.input == json::object());
  BOOST_TEST(*none.wait_until == q.wait_until);
  auto one = default_before_schedule({q, 1, stat, at("2026-03-01T10:00:30Z")});
  BOOST_TEST(!one.should_schedule);
}

BOOST_AUTO_TEST_CASE(default_after_records_the_run_and_the_queued_tick) {
  queueable q{"default", schedule_kind::task, "t", "* * * * *",
              at("2026-03-01T10:01:00Z")};
  schedule_stat stat;
  json job{{"id", "7"}};
  after_schedule_args queued{
    q,    schedule_status::queued,   &job, q.wait_until, {},
    stat, at("2026-03-01T10:00:30Z")};
  default_after_schedule(queued);
  BOOST_TEST(*stat.last_scheduled_run == at("2026-03-01T10:00:30Z"));
  BOOST_TEST(*stat.last_scheduled_tick == at("2026-03-01T10:01:00Z"));
  // A skip or an error records the run (Payload) but keeps the tick.
  after_schedule_args skipped{
    q,    schedule_status::skipped,  nullptr, std::nullopt, {},
    stat, at("2026-03-01T10:00:45Z")};
  default_after_schedule(skipped);
  BOOST_TEST(*stat.last_scheduled_run == at("2026-03-01T10:00:45Z"));
  BOOST_TEST(*stat.last_scheduled_tick == at("2026-03-01T10:01:00Z"));
}

BOOST_AUTO_TEST_CASE(stats_round_trip_in_payloads_shape) {
  schedule_stats s;
  s.at("default", schedule_kind::task, "report").last_scheduled_run =
    at("2026-03-01T10:00:30Z");
  s.at("default", schedule_kind::task, "report").last_scheduled_tick =
    at("2026-03-01T10:01:00Z");
  s.at("mail", schedule_kind::workflow, "digest").last_scheduled_run =
    at("2026-03-01T09:00:00Z");
  auto j = to_json(s);
  BOOST_TEST(j["scheduledRuns"]["queues"]["default"]["tasks"]["report"]
              ["lastScheduledRun"]
             == "2026-03-01T10:00:30.000Z");
  BOOST_TEST(
    j["scheduledRuns"]["queues"]["mail"]["workflows"]["digest"].contains(
      "lastScheduledTick")
    == false);
  auto back = schedule_stats_from_json(j);
  BOOST_TEST_REQUIRE(back.has_value());
  BOOST_TEST((*back == s));
}

BOOST_AUTO_TEST_CASE(malformed_stats_name_the_path) {
  auto bad = schedule_stats_from_json(json::parse(
    R"({"scheduledRuns":{"queues":{"q":{"tasks":{"t":{"lastScheduledRun":"yesterday"}}}}}})"));
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message.find(
               "stats.scheduledRuns.queues.q.tasks.t.lastScheduledRun")
             != std::string::npos);
  BOOST_TEST(!schedule_stats_from_json(json::array()).has_value());
  BOOST_TEST(schedule_stats_from_json(json::object()).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
