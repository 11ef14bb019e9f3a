#include "actors/errors.hpp"

namespace conveyor::actors {

model::error from_caf_error(const caf::error& err) {
  if (!err)
    return {};
  if (err.category() == error_category) {
    std::string message;
    if (err.context().match_elements<std::string>())
      message = err.context().get_as<std::string>(0);
    return model::error{static_cast<model::errc>(err.code()), message};
  }
  if (err.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(err.code());
    switch (code) {
    case caf::sec::request_timeout:
      return {model::errc::unavailable, "request timed out"};
    case caf::sec::request_receiver_down:
      return {model::errc::unavailable, "the receiving actor is down"};
    default:
      break;
    }
  }
  return {model::errc::unavailable, caf::to_string(err)};
}

void register_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category,
                         [](std::uint8_t code, caf::atom_value,
                            const caf::message& ctx) -> std::string {
                           std::string text = "conveyor.";
                           text +=
                             model::to_string(static_cast<model::errc>(code));
                           if (ctx.match_elements<std::string>()) {
                             text += ": ";
                             text += ctx.get_as<std::string>(0);
                           }
                           return text;
                         });
}

} // namespace conveyor::actors
