#pragma once

// model::errc carried inside caf::error, so an error keeps its code and its
// message across actors and across the network.

#include <string>

#include "caf/all.hpp"
#include "model/error.hpp"

namespace conveyor::actors {

/// The error category atom of our codes.
inline constexpr caf::atom_value error_category = caf::atom("conveyor");

inline caf::error to_caf_error(const model::error& e) {
  return caf::error{static_cast<std::uint8_t>(e.code), error_category,
                    caf::make_message(e.message)};
}

inline caf::error make_caf_error(model::errc code, std::string message) {
  return to_caf_error(model::error{code, std::move(message)});
}

/// Maps any caf::error back to our codes: ours keep code and message; CAF's
/// own (timeouts, dead receivers, broken connections) become `unavailable`.
model::error from_caf_error(const caf::error& err);

/// Registers the renderer so `sys.render(err)` prints "conveyor.forbidden:
/// message".
void register_error_category(caf::actor_system_config& cfg);

} // namespace conveyor::actors
