// Schedules (docs/semantics.md §17) driven by the injected clock: one job
// per tick, no duplicates under concurrent passes, stats that survive a
// restart, hooks.

#include <boost/test/unit_test.hpp>

#include <set>
#include <thread>

#include "model/time.hpp"
#include "support/runtime_fixture.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace schedule_test {

struct fixture : runtime_fixture {

  /// waitUntil of every executed job, by task slug.
  std::mutex ticks_mutex;
  std::map<std::string, std::vector<model::time_ms>> ran;

  void add_scheduled(const std::string& slug, const std::string& cron,
                     const std::string& queue = "default") {
    add_task({.slug = slug,
              .handler =
                [this, slug](task_context& ctx) {
                  std::lock_guard guard{ticks_mutex};
                  ran[slug].push_back(ctx.job().wait_until.value_or(0));
                  return json::object();
                },
              .schedule = {{.cron = cron, .queue = queue}}});
  }

  std::vector<model::time_ms> ticks_of(const std::string& slug) {
    std::lock_guard guard{ticks_mutex};
    return ran[slug];
  }

  json handle(const std::string& queue = "default") {
    return jobs->handle_schedules({queue, false});
  }

  static model::time_ms wait_until_of(const json& entry) {
    return *model::parse_iso8601(entry.at("waitUntil").get<std::string>());
  }
};

} // namespace schedule_test

BOOST_FIXTURE_TEST_SUITE(schedule_tests, schedule_test::fixture)
using namespace schedule_test;

BOOST_AUTO_TEST_CASE(a_pass_queues_one_job_for_the_next_tick_then_skips) {
  add_scheduled("report", "* * * * *");
  start();
  now += 30'000; // mid-minute
  auto first = handle();
  BOOST_TEST_REQUIRE(first["queued"].size() == 1u);
  BOOST_TEST(first["skipped"].empty());
  auto& q = first["queued"][0];
  BOOST_TEST(q["task"] == "report");
  BOOST_TEST(q["queue"] == "default");
  BOOST_TEST(wait_until_of(q) == now - 30'000 + 60'000);
  auto job = jobs->get(std::stoull(q["job"].get<std::string>()));
  BOOST_TEST(job["meta"]["scheduled"] == true);
  BOOST_TEST(job["waitUntil"] == q["waitUntil"]);
  BOOST_TEST(jobs->count_active({"default", "report", "", true}) == 1);

  auto second = handle();
  BOOST_TEST(second["queued"].empty());
  BOOST_TEST_REQUIRE(second["skipped"].size() == 1u);
  BOOST_TEST(jobs->count_active({"default", "report", "", false}) == 1);
}

