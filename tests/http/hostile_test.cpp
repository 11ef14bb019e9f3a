// Hostile HTTP clients: slow, oversized, malformed, too many. Each is
// answered or dropped within its limit, and the door keeps serving.

#include <boost/test/unit_test.hpp>

#include <future>
#include <random>

#include "http_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using namespace conveyor::testing;
using namespace std::chrono_literals;

namespace hostile_test {

struct fixture : http_fixture {
  fixture() {
    web_options.request_timeout = 300ms;
    web_options.max_connections = 4;
    web_options.max_body_bytes = 64 * 1024;
    web_options.max_header_bytes = 4 * 1024;
  }

  bool healthy() { return http_call(port, "GET", "/v1/health").status == 200; }
};

} // namespace hostile_test

BOOST_FIXTURE_TEST_SUITE(http_hostile, hostile_test::fixture)
using namespace hostile_test;

BOOST_AUTO_TEST_CASE(a_request_that_never_finishes_arriving_is_cut_off) {
  serve();
  http_socket slow{port};
  BOOST_TEST_REQUIRE(slow.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n"));
  BOOST_TEST(slow.closed_within(10s));
  http_socket idle{port};
  BOOST_TEST(idle.closed_within(10s)); // nothing sent at all
  BOOST_TEST(healthy());
}

BOOST_AUTO_TEST_CASE(connections_over_the_cap_get_503_until_one_closes) {
  web_options.request_timeout = 30s;
  serve();
  std::vector<std::unique_ptr<http_socket>> held;
  for (std::size_t i = 0; i < web_options.max_connections; ++i)
    held.push_back(std::make_unique<http_socket>(port));
  BOOST_TEST_REQUIRE(eventually([&] { return web->stats().open == 4; }));
  auto refused = http_call(port, "GET", "/v1/health");
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(refused.header("retry-after") == "1");
  BOOST_TEST(web->stats().refused_over_capacity >= 1u);
  held.pop_back();
  BOOST_TEST(eventually([&] { return healthy(); }));
}

BOOST_AUTO_TEST_CASE(oversized_heads_and_bodies_are_refused_unread) {
  serve();
  {
    http_socket s{port};
    // Announces a terabyte and sends none of it: refused from the header.
    s.send("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
           + admin_token
           + "\r\nContent-Type: application/json\r\n"
             "Content-Length: 1000000000000\r\n\r\n");
    auto r = s.receive(10s);
    BOOST_TEST(r.status == 413);
  }
  {
    http_socket s{port};
    s.send("GET /v1/health HTTP/1.1\r\nX-Pad: " + std::string(8192, 'a')
           + "\r\n\r\n");
    BOOST_TEST(s.receive(10s).status == 431);
  }
  {
    auto body = "{\"task\":\"echo\",\"input\":{\"s\":\""
                + std::string(100'000, 'x') + "\"}}";
    BOOST_TEST(call("POST", "/v1/jobs", body).status == 413);
  }
  BOOST_TEST(stored() == 0u);
  BOOST_TEST(healthy());
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_400_and_garbage_is_survived) {
  serve();
  {
    http_socket s{port};
    s.send("THIS IS NOT HTTP\r\n\r\n");
    BOOST_TEST(s.receive(10s).status == 400);
  }
  {
    http_socket s{port};
    s.send("GET /v1/health HTTP/1.1\r\nContent-Length: -5\r\n\r\n");
    BOOST_TEST(s.receive(10s).status == 400);
  }
  std::mt19937 rng{42};
  for (int i = 0; i < 40; ++i) {
    http_socket s{port};
    std::string junk(1 + rng() % 2048, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    s.send(junk);
  }
  BOOST_TEST(eventually([&] { return healthy(); }));
}

BOOST_AUTO_TEST_CASE(the_dashboards_tokenless_paths_open_nothing_else) {
  serve();
  // Only the exact file paths are served without a token: encodings, dot
  // segments, doubled or trailing slashes and other methods are refused
  // as malformed targets (400) or fall through to the token check (401);
  // nothing is read from the disk.
  for (const char* path :
       {"/ui/../v1/jobs", "/ui/%2e%2e/v1/jobs", "/ui/app.js/", "//",
        "/ui//app.js", "/ui/%61pp.js", "/ui/app.js%00", "/UI/app.js",
        "/ui/../../../../etc/passwd", "/index.html", "/ui/"}) {
    auto r = http_call(port, "GET", path);
    BOOST_TEST((r.status == 400 || r.status == 401),
               path << " -> " << r.status);
  }
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    auto r = http_call(port, method, "/ui/app.js");
    BOOST_TEST(r.status == 401, method);
  }
  // A query on a file path is ignored; beyond the header limit it is 431
  // like any other request.
  auto page =
    http_call(port, "GET", "/ui/app.css?" + std::string(2000, 'q'), "");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.header("content-type").find("text/css") == 0u);
  BOOST_TEST(
    http_call(port, "GET", "/ui/app.css?" + std::string(8000, 'q')).status
    == 431);
  BOOST_TEST(healthy());
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
  serve();
  http_socket s{port};
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST_REQUIRE(s.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = s.receive(10s);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == R"({"status":"ok"})");
  }
}

BOOST_AUTO_TEST_CASE(stop_returns_while_a_request_waits_for_a_job) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> started;
  add_task({.slug = "blocks", .handler = [&, released](task_context&) {
              started.set_value();
              released.wait();
              return json::object();
            }});
  serve();
  auto id = client::id_of(jobs->queue({.task = "blocks"}));
  auto waiting = std::async(std::launch::async, [&] {
    return call("POST", "/v1/jobs/" + std::to_string(id) + "/run");
  });
  BOOST_TEST_REQUIRE(
    (started.get_future().wait_for(30s) == std::future_status::ready));
  web->stop();
  BOOST_TEST((waiting.wait_for(30s) == std::future_status::ready));
  BOOST_TEST(waiting.get().status == 0); // closed without an answer
  release.set_value();
}

BOOST_AUTO_TEST_SUITE_END()
