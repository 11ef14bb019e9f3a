#include "apps/conveyor/cli.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "config/config_defaults.hpp"
#include "config/registry_builder.hpp"
#include "model/json_guard.hpp"

namespace conveyor::app {

args::args(int argc, char** argv, int first,
           const std::vector<std::string>& with_values,
           const std::vector<std::string>& booleans) {
  auto known = [](const std::vector<std::string>& xs, const std::string& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  };
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) {
      positional_.push_back(arg);
      continue;
    }
    auto name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (known(booleans, name)) {
      if (inline_value)
        throw usage_error("--" + name + " takes no value");
      values_[name] = "true";
    } else if (known(with_values, name)) {
      if (inline_value) {
        values_[name] = *inline_value;
      } else {
        if (i + 1 >= argc)
          throw usage_error("--" + name + " needs a value");
        values_[name] = argv[++i];
      }
    } else {
      throw usage_error("unknown option --" + name);
    }
  }
}

std::optional<std::string> args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  return it->second;
}

std::string args::get_or(const std::string& name, std::string fallback) const {
  return get(name).value_or(std::move(fallback));
}

bool args::has(const std::string& name) const {
  return values_.count(name) > 0;
}

std::int64_t parse_integer(const std::string& text, const std::string& what,
                           std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end)
    throw usage_error(what + " needs an integer, got '" + text + "'");
  if (ec == std::errc::result_out_of_range || value < min || value > max)
    throw usage_error(what + " must be between " + std::to_string(min) + " and "
                      + std::to_string(max) + ", got '" + text + "'");
  return value;
}

model::job_id parse_job_id(const std::string& text) {
  // Digits only: from_chars would accept neither '+' nor whitespace, but a
  // leading '-' must not wrap around as stoull does.
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw usage_error("'" + text + "' is not a job id (a positive integer)");
  return static_cast<model::job_id>(parse_integer(
    text, "a job id", 1, std::numeric_limits<std::int64_t>::max()));
}

void refuse_token_argument(const args& a) {
  if (a.has("token"))
    throw usage_error("--token is refused: a token on the command line is "
                      "visible to every user in `ps`; use --token-file FILE "
                      "or the CONVEYOR_TOKEN environment variable");
}

caf::duration request_timeout(const args& a) {
  auto seconds = parse_integer(a.get_or("timeout", "30"), "--timeout", 1,
                               std::int64_t{7} * 24 * 3600);
  return caf::duration{caf::time_unit::seconds,
                       static_cast<std::uint32_t>(seconds)};
}

int exit_code_for(model::errc code) {
  switch (code) {
  case model::errc::forbidden:
    return forbidden;
  case model::errc::not_found:
    return not_found;
  case model::errc::invalid_input:
  case model::errc::too_large:
  case model::errc::too_deep:
  case model::errc::unregistered:
    return invalid;
  case model::errc::unavailable:
    return unreachable;
  case model::errc::overloaded:
    return overloaded;
  default:
    return failure;
  }
}

int report(const request_error& e) {
  if (e.code() == model::errc::unavailable
      && e.message() == "request timed out") {
    std::cerr << "error: unavailable: no answer from the node within the "
                 "request timeout (--timeout SECONDS, default 30, to wait "
                 "longer)\n";
    return exit_code_for(e.code());
  }
  std::cerr << "error: " << model::to_string(e.code()) << ": " << e.message()
            << "\n";
  return exit_code_for(e.code());
}

std::pair<std::string, std::uint16_t> parse_endpoint(const std::string& text) {
  auto s = text.empty() ? std::string{"127.0.0.1:4242"} : text;
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw usage_error("expected HOST:PORT, got '" + s + "'");
  auto host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    auto port = std::stoul(s.substr(colon + 1));
    if (port > 65535)
      throw std::out_of_range("port");
    return {host, static_cast<std::uint16_t>(port)};
  } catch (const std::exception&) {
    throw usage_error("bad port in '" + s + "'");
  }
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1")
    return true;
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) == 1)
    return (ntohl(addr.s_addr) >> 24) == 127;
  return false;
}

std::string find_token(const args& a) {
  refuse_token_argument(a);
  if (auto file = a.get("token-file")) {
    std::ifstream in{*file};
    std::string line;
    if (!in || !std::getline(in, line))
      throw usage_error("--token-file: cannot read a token from '" + *file
                        + "'");
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (line.empty())
      throw usage_error("--token-file: the first line of '" + *file
                        + "' is empty");
    return line;
  }
  if (const char* env = std::getenv("CONVEYOR_TOKEN"))
    return env;
  std::ifstream in{a.get_or("data", "./conveyor-data") + "/admin.token"};
  std::string token;
  in >> token;
  return token;
}

tls_files client_tls(const args& a) {
  tls_files t{a.get_or("tls-certificate", ""), a.get_or("tls-key", ""),
              a.get_or("tls-ca", "")};
  int given = !t.certificate.empty() + !t.key.empty() + !t.ca.empty();
  if (given != 0 && given != 3)
    throw usage_error("mutual TLS needs all of --tls-certificate, --tls-key "
                      "and --tls-ca");
  return t;
}