BOOST_AUTO_TEST_CASE(handle_schedules_then_run_runs_the_job_it_queued) {
  add_scheduled("report", "* * * * *");
  start();
  auto first = jobs->handle_schedules_then_run({"default", false}, {});
  BOOST_TEST_REQUIRE(first["schedules"]["queued"].size() == 1u);
  // The tick is a minute away: queued, not yet due.
  BOOST_TEST(first["run"]["noJobsRemaining"] == true);
  now += 60'001; // due once waitUntil < now (docs/semantics.md §5)
  rt->clock_changed();
  auto second = jobs->handle_schedules_then_run({"default", false}, {});
  auto id = first["schedules"]["queued"][0]["job"].get<std::string>();
  BOOST_TEST(second["run"]["jobStatus"][id]["status"] == "success",
             second.dump());
  BOOST_TEST(ticks_of("report").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_queue_without_schedules_gets_empty_lists) {
  add_scheduled("report", "* * * * *");
  start();
  auto res = handle("elsewhere");
  BOOST_TEST(res["queued"].empty());
  BOOST_TEST(res["skipped"].empty());
  BOOST_TEST(res["errored"].empty());
  auto all = jobs->handle_schedules({"default", true});
  BOOST_TEST(all["queued"].size() == 1u);
}

// Every second for five simulated minutes, as an autoRun entry would: a
// pass (twice, the second must skip), then a run. Every tick of both crons
// runs exactly once, at its time, and no tick is skipped.
BOOST_AUTO_TEST_CASE(every_tick_runs_exactly_once_over_simulated_minutes) {
  add_scheduled("every-second", "* * * * * *");
  add_scheduled("every-minute", "* * * * *");
  start();
  const auto t0 = now.load();
  const int seconds = 300;
  for (int k = 0; k < seconds; ++k) {
    now = t0 + k * 1000 + 200;
    handle();
    auto again = handle();
    BOOST_TEST(again["queued"].empty(), "second pass at " << k << "s queued");
    jobs->run({.limit = 100});
  }
  auto secs = ticks_of("every-second");
  BOOST_TEST_REQUIRE(secs.size() == static_cast<std::size_t>(seconds - 1));
  for (int k = 1; k < seconds; ++k)
    BOOST_TEST(secs[k - 1] == t0 + k * 1000);
  auto mins = ticks_of("every-minute");
  BOOST_TEST_REQUIRE(mins.size() == 4u); // 1, 2, 3 and 4 minutes in
  for (int m = 1; m <= 4; ++m)
    BOOST_TEST(mins[m - 1] == t0 + m * 60'000);
}

// Payload race: two passes for one queue at once both see no pending job
// and both queue. Here passes are serialized by the scheduler actor.
BOOST_AUTO_TEST_CASE(concurrent_passes_queue_one_job) {
  add_scheduled("report", "* * * * *");
  start();
  std::atomic<int> queued{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      client c{sys, rt->supervisor()};
      auto res = c.handle_schedules({});
      queued += static_cast<int>(res["queued"].size());
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(queued == 1);
  BOOST_TEST(jobs->count_active({"default", "report", "", true}) == 1);
}

// Payload race: passes for different queues overwrite each other's stats.
// Both survive here, also across a restart: after it, the skipped
// candidates name the tick after the one already queued.
BOOST_AUTO_TEST_CASE(stats_of_concurrent_queues_all_survive_a_restart) {
  add_scheduled("a", "* * * * *", "qa");
  add_scheduled("b", "* * * * *", "qb");
  start();
  const auto minute = now.load();
  std::thread ta([&] {
    client{sys, rt->supervisor()}.handle_schedules({"qa"});
  });
  std::thread tb([&] {
    client{sys, rt->supervisor()}.handle_schedules({"qb"});
  });
  ta.join();
  tb.join();
  restart();
  for (auto q : {"qa", "qb"}) {
    auto res = handle(q);
    BOOST_TEST_REQUIRE(res["skipped"].size() == 1u, q);
    BOOST_TEST(wait_until_of(res["skipped"][0]) == minute + 120'000, q);
  }
}

// Payload race: once the job of a tick completed and was deleted, the next
// pass computed that same past tick again and it ran twice.
BOOST_AUTO_TEST_CASE(a_completed_and_deleted_job_never_brings_its_tick_back) {
  add_scheduled("report", "* * * * *");
  start();
  const auto minute = now.load();
  now = minute + 30'000;
  handle();
  now = minute + 61'000;
  jobs->run();
  BOOST_TEST(ticks_of("report").size() == 1u);
  auto res = handle();
  BOOST_TEST_REQUIRE(res["queued"].size() == 1u);
  BOOST_TEST(wait_until_of(res["queued"][0]) == minute + 120'000);
  jobs->run();
  BOOST_TEST(ticks_of("report").size() == 1u);
}

BOOST_AUTO_TEST_CASE(custom_hooks_decide_and_see_every_outcome) {
  std::vector<std::string> after;
  std::mutex m;
  add_task({.slug = "custom",
            .handler =
              [this](task_context& ctx) {
                bump("n=" + ctx.input().value("n", json{}).dump());
                return json::object();
              },
            .schedule = {{.cron = "* * * * *",
                          .queue = "default",
                          .before_schedule =
                            [](const model::before_schedule_args& a) {
                              auto d = model::default_before_schedule(a);
                              d.input = {{"n", a.pending_scheduled + 41}};
                              d.wait_until.reset(); // runnable at once
                              return d;
                            },
                          .after_schedule =
                            [&](model::after_schedule_args& a) {
                              std::lock_guard guard{m};
                              after.emplace_back(model::to_string(a.status));
                              model::default_after_schedule(a);
                            }}}});
  add_task(
    {.slug = "throws",
     .handler = [](task_context&) { return json::object(); },
     .schedule = {{.cron = "* * * * *",
                   .queue = "default",
                   .before_schedule = [](const model::before_schedule_args&)
                     -> model::schedule_decision {
                     throw std::runtime_error("no calendar");
                   }}}});
  start();
  auto res = handle();
  BOOST_TEST_REQUIRE(res["queued"].size() == 1u);
  BOOST_TEST_REQUIRE(res["errored"].size() == 1u);
  BOOST_TEST(res["errored"][0]["task"] == "throws");
  BOOST_TEST(res["errored"][0]["error"].get<std::string>().find("no calendar")
             != std::string::npos);
  handle();    // the first job is still pending
  jobs->run(); // runnable at once: no waitUntil
  BOOST_TEST(count("n=41") == 1);
  std::lock_guard guard{m};
  BOOST_TEST((after == std::vector<std::string>{"queued", "skipped"}));
}

// beforeSchedule gets Payload's arguments: the candidate (queue, slug,
// cron, the tick), the pending scheduled jobs' count and the oldest of them.
BOOST_AUTO_TEST_CASE(before_schedule_sees_the_pending_scheduled_job) {
  struct seen {
    std::string queue, slug, cron;
    model::time_ms tick;
    std::int64_t pending;
    json job;
  };
  std::vector<seen> calls;
  std::mutex m;
  add_task({.slug = "watched",
            .handler = [](task_context&) { return json::object(); },
            .schedule = {
              {.cron = "*/5 * * * *",
               .queue = "reports",
               .before_schedule = [&](const model::before_schedule_args& a) {
                 std::lock_guard guard{m};
                 calls.push_back({a.candidate.queue, a.candidate.slug,
                                  a.candidate.cron, a.candidate.wait_until,
                                  a.pending_scheduled,
                                  a.pending_job ? *a.pending_job : json{}});
                 auto d = model::default_before_schedule(a);
                 d.wait_until.reset(); // runnable at once
                 return d;
               }}}});
  start();
  auto first = handle("reports");
  BOOST_TEST_REQUIRE(first["queued"].size() == 1u);
  auto id = first["queued"][0]["job"];
  handle("reports"); // the job is still pending
  jobs->run({.queue = "reports"});
  handle("reports"); // it completed: nothing pending any more
  std::lock_guard guard{m};
  BOOST_TEST_REQUIRE(calls.size() == 3u);
  BOOST_TEST(calls[0].queue == "reports");
  BOOST_TEST(calls[0].slug == "watched");
  BOOST_TEST(calls[0].cron == "*/5 * * * *");
  BOOST_TEST(calls[0].tick % 300'000 == 0);
  BOOST_TEST(calls[0].pending == 0);
  BOOST_TEST(calls[0].job.is_null());
  BOOST_TEST(calls[1].pending == 1);
  BOOST_TEST(calls[1].job["id"] == id);
  BOOST_TEST(calls[1].job["taskSlug"] == "watched");
  BOOST_TEST(calls[1].job["meta"]["scheduled"] == true);
  BOOST_TEST(calls[2].pending == 0);
  BOOST_TEST(calls[2].job.is_null());
}

BOOST_AUTO_TEST_CASE(a_job_the_queue_rejects_is_errored) {
  add_task(
    {.slug = "needs-input",
     .handler = [](task_context&) { return json::object(); },
     .input_schema = json::parse(R"({"type":"object","required":["id"]})"),
     .schedule = {{.cron = "* * * * *", .queue = "default"}}});
  start();
  auto res = handle();
  BOOST_TEST(res["queued"].empty());
  BOOST_TEST_REQUIRE(res["errored"].size() == 1u);
  BOOST_TEST(res["errored"][0]["error"].get<std::string>().find("id")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_schedules_are_rejected_at_registration) {
  auto handler = [](task_context&) { return json::object(); };
  auto bad_cron =
    reg->add_task({.slug = "x",
                   .handler = handler,
                   .schedule = {{.cron = "61 * * * *", .queue = "default"}}});
  BOOST_TEST_REQUIRE(!bad_cron);
  BOOST_TEST(bad_cron.error().message.find("schedule[0].cron")
             != std::string::npos);
  auto bad_queue =
    reg->add_task({.slug = "y",
                   .handler = handler,
                   .schedule = {{.cron = "* * * * *", .queue = ""}}});
  BOOST_TEST_REQUIRE(!bad_queue);
  BOOST_TEST(bad_queue.error().message.find("schedule[0].queue")
             != std::string::npos);
  BOOST_TEST(reg->find_task("x") == nullptr);
  BOOST_TEST(reg->find_task("y") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_task_priority_is_the_default_of_its_jobs) {
  add_task({.slug = "urgent",
            .handler = [](task_context&) { return json::object(); },
            .priority = 5});
  start();
  queue_request plain;
  plain.task = "urgent";
  BOOST_TEST(jobs->queue(plain)["priority"] == 5);
  plain.priority = 7;
  BOOST_TEST(jobs->queue(plain)["priority"] == 7);
}

BOOST_AUTO_TEST_SUITE_END()
