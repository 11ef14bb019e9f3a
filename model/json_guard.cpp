#include "model/json_guard.hpp"

#include "model/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace conveyor::model {

namespace {

constexpr std::size_t max_key_in_path = 40;  ///< bytes of one key shown
constexpr std::size_t max_path_length = 200; ///< bytes of a path shown
constexpr std::size_t path_head = 100;
constexpr std::size_t path_tail = 80;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::string_view utf8_tail(std::string_view s, std::size_t n) {
  if (s.size() <= n)
    return s;
  std::size_t start = s.size() - n;
  while (start < s.size() && is_continuation(s[start]))
    ++start;
  return s.substr(start);
}

bool is_identifier(std::string_view key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9'))
    return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_';
    if (!ok)
      return false;
  }
  return true;
}

/// One open container during the SAX pass.
struct frame {
  bool is_array = false;
  std::size_t count = 0; ///< elements started so far (arrays)
  std::string key;       ///< current key, shortened (objects)
};

/// Counts depth and remembers where the parse stopped. It builds nothing,
/// so hostile nesting costs one small frame per level up to the limit.
class depth_guard final : public json::json_sax_t {
public:
  depth_guard(const json_limits& limits, std::size_t text_size)
      : limits_(limits), text_size_(text_size) {}

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override {
    return value();
  }
  bool string(string_t& v) override {
    return value() && short_enough(v, "string");
  }
  bool binary(binary_t&) override { return value(); }

  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (!stack_.empty()) {
      stack_.back().key.assign(utf8_head(k, max_key_in_path));
      if (++stack_.back().count > limits_.max_array_length)
        return too_many();
    }
    return short_enough(k, "key");
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string_view what = ex.what();
    // Drop the "[json.exception.parse_error.101] " prefix: noise for users.
    if (auto end = what.find("] ");
        !what.empty() && what[0] == '[' && end != std::string_view::npos)
      what.remove_prefix(end + 2);
    // nlohmann counts the offending byte 1-based (end of input counts as
    // one more byte); report the 0-based offset, at most the input size.
    const std::size_t offset =
      position == 0 ? 0 : std::min(position - 1, text_size_);
    failure_ = make_error(errc::invalid_input, "invalid JSON at byte offset "
                                                 + std::to_string(offset) + ": "
                                                 + std::string(what));
    return false;
  }

  std::optional<model::error>& failure() { return failure_; }

private:
  bool value() {
    if (!stack_.empty() && stack_.back().is_array
        && ++stack_.back().count > limits_.max_array_length)
      return too_many();
    return true;
  }

  bool too_many() {
    failure_ = make_error(
      errc::too_large, "more than " + std::to_string(limits_.max_array_length)
                         + " elements at " + path());
    return false;
  }

  bool short_enough(const string_t& s, const char* what) {
    if (s.size() <= limits_.max_string_bytes)
      return true;
    failure_ =
      make_error(errc::too_large, std::string(what) + " longer than "
                                    + std::to_string(limits_.max_string_bytes)
                                    + " bytes at " + path());
    return false;
  }

  bool open(bool is_array) {
    if (!value())
      return false;
    if (stack_.size() + 1 > limits_.max_depth) {
      failure_ =
        make_error(errc::too_deep, "nesting deeper than "
                                     + std::to_string(limits_.max_depth)
                                     + " at " + path());
      return false;
    }
    stack_.push_back(frame{is_array, 0, {}});
    return true;
  }

  bool close() {
    if (!stack_.empty())
      stack_.pop_back();
    return true;
  }

  /// JSON path of the value being opened, e.g. $.a[0]["b c"][3].
  std::string path() const {
    std::string out = "$";
    for (const frame& f : stack_) {
      if (f.is_array) {
        out += '[' + std::to_string(f.count == 0 ? 0 : f.count - 1) + ']';
      } else if (is_identifier(f.key)) {
        out += '.' + f.key;
      } else {
        out +=
          '[' + json(f.key).dump(-1, ' ', false, json::error_handler_t::replace)
          + ']';
      }
    }
    if (out.size() <= max_path_length)
      return out;
    return std::string(utf8_head(out, path_head)) + "..."
           + std::string(utf8_tail(out, path_tail));
  }

  json_limits limits_;
  std::size_t text_size_;
  std::vector<frame> stack_;
  std::optional<model::error> failure_;
};

} // namespace

