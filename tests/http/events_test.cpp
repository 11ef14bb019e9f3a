// GET /v1/events (docs/http.md, "Events"): job transitions as Server-Sent
// Events, in order, filtered by queue and by the caller's `read` rule;
// streams are capped and a client that leaves frees its place.

#include <boost/test/unit_test.hpp>

#include "http_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using namespace conveyor::testing;
using namespace std::chrono_literals;

namespace events_test {

struct fixture : http_fixture {
  fixture() {
    // The reader sees only the "public" queue.
    options.access.read = [](const request_context& ctx,
                             const access_target& target) {
      bool admin = std::find(ctx.roles.begin(), ctx.roles.end(), "admin")
                   != ctx.roles.end();
      return admin || target.queue == std::optional<std::string>{"public"};
    };
    web_options.max_event_streams = 2;
    add_task({.slug = "report", .handler = [](task_context& ctx) {
                ctx.progress(0.5, "half way");
                return json::object();
              }});
    serve();
  }

  std::unique_ptr<http_socket>
  subscribe(const std::string& query = {},
            const std::string& token = admin_token) {
    auto s = std::make_unique<http_socket>(port);
    s->send("GET /v1/events" + query
            + " HTTP/1.1\r\nHost: x\r\n"
              "Authorization: Bearer "
            + token + "\r\n\r\n");
    BOOST_REQUIRE(s->read_until(": conveyor events\n\n", 10s));
    return s;
  }
};

/// The event types in a stream's text, in order.
std::vector<std::string> types_in(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = text.find("\nevent: ", pos)) != std::string::npos) {
    pos += 8;
    out.push_back(text.substr(pos, text.find('\n', pos) - pos));
  }
  return out;
}

} // namespace events_test

BOOST_FIXTURE_TEST_SUITE(http_events, events_test::fixture)
using namespace events_test;

BOOST_AUTO_TEST_CASE(a_stream_sees_each_transition_of_a_job_in_order) {
  auto stream = subscribe();
  BOOST_TEST(stream->text().find("text/event-stream") != std::string::npos);
  auto id = client::id_of(jobs->queue({.task = "echo", .input = {{"n", 1}}}));
  jobs->run_by_id(id);
  BOOST_TEST_REQUIRE(stream->read_until("event: completed\n", 10s));
  BOOST_TEST(types_in(stream->text())
               == (std::vector<std::string>{"queued", "started", "step_started",
                                            "step_finished", "completed"}),
             boost::test_tools::per_element());
  auto data_at = stream->text().rfind("data: ");
  auto event = json::parse(stream->text().substr(
    data_at + 6, stream->text().find('\n', data_at) - data_at - 6));
  BOOST_TEST(event["type"] == "completed");
  BOOST_TEST(event["job"]["id"] == std::to_string(id));
  BOOST_TEST(event["job"]["log"][0]["output"]["echo"]["n"] == 1);
}

BOOST_AUTO_TEST_CASE(a_stream_sees_what_a_running_step_does) {
  auto stream = subscribe();
  auto reader = subscribe("", reader_token); // may not read queue "a"
  auto id = client::id_of(jobs->queue({.task = "report", .queue = "a"}));
  jobs->run_by_id(id);
  BOOST_TEST_REQUIRE(stream->read_until("event: completed\n", 10s));
  BOOST_TEST(
    types_in(stream->text())
      == (std::vector<std::string>{"queued", "started", "step_started",
                                   "progress", "step_finished", "completed"}),
    boost::test_tools::per_element());
  auto at = stream->text().find("event: progress\ndata: ") + 22;
  auto event =
    json::parse(stream->text().substr(at, stream->text().find('\n', at) - at));
  BOOST_TEST(event["job"]["id"] == std::to_string(id));
  BOOST_TEST(event["job"]["queue"] == "a");
  BOOST_TEST(!event["job"].contains("input")); // identity only
  BOOST_TEST(event["live"]["progress"]["fraction"] == 0.5);
  BOOST_TEST(event["live"]["progress"]["message"] == "half way");
  BOOST_TEST(event["live"]["steps"][0]["taskSlug"] == "report");
  // A marker on a queue the reader may see: everything before it was
  // delivered (or withheld) already.
  auto marker = jobs->queue({.task = "echo", .queue = "public"});
  BOOST_TEST_REQUIRE(reader->read_until(
    "\"id\":\"" + std::to_string(client::id_of(marker)) + "\"", 10s));
  BOOST_TEST(reader->text().find("progress") == std::string::npos);
  BOOST_TEST(reader->text().find("step_started") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_queue_filter_and_the_read_rule_narrow_a_stream) {
  auto only_b = subscribe("?queue=b");
  auto reader = subscribe("", reader_token);
  jobs->queue({.task = "echo", .queue = "a"});
  jobs->queue({.task = "echo", .queue = "b"});
  jobs->queue({.task = "echo", .queue = "public"});
  auto marker = jobs->queue({.task = "echo", .queue = "b"});
  BOOST_TEST_REQUIRE(only_b->read_until(
    "\"id\":\"" + std::to_string(client::id_of(marker)) + "\"", 10s));
  BOOST_TEST(only_b->text().find("\"queue\":\"a\"") == std::string::npos);
  BOOST_TEST(only_b->text().find("\"queue\":\"public\"") == std::string::npos);
  BOOST_TEST_REQUIRE(reader->read_until("\"queue\":\"public\"", 10s));
  BOOST_TEST(reader->text().find("\"queue\":\"a\"") == std::string::npos);
  BOOST_TEST(reader->text().find("\"queue\":\"b\"") == std::string::npos);
  // Asking for a queue the rule hides is refused outright.
  auto refused = call("GET", "/v1/events?queue=a", "", reader_token);
  BOOST_TEST(refused.status == 403);
}

BOOST_AUTO_TEST_CASE(streams_are_capped_and_a_leaving_client_frees_its_place) {
  auto first = subscribe();
  auto second = subscribe();
  auto third = call("GET", "/v1/events");
  BOOST_TEST(third.status == 503);
  BOOST_TEST(third.header("retry-after") == "5");
  first.reset(); // the client leaves
  BOOST_TEST(eventually([&] {
    http_socket s{port};
    s.send("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
           + admin_token + "\r\n\r\n");
    return s.read_until(": conveyor events\n\n", 5s);
  }));
}

BOOST_AUTO_TEST_CASE(a_destroyed_server_with_open_streams_lets_its_feed_go) {
  // An embedder may start and drop HTTP doors while the runtime lives on:
  // an open stream must not keep a dropped door (and its feed) alive.
  runtime_options hooks;
  auto news = feed_http(hooks);
  std::weak_ptr<http::feed> watched = news;
  authenticator auth = [](const std::string&) {
    return std::optional<principal_info>{principal_info{"ada", {"admin"}}};
  };
  auto door = std::make_unique<http_server>(sys, *rt, auth, web_options, news);
  auto bound = door->start();
  BOOST_TEST_REQUIRE(bound.has_value());
  http_socket stream{*bound};
  stream.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n"
              "Authorization: Bearer any\r\n\r\n");
  BOOST_TEST_REQUIRE(stream.read_until(": conveyor events\n\n", 10s));
  door.reset();
  news.reset();
  hooks = runtime_options{};
  BOOST_TEST(watched.expired());
}

BOOST_AUTO_TEST_SUITE_END()
