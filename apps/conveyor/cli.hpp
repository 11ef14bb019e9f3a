#pragma once

// Shared pieces of the `conveyor` program: argument parsing, exit codes,
// connecting to a serve node.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/openssl/all.hpp"
#include "config/config.hpp"
#include "conveyor/client.hpp"
#include "conveyor/network.hpp"
#include "conveyor/remote.hpp"

namespace conveyor::app {

/// Exit codes scripts can rely on.
enum exit_code : int {
  ok = 0,
  failure = 1,     ///< the operation ran but failed (e.g. the job failed)
  usage = 2,       ///< bad command line
  forbidden = 3,   ///< an access rule or the token refused the request
  not_found = 4,   ///< no such job
  invalid = 5,     ///< invalid input (bad JSON, unknown slug, schema, ...)
  unreachable = 6, ///< no serve node at the address, or it went away
  overloaded = 7,  ///< the node sheds load (model::errc::overloaded): retry
};

/// A command-line mistake: printed with the usage, exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `--name value`, `--name=value` and bare `--flag`s after the subcommand.
class args {
public:
  args(int argc, char** argv, int first,
       const std::vector<std::string>& flags_with_values,
       const std::vector<std::string>& boolean_flags);

  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, std::string fallback) const;
  bool has(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

/// A whole-string decimal integer in [min, max] for option `what` (e.g.
/// "--limit"); anything else (trailing characters, a sign where none is
/// allowed, overflow) throws usage_error naming the option and the range.
std::int64_t parse_integer(const std::string& text, const std::string& what,
                           std::int64_t min, std::int64_t max);

/// A job id: whole-string decimal, 1..2^63-1. Throws usage_error.
model::job_id parse_job_id(const std::string& text);

/// Refuses --token (exit 2): a token on the command line is visible to
/// every user of the machine in `ps`.
void refuse_token_argument(const args& a);

/// --timeout SECONDS (default 30) for one request to the node.
caf::duration request_timeout(const args& a);

/// Exit code for an error code.
int exit_code_for(model::errc code);

/// Prints `error: message` to stderr and returns the exit code for it.
int report(const request_error& e);

/// host:port; "127.0.0.1:4242" when empty. Throws usage_error.
std::pair<std::string, std::uint16_t> parse_endpoint(const std::string& text);

/// Whether a host name is a loopback address.
bool is_loopback(const std::string& host);

/// The token to present: the first line of --token-file, else
/// $CONVEYOR_TOKEN, else the admin token a serve node on this machine wrote
/// to DATA/admin.token.
std::string find_token(const args& a);

/// Mutual TLS material (PEM files); all three or none.
struct tls_files {
  std::string certificate, key, ca;
  bool enabled() const { return !certificate.empty(); }
};

/// --tls-certificate, --tls-key, --tls-ca of a client or worker; throws
/// usage_error if only some are given ("TLS without certificates" would be
/// encrypted but unauthenticated, so it is refused).
tls_files client_tls(const args& a);

/// An actor system that can reach serve nodes (over mutual TLS when `tls`
/// is enabled).
struct net_config : caf::actor_system_config {
  explicit net_config(const tls_files& tls = {});
};

/// Connects to the node at --connect with the token of find_token() and
/// returns a session. Throws request_error (forbidden: the node refused the
/// token; unavailable: no node there).
session_actor connect(network& net, const args& a);

/// Reads --input: inline JSON, or @file.
json read_input(const std::string& text);

/// Prints a JSON value (pretty) on stdout.
void print(const json& value);

/// The command line with global options given before the command
/// (`conveyor --connect H:P get 7`) moved after it, where every command
/// reads them; otherwise as given.
std::vector<char*> command_first(int argc, char** argv);

/// Loads and validates a config file and builds its registry; on failure
/// prints every problem (with its JSON path) and returns nullopt.
struct loaded_config {
  cfg::config conf;
  std::shared_ptr<registry> reg;
};
std::optional<loaded_config> load_for_node(const std::string& path);

int run_serve(int argc, char** argv);
int run_worker(int argc, char** argv);
int run_client_command(const std::string& command, int argc, char** argv);
/// `conveyor config check FILE`.
int run_config_command(int argc, char** argv);

} // namespace conveyor::app
