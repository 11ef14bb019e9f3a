#include "model/retry.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace conveyor::model {

namespace {

/// 9999-12-31T23:59:59.999Z: a saturated backoff still formats as a normal
/// four-digit ISO date.
constexpr time_ms latest_time = 253'402'300'799'999;

std::string kind(const json& v) {
  return v.is_number_float() ? "non-integer number" : v.type_name();
}

error bad(const std::string& path, const std::string& what) {
  return make_error(errc::invalid_input, path + ": " + what);
}

expected<std::int64_t>
parse_non_negative(const json& v, const std::string& path, std::int64_t max) {
  if (!v.is_number_integer())
    return bad(path, "expected non-negative integer, got " + kind(v));
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max))
      return bad(path, "must be at most " + std::to_string(max) + ", got "
                         + std::to_string(u));
    return static_cast<std::int64_t>(u);
  }
  auto i = v.get<std::int64_t>();
  if (i < 0)
    return bad(path, "must be >= 0, got " + std::to_string(i));
  if (i > max)
    return bad(path, "must be at most " + std::to_string(max));
  return i;
}

expected<std::int32_t> parse_attempts(const json& v, const std::string& path) {
  auto n =
    parse_non_negative(v, path, std::numeric_limits<std::int32_t>::max());
  if (!n)
    return n.error();
  return static_cast<std::int32_t>(*n);
}

expected<backoff> parse_backoff(const json& v, const std::string& path) {
  if (!v.is_object())
    return bad(path, "expected object, got " + kind(v));
  backoff out;
  bool has_type = false;
  for (const auto& [key, value] : v.items()) {
    const std::string field = path + "." + key;
    if (key == "type") {
      if (!value.is_string())
        return bad(field, "expected string, got " + kind(value));
      const auto& s = value.get_ref<const std::string&>();
      if (s == "fixed")
        out.type = backoff_type::fixed;
      else if (s == "exponential")
        out.type = backoff_type::exponential;
      else
        return bad(field, "expected \"fixed\" or \"exponential\", got "
                            + value.dump(-1, ' ', false,
                                         json::error_handler_t::replace));
      has_type = true;
    } else if (key == "delay") {
      auto d = parse_non_negative(value, field,
                                  std::numeric_limits<std::int64_t>::max());
      if (!d)
        return d.error();
      out.delay = *d;
    } else if (key == "jitter") {
      if (!value.is_number())
        return bad(field, "expected number from 0 to 1, got " + kind(value));
      const double j = value.get<double>();
      if (!(j >= 0.0 && j <= 1.0)) // also refuses NaN
        return bad(field, "expected number from 0 to 1");
      out.jitter = j;
    } else {
      return bad(field, "unknown field");
    }
  }
  if (!has_type)
    return bad(path + ".type",
               "missing (expected \"fixed\" or \"exponential\")");
  return out;
}

/// a + b for b >= 0, saturating instead of overflowing.
time_ms saturating_add(time_ms a, std::int64_t b) {
  if (b > 0 && a > std::numeric_limits<time_ms>::max() - b)
    return std::numeric_limits<time_ms>::max();
  return a + b;
}

} // namespace

expected<retry_config> parse_retry_config(const json& value) {
  const std::string root = "retries";
  retry_config cfg;
  if (value.is_number_integer()) {
    auto n = parse_attempts(value, root);
    if (!n)
      return n.error();
    cfg.attempts = *n;
    return cfg;
  }
  if (!value.is_object())
    return bad(root,
               "expected non-negative integer or object, got " + kind(value));
  for (const auto& [key, v] : value.items()) {
    const std::string field = root + "." + key;
    if (key == "attempts") {
      auto n = parse_attempts(v, field);
      if (!n)
        return n.error();
      cfg.attempts = *n;
    } else if (key == "backoff") {
      auto b = parse_backoff(v, field);
      if (!b)
        return b.error();
      cfg.backoff = *b;
    } else if (key == "shouldRestore") {
      if (!v.is_boolean())
        return bad(field, "expected boolean, got " + kind(v));
      cfg.should_restore = v.get<bool>();
    } else {
      return bad(field, "unknown field");
    }
  }
  return cfg;
}

json to_json(const retry_config& cfg) {
  json out = json::object();
  if (cfg.attempts)
    out["attempts"] = *cfg.attempts;
  if (cfg.backoff) {
    json b = {{"type", cfg.backoff->type == backoff_type::fixed
                         ? "fixed"
                         : "exponential"}};
    if (cfg.backoff->delay)
      b["delay"] = *cfg.backoff->delay;
    if (cfg.backoff->jitter)
      b["jitter"] = *cfg.backoff->jitter;
    out["backoff"] = std::move(b);
  }
  if (cfg.should_restore)
    out["shouldRestore"] = *cfg.should_restore;
  return out;
}

retry_config merge_retries(const std::optional<retry_config>& task_config,
                           const std::optional<retry_config>& call_site) {
  retry_config merged = task_config.value_or(retry_config{});
  if (!call_site)
    return merged;
  if (call_site->attempts)
    merged.attempts = call_site->attempts;
  if (call_site->backoff)
    merged.backoff = call_site->backoff;
  if (call_site->should_restore)
    merged.should_restore = call_site->should_restore;
  return merged;
}

std::int32_t max_task_retries(const retry_config& merged_task,
                              const std::optional<retry_config>& workflow) {
  if (merged_task.attempts)
    return *merged_task.attempts;
  if (workflow)
    return workflow->attempts.value_or(0);
  return 0;
}

std::uint64_t jitter_draw(job_id id, std::int32_t attempt) {
  // splitmix64's finalizer over (id, attempt): a bijection that spreads
  // neighbouring inputs over the whole range.
  std::uint64_t z =
    id ^ (static_cast<std::uint64_t>(attempt) << 48) ^ 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

time_ms backoff_until(const std::optional<backoff>& b,
                      std::int32_t previous_attempts, time_ms now,
                      std::uint64_t draw) {
  if (!b)
    return now;
  std::int64_t delay = std::max<std::int64_t>(0, b->delay.value_or(0));
  if (b->type == backoff_type::exponential && delay > 0) {
    // delay * 2^k, saturating: past 2^62 every delay overflows anyway.
    const int k = std::clamp(previous_attempts, 0, 62);
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    delay = delay > (max >> k) ? max : delay << k;
  }
  if (const double j = std::clamp(b->jitter.value_or(0.0), 0.0, 1.0); j > 0) {
    // u in [0, 1) from the top 53 bits; the cut is at most delay * j.
    const double u =
      static_cast<double>(draw >> 11) * (1.0 / 9007199254740992.0);
    delay -= static_cast<std::int64_t>(static_cast<double>(delay) * j * u);
  }
  const time_ms until = saturating_add(now, delay);
  // Keep huge backoffs representable; never move earlier than now.
  return std::max(now, std::min(until, latest_time));
}

} // namespace conveyor::model
