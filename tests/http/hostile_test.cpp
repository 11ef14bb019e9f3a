// Hostile HTTP clients: slow, oversized, malformed, too many. Each is
// answered or dropped within its limit, and the door keeps serving.

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

BOOST_AUTO_TEST_CASE(a_door_off_loopback_needs_tls_and_both_files) {
  start();
  authenticator nobody = [](const std::string&) {
    return std::optional<principal_info>{};
  };
  auto refusal = [&] {
    http_server door{sys, *rt, nobody, web_options};
    auto bound = door.start();
    return bound ? std::string{} : bound.error().message;
  };
  web_options.host = "0.0.0.0";
  BOOST_TEST(refusal().find("without TLS") != std::string::npos);
  web_options.tls_certificate = dir.sub("missing") + "/cert.pem";
  BOOST_TEST(refusal().find("both a certificate and a key")
             != std::string::npos);
  web_options.tls_key = dir.sub("missing") + "/key.pem";
  BOOST_TEST(refusal().find("cannot load the TLS certificate")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_tls_door_drops_plaintext_and_silent_clients) {
  auto tls = dir.sub("tls");
  std::filesystem::create_directories(tls);
  auto made = std::system(
    ("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=door "
     "-keyout "
     + tls + "/key.pem -out " + tls + "/cert.pem 2>/dev/null")
      .c_str());
  BOOST_TEST_REQUIRE(made == 0);
  web_options.tls_certificate = tls + "/cert.pem";
  web_options.tls_key = tls + "/key.pem";
  serve();
  // Plain HTTP gets no HTTP answer, only a closed connection.
  http_socket plain{port};
  BOOST_TEST_REQUIRE(plain.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"));
  BOOST_TEST(plain.closed_within(10s));
  BOOST_TEST(plain.text().find("200") == std::string::npos);
  // A client that never starts its handshake is cut off like a slow one.
  http_socket silent{port};
  BOOST_TEST(silent.closed_within(10s));
  // Garbage instead of a ClientHello: closed, and the door serves on.
  http_socket garbage{port};
  BOOST_TEST_REQUIRE(garbage.send(std::string(4096, '\x16')));
  BOOST_TEST(garbage.closed_within(10s));
  auto command = "printf 'GET /v1/health HTTP/1.1\\r\\nHost: x\\r\\n"
                 "Connection: close\\r\\n\\r\\n' | timeout 10 openssl "
                 "s_client -quiet -connect 127.0.0.1:"
                 + std::to_string(port) + " 2>/dev/null";
  std::string answer;
  if (auto* pipe = ::popen(command.c_str(), "r")) {
    char buf[512];
    while (auto n = std::fread(buf, 1, sizeof buf, pipe))
      answer.append(buf, n);
    ::pclose(pipe);
  }
  BOOST_TEST(answer.find("HTTP/1.1 200 OK") == 0u, answer);
}

BOOST_AUTO_TEST_SUITE_END()
