#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include "model/retry.hpp"

using namespace conveyor::model;

namespace {

retry_config parse_ok(const json& v) {
  auto r = parse_retry_config(v);
  BOOST_TEST_REQUIRE(r.has_value(), v.dump()
                                      << ": " << (r ? "" : r.error().message));
  return *r;
}

std::string parse_error(const json& v) {
  auto r = parse_retry_config(v);
  BOOST_TEST_REQUIRE(!r.has_value(), "accepted " << v.dump());
  BOOST_TEST(to_string(r.error().code) == "invalid_input");
  return r.error().message;
}

retry_config attempts(std::int32_t n) {
  retry_config c;
  c.attempts = n;
  return c;
}

constexpr time_ms now = 1'700'000'000'000;
constexpr time_ms latest = 253'402'300'799'999; // 9999-12-31T23:59:59.999Z

} // namespace

BOOST_AUTO_TEST_SUITE(retry_test)

BOOST_AUTO_TEST_CASE(number_is_shorthand_for_attempts) {
  BOOST_TEST((parse_ok(3) == attempts(3)));
  BOOST_TEST((parse_ok(0) == attempts(0)));
  BOOST_TEST((parse_ok(json::parse("2147483647")) == attempts(2147483647)));
}

BOOST_AUTO_TEST_CASE(parses_the_object_form) {
  auto cfg = parse_ok(json::parse(
    R"({"attempts":4,"backoff":{"type":"exponential","delay":300},"shouldRestore":false})"));
  BOOST_TEST(cfg.attempts.value_or(-1) == 4);
  BOOST_TEST_REQUIRE(cfg.backoff.has_value());
  BOOST_TEST((cfg.backoff->type == backoff_type::exponential));
  BOOST_TEST(cfg.backoff->delay.value_or(-1) == 300);
  BOOST_TEST_REQUIRE(cfg.should_restore.has_value());
  BOOST_TEST(!*cfg.should_restore);

  auto fixed = parse_ok(json::parse(R"({"backoff":{"type":"fixed"}})"));
  BOOST_TEST(!fixed.attempts.has_value());
  BOOST_TEST((fixed.backoff->type == backoff_type::fixed));
  BOOST_TEST(!fixed.backoff->delay.has_value());
  BOOST_TEST(!fixed.should_restore.has_value());

  BOOST_TEST((parse_ok(json::object()) == retry_config{}));
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
  BOOST_TEST(parse_error(-1) == "retries: must be >= 0, got -1");
  BOOST_TEST(parse_error(1.5)
             == "retries: expected non-negative integer or object, got "
                "non-integer number");
  BOOST_TEST(parse_error("3")
             == "retries: expected non-negative integer or object, got string");
  BOOST_TEST(parse_error(nullptr)
             == "retries: expected non-negative integer or object, got null");
  BOOST_TEST(
    parse_error(true)
    == "retries: expected non-negative integer or object, got boolean");
  BOOST_TEST(parse_error(json::parse("2147483648"))
               .find("retries: must be at most 2147483647")
             == 0u);
  BOOST_TEST(parse_error(json::parse(R"({"attempts":-2})"))
             == "retries.attempts: must be >= 0, got -2");
  BOOST_TEST(parse_error(json::parse(R"({"attempts":"2"})"))
             == "retries.attempts: expected non-negative integer, got string");
  BOOST_TEST(parse_error(json::parse(R"({"tries":2})"))
             == "retries.tries: unknown field");
  BOOST_TEST(parse_error(json::parse(R"({"backoff":5})"))
             == "retries.backoff: expected object, got number");
  BOOST_TEST(
    parse_error(json::parse(R"({"backoff":{"type":"linear"}})"))
    == R"(retries.backoff.type: expected "fixed" or "exponential", got "linear")");
  BOOST_TEST(parse_error(json::parse(R"({"backoff":{"type":1}})"))
             == "retries.backoff.type: expected string, got number");
  BOOST_TEST(
    parse_error(json::parse(R"({"backoff":{"delay":10}})"))
    == R"(retries.backoff.type: missing (expected "fixed" or "exponential"))");
  BOOST_TEST(
    parse_error(json::parse(R"({"backoff":{"type":"fixed","delay":-1}})"))
    == "retries.backoff.delay: must be >= 0, got -1");
  BOOST_TEST(
    parse_error(json::parse(R"({"backoff":{"type":"fixed","delay":0.5}})"))
    == "retries.backoff.delay: expected non-negative integer, got non-integer "
       "number");
  BOOST_TEST(
    parse_error(json::parse(R"({"backoff":{"type":"fixed","factor":2}})"))
    == "retries.backoff.factor: unknown field");
  BOOST_TEST(parse_error(json::parse(R"({"shouldRestore":"no"})"))
             == "retries.shouldRestore: expected boolean, got string");
}

