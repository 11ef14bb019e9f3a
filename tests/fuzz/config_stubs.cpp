// The config fuzzer parses configs; it never runs a declarative workflow.
// These stand in for the runtime's definitions (actors/api.cpp) that the
// workflow interpreter refers to, so the target needs neither CAF nor the
// runtime library. Reaching one is a bug in the target: abort.

#include <cstdlib>

#include "conveyor/workflow.hpp"

namespace conveyor {

step_awaitable workflow_context::task(std::string, std::string, task_options) {
  std::abort();
}

bool all_awaitable::await_ready() const noexcept {
  std::abort();
}

void all_awaitable::await_suspend(std::coroutine_handle<>) {
  std::abort();
}

std::vector<json> all_awaitable::await_resume() {
  std::abort();
}

} // namespace conveyor
