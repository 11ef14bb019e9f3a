#define BOOST_TEST_MODULE conveyor_persistence
#include <boost/test/unit_test.hpp>
