#pragma once

// Waiting for several answers at once: an actor sends N requests and wants
// one callback with everything they returned, after the last one answered.
// Continuations share the collector (they are copied into each handler);
// an error answer counts as an answer with nothing in it, so one failed
// queue never leaves a request unanswered.

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace conveyor::actors {

template <class T>
class fan_in {
public:
  using done_fn = std::function<void(std::vector<T>)>;

  /// Expects `answers` answers; with none, `done` runs at once.
  static std::shared_ptr<fan_in> expect(std::size_t answers, done_fn done) {
    auto f = std::shared_ptr<fan_in>(new fan_in(answers, std::move(done)));
    if (answers == 0)
      f->finish();
    return f;
  }

  /// One answer carrying one item.
  void add(T item) {
    items_.push_back(std::move(item));
    answered();
  }

  /// One answer carrying several items.
  void add_all(std::vector<T> items) {
    for (auto& x : items)
      items_.push_back(std::move(x));
    answered();
  }

  /// One answer with nothing in it (an error).
  void none() { answered(); }

private:
  fan_in(std::size_t answers, done_fn done)
      : left_(answers), done_(std::move(done)) {}

  void answered() {
    if (left_ > 0 && --left_ == 0)
      finish();
  }

  void finish() {
    auto done = std::move(done_);
    done(std::move(items_));
  }

  std::size_t left_;
  done_fn done_;
  std::vector<T> items_;
};

} // namespace conveyor::actors
