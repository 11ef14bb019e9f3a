#define BOOST_TEST_MODULE conveyor_tasks
#include <boost/test/unit_test.hpp>
