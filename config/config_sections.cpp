// Loading the config: schedules, concurrency, access, autoRun and node; and
// the small helpers the loaded config offers.
// Long file: one parser per config section, each short and independent.

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/config.hpp"
#include "config/config_reader.hpp"
#include "model/cron.hpp"

namespace conveyor::cfg {

using namespace tasks; // the task kinds a config describes

namespace detail {

namespace fs = std::filesystem;

void check_queue(reader& r, const config& cfg, const std::string& name,
                 const std::string& path) {
  if (name != "default" && !cfg.queues.count(name))
    r.fail(path, "unknown queue '" + name
                   + "' (list it in jobs.queues, or use \"default\")");
}

std::string resolve_path(const std::string& base_dir, const std::string& p) {
  fs::path path{p};
  if (path.is_relative())
    path = fs::path{base_dir} / path;
  return path.lexically_normal().string();
}

namespace {

void check_cron(reader& r, const std::string& cron, const std::string& path) {
  if (auto parsed = model::cron_expr::parse(cron); !parsed)
    r.fail(path, parsed.error().message);
}

/// host and port of "host:port" / "[v6]:port"; nullopt if malformed.
std::optional<std::string> listen_host(const std::string& s) {
  std::string host, port;
  if (s.starts_with("[")) {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size()
        || s[close + 1] != ':')
      return std::nullopt;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos)
      return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return std::nullopt; // IPv6 needs brackets
  }
  if (host.empty() || port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(),
                      [](char c) { return c >= '0' && c <= '9'; })
      || std::stoi(port) > 65535)
    return std::nullopt;
  return host;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6)
           || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  return false;
}

/// node.secretEnv: names no command task ever receives. Checked against
/// every task's `env` here (tasks are parsed before the node section), and
/// handed to each command so the runner drops them as well.
void parse_secret_env(reader& r, const json& node, const std::string& path,
                      config& cfg) {
  const auto here = at(path, "secretEnv");
  std::vector<std::string> names;
  if (!r.strings(node, "secretEnv", path, names))
    return;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (!is_env_name(names[i]))
      r.fail(at(here, i), "expected a variable name (letters, digits, _), got '"
                            + names[i] + "'");
  for (auto& t : cfg.tasks) {
    for (const auto& entry : t.command.env) {
      auto name = entry.substr(0, entry.find('='));
      if (std::find(names.begin(), names.end(), name) != names.end())
        r.fail(here, "'" + name + "' is listed in the env of task '" + t.slug
                       + "'; a secret is never passed to a command");
    }
    t.command.secret_env = names;
  }
  cfg.node.secret_env = std::move(names);
}

} // namespace

void parse_schedules(reader& r, const json& obj, const std::string& path,
                     const config& cfg, std::vector<schedule_config>& out) {
  auto it = obj.find("schedule");
  if (it == obj.end())
    return;
  const auto here = at(path, "schedule");
  if (!it->is_array()) {
    r.fail(here, "expected array of {cron, queue}, got " + describe(*it));
    return;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto sp = at(here, i);
    const auto& e = (*it)[i];
    if (!r.object(e, sp, {"cron", "queue"}))
      continue;
    schedule_config s;
    if (r.string(e, "cron", sp, s.cron, true))
      check_cron(r, s.cron, at(sp, "cron"));
    if (r.string(e, "queue", sp, s.queue, true))
      check_queue(r, cfg, s.queue, at(sp, "queue"));
    out.push_back(std::move(s));
  }
}

