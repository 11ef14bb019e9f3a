// conveyor serve: a node that runs its queues continuously and publishes
// its door on the actor network (conveyor/network.hpp).

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "apps/conveyor/cli.hpp"
#include "caf/openssl/all.hpp"
#include "config/config.hpp"
#include "config/registry_builder.hpp"
#include "conveyor/http.hpp"
#include "model/job_json.hpp"

namespace conveyor::app {

namespace {

namespace fs = std::filesystem;

/// The shipped config: ./config/conveyor.json, else next to the binary's
/// source tree (build/conveyor -> ../config/conveyor.json).
/// config/conveyor.json in the working directory or beside the binary's
/// folder (a source checkout's build/); empty if neither exists.
std::string default_config_path() {
  if (fs::exists("config/conveyor.json"))
    return "config/conveyor.json";
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto candidate = exe.parent_path().parent_path() / "config/conveyor.json";
    if (fs::exists(candidate))
      return candidate.string();
  }
  return {};
}

/// The config of --config FILE, else of the default file, else the
/// built-in defaults (no tasks), said on stderr: a binary copied anywhere
/// runs.
std::optional<loaded_config> config_for_serve(const args& a,
                                              std::string& shown_path) {
  shown_path = a.get_or("config", default_config_path());
  if (!shown_path.empty())
    return load_for_node(shown_path);
  std::cerr << "conveyor: no config file (none given, no "
               "config/conveyor.json here or beside the binary): built-in "
               "defaults, no tasks\n";
  auto conf = cfg::parse_config(json::object(), fs::current_path().string());
  if (!conf)
    return std::nullopt; // cannot happen: {} is a valid config
  auto reg = cfg::build_registry(*conf);
  if (!reg)
    return std::nullopt;
  return loaded_config{std::move(*conf), std::move(*reg)};
}

std::string random_token() {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 32; ++i)
    token.push_back(hex[rd() & 0xf]);
  return token;
}

/// With no tokens configured, an admin token in DATA/admin.token (mode 0600)
/// lets the CLI on this machine in; nobody else has it.
std::string ensure_admin_token(const std::string& data_dir) {
  auto path = data_dir + "/admin.token";
  std::ifstream in{path};
  std::string token;
  if (in >> token && token.size() >= 16)
    return token;
  token = random_token();
  auto old_mask = ::umask(077);
  {
    std::ofstream out{path, std::ios::trunc};
    out << token << "\n";
  }
  ::umask(old_mask);
  ::chmod(path.c_str(), 0600);
  return token;
}

/// Creates the data directory 0700, or tightens an existing one that
/// others could read (jobs' inputs and outputs, the admin token). False,
/// with a message, if it cannot be created.
bool private_data_dir(const std::string& data) {
  std::error_code ec;
  fs::create_directories(data, ec);
  struct stat st {};
  if (ec || ::stat(data.c_str(), &st) != 0) {
    std::cerr << "conveyor: cannot create data directory '" << data
              << "': " << (ec ? ec.message() : std::strerror(errno)) << "\n";
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    if (::chmod(data.c_str(), 0700) == 0)
      std::cerr << "conveyor: data directory '" << data
                << "' was accessible to other users; set to mode 0700\n";
    else
      std::cerr << "conveyor: warning: data directory '" << data
                << "' is accessible to other users and cannot be changed: "
                << std::strerror(errno) << "\n";
  }
  return true;
}

tls_files node_tls(const cfg::node_config& node) {
  return {node.tls_certificate, node.tls_key, node.tls_ca};
}

/// Prints one event line on stdout. Job events come from actor threads and
/// scheduler lines from the scheduler's: one lock and one write per line
/// keep lines whole.
void emit(const json& line) {
  static std::mutex mutex;
  auto text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  std::lock_guard guard{mutex};
  std::cout << text << std::flush;
}

} // namespace

/// The clean stop (docs/semantics.md §13): the first SIGINT or SIGTERM
/// stops the runtime, giving running tasks node.stopGraceMs to finish; a
/// second one during that grace interrupts them at once (an operator's
/// "stop now" is never ignored, and nothing acknowledged is lost by it).
void stop_on_signals(runtime& rt, const sigset_t& signals,
                     std::int64_t grace_ms) {
  int sig = 0;
  sigwait(&signals, &sig);
  emit({{"event", "stopping"}, {"signal", sig}, {"graceMs", grace_ms}});
  auto sup = rt.supervisor();
  std::atomic<bool> stopped{false};
  const pthread_t waiting = pthread_self();
  std::thread stopper{[&] {
    rt.stop();
    stopped = true;
    // Wakes the sigwait() below: SIGTERM is blocked in every thread and
    // only ever consumed there.
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
    pthread_kill(waiting, SIGTERM);
  }};
  bool interrupted = false;
  for (;;) {
    sigwait(&signals, &sig);
    if (stopped)
      break;
    if (!interrupted) {
      interrupted = true;
      emit({{"event", "interrupting"}, {"signal", sig}});
      caf::anon_send(sup, drain_atom::value, std::int64_t{0});
    }
  }
  stopper.join();
}

