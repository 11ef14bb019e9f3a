#include "model/error.hpp"

#include <ostream>

namespace conveyor::model {

std::string_view to_string(errc code) {
  switch (code) {
  case errc::none:
    return "none";
  case errc::invalid_input:
    return "invalid_input";
  case errc::too_large:
    return "too_large";
  case errc::too_deep:
    return "too_deep";
  case errc::not_found:
    return "not_found";
  case errc::forbidden:
    return "forbidden";
  case errc::conflict:
    return "conflict";
  case errc::storage:
    return "storage";
  case errc::unregistered:
    return "unregistered";
  case errc::stale_lease:
    return "stale_lease";
  case errc::unavailable:
    return "unavailable";
  case errc::internal:
    return "internal";
  case errc::overloaded:
    return "overloaded";
  case errc::no_space:
    return "no_space";
  }
  // A value decoded from the wire may lie outside the enum.
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, errc code) {
  return out << to_string(code);
}

} // namespace conveyor::model
