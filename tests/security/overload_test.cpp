// Every request gets an answer: beyond the journal's cap of new jobs on
// their way to disk, queue() fails fast with `overloaded` and writes
// nothing; bulk enqueue is all or nothing against the cap.

#include <boost/test/unit_test.hpp>

#include "conveyor/errors.hpp"
#include "security/node_fixture.hpp"

using namespace conveyor;
using namespace conveyor::testing;

namespace overload_test {

bool overloaded(const request_error& e) {
  return e.code() == model::errc::overloaded;
}

} // namespace overload_test

BOOST_FIXTURE_TEST_SUITE(overload, node_fixture)
using namespace overload_test;

BOOST_AUTO_TEST_CASE(
  queue_beyond_the_pending_cap_is_overloaded_and_writes_nothing) {
  options.max_pending_enqueues = 0;
  options.continuous = false;
  start();
  client jobs{sys, rt->supervisor()};
  BOOST_CHECK_EXCEPTION(jobs.queue({.task = "echo"}), request_error,
                        overloaded);
  BOOST_TEST(jobs.find({}).empty());
}

BOOST_AUTO_TEST_CASE(bulk_enqueue_is_all_or_nothing_against_the_cap) {
  options.max_pending_enqueues = 5;
  options.continuous = false;
  start();
  client jobs{sys, rt->supervisor()};
  std::vector<queue_request> six(6, queue_request{.task = "echo"});
  BOOST_CHECK_EXCEPTION(jobs.queue_bulk(six), request_error, overloaded);
  BOOST_TEST(jobs.find({}).empty());
  six.pop_back();
  BOOST_TEST(jobs.queue_bulk(six).size() == 5u);
  BOOST_TEST(jobs.find({}).size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
