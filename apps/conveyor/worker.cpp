// conveyor worker: a remote worker node. It runs the tasks of its own
// config for the queues it serves, taking attempts from a serve node.

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "apps/conveyor/cli.hpp"
#include "config/config.hpp"
#include "config/registry_builder.hpp"

namespace conveyor::app {

int run_worker(int argc, char** argv) {
  args a{argc,
         argv,
         2,
         {"queue", "concurrency", "config", "connect", "token", "token-file",
          "data", "tls-certificate", "tls-key", "tls-ca"},
         {}};
  refuse_token_argument(a);
  if (!a.positional().empty())
    throw usage_error("worker takes no arguments, got '" + a.positional()[0]
                      + "'");
  auto queue = a.get("queue");
  if (!queue)
    throw usage_error("worker needs --queue Q");
  std::size_t concurrency = 4;
  if (auto c = a.get("concurrency"))
    concurrency =
      static_cast<std::size_t>(parse_integer(*c, "--concurrency", 1, 1024));
  auto config_path = a.get_or("config", "config/conveyor.json");
  auto loaded = load_for_node(config_path);
  if (!loaded)
    return invalid;
  auto reg = loaded->reg;
  std::vector<std::string> slugs;
  for (auto& [slug, def] : reg->tasks())
    if (def.handler)
      slugs.push_back(slug);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto tls = client_tls(a);
  net_config cfg{tls};
  caf::actor_system sys{cfg};
  network net{sys, {.tls = tls.enabled()}};
  auto gw = connect(net, a);
  auto node = spawn_worker_node(
    sys, reg, concurrency,
    std::chrono::milliseconds{loaded->conf.node.heartbeat_ms});
  auto registered = register_worker(sys, caf::actor_cast<caf::actor>(gw), node,
                                    {*queue}, slugs);
  if (!registered) {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    throw request_error(registered.error());
  }
  caf::scoped_actor self{sys};
  std::cout << json{{"event", "worker"},
                    {"queue", *queue},
                    {"tasks", slugs},
                    {"concurrency", concurrency}}
                 .dump()
            << std::endl;
  // Run until a signal, or until the serve node goes away.
  self->monitor(gw);
  std::atomic<bool> stop{false};
  std::thread waiter{[&] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop = true;
    caf::anon_send(caf::actor_cast<caf::actor>(self), caf::tick_atom::value);
  }};
  int code = ok;
  self->receive(
    [&](caf::down_msg&) {
      std::cerr << "conveyor: lost the connection to the serve node\n";
      code = unreachable;
    },
    [&](caf::tick_atom) {});
  if (!stop) {
    // Wakes the sigwait() above (SIGTERM is blocked in every thread and
    // only ever consumed there), so the waiter returns and can be joined.
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
    pthread_kill(waiter.native_handle(), SIGTERM);
  }
  waiter.join();
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  return code;
}

} // namespace conveyor::app
