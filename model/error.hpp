#pragma once

// Errors as values. Model functions never throw on bad input; they return an
// `expected<T>` holding either the value or an `error` with a code and a
// message that says what was wrong and where (a JSON path when there is one).

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace conveyor::model {

/// Error codes shared by every layer. The numeric values are part of the wire
/// format between nodes: append, never renumber.
enum class errc : std::uint8_t {
  none = 0,
  invalid_input = 1, ///< malformed JSON, wrong field type, schema mismatch
  too_large = 2,     ///< document over the size limit
  too_deep = 3,      ///< nesting deeper than the depth limit
  not_found = 4,     ///< no such job / queue / slug
  forbidden = 5,     ///< an access rule denied the request
  conflict = 6,      ///< state does not allow the operation
  storage = 7,       ///< the journal failed (I/O, corruption, locked)
  unregistered = 8,  ///< the job's task or workflow slug is not registered
  stale_lease = 9,   ///< a write carried an outdated fencing token
  unavailable = 10,  ///< runtime shutting down / node unreachable
  internal = 11,     ///< a bug: an invariant did not hold
  overloaded = 12,   ///< the node sheds load: retry later
  no_space = 13,     ///< the journal's disk is full: writes resume once
                     ///< space is freed; reads keep working
};

std::string_view to_string(errc code);

/// Prints to_string(code) (for test diagnostics and logs).
std::ostream& operator<<(std::ostream& out, errc code);

struct error {
  errc code = errc::none;
  std::string message;
};

/// Either a T or an error. A minimal stand-in for C++23 std::expected.
template <class T>
class expected {
public:
  expected(T value) : v_(std::move(value)) {}
  expected(model::error err) : v_(std::move(err)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const model::error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, model::error> v_;
};

/// Success-or-error without a value.
struct ok_t {};
using status = expected<ok_t>;
inline status ok() {
  return ok_t{};
}

inline error make_error(errc code, std::string message) {
  return error{code, std::move(message)};
}

} // namespace conveyor::model
