// Request targets and bodies, parsed before anything reaches the runtime.

#include <boost/test/unit_test.hpp>

#include "http/bodies.hpp"
#include "http/target.hpp"

using namespace conveyor;
using namespace conveyor::http;

BOOST_AUTO_TEST_SUITE(http_parsing)

BOOST_AUTO_TEST_CASE(targets_split_into_decoded_segments_and_params) {
  auto t = parse_target("/v1/queues/mail%20out/pause?a=1&b=x+y&c=%26&flag");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(
    t->segments
      == (std::vector<std::string>{"v1", "queues", "mail out", "pause"}),
    boost::test_tools::per_element());
  BOOST_TEST((t->param("a") == "1"));
  BOOST_TEST((t->param("b") == "x y"));
  BOOST_TEST((t->param("c") == "&"));
  BOOST_TEST((t->param("flag") == ""));
  BOOST_TEST(!t->param("missing").has_value());
}

BOOST_AUTO_TEST_CASE(hostile_targets_are_refused) {
  std::string many = "/v1/jobs?";
  for (std::size_t i = 0; i <= max_query_params; ++i)
    many += "p" + std::to_string(i) + "=1&";
  for (std::string bad : {"v1/jobs", "/v1/%zz", "/v1/%4", "/v1/%00", "/v1/../x",
                          "/v1//jobs", "/v1/./x", "/v1?x=%"})
    BOOST_TEST(!parse_target(bad).has_value(), bad);
  BOOST_TEST(!parse_target(many).has_value());
}

BOOST_AUTO_TEST_CASE(bodies_are_strict) {
  auto body = parse_body(R"({"task":"t","waitUntil":"2030-01-01T00:00:00Z",
                             "priority":-2,"input":{"a":[1]}})",
                         1 << 20);
  BOOST_TEST_REQUIRE(body.has_value());
  auto req = to_queue_request(*body);
  BOOST_TEST_REQUIRE(req.has_value());
  BOOST_TEST(req->task == "t");
  BOOST_TEST(req->priority == -2);
  BOOST_TEST(req->wait_until == 1'893'456'000'000);
  BOOST_TEST(req->input["a"][0] == 1);

  BOOST_TEST(parse_body("", 100)->is_object());
  BOOST_TEST(parse_body("[]", 100).error().code == model::errc::invalid_input);
  BOOST_TEST(parse_body(std::string(200, ' ') + "{}", 100).error().code
             == model::errc::too_large);
  BOOST_TEST(
    parse_body(std::string(100, '[') + std::string(100, ']'), 1000).error().code
    == model::errc::too_deep);
  auto unknown = to_queue_request(json{{"task", "t"}, {"tsak", 1}});
  BOOST_TEST(unknown.error().message.find("tsak") != std::string::npos);
  BOOST_TEST(!to_run_request(json{{"limit", 1.5}}).has_value());
  BOOST_TEST(!to_run_request(json{{"allQueues", "yes"}}).has_value());
  BOOST_TEST(!to_cancel_request(json{{"queue", "q"}}).has_value());
  BOOST_TEST(to_schedules_request(json{{"allQueues", true}})->all_queues);
}

BOOST_AUTO_TEST_SUITE_END()
