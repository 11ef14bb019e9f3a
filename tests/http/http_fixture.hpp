#pragma once

// A runtime behind its HTTP door on a free loopback port, with two tokens:
// an admin (every rule grants the role "admin") and a reader (only the
// default `read` rule lets it in).

#include <boost/test/unit_test.hpp>

#include "conveyor/http.hpp"
#include "support/echo_fixture.hpp"
#include "support/http_client.hpp"

namespace conveyor::testing {

inline const std::string admin_token = "admin-token-0123456789";
inline const std::string reader_token = "reader-token-0123456789";

struct http_fixture : echo_fixture {
  http_options web_options;
  std::unique_ptr<http_server> web;
  std::uint16_t port = 0;

  http_fixture() {
    web_options.port = 0;
    auto admin_only = [](const request_context& ctx, const access_target&) {
      return std::find(ctx.roles.begin(), ctx.roles.end(), "admin")
             != ctx.roles.end();
    };
    options.access.queue = admin_only;
    options.access.run = admin_only;
    options.access.cancel = admin_only;
  }

  void serve() {
    auto feed = feed_http(options);
    start();
    authenticator auth =
      [](const std::string& token) -> std::optional<principal_info> {
      if (token == admin_token)
        return principal_info{"ada", {"admin"}};
      if (token == reader_token)
        return principal_info{"rita", {"reader"}};
      return std::nullopt;
    };
    web = std::make_unique<http_server>(sys, *rt, auth, web_options, feed);
    auto bound = web->start();
    BOOST_REQUIRE_MESSAGE(bound, "http start failed");
    port = *bound;
  }

  void teardown() {
    if (web)
      web->stop();
    echo_fixture::teardown();
  }

  http_reply call(const std::string& method, const std::string& target,
                  const std::string& body = {},
                  const std::string& token = admin_token) {
    return http_call(port, method, target, token, body);
  }

  static json body_of(const http_reply& r) {
    return json::parse(r.body, nullptr, false);
  }
};

} // namespace conveyor::testing
