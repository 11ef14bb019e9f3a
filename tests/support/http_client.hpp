#pragma once

// A deliberately small HTTP/1.1 client over a raw socket, for tests: it
// sends exactly the bytes it is given (so hostile tests can send anything)
// and reads one response, whose body is delimited by Content-Length or by
// the server closing. Every read has a deadline.

#include <arpa/inet.h>
#include <chrono>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace conveyor::testing {

struct http_reply {
  int status = 0; ///< 0: no (complete) response arrived
  std::map<std::string, std::string> headers; ///< names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

class http_socket {
public:
  explicit http_socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0
        || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot connect to the HTTP port");
  }
  ~http_socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  http_socket(const http_socket&) = delete;
  http_socket& operator=(const http_socket&) = delete;

  /// False if the peer is gone.
  bool send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n =
        ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// Reads one response (waiting at most `deadline`).
  http_reply
  receive(std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    http_reply reply;
    auto until = std::chrono::steady_clock::now() + deadline;
    std::size_t head_end = std::string::npos;
    std::size_t length = std::string::npos;
    for (;;) {
      if (head_end == std::string::npos) {
        head_end = buffer_.find("\r\n\r\n");
        if (head_end != std::string::npos)
          parse_head(reply, head_end, length);
      }
      if (head_end != std::string::npos && length != std::string::npos
          && buffer_.size() >= head_end + 4 + length) {
        reply.body = buffer_.substr(head_end + 4, length);
        buffer_.erase(0, head_end + 4 + length);
        return reply;
      }
      if (!fill(until)) { // closed (or timed out): what arrived is it
        if (head_end == std::string::npos)
          return http_reply{};
        reply.body = buffer_.substr(head_end + 4);
        buffer_.clear();
        return reply;
      }
    }
  }

  /// Reads until `needle` arrived (true) or the deadline passed or the
  /// server closed (false). What arrived stays in text().
  bool
  read_until(const std::string& needle,
             std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (buffer_.find(needle) == std::string::npos)
      if (!fill(until))
        return false;
    return true;
  }

  const std::string& text() const { return buffer_; }

  /// Whether the server closed the connection within `deadline`.
  bool closed_within(std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (fill(until))
      if (std::chrono::steady_clock::now() >= until)
        return false;
    return !timed_out_;
  }

private:
  /// Reads more bytes; false on close, error or deadline.
  bool fill(std::chrono::steady_clock::time_point until) {
    timed_out_ = false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0
        || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      timed_out_ = true;
      return false;
    }
    char chunk[16384];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0)
      return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  void parse_head(http_reply& reply, std::size_t head_end,
                  std::size_t& length) {
    auto head = buffer_.substr(0, head_end);
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    if (status_line.size() >= 12)
      reply.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos =
      line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto end = head.find("\r\n", pos);
      if (end == std::string::npos)
        end = head.size();
      auto line = head.substr(pos, end - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        reply.headers[name] = value;
      }
      pos = end + 2;
    }
    if (auto it = reply.headers.find("content-length");
        it != reply.headers.end())
      length = std::stoul(it->second);
  }

  int fd_ = -1;
  std::string buffer_;
  bool timed_out_ = false;
};

/// One request on its own connection.
inline http_reply
http_call(std::uint16_t port, const std::string& method,
          const std::string& target, const std::string& token = {},
          const std::string& body = {},
          const std::string& content_type = "application/json") {
  http_socket s{port};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!token.empty())
    req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Type: " + content_type
           + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "Connection: close\r\n\r\n" + body;
  if (!s.send(req))
    return {};
  return s.receive();
}

} // namespace conveyor::testing
