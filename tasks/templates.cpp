#include "tasks/templates.hpp"

#include <algorithm>

namespace conveyor::tasks {

namespace {

/// A parsed template string: literal text and placeholders, in order.
struct part {
  std::string literal;
  std::optional<placeholder> ref;
};

model::error bad(std::string message) {
  return model::make_error(model::errc::invalid_input, std::move(message));
}

model::expected<placeholder> make_placeholder(std::string_view inner) {
  placeholder p;
  p.text = std::string{inner};
  if (inner.empty())
    return bad("empty placeholder '${}'");
  std::size_t start = 0;
  for (;;) {
    auto dot = inner.find('.', start);
    auto segment =
      inner.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                        : dot - start);
    if (segment.empty())
      return bad("empty path segment in '${" + p.text + "}'");
    p.path.emplace_back(segment);
    if (dot == std::string_view::npos)
      return p;
    start = dot + 1;
  }
}

model::expected<std::vector<part>> parse_parts(std::string_view text) {
  std::vector<part> parts;
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      literal += text[i++];
      continue;
    }
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return bad("unterminated '${' in \"" + std::string{text} + "\"");
    auto ref = make_placeholder(text.substr(i + 2, close - i - 2));
    if (!ref)
      return ref.error();
    if (!literal.empty())
      parts.push_back(part{std::exchange(literal, {}), std::nullopt});
    parts.push_back(part{{}, std::move(*ref)});
    i = close + 1;
  }
  if (!literal.empty())
    parts.push_back(part{std::move(literal), std::nullopt});
  return parts;
}

model::expected<json> render_string(const std::string& text,
                                    const json& scope) {
  auto parts = parse_parts(text);
  if (!parts)
    return parts.error();
  auto lookup = [&](const placeholder& ref) -> model::expected<const json*> {
    if (const json* v = resolve(ref, scope))
      return v;
    return bad("template reference " + reference_text(ref) + " not found");
  };
  // Exactly one placeholder: the value itself, keeping its JSON type.
  if (parts->size() == 1 && parts->front().ref) {
    auto v = lookup(*parts->front().ref);
    if (!v)
      return v.error();
    return **v;
  }
  std::string out;
  for (const auto& p : *parts) {
    if (!p.ref) {
      out += p.literal;
      continue;
    }
    auto v = lookup(*p.ref);
    if (!v)
      return v.error();
    out += (*v)->is_string()
             ? (*v)->get<std::string>()
             : (*v)->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return json(std::move(out));
}

} // namespace

std::string reference_text(const placeholder& ref) {
  return "${" + ref.text + "}";
}

std::string where_key(const std::string& where, std::string_view key) {
  return where.empty() ? std::string{key} : where + "." + std::string{key};
}

model::expected<std::optional<placeholder>>
whole_placeholder(std::string_view text) {
  auto parts = parse_parts(text);
  if (!parts)
    return parts.error();
  if (parts->size() != 1 || !parts->front().ref)
    return std::optional<placeholder>{};
  return std::optional<placeholder>{std::move(*parts->front().ref)};
}

model::expected<std::vector<placeholder>>
parse_placeholders(std::string_view text) {
  auto parts = parse_parts(text);
  if (!parts)
    return parts.error();
  std::vector<placeholder> out;
  for (auto& p : *parts)
    if (p.ref)
      out.push_back(std::move(*p.ref));
  return out;
}

void collect_placeholders(const json& tmpl, const std::string& where,
                          std::vector<located_placeholder>& out,
                          std::vector<std::string>& problems) {
  if (tmpl.is_string()) {
    auto refs = parse_placeholders(tmpl.get<std::string>());
    if (!refs) {
      problems.push_back(where + ": " + refs.error().message);
      return;
    }
    for (auto& r : *refs)
      out.push_back(located_placeholder{where, std::move(r)});
  } else if (tmpl.is_object()) {
    for (const auto& [key, value] : tmpl.items())
      collect_placeholders(value, where_key(where, key), out, problems);
  } else if (tmpl.is_array()) {
    for (std::size_t i = 0; i < tmpl.size(); ++i)
      collect_placeholders(tmpl[i], where + "[" + std::to_string(i) + "]", out,
                           problems);
  }
}

const json* resolve(const placeholder& ref, const json& scope) {
  const json* cur = &scope;
  for (const auto& segment : ref.path) {
    if (cur->is_object()) {
      auto it = cur->find(segment);
      if (it == cur->end())
        return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      if (segment.size() > 9
          || !std::all_of(segment.begin(), segment.end(),
                          [](char c) { return c >= '0' && c <= '9'; }))
        return nullptr;
      auto index = std::stoul(segment);
      if (index >= cur->size())
        return nullptr;
      cur = &(*cur)[index];
    } else {
      return nullptr;
    }
  }
  return cur;
}

model::expected<json> render_template(const json& tmpl, const json& scope) {
  if (tmpl.is_string())
    return render_string(tmpl.get_ref<const std::string&>(), scope);
  if (tmpl.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : tmpl.items()) {
      auto v = render_template(value, scope);
      if (!v)
        return v.error();
      out[key] = std::move(*v);
    }
    return out;
  }
  if (tmpl.is_array()) {
    json out = json::array();
    for (const auto& value : tmpl) {
      auto v = render_template(value, scope);
      if (!v)
        return v.error();
      out.push_back(std::move(*v));
    }
    return out;
  }
  return tmpl;
}

} // namespace conveyor::tasks
