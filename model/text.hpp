#pragma once

// Small text helpers the model's parsers share.

#include <string>
#include <string_view>

#include "model/job.hpp"

namespace conveyor::model {

/// A value quoted for an error message: at most about 60 bytes, cut on a
/// UTF-8 boundary, and valid UTF-8 whatever it held. Never throws.
std::string shown(const json& v);

/// ASCII lower case, independent of the global locale.
std::string ascii_lower(std::string_view text);

} // namespace conveyor::model
