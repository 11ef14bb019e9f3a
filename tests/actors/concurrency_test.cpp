// Concurrency keys (docs/semantics.md §14), with Payload's defects fixed:
// `exclusive: false` is honoured, supersedes deletes only pending jobs, and
// the exclusion check and the claim are one step, also across queues.

#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

#include "support/runtime_fixture.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace concurrency_test {

struct fixture : runtime_fixture {

  std::vector<std::string> order;
  std::promise<void> blocker_entered;
  std::atomic<bool> entered_once{false};
  std::promise<void> release_blocker;
  std::shared_future<void> release_future =
    release_blocker.get_future().share();

  fixture() {
    options.delete_job_on_complete = false;
    options.queues["lifo"].processing_order = "-createdAt";
    auto record = [this](task_context& ctx) {
      std::lock_guard guard{counts_mutex};
      order.push_back(ctx.input().value("name", ""));
      return json::object();
    };
    add_task({.slug = "exclusive",
              .handler = record,
              .concurrency =
                concurrency_config{[](const json& in, const std::string&) {
                  return "exclusive:" + in.value("resource", "");
                }}});
    add_task({.slug = "per-queue",
              .handler = record,
              .concurrency = concurrency_config{
                [](const json& in, const std::string& queue) {
                  return queue + ":exclusive:" + in.value("resource", "");
                }}});
    add_task({.slug = "parallel-ok",
              .handler = record,
              .concurrency = concurrency_config{
                [](const json& in, const std::string&) {
                  return "shared:" + in.value("resource", "");
                },
                false}});
    add_task({.slug = "supersedes",
              .handler = record,
              .concurrency = concurrency_config{
                [](const json&, const std::string&) {
                  return std::string{"supersedes:supersedes-test"};
                },
                true, true}});
    add_task({.slug = "plain", .handler = record});
    // Holds its job running until the test releases it.
    add_task({.slug = "blocker",
              .handler =
                [this](task_context&) {
                  if (!entered_once.exchange(true))
                    blocker_entered.set_value();
                  release_future.wait();
                  return json::object();
                },
              .concurrency = concurrency_config{
                [](const json& in, const std::string&) {
                  return "exclusive:" + in.value("resource", "");
                },
                true, true}});
  }

  model::job_id q(const std::string& slug, std::string name,
                  std::string resource = "resource-1", std::string queue = {}) {
    return queue_task(slug, {{"name", name}, {"resource", resource}}, queue);
  }

  bool completed(model::job_id id) {
    return jobs->get(id)["status"] == "completed";
  }
  bool exists(model::job_id id) { return jobs->try_get(id).has_value(); }
};

} // namespace concurrency_test

BOOST_FIXTURE_TEST_SUITE(concurrency_tests, concurrency_test::fixture)
using namespace concurrency_test;

BOOST_AUTO_TEST_CASE(the_key_is_stored_and_only_with_a_config) {
  start();
  auto a = q("exclusive", "a");
  auto b = q("plain", "b");
  BOOST_TEST(jobs->get(a)["concurrencyKey"] == "exclusive:resource-1");
  BOOST_TEST(!jobs->get(b).contains("concurrencyKey"));
}

BOOST_AUTO_TEST_CASE(different_keys_and_keyless_jobs_run_in_parallel) {
  start();
  auto a = q("exclusive", "a", "r1");
  auto b = q("exclusive", "b", "r2");
  auto c = q("plain", "c");
  auto d = q("plain", "d");
  jobs->run();
  for (auto id : {a, b, c, d})
    BOOST_TEST(completed(id));
}

