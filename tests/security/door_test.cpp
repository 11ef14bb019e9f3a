// Authority at the door: tokens decide principals, sessions serve only
// their peer, no internal actor is ever named to a peer, and forged exit
// messages change nothing.

#include <boost/test/unit_test.hpp>

#include "conveyor/errors.hpp"
#include "security/node_fixture.hpp"

using namespace conveyor;
using namespace conveyor::testing;

namespace door_test {

model::errc connect_error(remote_client& c, std::uint16_t port,
                          const std::string& token) {
  auto s = c.net.connect("127.0.0.1", port, token, std::chrono::seconds(5));
  return s ? model::errc::none : s.error().code;
}

struct started_node : node_fixture {
  started_node() { start(); }
};

} // namespace door_test

BOOST_FIXTURE_TEST_SUITE(door, door_test::started_node)
using namespace door_test;

BOOST_AUTO_TEST_CASE(a_client_without_a_token_gets_nothing_but_forbidden) {
  remote_client c;
  BOOST_TEST(connect_error(c, port, "") == model::errc::forbidden);
  BOOST_TEST(connect_error(c, port, "guess") == model::errc::forbidden);
  BOOST_TEST(net->stats().refused_unknown_token
               + net->stats().refused_bad_preamble
             >= 2u);
  BOOST_TEST(net->stats().authenticated == 0u);
}

BOOST_AUTO_TEST_CASE(a_token_holder_gets_a_session_bound_to_its_principal) {
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  client jobs{c.sys, *s};
  auto job = jobs.queue({.task = "echo", .input = {{"x", 1}}});
  auto done = jobs.wait(client::id_of(job));
  BOOST_TEST(done.at("status") == "completed");
}

BOOST_AUTO_TEST_CASE(remote_requests_never_override_access) {
  options.access.queue = [](const request_context& ctx, const access_target&) {
    return !ctx.override_access && ctx.principal == "alice";
  };
  stop();
  start();
  remote_client c;
  auto as_bob = c.net.connect("127.0.0.1", port, "bob-token");
  BOOST_REQUIRE(as_bob);
  client bob{c.sys, *as_bob};
  BOOST_CHECK_EXCEPTION(
    bob.queue({.task = "echo"}), request_error,
    [](const request_error& e) { return e.code() == model::errc::forbidden; });
  auto as_alice = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(as_alice);
  client alice{c.sys, *as_alice};
  BOOST_TEST(alice.queue({.task = "echo"}).contains("id"));
}

BOOST_AUTO_TEST_CASE(no_internal_actor_is_ever_named_to_a_peer) {
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  client jobs{c.sys, *s};
  auto job = jobs.queue({.task = "echo"});
  jobs.wait(client::id_of(job));
  jobs.find({});
  jobs.try_get(client::id_of(job));
  // Only actors whose handle was serialised for a peer are reachable by id
  // from the network (CAF puts them in the registry when it sends them).
  BOOST_TEST(!sys.registry().get(rt->supervisor().id()));
  BOOST_TEST(!sys.registry().get(rt->remote_workers().id()));
  // Every reply came from the session.
  BOOST_TEST((s->node() == sys.node()));
}

BOOST_AUTO_TEST_CASE(a_session_serves_only_its_own_peer) {
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  // The session as seen from its own node: any other sender (here, an
  // actor of the node itself; a peer guessing the id is the same case) is
  // refused.
  auto local = caf::actor_cast<session_actor>(sys.registry().get(s->id()));
  BOOST_REQUIRE(local);
  client intruder{sys, local, caf::duration{caf::time_unit::seconds, 5}};
  BOOST_CHECK_EXCEPTION(
    intruder.find({}), request_error,
    [](const request_error& e) { return e.code() == model::errc::forbidden; });
}

BOOST_AUTO_TEST_CASE(a_request_context_has_no_wire_format) {
  // Nothing that can arrive from the network carries override_access: the
  // type is not registered, so no peer can send or decode it.
  BOOST_TEST(!sys.types().make_value("conveyor::request_context"));
}

