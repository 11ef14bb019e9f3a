// Bounded cost before authentication: what a peer without a token can make
// the node read, hold and allocate, and how long it may stay.

#include <boost/test/unit_test.hpp>

#include "net/preamble.hpp"
#include "security/node_fixture.hpp"

using namespace conveyor;
using namespace conveyor::testing;
using namespace std::chrono_literals;

namespace transport_test {

struct quick_node : node_fixture {
  quick_node() {
    net_options.handshake_timeout = 300ms;
    net_options.max_message_bytes = 1u << 20;
    start();
  }
};

} // namespace transport_test

BOOST_FIXTURE_TEST_SUITE(transport, transport_test::quick_node)
using namespace transport_test;

BOOST_AUTO_TEST_CASE(a_basp_header_without_a_preamble_is_closed_at_once) {
  raw_socket s{port};
  s.send_bytes(basp_header(0x01, 1u << 30)); // client handshake, 1 GiB
  auto [got, closed] = s.read_until_closed(5s);
  BOOST_TEST(closed);
  BOOST_TEST(got.empty()); // not even the server handshake
  BOOST_TEST(
    eventually([&] { return net->stats().refused_bad_preamble == 1u; }));
}

BOOST_AUTO_TEST_CASE(an_unknown_token_gets_a_refusal_and_a_closed_socket) {
  raw_socket s{port};
  s.send_bytes(net::encode_preamble("not-a-token"));
  auto [got, closed] = s.read_until_closed(5s);
  BOOST_TEST(closed);
  BOOST_TEST(got == std::string(1, net::kRefused));
}

BOOST_AUTO_TEST_CASE(
  a_silent_connection_is_closed_after_the_handshake_timeout) {
  raw_socket s{port};
  auto t0 = std::chrono::steady_clock::now();
  auto [got, closed] = s.read_until_closed(5s);
  auto waited = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(closed);
  BOOST_TEST(got.empty());
  BOOST_TEST(waited >= 250ms);
  BOOST_TEST(net->stats().closed_by_timeout >= 1u);
}

BOOST_AUTO_TEST_CASE(half_a_preamble_is_closed_after_the_handshake_timeout) {
  raw_socket s{port};
  s.send_bytes("CVY"); // and then nothing
  auto [got, closed] = s.read_until_closed(5s);
  BOOST_TEST(closed);
  BOOST_TEST(got.empty());
}

BOOST_AUTO_TEST_CASE(an_authenticated_peer_announcing_too_much_is_closed) {
  raw_socket s{port};
  s.send_bytes(net::encode_preamble("alice-token"));
  // The verdict, then the node's BASP handshake: wait for some bytes.
  BOOST_REQUIRE(eventually([&] {
    pollfd p{s.fd, POLLIN, 0};
    return ::poll(&p, 1, 10) > 0;
  }));
  char verdict = 0;
  BOOST_REQUIRE(::recv(s.fd, &verdict, 1, 0) == 1);
  BOOST_TEST(verdict == net::kAccepted);
  s.send_bytes(basp_header(0x01, 1u << 30));
  auto [got, closed] = s.read_until_closed(5s);
  BOOST_TEST(closed);
  BOOST_TEST(eventually([&] { return net->stats().closed_oversized == 1u; }));
}

BOOST_AUTO_TEST_CASE(connections_beyond_the_cap_are_closed_at_accept) {
  net_options.max_connections = 3;
  net_options.handshake_timeout = 5s;
  stop();
  start();
  std::vector<std::unique_ptr<raw_socket>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(std::make_unique<raw_socket>(port));
  BOOST_REQUIRE(eventually([&] { return net->stats().open == 3; }));
  raw_socket extra{port};
  auto [got, closed] = extra.read_until_closed(3s);
  BOOST_TEST(closed);
  BOOST_TEST(net->stats().refused_over_capacity >= 1u);
  // Once one leaves, a client gets in again.
  held.pop_back();
  BOOST_REQUIRE(eventually([&] { return net->stats().open == 2; }));
  remote_client c;
  BOOST_TEST(bool(c.net.connect("127.0.0.1", port, "alice-token")));
}

BOOST_AUTO_TEST_CASE(the_node_serves_clients_after_hostile_connections) {
  for (int i = 0; i < 20; ++i) {
    raw_socket s{port};
    s.send_bytes(basp_header(0x02, 0xffffffffu));
  }
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  client jobs{c.sys, *s};
  auto job = jobs.queue({.task = "echo", .input = {{"n", 7}}});
  BOOST_TEST(jobs.wait(client::id_of(job)).at("status") == "completed");
}

BOOST_AUTO_TEST_SUITE_END()
