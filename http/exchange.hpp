#pragma once

// What the HTTP transport (http/transport.cpp, the only user of Beast) hands
// to the routes, and how the routes answer: plain values, so the routes
// never see a socket and the transport never sees JSON.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace conveyor::http {

/// One request that arrived whole and within every transport limit.
struct request {
  std::string method; ///< "GET", "POST", ...
  std::string target; ///< as sent: path and query, still percent-encoded
  std::string authorization;
  std::string content_type;
  std::string body;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// An open text/event-stream answer. push() queues one event's bytes; a
/// client that lets more than the stream's buffer pile up is disconnected
/// (it cannot make the node hold more). Thread-safe.
class event_stream {
public:
  virtual ~event_stream() = default;
  /// False once the client is gone (the caller should stop pushing).
  virtual bool push(std::string bytes) = 0;
  virtual bool open() const = 0;
};

/// One request's way back. Exactly one answer is sent: the first call of
/// respond() or open_stream() wins, later ones are ignored. Callable from
/// any thread; a no-op once the server stopped.
class exchange {
public:
  virtual ~exchange() = default;
  virtual void respond(response res) = 0;
  /// Sends `head` (status, headers; no body) and keeps the connection as an
  /// event stream; nullptr if the connection is gone.
  virtual std::shared_ptr<event_stream> open_stream(response head) = 0;
};

using handler =
  std::function<void(request req, std::shared_ptr<exchange> answer)>;

} // namespace conveyor::http
