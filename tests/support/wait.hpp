#pragma once

// The one way a test waits for something another thread or process does:
// a condition and a deadline, never a bare sleep. The deadline is generous
// (a loaded CI machine, a sanitizer build): it bounds a hang, it is not a
// timing assertion. The short poll inside is the helper's business only.

#include <chrono>
#include <thread>

namespace conveyor::testing {

using namespace std::chrono_literals;

/// Polls `pred` until it holds (true) or `deadline` passed (false).
template <class Pred>
bool eventually(Pred&& pred, std::chrono::milliseconds deadline = 30s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until)
      return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// For claims that something does NOT happen, which no event can signal:
/// true if `pred` stayed false for the whole `window` (returns false as soon
/// as it holds, so a wrong result fails fast).
template <class Pred>
bool stays_false(Pred&& pred, std::chrono::milliseconds window) {
  const auto until = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < until) {
    if (pred())
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return !pred();
}

} // namespace conveyor::testing
