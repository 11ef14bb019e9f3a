// Backpressure (config/README.md, "Backpressure"): a queue holds at most
// limits.maxQueuedPerQueue unfinished jobs and the node limits.maxQueued;
// a new job beyond either is refused as `overloaded` and nothing is
// written; bulk enqueue is all or nothing; a slot is free again once a job
// finishes; recovered jobs count. A node knows at most limits.maxQueues
// queues.

#include <boost/test/unit_test.hpp>

#include "support/echo_fixture.hpp"

using namespace conveyor;
using model::errc;

namespace backpressure_test {

struct fixture : testing::echo_fixture {
  fixture() {
    add_task(
      {.slug = "latest",
       .handler = [](task_context&) { return json::object(); },
       .concurrency = concurrency_config{
         [](const json&, const std::string&) { return std::string{"latest"}; },
         true, true}});
  }

  /// The error a queue request gets (errc::none if accepted).
  model::error refusal(const std::string& queue,
                       const std::string& task = "echo") {
    return queue_error({.task = task, .queue = queue});
  }

  model::error bulk_refusal(const std::vector<std::string>& queues) {
    std::vector<queue_request> reqs;
    for (const auto& q : queues)
      reqs.push_back({.task = "echo", .queue = q});
    return error_of([&] { jobs->queue_bulk(reqs); });
  }
};

} // namespace backpressure_test

BOOST_FIXTURE_TEST_SUITE(backpressure, backpressure_test::fixture)
using namespace backpressure_test;

BOOST_AUTO_TEST_CASE(a_full_queue_refuses_until_one_of_its_jobs_finishes) {
  options.limits.max_queued_per_queue = 2;
  start();
  auto first = queue_task("echo", json::object(), "a");
  queue_task("echo", json::object(), "a");
  auto full = refusal("a");
  BOOST_TEST((full.code == errc::overloaded));
  BOOST_TEST(full.message.find("limits.maxQueuedPerQueue 2")
               != std::string::npos,
             full.message);
  BOOST_TEST(stored() == 2u);
  // Another queue has its own slots.
  BOOST_TEST((refusal("b").code == errc::none));
  // A cancelled job frees its slot.
  jobs->cancel_by_id(first);
  BOOST_TEST((refusal("a").code == errc::none));
  BOOST_TEST((refusal("a").code == errc::overloaded));
  // So does a completed one.
  auto res = jobs->run({.queue = "a", .limit = 1});
  BOOST_TEST(res["jobStatus"].size() == 1u);
  BOOST_TEST((refusal("a").code == errc::none));
  BOOST_TEST((refusal("a").code == errc::overloaded));
  BOOST_TEST(stored() == 5u); // a: 4 (one cancelled, one completed), b: 1
}

BOOST_AUTO_TEST_CASE(the_node_cap_counts_every_queue_and_bulk_is_all_or_none) {
  options.limits.max_queued = 3;
  start();
  auto over = bulk_refusal({"a", "a", "b", "b"});
  BOOST_TEST((over.code == errc::overloaded));
  BOOST_TEST(over.message.find("limits.maxQueued 3") != std::string::npos,
             over.message);
  BOOST_TEST(stored() == 0u);
  BOOST_TEST((bulk_refusal({"a", "b", "b"}).code == errc::none));
  BOOST_TEST((refusal("c").code == errc::overloaded));
  BOOST_TEST(stored() == 3u);
}

BOOST_AUTO_TEST_CASE(recovered_jobs_count_against_the_cap) {
  options.limits.max_queued_per_queue = 2;
  start();
  queue_task("echo", json::object(), "a");
  queue_task("echo", json::object(), "a");
  restart();
  BOOST_TEST((refusal("a").code == errc::overloaded));
  auto res = jobs->run({.queue = "a", .limit = 1});
  BOOST_TEST(res["jobStatus"].size() == 1u);
  BOOST_TEST((refusal("a").code == errc::none));
}

BOOST_AUTO_TEST_CASE(a_job_superseding_one_in_a_full_queue_is_admitted) {
  options.limits.max_queued_per_queue = 1;
  start();
  queue_task("latest", json::object(), "a");
  // The new job replaces the pending one: the queue still holds one.
  BOOST_TEST((refusal("a", "latest").code == errc::none));
  BOOST_TEST(stored() == 1u);
  BOOST_TEST((refusal("a").code == errc::overloaded));
}

BOOST_AUTO_TEST_CASE(a_request_naming_one_queue_too_many_is_refused) {
  options.limits.max_queues = 2;
  start();
  queue_task("echo", json::object(), "a");
  jobs->pause("b");
  auto over = refusal("c");
  BOOST_TEST((over.code == errc::overloaded));
  BOOST_TEST(over.message.find("limits.maxQueues 2") != std::string::npos,
             over.message);
  BOOST_CHECK_THROW(jobs->pause("d"), request_error);
  BOOST_CHECK_THROW(jobs->set_concurrency("e", 3), request_error);
  // Known queues keep working.
  BOOST_TEST((refusal("b").code == errc::none));
  jobs->pause("a");
  BOOST_TEST(stored() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
