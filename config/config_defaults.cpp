#include "config/config_defaults.hpp"

namespace conveyor::cfg {

namespace {

json node_defaults(const node_config& n) {
  return {
    {"listen", n.listen},
    {"data", n.data},
    {"durability", n.durability == model::durability::sync ? "sync" : "async"},
    {"workers", n.workers},
    {"maxMessageBytes", n.max_message_bytes},
    {"maxConnections", n.max_connections},
    {"handshakeTimeoutMs", n.handshake_timeout_ms},
    {"maxInFlight", n.max_in_flight},
    {"maxPendingEnqueues", n.max_pending_enqueues},
    {"secretEnv", n.secret_env},
    {"stopGraceMs", n.stop_grace_ms},
    {"leaseMs", n.lease_ms},
    {"heartbeatMs", n.heartbeat_ms},
    {"http", n.http.empty() ? json(nullptr) : json(n.http)},
    {"httpMaxBodyBytes", n.http_max_body_bytes},
    {"httpMaxHeaderBytes", n.http_max_header_bytes},
    {"httpRequestTimeoutMs", n.http_request_timeout_ms},
    {"httpMaxConnections", n.http_max_connections}};
}

json limits_defaults(const model::limits& lim) {
  json out = json::object();
  for (const auto& f : model::limit_fields())
    out[std::string{f.key}] = lim.*f.member;
  return out;
}

} // namespace

json defaults_document() {
  return settings_document(config{});
}

json settings_document(const config& c) {
  return {{"jobs",
           {{"processingOrder", c.processing_order},
            {"deleteJobOnComplete", c.delete_job_on_complete},
            {"maxInterruptions", c.max_interruptions},
            {"tasks", json::array()},
            {"workflows", json::array()}}},
          {"node", node_defaults(c.node)},
          {"limits", limits_defaults(c.limits)}};
}

json starter_document() {
  const config c;
  return {
    {"jobs",
     {{"tasks",
       {{{"slug", "hello"},
         {"run",
          {"sh", "-c",
           "read -r input; printf '{\"greeting\": \"hello\", \"input\": %s}' "
           "\"$input\""}},
         {"timeout", 10000},
         {"retries",
          {{"attempts", 2},
           {"backoff", {{"type", "exponential"}, {"delay", 1000}}}}}}}},
      {"deleteJobOnComplete", false}}},
    {"node",
     {{"listen", c.node.listen},
      {"data", c.node.data},
      {"durability", "sync"},
      {"workers", c.node.workers},
      {"http", c.node.http}}}};
}

} // namespace conveyor::cfg
