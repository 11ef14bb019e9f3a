// The heartbeat door: a worker node keeps alive only the attempts sent to
// it. Another peer's heartbeats naming a job (from a registered worker, an
// unregistered client, or one oversized list) do not keep a silent
// worker's attempt alive: it is lost when the lease runs out.

#include <boost/test/unit_test.hpp>

#include <mutex>

#include "conveyor/remote.hpp"
#include "security/node_fixture.hpp"

using namespace conveyor;
using namespace conveyor::testing;
using namespace std::chrono_literals;

namespace heartbeat_test {

/// A worker node that takes attempts and never answers nor heartbeats. It
/// ends with the test, so its client system can shut down.
struct silent_worker {
  std::mutex m;
  std::size_t taken = 0;
  caf::actor self;

  ~silent_worker() {
    if (self)
      caf::anon_send_exit(self, caf::exit_reason::user_shutdown);
  }

  worker_node_actor spawn(caf::actor_system& sys) {
    // `this` through spawn: CAF 0.17 trips over a function actor spawned
    // without arguments (UBSan: null reference in init_fun_factory).
    self = sys.spawn(
      [](caf::event_based_actor*, silent_worker* w) -> caf::behavior {
        return {
          [w](run_task_atom, const remote_task&) {
            std::lock_guard g{w->m};
            ++w->taken;
          },
          [](cancel_task_atom, std::uint64_t, const std::string&) {},
        };
      },
      this);
    return caf::actor_cast<worker_node_actor>(self);
  }

  std::size_t attempts() {
    std::lock_guard g{m};
    return taken;
  }
};

struct lease_node : node_fixture {
  lease_node() {
    options.lease = 300ms;
    auto st = reg->add_task({.slug = "far", .handler = {}, .remote = true});
    if (!st)
      throw std::runtime_error(st.error().message);
    start();
  }
};

} // namespace heartbeat_test

BOOST_FIXTURE_TEST_SUITE(heartbeat_door, heartbeat_test::lease_node)
using namespace heartbeat_test;

BOOST_AUTO_TEST_CASE(a_peer_cannot_keep_another_workers_attempt_alive) {
  remote_client silent_node;
  remote_client liar_node;
  auto s1 = silent_node.net.connect("127.0.0.1", port, "alice-token");
  auto s2 = liar_node.net.connect("127.0.0.1", port, "bob-token");
  auto s3 = liar_node.net.connect("127.0.0.1", port, "bob-token");
  BOOST_REQUIRE(s1);
  BOOST_REQUIRE(s2);
  BOOST_REQUIRE(s3);
  silent_worker silent;
  BOOST_REQUIRE(register_worker(silent_node.sys,
                                caf::actor_cast<caf::actor>(*s1),
                                silent.spawn(silent_node.sys), {"*"}, {"far"}));
  // The liar registers a worker for another task, so it never gets "far".
  silent_worker decoy;
  BOOST_REQUIRE(register_worker(liar_node.sys, caf::actor_cast<caf::actor>(*s2),
                                decoy.spawn(liar_node.sys), {"*"}, {"other"}));
  client jobs{silent_node.sys, *s1};
  auto id = client::id_of(jobs.queue({.task = "far"}));
  BOOST_REQUIRE(eventually([&] { return silent.attempts() >= 1; }, 10s));
  caf::scoped_actor liar{liar_node.sys};
  // Heartbeats naming the job: one oversized list, then a stream from the
  // liar's registered worker session (s2) and from a session without a
  // worker (s3); none is the silent worker's, so its attempt is lost all
  // the same.
  liar->send(caf::actor_cast<caf::actor>(*s2), heartbeat_atom::value,
             std::vector<std::uint64_t>(70'000, id));
  BOOST_TEST(eventually(
    [&] {
      liar->send(caf::actor_cast<caf::actor>(*s2), heartbeat_atom::value,
                 std::vector<std::uint64_t>{id});
      liar->send(caf::actor_cast<caf::actor>(*s3), heartbeat_atom::value,
                 std::vector<std::uint64_t>{id});
      return jobs.get(id).value("interruptions", 0) >= 1;
    },
    20s));
  BOOST_TEST(decoy.attempts() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
