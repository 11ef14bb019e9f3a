// Long file: the whole Beast transport (connections, answers, event
// streams, the acceptor) stays in one translation unit, the only one that
// pays for Beast's headers.

#include "http/transport.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace conveyor::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

class connection;

/// What the server, its connections and the answers in flight share. The
/// mutex guards `open` and `live`: once `open` is false no answer is posted
/// to a connection any more, so stop() can tear the io_context down.
struct shared_state {
  transport_limits limits;
  handler on_request;
  std::mutex mutex;
  bool open = true;
  std::map<const connection*, std::shared_ptr<connection>> live;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> requests{0};
};

std::string problem_body(unsigned status, const char* title,
                         const char* detail) {
  // A fixed shape without a JSON library: the transport answers these
  // before any request reached the routes.
  return std::string{"{\"type\":\"about:blank\",\"title\":\""} + title
         + "\",\"status\":" + std::to_string(status) + ",\"detail\":\"" + detail
         + "\"}";
}

/// One client connection, plain or TLS (stream_connection below). Answers
/// and event bytes reach it through post_to, on its strand.
class connection : public std::enable_shared_from_this<connection> {
public:
  virtual ~connection() = default;
  /// Reads the first request (after the TLS handshake, if any).
  virtual void start() = 0;
  /// Over the connection cap: a 503 and close, with no request read.
  virtual void refuse() = 0;
  virtual void write(response res) = 0;
  virtual void start_stream(const response& head) = 0;
  virtual void enqueue(std::string bytes) = 0;
  virtual void close() = 0;
  virtual bool stream_open() const = 0;
  virtual net::any_io_executor executor() = 0;

protected:
  std::shared_ptr<exchange>
  make_exchange(const std::shared_ptr<shared_state>& state);
};

/// `Stream`: beast::tcp_stream, or beast::ssl_stream over one.
template <class Stream>
class stream_connection final : public connection {
public:
  template <class... Tls>
  stream_connection(tcp::socket socket, std::shared_ptr<shared_state> state,
                    Tls&... tls)
      : stream_(std::move(socket), tls...), state_(std::move(state)) {}

  void start() override {
    if constexpr (is_tls) {
      // The handshake is bounded like a request's arrival.
      lowest().expires_after(state_->limits.request_timeout);
      stream_.async_handshake(
        ssl::stream_base::server,
        [self = shared_from_this(), this](beast::error_code ec) {
          if (ec)
            return close();
          read_request();
        });
    } else {
      read_request();
    }
  }

  void refuse() override {
    response res;
    res.status = 503;
    res.content_type = "application/problem+json";
    res.body = problem_body(503, "Service Unavailable",
                            "too many open connections; retry later");
    res.headers.emplace_back("Retry-After", "1");
    keep_alive_ = false;
    write(std::move(res));
  }

  void write(response res) override {
    if (streaming_)
      return;
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(res.status), 11);
    msg->set(bhttp::field::server, "conveyor");
    msg->set(bhttp::field::content_type, res.content_type);
    msg->set(bhttp::field::cache_control, "no-store");
    msg->set("X-Content-Type-Options", "nosniff");
    for (auto& [name, value] : res.headers)
      msg->set(name, value);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive_ && still_open());
    msg->prepare_payload();
    lowest().expires_after(state_->limits.request_timeout);
    bhttp::async_write(stream_, *msg,
                       [self = shared_from_this(), this,
                        msg](beast::error_code ec, std::size_t) {
                         if (ec || !msg->keep_alive())
                           return close();
                         read_request();
                       });
  }

  /// Turns the connection into an event stream: the head goes first, then
  /// whatever push() queues, until either side closes.
  void start_stream(const response& head) override {
    if (streaming_)
      return;
    streaming_ = true;
    std::string text = "HTTP/1.1 " + std::to_string(head.status) + " OK\r\n"
                       + "Content-Type: " + head.content_type + "\r\n"
                       + "Cache-Control: no-store\r\nConnection: close\r\n"
                       + "X-Content-Type-Options: nosniff\r\n";
    for (auto& [name, value] : head.headers)
      text += name + ": " + value + "\r\n";
    text += "\r\n";
    lowest().expires_never();
    enqueue(std::move(text));
    // The client sends nothing more: any read completion means it left.
    stream_.async_read_some(net::buffer(probe_),
                            [self = shared_from_this(), this](
                              beast::error_code, std::size_t) { close(); });
  }

  void enqueue(std::string bytes) override {
    if (closed_)
      return;
    backlog_ += bytes.size();
    if (backlog_ > state_->limits.max_stream_backlog)
      return close(); // a client this slow loses its stream
    out_.push_back(std::move(bytes));
    if (!writing_)
      write_next();
  }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    stream_open_ = false;
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
    std::lock_guard guard{state_->mutex};
    state_->live.erase(this);
  }

  bool stream_open() const override { return stream_open_; }
  net::any_io_executor executor() override { return stream_.get_executor(); }

