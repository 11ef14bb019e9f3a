#include <utility>

#include "conveyor/http.hpp"
#include "http/feed.hpp"
#include "http/routes.hpp"
#include "http/transport.hpp"

namespace conveyor {

std::shared_ptr<http::feed> feed_http(runtime_options& options) {
  auto feed = std::make_shared<http::feed>();
  feed->wired = true;
  options.on_terminal =
    [feed, before = std::move(options.on_terminal)](const model::job& j) {
      if (before)
        before(j);
      feed->counters.job_finished(j);
    };
  options.on_event = [feed, before = std::move(options.on_event)](
                       std::string_view type, const model::job& j) {
    if (before)
      before(type, j);
    if (type == "retrying" || type == "interrupted")
      feed->counters.job_requeued(type, j);
    feed->events.publish(type, j);
  };
  options.on_live = [feed, before = std::move(options.on_live)](
                      std::string_view type, const model::job& j,
                      const json& live) {
    if (before)
      before(type, j, live);
    feed->events.publish_live(type, j, live);
  };
  return feed;
}

struct http_server::impl {
  std::shared_ptr<const http::api> api;
  http::transport transport;

  impl(std::shared_ptr<const http::api> to, const http_options& o)
      : api(std::move(to)),
        transport(
          http::transport_limits{.max_body_bytes = o.max_body_bytes,
                                 .max_header_bytes = o.max_header_bytes,
                                 .request_timeout = o.request_timeout,
                                 .max_connections = o.max_connections,
                                 .threads = o.threads},
          [to = api](http::request req, std::shared_ptr<http::exchange> ex) {
            http::route(to, std::move(req), std::move(ex));
          }) {}
};

http_server::http_server(caf::actor_system& sys, runtime& rt,
                         authenticator auth, const http_options& options,
                         std::shared_ptr<http::feed> feed) {
  if (!feed)
    feed = std::make_shared<http::feed>();
  feed->events.limit(options.max_event_streams);
  auto to = std::make_shared<const http::api>(
    http::api{sys, rt.supervisor(), std::move(auth), options, std::move(feed),
              &rt.access(), &rt});
  impl_ = std::make_unique<impl>(std::move(to), options);
}

http_server::~http_server() {
  stop();
}

model::expected<std::uint16_t> http_server::start() {
  const auto& o = impl_->api->options;
  if (o.tls_certificate.empty() != o.tls_key.empty())
    return model::make_error(
      model::errc::invalid_input,
      "http: TLS needs both a certificate and a key file");
  std::optional<http::transport_tls> tls;
  if (!o.tls_certificate.empty())
    tls = http::transport_tls{o.tls_certificate, o.tls_key};
  return impl_->transport.start(o.host, o.port, tls);
}

void http_server::stop() {
  impl_->transport.stop();
}

http_stats http_server::stats() const {
  return impl_->transport.stats();
}

} // namespace conveyor
