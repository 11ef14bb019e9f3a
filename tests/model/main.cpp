#define BOOST_TEST_MODULE conveyor_model
#include <boost/test/unit_test.hpp>
