#pragma once

// Internal to config/: a problem collector with typed field readers, so the
// parsers report every problem with its JSON path and never throw.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace conveyor::cfg::detail {

using json = nlohmann::json;

inline std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string{key} : path + "." + std::string{key};
}

inline std::string at(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

/// The type a message says was found instead: "number", "string", ...
inline std::string describe(const json& v) {
  return v.is_number_float() ? "non-integer number" : v.type_name();
}

/// A found value in a message: strings quoted, other values by type.
inline std::string show(const json& v) {
  return v.is_string() ? v.dump(-1, ' ', false, json::error_handler_t::replace)
                       : describe(v);
}

class reader {
public:
  std::vector<std::string> problems;

  void fail(const std::string& path, const std::string& message) {
    problems.push_back((path.empty() ? "config" : path) + ": " + message);
  }

  /// Whether `v` is an object; reports any key not in `keys` (a key of
  /// another product's config is a typo here, not something to ignore).
  bool object(const json& v, const std::string& path,
              std::initializer_list<std::string_view> keys) {
    if (!v.is_object()) {
      fail(path, "expected object, got " + describe(v));
      return false;
    }
    for (const auto& [key, value] : v.items()) {
      bool known = false;
      for (auto k : keys)
        known = known || k == key;
      if (!known)
        fail(at(path, key), "unknown key");
    }
    return true;
  }

  /// Whether `v` is an object used as a map (any key allowed).
  bool map(const json& v, const std::string& path) {
    if (v.is_object())
      return true;
    fail(path, "expected object, got " + describe(v));
    return false;
  }

  /// Reads obj[key] into `out` if present and a string (non-empty unless
  /// `allow_empty`). Returns whether `out` was set.
  bool string(const json& obj, std::string_view key, const std::string& path,
              std::string& out, bool required = false,
              bool allow_empty = false) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required)
        fail(at(path, key), "missing (required)");
      return false;
    }
    if (!it->is_string()) {
      fail(at(path, key), "expected string, got " + describe(*it));
      return false;
    }
    if (!allow_empty && it->get_ref<const std::string&>().empty()) {
      fail(at(path, key), "must not be empty");
      return false;
    }
    out = it->get<std::string>();
    return true;
  }

  /// A string that must be one of `allowed`.
  bool choice(const json& obj, std::string_view key, const std::string& path,
              std::initializer_list<std::string_view> allowed,
              std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end())
      return false;
    std::string wanted;
    for (auto a : allowed)
      wanted += (wanted.empty() ? "\"" : " or \"") + std::string{a} + "\"";
    for (auto a : allowed)
      if (it->is_string() && it->get_ref<const std::string&>() == a) {
        out = std::string{a};
        return true;
      }
    fail(at(path, key), "expected " + wanted + ", got " + show(*it));
    return false;
  }

  bool boolean(const json& obj, std::string_view key, const std::string& path,
               bool& out) {
    auto it = obj.find(key);
    if (it == obj.end())
      return false;
    if (!it->is_boolean()) {
      fail(at(path, key), "expected boolean, got " + describe(*it));
      return false;
    }
    out = it->get<bool>();
    return true;
  }

  bool integer(const json& obj, std::string_view key, const std::string& path,
               std::int64_t min, std::int64_t max, std::int64_t& out) {
    auto it = obj.find(key);
    if (it == obj.end())
      return false;
    bool ok =
      it->is_number_integer()
      && !(it->is_number_unsigned()
           && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max));
    std::int64_t v = ok ? it->get<std::int64_t>() : 0;
    if (!ok || v < min || v > max) {
      fail(at(path, key),
           "expected an integer from " + std::to_string(min) + " to "
             + std::to_string(max) + ", got "
             + (it->is_number_integer() ? it->dump() : describe(*it)));
      return false;
    }
    out = v;
    return true;
  }

  /// An array of non-empty strings.
  bool strings(const json& obj, std::string_view key, const std::string& path,
               std::vector<std::string>& out, bool required = false,
               bool allow_empty_list = true) {
    auto it = obj.find(key);
    const auto here = at(path, key);
    if (it == obj.end()) {
      if (required)
        fail(here, "missing (required)");
      return false;
    }
    if (!it->is_array()) {
      fail(here, "expected array of strings, got " + describe(*it));
      return false;
    }
    if (!allow_empty_list && it->empty()) {
      fail(here, "must not be empty");
      return false;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& s = (*it)[i];
      if (!s.is_string() || s.get_ref<const std::string&>().empty()) {
        fail(at(here, i), "expected non-empty string, got " + show(s));
        ok = false;
      } else {
        values.push_back(s.get<std::string>());
      }
    }
    if (ok)
      out = std::move(values);
    return ok;
  }
};

// -- section parsers shared by config.cpp and config_sections.cpp ------------

/// An environment variable name: letters, digits and '_', not empty.
inline bool is_env_name(std::string_view name) {
  return !name.empty()
         && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789_")
              == std::string_view::npos;
}

/// Reports `name` unless it is "default" or listed in jobs.queues.
void check_queue(reader& r, const config& cfg, const std::string& name,
                 const std::string& path);
/// Absolute and normalised against `base_dir` (already absolute).
std::string resolve_path(const std::string& base_dir, const std::string& p);

void parse_schedules(reader& r, const json& obj, const std::string& path,
                     const config& cfg, std::vector<schedule_config>& out);
void parse_concurrency(reader& r, const json& obj, const std::string& path,
                       std::optional<concurrency_config>& out);
void parse_access(reader& r, const json& v, const std::string& path,
                  config& cfg);
void parse_auto_run(reader& r, const json& v, const std::string& path,
                    config& cfg);
void parse_node(reader& r, const json& v, const std::string& path, config& cfg);
void parse_limits(reader& r, const json& doc, const std::string& path,
                  config& cfg);

} // namespace conveyor::cfg::detail