void parse_concurrency(reader& r, const json& obj, const std::string& path,
                       std::optional<concurrency_config>& out) {
  auto it = obj.find("concurrency");
  if (it == obj.end())
    return;
  const auto here = at(path, "concurrency");
  concurrency_config c;
  std::string key_path = here;
  if (it->is_string()) {
    c.key = it->get<std::string>();
    if (c.key.empty()) {
      r.fail(here, "must not be empty");
      return;
    }
  } else if (it->is_object()) {
    if (!r.object(*it, here, {"key", "exclusive", "supersedes"}))
      return;
    key_path = at(here, "key");
    bool has_key = r.string(*it, "key", here, c.key, true);
    r.boolean(*it, "exclusive", here, c.exclusive);
    r.boolean(*it, "supersedes", here, c.supersedes);
    if (!has_key)
      return;
  } else {
    r.fail(here, "expected a key template string or an object {key, exclusive, "
                 "supersedes}, got "
                   + describe(*it));
    return;
  }
  std::vector<located_placeholder> refs;
  const auto before = r.problems.size();
  collect_placeholders(json(c.key), key_path, refs, r.problems);
  for (const auto& ref : refs) {
    const auto& p = ref.ref.path;
    if (p[0] != "input" && !(p[0] == "queue" && p.size() == 1))
      r.fail(key_path,
             "${" + ref.ref.text
               + "}: a concurrency key can use ${input...} and ${queue}");
  }
  if (r.problems.size() == before)
    out = std::move(c);
}

void parse_access(reader& r, const json& jobs, const std::string& path,
                  config& cfg) {
  auto it = jobs.find("access");
  if (it == jobs.end())
    return;
  const auto here = at(path, "access");
  if (!r.object(*it, here, {"tokens", "queue", "run", "cancel", "read"}))
    return;
  if (auto tokens = it->find("tokens");
      tokens != it->end() && r.map(*tokens, at(here, "tokens"))) {
    std::size_t n = 0;
    for (const auto& [token, p] : tokens->items()) {
      // Never echo a token (config errors end up in logs): name the entry
      // by its principal, or by its position.
      std::string label = "token #" + std::to_string(n++);
      if (p.is_object() && p.contains("principal")
          && p["principal"].is_string())
        label = "token of '" + p["principal"].get<std::string>() + "'";
      const auto tp = at(here, "tokens") + "[" + label + "]";
      if (token.size() < 16)
        r.fail(tp, "a token must have at least 16 characters");
      principal_config pc;
      if (r.object(p, tp, {"principal", "roles"})) {
        r.string(p, "principal", tp, pc.principal, true);
        r.strings(p, "roles", tp, pc.roles);
      }
      cfg.access.tokens.emplace(token, std::move(pc));
    }
  }
  for (auto op :
       {operation::queue, operation::run, operation::cancel, operation::read}) {
    const auto name = std::string{to_string(op)};
    auto rules = it->find(name);
    if (rules == it->end())
      continue;
    const auto op_path = at(here, name);
    if (!rules->is_array()) {
      r.fail(op_path,
             "expected array of {roles, queues}, got " + describe(*rules));
      continue;
    }
    std::vector<access_rule> list;
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const auto rp = at(op_path, i);
      const auto& rule = (*rules)[i];
      if (!r.object(rule, rp, {"roles", "queues"}))
        continue;
      access_rule ar;
      r.strings(rule, "roles", rp, ar.roles, true, false);
      if (r.strings(rule, "queues", rp, ar.queues, false, false))
        for (std::size_t q = 0; q < ar.queues.size(); ++q)
          if (ar.queues[q] != "*")
            check_queue(r, cfg, ar.queues[q], at(at(rp, "queues"), q));
      list.push_back(std::move(ar));
    }
    cfg.access.rules[op] = std::move(list);
  }
}

void parse_auto_run(reader& r, const json& jobs, const std::string& path,
                    config& cfg) {
  auto it = jobs.find("autoRun");
  if (it == jobs.end())
    return;
  const auto here = at(path, "autoRun");
  if (!it->is_array()) {
    r.fail(here,
           "expected array of {cron, limit, queue, ...}, got " + describe(*it));
    return;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto ap = at(here, i);
    const auto& e = (*it)[i];
    if (!r.object(e, ap,
                  {"cron", "limit", "queue", "allQueues", "disableScheduling",
                   "silent"}))
      continue;
    autorun_config a;
    if (r.string(e, "cron", ap, a.cron))
      check_cron(r, a.cron, at(ap, "cron"));
    std::int64_t n = 0;
    if (r.integer(e, "limit", ap, 1, 100000, n))
      a.limit = static_cast<std::int32_t>(n);
    if (r.string(e, "queue", ap, a.queue))
      check_queue(r, cfg, a.queue, at(ap, "queue"));
    r.boolean(e, "allQueues", ap, a.all_queues);
    r.boolean(e, "disableScheduling", ap, a.disable_scheduling);
    r.boolean(e, "silent", ap, a.silent);
    cfg.auto_run.push_back(std::move(a));
  }
}

