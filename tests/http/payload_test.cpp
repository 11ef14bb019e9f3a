// Payload's endpoints (docs/http.md, "Payload's endpoints"; spec §3.12):
// the parameters, defaults and answers a cron service set up for Payload
// relies on.

#include <boost/test/unit_test.hpp>

#include "http_fixture.hpp"

using namespace conveyor;
using namespace conveyor::testing;

namespace payload_test {

struct fixture : http_fixture {
  fixture() {
    add_task({.slug = "report",
              .handler =
                [this](task_context&) {
                  bump("report");
                  return json::object();
                },
              .schedule = {{.cron = "* * * * *", .queue = "default"}}});
    serve();
  }
};

} // namespace payload_test

BOOST_FIXTURE_TEST_SUITE(http_payload, payload_test::fixture)
using namespace payload_test;

BOOST_AUTO_TEST_CASE(run_needs_a_token_allowed_by_the_run_rule) {
  for (const auto& path :
       {"/api/payload-jobs/run", "/api/payload-jobs/handle-schedules"}) {
    auto none = http_call(port, "GET", path);
    BOOST_TEST(none.status == 401, path);
    BOOST_TEST(body_of(none).contains("message"));
    auto reader = call("GET", path, "", reader_token);
    BOOST_TEST(reader.status == 401, path);
  }
  BOOST_TEST(stored() == 0u);
}

BOOST_AUTO_TEST_CASE(run_handles_schedules_then_runs_with_payloads_answer) {
  for (int i = 0; i < 3; ++i)
    jobs->queue({.task = "echo"});
  auto r = call("GET", "/api/payload-jobs/run?limit=2");
  BOOST_TEST_REQUIRE(r.status == 200);
  auto body = body_of(r);
  BOOST_TEST(body["message"] == "Success");
  BOOST_TEST(body["noJobsRemaining"] == false);
  BOOST_TEST(body.contains("remainingJobsFromQueried"));
  BOOST_TEST(body.size() == 3u);
  // The schedule pass queued a report job for the next minute; the run
  // took the two oldest echo jobs.
  auto reports = jobs->find({.where = {{"taskSlug", {{"equals", "report"}}}}});
  BOOST_TEST(reports.size() == 1u);
  auto done = jobs->find({.where = {{"status", {{"equals", "completed"}}}}});
  BOOST_TEST(done.size() == 2u);
  // POST works the same; a limit that is not a number means 10.
  auto rest = call("POST", "/api/payload-jobs/run?limit=many");
  BOOST_TEST(rest.status == 200);
  BOOST_TEST(
    jobs->find({.where = {{"status", {{"equals", "completed"}}}}}).size()
    == 3u);
}

BOOST_AUTO_TEST_CASE(disable_scheduling_skips_the_schedule_pass) {
  auto r = call("GET", "/api/payload-jobs/run?disableScheduling=true");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(stored() == 0u);
}

BOOST_AUTO_TEST_CASE(all_queues_is_true_for_any_value_but_false) {
  jobs->queue({.task = "echo", .queue = "elsewhere"});
  call("GET", "/api/payload-jobs/run?allQueues=false&disableScheduling=true");
  BOOST_TEST(
    jobs->find({.where = {{"status", {{"equals", "completed"}}}}}).empty());
  call("GET", "/api/payload-jobs/run?allQueues=1&disableScheduling=true");
  BOOST_TEST(
    jobs->find({.where = {{"status", {{"equals", "completed"}}}}}).size()
    == 1u);
}

BOOST_AUTO_TEST_CASE(handle_schedules_answers_queued_skipped_errored) {
  auto first = body_of(call("GET", "/api/payload-jobs/handle-schedules"));
  BOOST_TEST(first["message"] == "Success");
  BOOST_TEST(first["queued"].size() == 1u);
  BOOST_TEST(first["skipped"].empty());
  BOOST_TEST(first["errored"].empty());
  auto second = body_of(call("POST", "/api/payload-jobs/handle-schedules"));
  BOOST_TEST(second["queued"].empty());
  BOOST_TEST(second["skipped"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_malformed_where_is_400_and_runs_nothing) {
  jobs->queue({.task = "echo"});
  auto r = call("GET", "/api/payload-jobs/run?where=%7B");
  BOOST_TEST(r.status == 400);
  BOOST_TEST(body_of(r).contains("message"));
  BOOST_TEST(
    jobs->find({.where = {{"status", {{"equals", "completed"}}}}}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