private:
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  bool still_open() {
    std::lock_guard guard{state_->mutex};
    return state_->open;
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(
      static_cast<std::uint32_t>(state_->limits.max_header_bytes));
    parser_->body_limit(state_->limits.max_body_bytes);
    lowest().expires_after(state_->limits.request_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this(), this](
                        beast::error_code ec, std::size_t) { on_read(ec); });
  }

  void answer_error(unsigned status, const char* title, const char* detail) {
    keep_alive_ = false;
    response res;
    res.status = status;
    res.content_type = "application/problem+json";
    res.body = problem_body(status, title, detail);
    write(std::move(res));
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit)
      return answer_error(413, "Payload Too Large",
                          "the request body is larger than the limit");
    if (ec == bhttp::error::header_limit)
      return answer_error(431, "Request Header Fields Too Large",
                          "the request line and headers are larger than the "
                          "limit");
    if (ec
        && ec.category()
             == bhttp::make_error_code(bhttp::error::end_of_stream).category()
        && ec != bhttp::error::end_of_stream
        && ec != bhttp::error::partial_message)
      return answer_error(400, "Bad Request", "malformed HTTP request");
    if (ec)
      return close(); // closed, timed out or reset: nobody to answer
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    lowest().expires_never(); // the answer may take a while (run)
    state_->requests.fetch_add(1, std::memory_order_relaxed);
    request req;
    req.method = std::string{msg.method_string()};
    req.target = std::string{msg.target()};
    req.authorization = std::string{msg[bhttp::field::authorization]};
    req.content_type = std::string{msg[bhttp::field::content_type]};
    req.body = std::move(msg.body());
    state_->on_request(std::move(req), make_exchange(state_));
  }

  void write_next() {
    if (out_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    net::async_write(
      stream_, net::buffer(out_.front()),
      [self = shared_from_this(), this](beast::error_code ec, std::size_t n) {
        if (ec)
          return close();
        backlog_ -= n;
        out_.pop_front();
        write_next();
      });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<shared_state> state_;
  bool keep_alive_ = false;
  bool closed_ = false;
  bool streaming_ = false;
  bool writing_ = false;
  std::atomic<bool> stream_open_{true};
  std::deque<std::string> out_;
  std::size_t backlog_ = 0;
  std::array<char, 64> probe_{};
};

/// Runs `f(connection&)` on the connection's strand unless the server
/// stopped or the connection is gone. False in those cases.
///
/// Handles given out to other code (exchanges, event streams) hold the
/// server's state weakly: an event stream lives in the feed's hub, the hub
/// in the feed, the feed in the routes the state holds, so a strong
/// reference here would keep the whole server alive in a cycle.
template <class F>
bool post_to(const std::weak_ptr<connection>& weak,
             const std::weak_ptr<shared_state>& weak_state, F f) {
  auto state = weak_state.lock();
  if (!state)
    return false;
  std::lock_guard guard{state->mutex};
  if (!state->open)
    return false;
  auto conn = weak.lock();
  if (!conn)
    return false;
  net::post(conn->executor(), [conn, f = std::move(f)]() mutable { f(*conn); });
  return true;
}

class stream_handle : public event_stream {
public:
  stream_handle(std::weak_ptr<connection> conn,
                std::weak_ptr<shared_state> state)
      : conn_(std::move(conn)), state_(std::move(state)) {}

  bool push(std::string bytes) override {
    if (!open())
      return false;
    return post_to(conn_, state_,
                   [bytes = std::move(bytes)](connection& c) mutable {
                     c.enqueue(std::move(bytes));
                   });
  }

  bool open() const override {
    auto conn = conn_.lock();
    return conn && conn->stream_open();
  }

private:
  std::weak_ptr<connection> conn_;
  std::weak_ptr<shared_state> state_;
};

class connection_exchange : public exchange {
public:
  connection_exchange(std::weak_ptr<connection> conn,
                      std::weak_ptr<shared_state> state)
      : conn_(std::move(conn)), state_(std::move(state)) {}

  void respond(response res) override {
    if (answered_.exchange(true))
      return;
    post_to(conn_, state_, [res = std::move(res)](connection& c) mutable {
      c.write(std::move(res));
    });
  }

  std::shared_ptr<event_stream> open_stream(response head) override {
    if (answered_.exchange(true))
      return nullptr;
    if (!post_to(conn_, state_, [head = std::move(head)](connection& c) {
          c.start_stream(head);
        }))
      return nullptr;
    return std::make_shared<stream_handle>(conn_, state_);
  }

private:
  std::weak_ptr<connection> conn_;
  std::weak_ptr<shared_state> state_;
  std::atomic<bool> answered_{false};
};

std::shared_ptr<exchange>
connection::make_exchange(const std::shared_ptr<shared_state>& state) {
  return std::make_shared<connection_exchange>(weak_from_this(), state);
}

} // namespace

