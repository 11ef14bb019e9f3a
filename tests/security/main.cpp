#define BOOST_TEST_MODULE conveyor_security
#include <boost/test/unit_test.hpp>
