#define BOOST_TEST_MODULE conveyor_runtime
#include <boost/test/unit_test.hpp>