BOOST_AUTO_TEST_CASE(to_json_round_trips) {
  const char* docs[] = {
    R"({})",
    R"({"attempts":0})",
    R"({"attempts":4,"backoff":{"type":"exponential","delay":300},"shouldRestore":false})",
    R"({"backoff":{"type":"fixed"}})",
    R"({"shouldRestore":true})",
  };
  for (const char* text : docs) {
    const json doc = json::parse(text);
    BOOST_TEST(to_json(parse_ok(doc)).dump() == doc.dump(), text);
  }
  BOOST_TEST(to_json(parse_ok(5)).dump() == R"({"attempts":5})");
}

BOOST_AUTO_TEST_CASE(call_site_fields_win_over_task_config) {
  retry_config task;
  task.attempts = 3;
  task.backoff = backoff{backoff_type::fixed, 100};
  task.should_restore = true;
  retry_config call;
  call.backoff = backoff{backoff_type::exponential, 50};
  call.should_restore = false;

  retry_config merged = merge_retries(task, call);
  BOOST_TEST(merged.attempts.value_or(-1)
             == 3); // not set at the call site: inherited
  BOOST_TEST((merged.backoff == backoff{backoff_type::exponential, 50}));
  BOOST_TEST(merged.should_restore.value_or(true) == false);

  BOOST_TEST((merge_retries(task, std::nullopt) == task));
  BOOST_TEST((merge_retries(std::nullopt, call) == call));
  BOOST_TEST((merge_retries(std::nullopt, std::nullopt) == retry_config{}));
  BOOST_TEST(merge_retries(task, attempts(0)).attempts.value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(max_task_retries_precedence) {
  // Task attempts win.
  BOOST_TEST(max_task_retries(attempts(3), attempts(7)) == 3);
  BOOST_TEST(max_task_retries(attempts(0), attempts(7)) == 0);
  // Undefined: inherit the workflow's.
  BOOST_TEST(max_task_retries(retry_config{}, attempts(7)) == 7);
  // Workflow retries object without attempts: 0.
  retry_config wf_backoff_only;
  wf_backoff_only.backoff = backoff{backoff_type::fixed, 10};
  BOOST_TEST(max_task_retries(retry_config{}, wf_backoff_only) == 0);
  // Nothing anywhere: 0.
  BOOST_TEST(max_task_retries(retry_config{}, std::nullopt) == 0);
}

BOOST_AUTO_TEST_CASE(no_backoff_means_now) {
  BOOST_TEST(backoff_until(std::nullopt, 5, now) == now);
  BOOST_TEST(backoff_until(backoff{backoff_type::fixed, std::nullopt}, 5, now)
             == now);
  BOOST_TEST(
    backoff_until(backoff{backoff_type::exponential, std::nullopt}, 5, now)
    == now);
}

BOOST_AUTO_TEST_CASE(fixed_backoff_ignores_attempts) {
  const backoff b{backoff_type::fixed, 1000};
  for (int k = 0; k < 10; ++k)
    BOOST_TEST(backoff_until(b, k, now) == now + 1000);
}

BOOST_AUTO_TEST_CASE(exponential_backoff_doubles) {
  const backoff b{backoff_type::exponential, 300};
  const time_ms expected[] = {300, 600, 1200, 2400, 4800};
  for (int k = 0; k < 5; ++k)
    BOOST_TEST(backoff_until(b, k, now) - now == expected[k]);
  // A negative count is treated as no previous attempts.
  BOOST_TEST(backoff_until(b, -3, now) == now + 300);
}

BOOST_AUTO_TEST_CASE(huge_backoffs_saturate) {
  const backoff exp{backoff_type::exponential, 300};
  BOOST_TEST(backoff_until(exp, 30, now) == now + (300LL << 30));
  BOOST_TEST(backoff_until(exp, 62, now) == latest);
  BOOST_TEST(backoff_until(exp, 1000, now) == latest);
  BOOST_TEST(backoff_until(exp, std::numeric_limits<std::int32_t>::max(), now)
             == latest);

  const backoff max_fixed{backoff_type::fixed,
                          std::numeric_limits<std::int64_t>::max()};
  BOOST_TEST(backoff_until(max_fixed, 0, now) == latest);
  const backoff max_exp{backoff_type::exponential,
                        std::numeric_limits<std::int64_t>::max()};
  BOOST_TEST(backoff_until(max_exp, 5, now) == latest);
  // Never earlier than now, even when now is already past the cap.
  BOOST_TEST(backoff_until(exp, 3, latest + 10) == latest + 10);
  BOOST_TEST(backoff_until(max_fixed, 0, -5) == latest);
}

BOOST_AUTO_TEST_CASE(jitter_is_parsed_in_range_and_round_trips) {
  auto c = parse_ok(
    {{"backoff", {{"type", "fixed"}, {"delay", 10}, {"jitter", 0.25}}}});
  BOOST_TEST(c.backoff->jitter.value_or(-1) == 0.25);
  BOOST_TEST(to_json(c)["backoff"]["jitter"] == 0.25);
  BOOST_TEST((parse_ok(to_json(c)) == c));
  BOOST_TEST(parse_ok({{"backoff", {{"type", "fixed"}, {"jitter", 1}}}})
               .backoff->jitter.value_or(-1)
             == 1.0);
  for (const json& bad : {json(1.5), json(-0.1), json("0.5"), json(true)})
    BOOST_TEST(parse_error({{"backoff", {{"type", "fixed"}, {"jitter", bad}}}})
                 .find("retries.backoff.jitter")
               != std::string::npos);
}

// With jitter j, waits of many jobs spread uniformly over [d(1-j), d]:
// every wait in range, and each tenth of the range gets about a tenth.
BOOST_AUTO_TEST_CASE(jitter_spreads_waits_uniformly) {
  for (auto type : {backoff_type::fixed, backoff_type::exponential}) {
    BOOST_TEST_CONTEXT(static_cast<int>(type)) {
      backoff b{type, 1000, 0.5};
      const time_ms d = type == backoff_type::fixed ? 1000 : 4000;
      const int jobs = 20'000;
      int bins[10] = {};
      double sum = 0;
      for (int id = 1; id <= jobs; ++id) {
        auto wait = backoff_until(b, 2, now, jitter_draw(id, 3)) - now;
        BOOST_TEST_REQUIRE(wait >= d / 2);
        BOOST_TEST_REQUIRE(wait <= d);
        sum += static_cast<double>(wait);
        ++bins[std::min<time_ms>(9, (wait - d / 2) * 10 / (d / 2))];
      }
      BOOST_TEST(sum / jobs == 0.75 * static_cast<double>(d),
                 boost::test_tools::tolerance(0.01));
      for (int n : bins)
        BOOST_TEST(std::abs(n - jobs / 10) < jobs / 50); // within 2 %
    }
  }
}

BOOST_AUTO_TEST_CASE(jitter_draws_are_stable_and_differ_by_attempt) {
  BOOST_TEST(jitter_draw(42, 1) == jitter_draw(42, 1));
  BOOST_TEST(jitter_draw(42, 1) != jitter_draw(42, 2));
  BOOST_TEST(jitter_draw(42, 1) != jitter_draw(43, 1));
  // No jitter, or a zero draw: the plain delay.
  BOOST_TEST(backoff_until(backoff{backoff_type::fixed, 1000}, 0, now,
                           jitter_draw(42, 1))
             == now + 1000);
  BOOST_TEST(backoff_until(backoff{backoff_type::fixed, 1000, 1.0}, 0, now, 0)
             == now + 1000);
  // Full jitter never goes below now.
  BOOST_TEST(backoff_until(backoff{backoff_type::fixed, 1000, 1.0}, 0, now,
                           ~std::uint64_t{0})
             >= now);
}

BOOST_AUTO_TEST_SUITE_END()
