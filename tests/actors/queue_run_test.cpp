// Queueing, run limits, processing order, deletion on completion and
// targeted runs against the public API (docs/semantics.md §4, §5, §6, §12).

#include <boost/test/unit_test.hpp>

#include "support/runtime_fixture.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace queue_run_test {

struct fixture : runtime_fixture {

  std::vector<std::string> order; // messages in execution order
  fixture() {
    add_task({.slug = "CreateSimple",
              .handler =
                [this](task_context& ctx) {
                  bump("CreateSimple");
                  std::lock_guard guard{counts_mutex};
                  order.push_back(ctx.input().value("message", ""));
                  return json{{"title", ctx.input().value("message", "")}};
                },
              .retries = model::retry_config{.attempts = 3}});
  }
};

} // namespace queue_run_test

BOOST_FIXTURE_TEST_SUITE(queue_run_tests, queue_run_test::fixture)
using namespace queue_run_test;

BOOST_AUTO_TEST_CASE(a_single_task_job_runs_once_and_is_deleted) {
  start();
  auto id = queue_task("CreateSimple", {{"message", "from single task"}});
  auto before = jobs->get(id);
  BOOST_TEST(before["taskSlug"] == "CreateSimple");
  BOOST_TEST(before["status"] == "queued");
  BOOST_TEST(before["totalTried"] == 0);
  auto res = jobs->run();
  BOOST_TEST(res["jobStatus"][std::to_string(id)]["status"] == "success");
  BOOST_TEST(res["remainingJobsFromQueried"] == 0);
  BOOST_TEST(count("CreateSimple") == 1);
  BOOST_TEST(!jobs->try_get(id).has_value()); // deleteJobOnComplete default
  auto again = jobs->run();
  BOOST_TEST(
    again
    == (json{{"noJobsRemaining", true}, {"remainingJobsFromQueried", 0}}));
}

BOOST_AUTO_TEST_CASE(eight_and_a_hundred_fifty_jobs_all_run) {
  start();
  for (int i = 0; i < 8; ++i)
    queue_task("CreateSimple", {{"message", "m" + std::to_string(i)}});
  jobs->run();
  BOOST_TEST(count("CreateSimple") == 8);
  for (int i = 0; i < 150; ++i)
    queue_task("CreateSimple", {{"message", "x"}});
  run_request req;
  req.limit = 150;
  auto res = jobs->run(req);
  BOOST_TEST(res["jobStatus"].size() == 150u);
  BOOST_TEST(count("CreateSimple") == 158);
}

BOOST_AUTO_TEST_CASE(default_limit_is_ten_and_limit_is_respected) {
  start();
  for (int i = 0; i < 65; ++i)
    queue_task("CreateSimple", {{"message", "x"}});
  jobs->run();
  BOOST_TEST(count("CreateSimple") == 10);
  run_request req;
  req.limit = 42;
  jobs->run(req);
  BOOST_TEST(count("CreateSimple") == 52);
}

BOOST_AUTO_TEST_CASE(bulk_enqueue_is_all_or_nothing) {
  start();
  std::vector<queue_request> reqs(3);
  for (auto& r : reqs) {
    r.task = "CreateSimple";
    r.input = json{{"message", "bulk"}};
  }
  reqs[2].task = "NoSuchTask";
  BOOST_CHECK_EXCEPTION(
    jobs->queue_bulk(reqs), request_error, [](const request_error& e) {
      return e.code() == errc::invalid_input
             && e.message().find("[2]") != std::string::npos;
    });
  BOOST_TEST(jobs->find().empty());
  reqs[2].task = "CreateSimple";
  auto out = jobs->queue_bulk(reqs);
  BOOST_TEST(out.size() == 3u);
  BOOST_TEST(jobs->find().size() == 3u);
}

