#pragma once

// A queue's processing order, in the field names of the job document:
// "createdAt" takes the oldest job of the highest priority first (FIFO),
// "-createdAt" the newest (LIFO). Priority always comes first
// (docs/semantics.md §5).

#include <string_view>

namespace conveyor::model {

inline constexpr std::string_view fifo_order = "createdAt";
inline constexpr std::string_view lifo_order = "-createdAt";

/// One of the two orders a queue supports.
inline bool is_processing_order(std::string_view s) {
  return s == fifo_order || s == lifo_order;
}

inline bool is_lifo(std::string_view s) {
  return s == lifo_order;
}

} // namespace conveyor::model
