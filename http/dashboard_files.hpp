#pragma once

// The dashboard's files, compiled into the binary (cmake/embed_files.cmake
// writes their definitions at build time from http/dashboard/ and Debian's
// libjs-chart.js), so it works offline and without a CDN.

#include <string_view>

namespace conveyor::http::dashboard_files {

extern const std::string_view index_html;
extern const std::string_view app_js;
extern const std::string_view app_css;
extern const std::string_view chart_js;

} // namespace conveyor::http::dashboard_files
