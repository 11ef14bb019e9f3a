#pragma once

// The routes of the HTTP door (docs/http.md): who may call them is decided
// here, from the bearer token only; what they do is the supervisor's.

#include <memory>

#include "conveyor/http.hpp"
#include "http/exchange.hpp"

namespace conveyor::http {

struct feed;

struct api {
  caf::actor_system& sys;
  supervisor_actor supervisor;
  authenticator auth;
  http_options options;
  std::shared_ptr<feed> news; ///< metrics and the event hub
  const access_rules* rules;  ///< the runtime's (it outlives the server)
  const runtime* rt;          ///< for the journal's figures (same lifetime)
};

/// Serves one request of `api`; every request gets exactly one answer.
void route(const std::shared_ptr<const api>& to, request req,
           std::shared_ptr<exchange> answer);

} // namespace conveyor::http