void parse_limits(reader& r, const json& doc, const std::string& path,
                  config& cfg) {
  auto it = doc.find("limits");
  if (it == doc.end() || !r.map(*it, path))
    return;
  const auto fields = model::limit_fields();
  for (const auto& item : it->items()) {
    const std::string& key = item.key();
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&](const auto& x) { return x.key == key; });
    if (f == fields.end()) {
      r.fail(at(path, key), "unknown key");
      continue;
    }
    std::int64_t v = 0;
    if (r.integer(*it, key, path, static_cast<std::int64_t>(f->min),
                  static_cast<std::int64_t>(f->max), v))
      cfg.limits.*(f->member) = static_cast<std::size_t>(v);
  }
  // Command tasks stop reading stdout beyond the output limit.
  for (auto& t : cfg.tasks)
    t.command.max_output = cfg.limits.max_output_bytes;
}

void parse_node(reader& r, const json& doc, const std::string& path,
                config& cfg) {
  static const json none = json::object();
  auto it = doc.find("node");
  const json& n = it == doc.end() ? none : *it;
  auto& node = cfg.node;
  if (r.object(n, path,
               {"listen", "data", "durability", "tls", "workers",
                "maxMessageBytes", "maxConnections", "handshakeTimeoutMs",
                "maxInFlight", "maxPendingEnqueues", "secretEnv", "stopGraceMs",
                "leaseMs", "heartbeatMs", "http", "httpMaxBodyBytes",
                "httpMaxHeaderBytes", "httpRequestTimeoutMs",
                "httpMaxConnections"})) {
    r.string(n, "listen", path, node.listen);
    r.string(n, "data", path, node.data);
    std::string mode;
    if (r.choice(n, "durability", path, {"sync", "async"}, mode))
      node.durability =
        mode == "sync" ? model::durability::sync : model::durability::async;
    std::int64_t workers = 0;
    if (r.integer(n, "workers", path, 1, 1024, workers))
      node.workers = static_cast<std::size_t>(workers);
    std::int64_t v = 0;
    if (r.integer(n, "maxMessageBytes", path, std::int64_t{64} * 1024,
                  std::int64_t{1} << 30, v))
      node.max_message_bytes = static_cast<std::size_t>(v);
    if (r.integer(n, "maxConnections", path, 1, 1'000'000, v))
      node.max_connections = static_cast<std::size_t>(v);
    if (r.integer(n, "handshakeTimeoutMs", path, 10, 600'000, v))
      node.handshake_timeout_ms = v;
    if (r.integer(n, "maxInFlight", path, 1, 1'000'000, v))
      node.max_in_flight = static_cast<std::size_t>(v);
    if (r.integer(n, "maxPendingEnqueues", path, 1, 100'000'000, v))
      node.max_pending_enqueues = static_cast<std::size_t>(v);
    if (r.integer(n, "stopGraceMs", path, 0, 86'400'000, v))
      node.stop_grace_ms = v;
    if (r.integer(n, "leaseMs", path, 3'000, 86'400'000, v))
      node.lease_ms = v;
    if (r.integer(n, "heartbeatMs", path, 10, 600'000, v))
      node.heartbeat_ms = v;
    if (auto web = n.find("http"); web != n.end() && web->is_null())
      node.http.clear();
    else
      r.string(n, "http", path, node.http);
    if (r.integer(n, "httpMaxBodyBytes", path, 1024, std::int64_t{1} << 30, v))
      node.http_max_body_bytes = static_cast<std::size_t>(v);
    if (r.integer(n, "httpMaxHeaderBytes", path, 1024, 1 << 20, v))
      node.http_max_header_bytes = static_cast<std::size_t>(v);
    if (r.integer(n, "httpRequestTimeoutMs", path, 100, 600'000, v))
      node.http_request_timeout_ms = v;
    if (r.integer(n, "httpMaxConnections", path, 1, 100'000, v))
      node.http_max_connections = static_cast<std::size_t>(v);
    parse_secret_env(r, n, path, cfg);
    const auto tls_path = at(path, "tls");
    if (auto tls = n.find("tls");
        tls != n.end()
        && r.object(*tls, tls_path, {"certificate", "key", "ca"})) {
      std::pair<const char*, std::string*> files[] = {
        {"certificate", &node.tls_certificate},
        {"key", &node.tls_key},
        {"ca", &node.tls_ca}};
      std::string missing;
      for (auto& [key, field] : files) {
        if (!r.string(*tls, key, tls_path, *field)) {
          missing += (missing.empty() ? "" : ", ") + std::string{key};
          continue;
        }
        *field = resolve_path(cfg.base_dir, *field);
        std::error_code ec;
        if (!fs::is_regular_file(*field, ec))
          r.fail(at(tls_path, key), "file '" + *field + "' does not exist");
      }
      if (!missing.empty() && missing != "certificate, key, ca")
        r.fail(tls_path,
               "certificate, key and ca must be set together (missing: "
                 + missing + ")");
    }
  }
  node.data = resolve_path(cfg.base_dir, node.data);
  auto host = listen_host(node.listen);
  if (!host) {
    r.fail(at(path, "listen"),
           "expected host:port (e.g. 127.0.0.1:4242), got \"" + node.listen
             + "\"");
  } else if (!is_loopback(*host)
             && (node.tls_certificate.empty() || node.tls_key.empty()
                 || node.tls_ca.empty())) {
    r.fail(
      at(path, "listen"),
      "'" + node.listen
        + "' is not a loopback address, so mutual TLS is "
          "required: set node.tls.certificate, node.tls.key and node.tls.ca");
  }
}

} // namespace detail

const principal_config*
access_config::authenticate(std::string_view token) const {
  const principal_config* found = nullptr;
  for (const auto& [candidate, principal] : tokens) {
    if (candidate.size() != token.size())
      continue;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < token.size(); ++i)
      diff |= static_cast<unsigned char>(candidate[i] ^ token[i]);
    if (diff == 0)
      found = &principal;
  }
  return found;
}

namespace {

bool role_matches(const access_rule& rule,
                  const std::vector<std::string>& roles) {
  return std::any_of(
    rule.roles.begin(), rule.roles.end(), [&](const std::string& r) {
      return r == "*"
             || std::find(roles.begin(), roles.end(), r) != roles.end();
    });
}

} // namespace

bool access_config::allows(operation op, const std::vector<std::string>& roles,
                           std::string_view queue) const {
  auto it = rules.find(op);
  if (it == rules.end())
    return true;
  return std::any_of(
    it->second.begin(), it->second.end(), [&](const access_rule& rule) {
      return role_matches(rule, roles)
             && std::any_of(
               rule.queues.begin(), rule.queues.end(),
               [&](const std::string& q) { return q == "*" || q == queue; });
    });
}

bool access_config::may_allow(operation op,
                              const std::vector<std::string>& roles) const {
  auto it = rules.find(op);
  return it == rules.end()
         || std::any_of(
           it->second.begin(), it->second.end(),
           [&](const access_rule& rule) { return role_matches(rule, roles); });
}

model::expected<std::string> render_concurrency_key(const concurrency_config& c,
                                                    const json& input,
                                                    const std::string& queue) {
  json scope = json::object();
  scope["input"] = input;
  scope["queue"] = queue;
  auto key = render_template(json(c.key), scope);
  if (!key)
    return key.error();
  if (key->is_string())
    return key->get<std::string>();
  return key->dump(-1, ' ', false, json::error_handler_t::replace);
}

const task_config* config::find_task(std::string_view slug) const {
  for (const auto& t : tasks)
    if (t.slug == slug)
      return &t;
  return nullptr;
}

const workflow_config* config::find_workflow(std::string_view slug) const {
  for (const auto& w : workflows)
    if (w.slug == slug)
      return &w;
  return nullptr;
}

} // namespace conveyor::cfg
