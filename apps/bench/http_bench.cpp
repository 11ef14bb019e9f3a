// conveyor-bench http: jobs queued over keep-alive HTTP (POST /v1/jobs) by
// one client and by 32 at once, with per-request latency. Each request is
// answered once its job is durable, like every other enqueue.

#include <arpa/inet.h>
#include <cmath>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "apps/bench/common.hpp"
#include "conveyor/http.hpp"

namespace conveyor::bench {

namespace {

const std::string bench_token = "bench-token-0123456789abcdef";

/// One keep-alive connection sending the same POST again and again.
class keep_alive_client {
public:
  explicit keep_alive_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0
        || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot connect to the HTTP door");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~keep_alive_client() { ::close(fd_); }
  keep_alive_client(const keep_alive_client&) = delete;
  keep_alive_client& operator=(const keep_alive_client&) = delete;

  /// Sends `request` and reads one response; its status.
  int exchange(const std::string& request) {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL)
        != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("send failed");
    for (;;) {
      auto head_end = in_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto at = in_.find("Content-Length: ");
        std::size_t length =
          at < head_end ? std::stoul(in_.substr(at + 16)) : 0;
        if (in_.size() >= head_end + 4 + length) {
          int status = std::stoi(in_.substr(9, 3));
          in_.erase(0, head_end + 4 + length);
          return status;
        }
      }
      char chunk[8192];
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        throw std::runtime_error("connection closed");
      in_.append(chunk, static_cast<std::size_t>(n));
    }
  }

private:
  int fd_ = -1;
  std::string in_;
};

std::string post_job_request() {
  std::string body = R"({"task":"noop","input":{"n":1}})";
  return "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
         "Bearer "
         + bench_token
         + "\r\nContent-Type: application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// `clients` connections, `per_client` requests each.
json measure(std::uint16_t port, std::size_t clients, std::size_t per_client) {
  const auto request = post_job_request();
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  auto t0 = clock::now();
  for (std::size_t c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      keep_alive_client conn{port};
      latencies[c].reserve(per_client);
      for (std::size_t i = 0; i < per_client; ++i) {
        auto sent = clock::now();
        if (conn.exchange(request) != 201)
          throw std::runtime_error("POST /v1/jobs was not answered 201");
        latencies[c].push_back(seconds_since(sent) * 1000.0);
      }
    });
  for (auto& t : threads)
    t.join();
  auto elapsed = seconds_since(t0);
  std::vector<double> all;
  for (auto& l : latencies)
    all.insert(all.end(), l.begin(), l.end());
  auto round2 = [](double v) { return std::round(v * 100.0) / 100.0; };
  return json{
    {"clients", clients},
    {"jobs", all.size()},
    {"jobs_per_s", std::round(static_cast<double>(all.size()) / elapsed)},
    {"p50_ms", round2(quantile(all, 0.5))},
    {"p99_ms", round2(quantile(all, 0.99))}};
}

} // namespace

json run_http(const options& opt) {
  scratch_dir dir{opt.dir};
  bench_config cfg;
  caf::actor_system sys{cfg};
  auto rt = must_start(sys, noop_registry(), base_options(opt, dir.path()));
  http_options web_options;
  web_options.port = 0;
  http_server web{
    sys, *rt,
    [](const std::string& token) -> std::optional<principal_info> {
      if (token == bench_token)
        return principal_info{"bench", {"admin"}};
      return std::nullopt;
    },
    web_options};
  auto port = web.start();
  if (!port)
    throw std::runtime_error(port.error().message);
  auto one = measure(*port, 1, std::min<std::size_t>(opt.jobs, 5000));
  constexpr std::size_t callers = 32;
  auto many =
    measure(*port, callers, std::max<std::size_t>(opt.jobs / callers, 1));
  web.stop();
  rt->stop();
  return json{{"workload", "http"},
              {"durability", durability_name(opt)},
              {"jobs", opt.jobs},
              {"jobs_per_s", one["jobs_per_s"]},
              {"p50_ms", one["p50_ms"]},
              {"p99_ms", one["p99_ms"]},
              {"clients_32_jobs_per_s", many["jobs_per_s"]},
              {"clients_32_p50_ms", many["p50_ms"]},
              {"clients_32_p99_ms", many["p99_ms"]},
              {"runs", json::array({one, many})}};
}

} // namespace conveyor::bench
