#include "model/json_guard.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace conveyor::model {

namespace {

constexpr std::size_t max_key_in_path = 40;   ///< bytes of one key shown
constexpr std::size_t max_path_length = 200;  ///< bytes of a path shown
constexpr std::size_t path_head = 100;
constexpr std::size_t path_tail = 80;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// At most `n` bytes from the front, never splitting a UTF-8 sequence (the
/// message may end up in a JSON error field, and dump() rejects bad UTF-8).
std::string_view utf8_head(std::string_view s, std::size_t n) {
  if (s.size() <= n)
    return s;
  while (n > 0 && is_continuation(s[n]))
    --n;
  return s.substr(0, n);
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
  depth_guard(std::size_t max_depth, std::size_t text_size)
    : max_depth_(max_depth), text_size_(text_size) {}

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override {
    return value();
  }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }

  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (!stack_.empty())
      stack_.back().key.assign(utf8_head(k, max_key_in_path));
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string_view what = ex.what();
    // Drop the "[json.exception.parse_error.101] " prefix: noise for users.
    if (auto end = what.find("] "); !what.empty() && what[0] == '[' &&
                                    end != std::string_view::npos)
      what.remove_prefix(end + 2);
    // nlohmann counts the offending byte 1-based (end of input counts as
    // one more byte); report the 0-based offset, at most the input size.
    const std::size_t offset =
      position == 0 ? 0 : std::min(position - 1, text_size_);
    failure_ = make_error(errc::invalid_input,
                          "invalid JSON at byte offset " + std::to_string(offset)
                            + ": " + std::string(what));
    return false;
  }

  std::optional<model::error>& failure() { return failure_; }

private:
  bool value() {
    if (!stack_.empty() && stack_.back().is_array)
      ++stack_.back().count;
    return true;
  }

  bool open(bool is_array) {
    value();
    if (stack_.size() + 1 > max_depth_) {
      failure_ = make_error(errc::too_deep,
                            "nesting deeper than " + std::to_string(max_depth_)
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
        out += '[' + std::to_string(f.count - 1) + ']';
      } else if (is_identifier(f.key)) {
        out += '.' + f.key;
      } else {
        out += '[' + json(f.key).dump(-1, ' ', false,
                                      json::error_handler_t::replace)
               + ']';
      }
    }
    if (out.size() <= max_path_length)
      return out;
    return std::string(utf8_head(out, path_head)) + "..."
           + std::string(utf8_tail(out, path_tail));
  }

  std::size_t max_depth_;
  std::size_t text_size_;
  std::vector<frame> stack_;
  std::optional<model::error> failure_;
};

} // namespace

expected<json> parse_json_guarded(std::string_view text,
                                  const json_limits& limits) {
  if (text.size() > limits.max_bytes)
    return make_error(errc::too_large,
                      "document is " + std::to_string(text.size())
                        + " bytes, limit is " + std::to_string(limits.max_bytes));
  try {
    depth_guard guard(limits.max_depth, text.size());
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
