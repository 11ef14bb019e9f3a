#define BOOST_TEST_MODULE conveyor_config
#include <boost/test/unit_test.hpp>