net_config::net_config(const tls_files& tls) {
  register_types(*this);
  load<caf::io::middleman>();
  if (tls.enabled()) {
    // With certificate, key and CA set, CAF's OpenSSL layer requires a valid
    // certificate from the peer too (mutual TLS).
    load<caf::openssl::manager>();
    set("openssl.certificate", tls.certificate);
    set("openssl.key", tls.key);
    set("openssl.cafile", tls.ca);
  }
  set("scheduler.max-threads", 2);
  // Measured on 2 cores: the sharing scheduler drains ~35% more jobs/s than
  // work stealing here (fewer idle-thread wake-ups per hand-off).
  set("scheduler.policy", caf::atom("sharing"));
  // Detect a silently vanished peer, not only a closed connection.
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
}

session_actor connect(network& net, const args& a) {
  const char* env = std::getenv("CONVEYOR_CONNECT");
  auto [host, port] = parse_endpoint(a.get_or("connect", env ? env : ""));
  auto session = net.connect(host, port, find_token(a));
  if (!session)
    throw request_error(session.error());
  return std::move(*session);
}

json read_input(const std::string& text) {
  std::string body = text;
  if (!text.empty() && text[0] == '@') {
    std::ifstream in{text.substr(1)};
    if (!in)
      throw request_error({model::errc::invalid_input,
                           "cannot read input file '" + text.substr(1) + "'"});
    std::ostringstream ss;
    ss << in.rdbuf();
    body = ss.str();
  }
  auto parsed = model::parse_json_guarded(body);
  if (!parsed)
    throw request_error(
      {parsed.error().code, "--input: " + parsed.error().message});
  return std::move(*parsed);
}

std::optional<loaded_config> load_for_node(const std::string& path) {
  auto conf = cfg::load_config(path);
  if (!conf) {
    std::cerr << "conveyor: invalid configuration " << path << ":\n"
              << conf.error().message << "\n";
    return std::nullopt;
  }
  auto reg = cfg::build_registry(*conf);
  if (!reg) {
    std::cerr << "conveyor: " << path << ": " << reg.error().message << "\n";
    return std::nullopt;
  }
  return loaded_config{std::move(*conf), std::move(*reg)};
}

namespace {

/// `config init [FILE]`: never overwrites (O_EXCL).
int write_starter(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::cerr << "conveyor: cannot create " << path << ": "
              << std::generic_category().message(errno)
              << (errno == EEXIST ? " (not overwritten)" : "") << "\n";
    return failure;
  }
  auto text = cfg::starter_document().dump(2) + "\n";
  bool whole =
    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  whole = ::close(fd) == 0 && whole;
  if (!whole) {
    std::cerr << "conveyor: cannot write " << path << "\n";
    return failure;
  }
  print(json{{"config", path}, {"written", true}});
  return ok;
}

} // namespace

int run_config_command(int argc, char** argv) {
  args a{argc, argv, 2, {}, {}};
  const auto& words = a.positional();
  if (words.size() == 1 && words[0] == "defaults") {
    print(cfg::defaults_document());
    return ok;
  }
  if ((words.size() == 1 || words.size() == 2) && words[0] == "init")
    return write_starter(words.size() == 2 ? words[1] : "conveyor.json");
  if (words.size() != 2 || words[0] != "check")
    throw usage_error("usage: conveyor config check FILE | config defaults | "
                      "config init [FILE]");
  auto loaded = load_for_node(words[1]);
  if (!loaded)
    return invalid;
  print(json{{"config", words[1]},
             {"valid", true},
             {"tasks", loaded->conf.tasks.size()},
             {"workflows", loaded->conf.workflows.size()}});
  return ok;
}

std::vector<char*> command_first(int argc, char** argv) {
  static constexpr std::string_view global[] = {
    "connect", "token",  "token-file",      "data",
    "timeout", "tls-ca", "tls-certificate", "tls-key"};
  std::vector<char*> leading;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--"))
      break;
    auto name = arg.substr(2, arg.find('=') - 2);
    if (std::find(std::begin(global), std::end(global), name)
        == std::end(global))
      break;
    leading.push_back(argv[i]);
    if (arg.find('=') == std::string_view::npos && i + 1 < argc)
      leading.push_back(argv[++i]);
  }
  std::vector<char*> out(argv, argv + argc);
  if (leading.empty() || i >= argc)
    return out; // nothing to move, or no command: left as given
  out.assign({argv[0], argv[i]});
  out.insert(out.end(), leading.begin(), leading.end());
  out.insert(out.end(), argv + i + 1, argv + argc);
  return out;
}

void print(const json& value) {
  std::cout << value.dump(2, ' ', false, json::error_handler_t::replace)
            << std::endl;
}

} // namespace conveyor::app