expected<json> parse_json_guarded(std::string_view text,
                                  const json_limits& limits) {
  if (text.size() > limits.max_bytes)
    return make_error(errc::too_large, "document is "
                                         + std::to_string(text.size())
                                         + " bytes, limit is "
                                         + std::to_string(limits.max_bytes));
  try {
    depth_guard guard(limits, text.size());
    if (!json::sax_parse(text.begin(), text.end(), &guard)) {
      if (guard.failure())
        return std::move(*guard.failure());
      return make_error(errc::invalid_input, "invalid JSON");
    }
    // The SAX pass accepted it, so this parse cannot fail on content.
    json value = json::parse(text.begin(), text.end(), nullptr, false);
    if (value.is_discarded())
      return make_error(errc::invalid_input, "invalid JSON");
    return value;
  } catch (const json::exception& ex) {
    return make_error(errc::invalid_input,
                      std::string("invalid JSON: ") + ex.what());
  }
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (text.size() - i <= n)
      return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if (!is_continuation(text[i + k]))
        return false;
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10FFFF
        || (cp >= 0xD800 && cp <= 0xDFFF))
      return false; // overlong, beyond Unicode, or a surrogate
    i += n + 1;
  }
  return true;
}

namespace {

std::string child_path(const std::string& parent, std::string_view key) {
  auto shown = utf8_head(key, max_key_in_path);
  if (is_identifier(shown) && shown.size() == key.size())
    return parent + "." + std::string(shown);
  return parent + "["
         + json(std::string(shown))
             .dump(-1, ' ', false, json::error_handler_t::replace)
         + (shown.size() < key.size() ? "...]" : "]");
}

status check_string(std::string_view s, const json_limits& limits,
                    const std::string& path, const char* what) {
  if (!valid_utf8(s))
    return make_error(errc::invalid_input,
                      path + ": " + what + " is not valid UTF-8");
  if (s.size() > limits.max_string_bytes)
    return make_error(errc::too_large,
                      path + ": " + what + " longer than "
                        + std::to_string(limits.max_string_bytes) + " bytes");
  return ok();
}

} // namespace

status check_json(const json& value, const json_limits& limits,
                  std::string_view field) {
  const std::string root(field);
  // Depth first and iteratively: everything after this may recurse.
  if (auto depth = json_depth(value); depth > limits.max_depth)
    return make_error(errc::too_deep, root + ": nesting deeper than "
                                        + std::to_string(limits.max_depth));
  std::vector<std::pair<const json*, std::string>> todo{{&value, root}};
  while (!todo.empty()) {
    auto [node, path] = std::move(todo.back());
    todo.pop_back();
    if (node->is_string()) {
      if (auto st = check_string(node->get_ref<const std::string&>(), limits,
                                 path, "string");
          !st)
        return st;
      continue;
    }
    // dump writes NaN and infinities as null: refused, so what is stored
    // reads back as it was accepted.
    if (node->is_number_float() && !std::isfinite(node->get<double>()))
      return make_error(errc::invalid_input, path + ": not a finite number");
    if (!node->is_structured())
      continue;
    if (node->size() > limits.max_array_length)
      return make_error(errc::too_large,
                        path + ": more than "
                          + std::to_string(limits.max_array_length)
                          + (node->is_array() ? " elements" : " members"));
    if (node->is_object()) {
      for (const auto& [key, child] : node->items()) {
        if (auto st = check_string(key, limits, path, "key"); !st)
          return st;
        todo.emplace_back(&child, child_path(path, key));
      }
    } else {
      for (std::size_t i = 0; i < node->size(); ++i)
        todo.emplace_back(&(*node)[i], path + "[" + std::to_string(i) + "]");
    }
  }
  // Valid UTF-8 and bounded depth: dump can neither throw nor overflow.
  const auto bytes = value.dump().size();
  if (bytes > limits.max_bytes)
    return make_error(errc::too_large, root + ": " + std::to_string(bytes)
                                         + " bytes, limit is "
                                         + std::to_string(limits.max_bytes));
  return ok();
}

std::size_t json_depth(const json& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json*, std::size_t>> todo{{&value, 0}};
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (!node->is_structured())
      continue;
    deepest = std::max(deepest, depth + 1);
    for (const json& child : *node)
      if (child.is_structured())
        todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

} // namespace conveyor::model