struct transport::impl {
  std::shared_ptr<shared_state> state = std::make_shared<shared_state>();
  /// Set: every connection speaks TLS (transport_tls).
  std::optional<ssl::context> tls;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> retry_timer;
  std::vector<std::thread> threads;
  bool stopped = false;

  void accept() {
    acceptor->async_accept(net::make_strand(ioc),
                           [this](beast::error_code ec, tcp::socket socket) {
                             on_accept(ec, std::move(socket));
                           });
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open())
      return;
    if (ec) {
      // Out of descriptors (or a transient error): wait a little rather
      // than spin on accept.
      retry_timer->expires_after(std::chrono::milliseconds(50));
      retry_timer->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec)
          accept();
      });
      return;
    }
    std::shared_ptr<connection> conn;
    if (tls)
      conn = std::make_shared<
        stream_connection<beast::ssl_stream<beast::tcp_stream>>>(
        std::move(socket), state, *tls);
    else
      conn = std::make_shared<stream_connection<beast::tcp_stream>>(
        std::move(socket), state);
    bool refused = false;
    {
      std::lock_guard guard{state->mutex};
      if (!state->open)
        return; // stop() is under way: it closes what it found in `live`
      refused = state->live.size() >= state->limits.max_connections;
      if (!refused)
        state->live.emplace(conn.get(), conn);
    }
    if (refused) {
      state->refused.fetch_add(1, std::memory_order_relaxed);
      net::post(conn->executor(), [conn] { conn->refuse(); });
    } else {
      state->accepted.fetch_add(1, std::memory_order_relaxed);
      net::post(conn->executor(), [conn] { conn->start(); });
    }
    accept();
  }
};

transport::transport(transport_limits limits, handler on_request)
    : impl_(std::make_unique<impl>()) {
  impl_->state->limits = limits;
  impl_->state->on_request = std::move(on_request);
}

transport::~transport() {
  stop();
}

namespace {

/// A server context from PEM files: TLS 1.2 and later only.
model::expected<ssl::context> load_tls(const transport_tls& files) {
  ssl::context ctx{ssl::context::tls_server};
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                  | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                  | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  beast::error_code ec;
  ctx.use_certificate_chain_file(files.certificate_file, ec);
  if (ec)
    return model::make_error(model::errc::invalid_input,
                             "http: cannot load the TLS certificate '"
                               + files.certificate_file + "': " + ec.message());
  ctx.use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec)
    return model::make_error(model::errc::invalid_input,
                             "http: cannot load the TLS key '" + files.key_file
                               + "': " + ec.message());
  return ctx;
}

} // namespace

model::expected<std::uint16_t>
transport::start(const std::string& host, std::uint16_t port,
                 const std::optional<transport_tls>& tls) {
  beast::error_code ec;
  auto address =
    net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec)
    return model::make_error(model::errc::invalid_input,
                             "http: '" + host + "' is not an IP address");
  if (!address.is_loopback() && !tls)
    return model::make_error(
      model::errc::invalid_input,
      "http: refusing to serve on " + host
        + " without TLS: plain HTTP is only safe on loopback (give a "
          "certificate and key, or put a TLS-terminating proxy in front)");
  if (tls) {
    auto ctx = load_tls(*tls);
    if (!ctx)
      return ctx.error();
    impl_->tls.emplace(std::move(*ctx));
  }
  tcp::endpoint endpoint{address, port};
  auto& acceptor = impl_->acceptor.emplace(impl_->ioc);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return model::make_error(model::errc::unavailable,
                             "http: cannot listen on " + host + ":"
                               + std::to_string(port) + ": " + ec.message());
  auto bound = acceptor.local_endpoint().port();
  impl_->retry_timer.emplace(impl_->ioc);
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->accept();
  auto n = std::max<std::size_t>(1, impl_->state->limits.threads);
  for (std::size_t i = 0; i < n; ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return bound;
}

void transport::stop() {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  std::map<const connection*, std::shared_ptr<connection>> live;
  {
    std::lock_guard guard{impl_->state->mutex};
    impl_->state->open = false;
    live.swap(impl_->state->live);
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
  // No thread runs the io_context any more: close everything from here.
  // (A handler still queued in it holds its connection until the
  // io_context is destroyed, so closing cannot wait for the last owner.)
  beast::error_code ec;
  if (impl_->acceptor)
    impl_->acceptor->close(ec);
  if (impl_->retry_timer)
    impl_->retry_timer->cancel();
  for (auto& [ptr, conn] : live)
    conn->close();
  live.clear();
}

http_stats transport::stats() const {
  http_stats out;
  out.accepted = impl_->state->accepted.load();
  out.refused_over_capacity = impl_->state->refused.load();
  out.requests = impl_->state->requests.load();
  std::lock_guard guard{impl_->state->mutex};
  out.open = static_cast<std::int64_t>(impl_->state->live.size());
  return out;
}

} // namespace conveyor::http
