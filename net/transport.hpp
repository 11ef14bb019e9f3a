#pragma once

// The guarded transport of one actor system: a CAF middleman actor whose
// listeners and outgoing connections use guarded scribes
// (net/guarded_scribe.hpp) instead of CAF's plain ones. It is CAF's own
// middleman actor with two factories replaced (open, connect), so BASP,
// the broker and remote actor handles work as usual.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "caf/io/middleman_actor.hpp"
#include "net/connection_guard.hpp"

namespace conveyor::net {

/// Tokens to present per endpoint, and what each node answered.
class client_credentials {
public:
  using endpoint = std::pair<std::string, std::uint16_t>;

  void set_token(const endpoint& ep, std::string token);
  std::string token(const endpoint& ep) const;
  /// A fresh outcome for the next connection to `ep`.
  std::shared_ptr<std::atomic<int>> fresh_outcome(const endpoint& ep);
  /// The outcome of the last connection to `ep` (verdict as int).
  int last_outcome(const endpoint& ep) const;

private:
  mutable std::mutex mutex_;
  std::map<endpoint, std::string> tokens_;
  std::map<endpoint, std::shared_ptr<std::atomic<int>>> outcomes_;
};

/// Spawns the guarded middleman actor of `sys` (hidden: it does not keep
/// the actor system alive). With `tls`, every connection is a TLS session
/// configured by the system's openssl.* settings (caf::openssl::manager
/// must be loaded).
caf::io::middleman_actor
spawn_transport(caf::actor_system& sys, std::shared_ptr<connection_guard> guard,
                std::shared_ptr<client_credentials> creds, bool tls);

} // namespace conveyor::net
