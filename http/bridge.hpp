#pragma once

// Asking the supervisor from the HTTP threads without blocking them: each
// request is one short-lived actor that sends it and hands the answer (or
// the error, mapped to our codes) to a callback on an actor thread.

#include <functional>
#include <memory>
#include <utility>

#include "actors/errors.hpp"
#include "conveyor/runtime.hpp"

namespace conveyor::http {

using answer = std::function<void(model::expected<json>)>;

/// Sends (xs...) to `target` and calls `done` exactly once: with the reply,
/// or with the error (a timeout or a dead receiver is `unavailable`).
template <class... Ts>
void ask(caf::actor_system& sys, const supervisor_actor& target,
         caf::duration timeout, answer done, Ts... xs) {
  sys.spawn(
    [](caf::event_based_actor* self, caf::actor dest, caf::duration within,
       const std::shared_ptr<answer>& reply_to, Ts... args) {
      self->request(dest, within, std::move(args)...)
        .then([reply_to](json& result) { (*reply_to)(std::move(result)); },
              [reply_to](caf::error& err) {
                (*reply_to)(actors::from_caf_error(err));
              });
    },
    caf::actor_cast<caf::actor>(target), timeout,
    std::make_shared<answer>(std::move(done)), std::move(xs)...);
}

} // namespace conveyor::http
