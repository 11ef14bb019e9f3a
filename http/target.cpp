#include "http/target.hpp"

namespace conveyor::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

model::error bad_target(std::string message) {
  return model::make_error(model::errc::invalid_input, std::move(message));
}

} // namespace

std::optional<std::string> target::param(std::string_view name) const {
  for (const auto& [key, value] : params)
    if (key == name)
      return value;
  return std::nullopt;
}

model::expected<std::string> percent_decode(std::string_view text,
                                            bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return bad_target("malformed percent escape in the request target");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (c == '\0')
        return bad_target("NUL byte in the request target");
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out.push_back(c);
  }
  return out;
}

model::expected<target> parse_target(std::string_view raw) {
  if (raw.empty() || raw.front() != '/')
    return bad_target("the request target must start with '/'");
  target out;
  auto query_at = raw.find('?');
  auto path = raw.substr(0, query_at);
  std::size_t pos = 1;
  while (pos <= path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos)
      end = path.size();
    auto piece = path.substr(pos, end - pos);
    if (!piece.empty() || end != path.size()) {
      auto decoded = percent_decode(piece, false);
      if (!decoded)
        return decoded.error();
      if (decoded->empty() || *decoded == "." || *decoded == "..")
        return bad_target("empty or dot segment in the request path");
      out.segments.push_back(std::move(*decoded));
    }
    pos = end + 1;
  }
  if (query_at == std::string_view::npos)
    return out;
  auto query = raw.substr(query_at + 1);
  pos = 0;
  while (pos < query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos)
      end = query.size();
    auto pair = query.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty())
      continue;
    if (out.params.size() == max_query_params)
      return bad_target("more than " + std::to_string(max_query_params)
                        + " query parameters");
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
      eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
      true);
    if (!key)
      return key.error();
    if (!value)
      return value.error();
    out.params.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

} // namespace conveyor::http
