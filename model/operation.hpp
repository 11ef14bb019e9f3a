#pragma once

// The operations access rules govern (docs/semantics.md §16): queueing a
// job, running jobs, cancelling, and reading jobs.

#include <cstdint>
#include <string_view>

namespace conveyor::model {

enum class operation : std::uint8_t { queue, run, cancel, read };

/// The name used in configs and error messages.
constexpr std::string_view to_string(operation op) {
  switch (op) {
  case operation::queue:
    return "queue";
  case operation::run:
    return "run";
  case operation::cancel:
    return "cancel";
  case operation::read:
    return "read";
  }
  return "?";
}

} // namespace conveyor::model
