#include "http/dashboard.hpp"

#include <string>

#include "http/dashboard_files.hpp"

namespace conveyor::http {

namespace {

struct file {
  std::string_view path;
  std::string_view content_type;
  const std::string_view* body;
};

const file files[] = {
  {"/", "text/html; charset=utf-8", &dashboard_files::index_html},
  {"/ui/app.js", "text/javascript; charset=utf-8", &dashboard_files::app_js},
  {"/ui/app.css", "text/css; charset=utf-8", &dashboard_files::app_css},
  {"/ui/chart.js", "text/javascript; charset=utf-8",
   &dashboard_files::chart_js},
};

} // namespace

std::optional<response> dashboard_file(std::string_view path) {
  for (const auto& f : files) {
    if (f.path != path)
      continue;
    response res;
    res.content_type = std::string{f.content_type};
    res.body = std::string{*f.body};
    // Only our own scripts, styles and API; no framing by other sites; the
    // browser must not guess types or send the URL elsewhere.
    res.headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; "
       "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-cache"}};
    return res;
  }
  return std::nullopt;
}

} // namespace conveyor::http
