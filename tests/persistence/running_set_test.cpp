// The running set outlives its process: what a crashed process had claimed
// is read back by the next one, then cleared.

#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "persistence/running_set.hpp"
#include "support/temp_dir.hpp"

using namespace conveyor;

namespace {

std::vector<model::job_id> sorted(std::vector<model::job_id> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(running_set_tests)

BOOST_AUTO_TEST_CASE(ids_left_by_the_previous_process_are_read_then_cleared) {
  testing::temp_dir dir;
  auto path = dir.path() + "/running.slots";
  {
    auto set = persistence::running_set::open(path, 8);
    BOOST_REQUIRE(set);
    BOOST_TEST((*set)->left_over().empty());
    for (model::job_id id : {5, 6, 7, 8})
      (*set)->add(id);
    (*set)->remove(6);
    (*set)->add(7); // already there: still one slot
  }                 // the process goes away without removing the others
  {
    auto set = persistence::running_set::open(path, 8);
    BOOST_REQUIRE(set);
    BOOST_TEST(sorted((*set)->left_over())
                 == (std::vector<model::job_id>{5, 7, 8}),
               boost::test_tools::per_element());
  }
  auto again = persistence::running_set::open(path, 8);
  BOOST_REQUIRE(again);
  BOOST_TEST((*again)->left_over().empty()); // read once, then cleared
}

BOOST_AUTO_TEST_CASE(slots_are_reused_and_capacity_is_a_bound) {
  testing::temp_dir dir;
  auto path = dir.path() + "/running.slots";
  {
    auto set = persistence::running_set::open(path, 2);
    BOOST_REQUIRE(set);
    for (model::job_id id = 1; id <= 100; ++id) {
      (*set)->add(id);
      (*set)->remove(id);
    }
    (*set)->add(101);
    (*set)->add(102);
    (*set)->add(103); // full: not recorded
  }
  auto set = persistence::running_set::open(path, 2);
  BOOST_REQUIRE(set);
  BOOST_TEST(sorted((*set)->left_over())
               == (std::vector<model::job_id>{101, 102}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unusable_path_is_a_clear_error) {
  auto set = persistence::running_set::open("/nonexistent-dir/running.slots");
  BOOST_REQUIRE(!set);
  BOOST_TEST(set.error().message.find("/nonexistent-dir/running.slots")
             != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
