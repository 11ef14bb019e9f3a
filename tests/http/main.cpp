#define BOOST_TEST_MODULE conveyor_http
#include <boost/test/unit_test.hpp>