BOOST_AUTO_TEST_CASE(same_key_runs_one_at_a_time_in_fifo_order) {
  start();
  auto a = q("exclusive", "A");
  auto b = q("exclusive", "B");
  auto c = q("exclusive", "C");
  jobs->run();
  BOOST_TEST(completed(a));
  BOOST_TEST(jobs->get(b)["status"] == "queued"); // not completed, not running
  BOOST_TEST(!jobs->get(b).contains("processingToken"));
  jobs->run();
  BOOST_TEST(completed(b));
  BOOST_TEST(!completed(c));
  jobs->run();
  BOOST_TEST(completed(c));
  BOOST_TEST(order == (std::vector<std::string>{"A", "B", "C"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(same_key_in_lifo_queue_runs_newest_first) {
  start();
  for (auto n : {"A", "B", "C"})
    q("exclusive", n, "resource-1", "lifo");
  run_request req;
  req.queue = "lifo";
  for (int i = 0; i < 3; ++i)
    jobs->run(req);
  BOOST_TEST(order == (std::vector<std::string>{"C", "B", "A"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mixed_keys_and_keyless) {
  start();
  auto s1 = q("exclusive", "s1", "same");
  auto s2 = q("exclusive", "s2", "same");
  auto o = q("exclusive", "o", "other");
  auto n = q("plain", "n");
  jobs->run();
  BOOST_TEST(completed(s1));
  BOOST_TEST(!completed(s2));
  BOOST_TEST(completed(o));
  BOOST_TEST(completed(n));
  jobs->run();
  BOOST_TEST(completed(s2));
}

BOOST_AUTO_TEST_CASE(exclusive_false_allows_parallel_runs) {
  start();
  auto a = q("parallel-ok", "a");
  auto b = q("parallel-ok", "b");
  jobs->run();
  BOOST_TEST(completed(a));
  BOOST_TEST(completed(b));
}

BOOST_AUTO_TEST_CASE(a_running_key_blocks_new_jobs_across_queues) {
  start();
  auto first = q("blocker", "first", "r", "lifo");
  auto runner = std::async(std::launch::async, [&] {
    client mine{sys, rt->supervisor()};
    run_request req;
    req.queue = "lifo";
    return mine.run(req);
  });
  blocker_entered.get_future().wait();
  // Same key, another queue: keys are global.
  auto second = q("exclusive", "second", "r");
  jobs->run();
  BOOST_TEST(!completed(second));
  BOOST_TEST(jobs->get(second)["status"] == "queued");
  release_blocker.set_value();
  runner.get();
  BOOST_TEST(completed(first));
  jobs->run();
  BOOST_TEST(completed(second));
}

BOOST_AUTO_TEST_CASE(queue_specific_keys_run_in_both_queues) {
  start();
  auto a = q("per-queue", "a", "queue-test");
  auto b = q("per-queue", "b", "queue-test", "lifo");
  BOOST_TEST(jobs->get(a)["concurrencyKey"] == "default:exclusive:queue-test");
  BOOST_TEST(jobs->get(b)["concurrencyKey"] == "lifo:exclusive:queue-test");
  run_request all;
  all.all_queues = true;
  jobs->run(all);
  BOOST_TEST(completed(a));
  BOOST_TEST(completed(b));
}

BOOST_AUTO_TEST_CASE(supersedes_deletes_older_pending_jobs) {
  start();
  auto a = q("supersedes", "A");
  auto b = q("supersedes", "B");
  auto c = q("supersedes", "C");
  BOOST_TEST(!exists(a));
  BOOST_TEST(!exists(b));
  BOOST_TEST(jobs->get(c)["concurrencyKey"] == "supersedes:supersedes-test");
  std::vector<model::job_id> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(q("supersedes", "n" + std::to_string(i)));
  for (int i = 0; i < 4; ++i)
    BOOST_TEST(!exists(ids[i]));
  jobs->run();
  BOOST_TEST(completed(ids[4]));
  BOOST_TEST(order == (std::vector<std::string>{"n4"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(supersedes_keeps_running_failed_and_cancelled_jobs) {
  start();
  // Cancelled and failed jobs with the key stay (Payload deletes them).
  auto cancelled = q("supersedes", "cancelled");
  jobs->cancel_by_id(cancelled);
  // A running job with the key stays; the middle pending one goes.
  auto running = q("blocker", "running", "supersedes-test");
  auto runner = std::async(std::launch::async, [&] {
    client mine{sys, rt->supervisor()};
    return mine.run();
  });
  blocker_entered.get_future().wait();
  auto middle = q("blocker", "middle", "supersedes-test");
  auto latest = q("blocker", "latest", "supersedes-test");
  BOOST_TEST(!exists(middle));
  BOOST_TEST(jobs->get(running)["status"] == "running");
  BOOST_TEST(jobs->get(latest)["status"] == "queued");
  BOOST_TEST(jobs->get(cancelled)["status"] == "cancelled");
  release_blocker.set_value();
  runner.get();
  jobs->run();
  BOOST_TEST(completed(running));
  BOOST_TEST(completed(latest));
  BOOST_TEST(!exists(middle));
}

BOOST_AUTO_TEST_CASE(continuous_mode_starts_a_blocked_job_when_the_key_frees) {
  options.continuous = true;
  start();
  auto first = q("blocker", "first", "k");
  blocker_entered.get_future().wait();
  auto second = q("exclusive", "second", "k");
  BOOST_TEST(jobs->get(second)["status"] == "queued");
  release_blocker.set_value();
  BOOST_TEST(jobs->wait(first)["status"] == "completed");
  BOOST_TEST(jobs->wait(second)["status"] == "completed");
}

BOOST_AUTO_TEST_SUITE_END()