BOOST_AUTO_TEST_CASE(fifo_by_default_and_lifo_per_call) {
  start();
  for (auto m : {"1", "2", "3"})
    queue_task("CreateSimple", {{"message", m}});
  run_request req;
  req.sequential = true;
  jobs->run(req);
  BOOST_TEST(order == (std::vector<std::string>{"1", "2", "3"}),
             boost::test_tools::per_element());
  order.clear();
  for (auto m : {"1", "2", "3"})
    queue_task("CreateSimple", {{"message", m}});
  req.processing_order = "-createdAt";
  jobs->run(req);
  BOOST_TEST(order == (std::vector<std::string>{"3", "2", "1"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(queue_configured_lifo_is_respected) {
  options.queues["lifo"].processing_order = "-createdAt";
  start();
  for (auto m : {"a", "b", "c"})
    queue_task("CreateSimple", {{"message", m}}, "lifo");
  run_request req;
  req.queue = "lifo";
  req.sequential = true;
  jobs->run(req);
  BOOST_TEST(order == (std::vector<std::string>{"c", "b", "a"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(priority_runs_first_within_the_order) {
  start();
  queue_task("CreateSimple", {{"message", "low"}});
  queue_request req;
  req.task = "CreateSimple";
  req.input = json{{"message", "high"}};
  req.priority = 10;
  jobs->queue(req);
  run_request run;
  run.sequential = true;
  jobs->run(run);
  BOOST_TEST(order == (std::vector<std::string>{"high", "low"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(delete_job_on_complete_false_keeps_completed_jobs) {
  options.delete_job_on_complete = false;
  start();
  auto id = queue_task("CreateSimple", {{"message", "keep"}});
  jobs->run();
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(j.contains("completedAt"));
  BOOST_TEST(!j.contains("processingUntil"));
  BOOST_TEST(!j.contains("processingToken"));
  BOOST_TEST(j["totalTried"] == 1);
  BOOST_TEST(j["taskStatus"]["CreateSimple"]["1"]["complete"] == true);
  BOOST_TEST(j["taskStatus"]["CreateSimple"]["1"]["output"]["title"] == "keep");
}

BOOST_AUTO_TEST_CASE(run_by_id_runs_only_that_job) {
  options.delete_job_on_complete = false;
  start();
  queue_task("CreateSimple", {{"message", "1"}});
  queue_task("CreateSimple", {{"message", "2"}});
  auto last = queue_task("CreateSimple", {{"message", "3"}});
  auto res = jobs->run_by_id(last);
  BOOST_TEST(res["jobStatus"].size() == 1u);
  BOOST_TEST(order == (std::vector<std::string>{"3"}),
             boost::test_tools::per_element());
  find_request completed;
  completed.where = {{"completedAt", {{"exists", true}}}};
  auto done = jobs->find(completed);
  BOOST_REQUIRE(done.size() == 1u);
  BOOST_TEST(client::id_of(done[0]) == last);
}

BOOST_AUTO_TEST_CASE(where_on_id_and_on_input_select_the_job) {
  options.delete_job_on_complete = false;
  start();
  auto a = queue_task("CreateSimple", {{"message", "job 1"}});
  queue_task("CreateSimple", {{"message", "job 2"}});
  run_request req;
  req.where = {{"id", {{"equals", std::to_string(a)}}}};
  jobs->run(req);
  BOOST_TEST(order == (std::vector<std::string>{"job 1"}),
             boost::test_tools::per_element());
  req.where = {{"input.message", {{"equals", "job 2"}}}};
  jobs->run(req);
  BOOST_TEST(order.size() == 2u);
  BOOST_TEST(order.back() == "job 2");
}

BOOST_AUTO_TEST_CASE(wait_until_defers_the_job_strictly) {
  start();
  queue_request req;
  req.task = "CreateSimple";
  req.input = json{{"message", "later"}};
  req.wait_until = now.load() + 1000;
  auto id = client::id_of(jobs->queue(req));
  BOOST_TEST(jobs->get(id)["status"] == "waiting");
  BOOST_TEST(jobs->run().value("noJobsRemaining", false));
  now += 1000; // equal is not enough: waitUntil < now
  BOOST_TEST(jobs->run().value("noJobsRemaining", false));
  now += 1;
  jobs->run();
  BOOST_TEST(count("CreateSimple") == 1);
}

BOOST_AUTO_TEST_CASE(bad_input_is_rejected_and_nothing_is_written) {
  add_task(
    {.slug = "typed",
     .handler = [](task_context&) { return json::object(); },
     .input_schema = json{{"type", "object"},
                          {"required", {"path"}},
                          {"properties", {{"path", {{"type", "string"}}}}}}});
  start();
  auto expect_invalid = [&](queue_request req, std::string needle) {
    try {
      jobs->queue(req);
      BOOST_ERROR("accepted bad input: " << needle);
    } catch (const request_error& e) {
      BOOST_TEST(e.message().find(needle) != std::string::npos, e.message());
    }
  };
  queue_request r;
  r.task = "typed";
  r.input = json{{"path", 3}};
  expect_invalid(r, "input.path");
  r.input = json::object();
  expect_invalid(r, "path");
  r.task = "nope";
  expect_invalid(r, "not registered");
  r.task = "typed";
  r.input = json{{"path", "ok"}};
  r.queue = "bad queue\n";
  expect_invalid(r, "queue");
  r.queue.clear();
  r.workflow = "x";
  expect_invalid(r, "exactly one");
  json deep = json::array();
  json* cur = &deep;
  for (int i = 0; i < 70; ++i) {
    cur->push_back(json::array());
    cur = &(*cur)[0];
  }
  r.workflow.clear();
  r.input = json{{"path", "x"}, {"deep", deep}};
  expect_invalid(r, "deeper");
  BOOST_TEST(jobs->find().empty());
}

BOOST_AUTO_TEST_CASE(idempotency_key_returns_the_original_job) {
  options.delete_job_on_complete = false;
  start();
  queue_request req;
  req.task = "CreateSimple";
  req.input = json{{"message", "once"}};
  req.idempotency_key = "order-17";
  auto a = jobs->queue(req);
  auto b = jobs->queue(req);
  BOOST_TEST(a["id"] == b["id"]);
  restart();
  auto c = jobs->queue(req);
  BOOST_TEST(a["id"] == c["id"]);
  BOOST_TEST(jobs->find().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace queue_run_test {

json nested(int depth) {
  json v = json::object();
  for (int i = 1; i < depth; ++i)
    v = json{{"d", v}};
  return v;
}

} // namespace queue_run_test

BOOST_FIXTURE_TEST_SUITE(run_limits_tests, queue_run_test::fixture)
using namespace queue_run_test;

BOOST_AUTO_TEST_CASE(input_at_the_depth_limit_is_stored_and_read_back) {
  options.delete_job_on_complete = false;
  start();
  auto id = queue_task("CreateSimple", nested(64));
  jobs->run();
  auto j = jobs->get(id); // the stored document nests the input deeper
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(j["log"][0]["input"] == nested(64));
}

BOOST_AUTO_TEST_CASE(output_too_deep_fails_the_task_not_the_runtime) {
  options.delete_job_on_complete = false;
  add_task({.slug = "deep-output",
            .handler = [](task_context&) { return nested(200); }});
  start();
  auto id = queue_task("deep-output");
  jobs->run();
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "failed");
  BOOST_TEST(j["log"][0]["error"]["name"] == "InvalidOutput");
}

BOOST_AUTO_TEST_SUITE_END()