int run_serve(int argc, char** argv) {
  args a{argc, argv, 2, {"config", "data", "listen", "http"}, {}};
  if (!a.positional().empty())
    throw usage_error("serve takes no arguments, got '" + a.positional()[0]
                      + "'");
  // Before anything is created: the journal, running.slots, admin.token and
  // RocksDB's files are for this user only (0600, directories 0700).
  ::umask(077);
  std::string config_path;
  auto loaded = config_for_serve(a, config_path);
  if (!loaded)
    return invalid;
  auto& conf = loaded->conf;
  // Without --config, data defaults to ./conveyor-data (not next to the
  // shipped config); --data always wins.
  std::string data = a.get_or(
    "data", a.has("config") ? conf.node.data : std::string{"./conveyor-data"});
  auto listen = a.get_or("listen", conf.node.listen);
  auto [host, port] = parse_endpoint(listen);
  bool tls = !conf.node.tls_certificate.empty();
  if (!is_loopback(host) && !tls) {
    std::cerr << "conveyor: refusing to listen on " << listen
              << " without mutual TLS: plain CAF networking is only safe on "
                 "loopback (set node.tls.certificate, key and ca)\n";
    return usage;
  }
  // --http HOST:PORT, or "off".
  auto http_at = a.get_or("http", conf.node.http);
  if (http_at == "off")
    http_at.clear();
  std::optional<std::pair<std::string, std::uint16_t>> http_endpoint;
  if (!http_at.empty()) {
    http_endpoint = parse_endpoint(http_at);
    if (!is_loopback(http_endpoint->first) && !tls) {
      std::cerr << "conveyor: refusing HTTP on " << http_at
                << " without TLS: plain HTTP is only safe on loopback (set "
                   "node.tls.certificate and key, or put a TLS-terminating "
                   "proxy in front of it)\n";
      return usage;
    }
  }
  auto options = cfg::to_runtime_options(conf);
  options.data_dir = data;
  options.continuous = true;
  options.workers = conf.node.workers;
  options.durability = conf.node.durability;
  options.on_terminal = [](const model::job& j) {
    json line = {{"event", "job"},
                 {"id", std::to_string(j.id)},
                 {"slug", j.slug()},
                 {"queue", j.queue},
                 {"status", model::to_string(j.status)},
                 {"totalTried", j.total_tried}};
    if (j.has_error && j.error.is_object())
      line["error"] = j.error.value("message", "");
    emit(line);
  };
  // autoRun ticks and schedule handling report here (errors, and what a
  // non-silent tick did).
  options.log = [](const std::string& message) {
    emit({{"event", "scheduler"}, {"message", message}});
  };
  // The HTTP door's metrics and event stream hear of every transition.
  auto web_feed = feed_http(options);
  // Signals are handled by sigwait below; block them before any thread
  // exists so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  net_config sys_cfg{node_tls(conf.node)};
  caf::actor_system sys{sys_cfg};
  if (!private_data_dir(data))
    return failure;
  auto rt = start(sys, loaded->reg, options);
  if (!rt) {
    std::cerr << "conveyor: " << rt.error().message << "\n";
    return failure;
  }
  authenticator auth;
  if (conf.access.tokens.empty()) {
    auto admin = ensure_admin_token(data);
    auth = [admin](const std::string& token) -> std::optional<principal_info> {
      if (token == admin)
        return principal_info{"admin", {"admin"}};
      return std::nullopt;
    };
  } else {
    auto access = conf.access;
    auth = [access](const std::string& token) -> std::optional<principal_info> {
      if (const auto* p = access.authenticate(token))
        return principal_info{p->principal, p->roles};
      return std::nullopt;
    };
  }
  network_options net_options;
  net_options.tls = tls;
  net_options.max_message_bytes = conf.node.max_message_bytes;
  net_options.max_connections = conf.node.max_connections;
  net_options.handshake_timeout =
    std::chrono::milliseconds{conf.node.handshake_timeout_ms};
  net_options.max_in_flight = conf.node.max_in_flight;
  network net{sys, net_options};
  auto bound = net.publish(**rt, host, port, auth);
  if (!bound) {
    std::cerr << "conveyor: " << bound.error().message << "\n";
    (*rt)->stop();
    return failure;
  }
  std::unique_ptr<http_server> web;
  json http_address = nullptr;
  if (http_endpoint) {
    http_options web_options;
    web_options.host = http_endpoint->first;
    web_options.port = http_endpoint->second;
    web_options.max_body_bytes = conf.node.http_max_body_bytes;
    web_options.max_header_bytes = conf.node.http_max_header_bytes;
    web_options.request_timeout =
      std::chrono::milliseconds{conf.node.http_request_timeout_ms};
    web_options.max_connections = conf.node.http_max_connections;
    // A node with TLS serves HTTPS with the same certificate, wherever it
    // listens (the CA is for the CAF listener's client certificates; HTTP
    // clients present bearer tokens).
    web_options.tls_certificate = conf.node.tls_certificate;
    web_options.tls_key = conf.node.tls_key;
    web = std::make_unique<http_server>(sys, **rt, auth, web_options, web_feed);
    auto web_port = web->start();
    if (!web_port) {
      std::cerr << "conveyor: " << web_port.error().message << "\n";
      (*rt)->stop();
      return failure;
    }
    http_address = http_endpoint->first + ":" + std::to_string(*web_port);
  }
  emit({{"event", "listening"},
        {"address", host + ":" + std::to_string(*bound)},
        {"http", http_address},
        {"httpTls", http_endpoint && tls},
        {"config", config_path.empty() ? json(nullptr) : json(config_path)},
        {"data", data},
        {"tls", tls}});
  // The door and its sessions end with the supervisor.
  stop_on_signals(**rt, signals, conf.node.stop_grace_ms);
  if (web)
    web->stop();
  // Known issue: now and then (1 in 10-40 stops under load) a strong
  // reference to the scheduler actor outlives every actor that could drop
  // it, and CAF's actor_system destructor then waits forever for that
  // detached actor's thread. The journal is closed by now (stop() returned),
  // so nothing durable is left: exit without tearing the actor system down
  // rather than ignore SIGTERM. The leak itself is still to be found.
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(ok);
}

} // namespace conveyor::app
