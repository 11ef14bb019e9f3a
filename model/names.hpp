#pragma once

// The one rule for names: task and workflow slugs and queue names have 1 to
// 128 characters, each a letter, a digit or one of - _ . : (so they never
// contain a byte the journal's keys use as a separator, and print safely).
// "inline" is reserved for inline tasks.

#include <cctype>
#include <string>
#include <string_view>

namespace conveyor::model {

inline constexpr std::size_t max_name_length = 128;

inline bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > max_name_length)
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
          || c == '.' || c == ':'))
      return false;
  return true;
}

inline bool valid_queue_name(std::string_view q) {
  return valid_name(q);
}

/// Empty when `slug` may name a task or workflow, else what is wrong.
inline std::string slug_problem(std::string_view slug) {
  if (slug.empty() || slug.size() > max_name_length)
    return "slug must have 1 to 128 characters";
  if (slug == "inline")
    return "'inline' is reserved for inline tasks";
  if (!valid_name(slug))
    return "slug may contain only letters, digits and - _ . :";
  return {};
}

/// Empty when `queue` may name a queue, else what is wrong.
inline std::string queue_name_problem(std::string_view queue) {
  if (queue.empty() || queue.size() > max_name_length)
    return "a queue name has 1 to 128 characters";
  if (!valid_name(queue))
    return "a queue name may contain only letters, digits and - _ . :";
  return {};
}

} // namespace conveyor::model