BOOST_AUTO_TEST_CASE(forged_exit_messages_do_not_close_the_door) {
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  caf::anon_send_exit(*s, caf::exit_reason::kill);
  // A fresh connection still finds the door, and the killed session's
  // node keeps serving.
  remote_client d;
  auto again = d.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(again);
  client jobs{d.sys, *again};
  BOOST_TEST(jobs.find({}).is_array());
}

BOOST_AUTO_TEST_CASE(a_peer_cannot_stop_or_interrupt_the_node) {
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  // The clean stop's message, sent to the session (the only actor a peer
  // can name), with a zero grace: refused, and nothing starts draining.
  caf::scoped_actor self{c.sys};
  bool refused = false;
  self
    ->request(caf::actor_cast<caf::actor>(*s), std::chrono::seconds(5),
              drain_atom::value, std::int64_t{0})
    .receive([&](bool) {}, [&](const caf::error&) { refused = true; });
  BOOST_TEST(refused);
  self->send(caf::actor_cast<caf::actor>(*s), clock_changed_atom::value);
  // The node still starts jobs: run() is not refused as "stopping", and a
  // queued job completes (a draining node would leave it queued: bounded).
  client jobs{c.sys, *s, caf::duration{caf::time_unit::seconds, 10}};
  auto done = jobs.wait(client::id_of(jobs.queue({.task = "echo"})));
  BOOST_TEST(done.at("status") == "completed");
  BOOST_TEST(jobs.run({}).contains("noJobsRemaining"));
}

BOOST_AUTO_TEST_CASE(requests_beyond_the_in_flight_cap_are_overloaded) {
  net_options.max_in_flight = 2;
  stop();
  start();
  remote_client c;
  auto s = c.net.connect("127.0.0.1", port, "alice-token");
  BOOST_REQUIRE(s);
  // Two waits on a job that never becomes due hold both slots.
  client jobs{c.sys, *s, caf::duration{caf::time_unit::seconds, 10}};
  queue_request later{.task = "echo"};
  later.wait_until = 4'000'000'000'000; // far future
  auto id = client::id_of(jobs.queue(later));
  caf::scoped_actor waiter{c.sys};
  for (int i = 0; i < 2; ++i)
    waiter->send(*s, wait_job_atom::value, id);
  BOOST_TEST(eventually([&] {
    try {
      jobs.get(id);
      return false;
    } catch (const request_error& e) {
      return e.code() == model::errc::overloaded;
    }
  }));
}

BOOST_AUTO_TEST_CASE(idempotency_keys_are_scoped_by_queue_and_principal) {
  remote_client c;
  auto a = c.net.connect("127.0.0.1", port, "alice-token");
  auto b = c.net.connect("127.0.0.1", port, "bob-token");
  BOOST_REQUIRE(a);
  BOOST_REQUIRE(b);
  client alice{c.sys, *a};
  client bob{c.sys, *b};
  queue_request req{.task = "echo", .input = {{"secret", "alice's"}}};
  req.idempotency_key = "order-1";
  auto first = alice.queue(req);
  // The same key from alice again: her own job.
  BOOST_TEST(alice.queue(req).at("id") == first.at("id"));
  // From bob: his own job, never alice's document.
  queue_request other{.task = "echo", .input = {{"secret", "bob's"}}};
  other.idempotency_key = "order-1";
  auto bobs = bob.queue(other);
  BOOST_TEST(bobs.at("id") != first.at("id"));
  BOOST_TEST(bobs.at("input").at("secret") == "bob's");
  // Another queue of alice's: another scope.
  queue_request elsewhere = req;
  elsewhere.queue = "other";
  BOOST_TEST(alice.queue(elsewhere).at("id") != first.at("id"));
}

BOOST_AUTO_TEST_SUITE_END()
