// Limits on every request path: the network decoding of JSON fields, and
// the configured limits applied by the supervisor. A violation is a clear
// error, writes nothing, and the runtime keeps serving.

#include <boost/test/unit_test.hpp>

#include <limits>

#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "conveyor/errors.hpp"
#include "model/time.hpp"
#include "support/echo_fixture.hpp"

using namespace conveyor;
using model::errc;

namespace limits_test {

using fixture = conveyor::testing::echo_fixture;

queue_request echo(json input = json::object()) {
  queue_request req;
  req.task = "echo";
  req.input = std::move(input);
  return req;
}

/// The bytes of a queue_request whose JSON fields carry `input_text` and
/// `meta_text` verbatim: what a hostile peer can put on the wire.
std::vector<char> wire_queue_request(const std::string& input_text,
                                     const std::string& meta_text) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  std::string task = "echo", workflow, queue, log, key;
  std::int64_t wait_until = 0;
  std::int32_t priority = 0;
  auto err = sink(task, workflow, input_text, queue, wait_until, log, meta_text,
                  key, priority);
  BOOST_REQUIRE(!err);
  return buf;
}

} // namespace limits_test

BOOST_AUTO_TEST_SUITE(limits_tests)
using namespace limits_test;

BOOST_AUTO_TEST_CASE(a_million_levels_from_the_network_are_a_decoding_error) {
  const std::size_t depth = 1'000'000;
  auto bytes = wire_queue_request(
    std::string(depth, '[') + std::string(depth, ']'), "null");
  queue_request req;
  caf::binary_deserializer source{nullptr, bytes};
  auto err = source(req);
  BOOST_TEST(static_cast<bool>(err));

  // The same framing with sane JSON decodes.
  auto ok_bytes = wire_queue_request(R"({"a":[1,2]})", R"({"m":1})");
  caf::binary_deserializer ok_source{nullptr, ok_bytes};
  BOOST_TEST(!ok_source(req));
  BOOST_TEST(req.input == json::parse(R"({"a":[1,2]})"));
}

BOOST_AUTO_TEST_CASE(malformed_json_on_the_wire_is_a_decoding_error) {
  for (std::string text : {"{", "[1,]", "\"\xff\"", "1 2", ""}) {
    auto bytes = wire_queue_request(text, "null");
    queue_request req;
    caf::binary_deserializer source{nullptr, bytes};
    BOOST_TEST(static_cast<bool>(source(req)), text);
  }
}

BOOST_FIXTURE_TEST_CASE(configured_sizes_are_enforced_and_nothing_is_written,
                        fixture) {
  options.limits.max_input_bytes = 100;
  options.limits.max_meta_bytes = 50;
  options.limits.max_log_bytes = 10;
  options.limits.max_idempotency_key_bytes = 8;
  options.limits.max_json_depth = 4;
  options.limits.max_string_bytes = 40;
  options.limits.max_array_length = 5;
  start();
  auto e = queue_error(echo({{"blob", std::string(30, 'a')},
                             {"b", std::string(30, 'b')},
                             {"c", std::string(30, 'c')}}));
  BOOST_TEST(to_string(e.code) == "too_large");
  BOOST_TEST(e.message.starts_with("input: "));
  e = queue_error(echo({{"s", std::string(41, 'a')}}));
  BOOST_TEST(e.message == "input.s: string longer than 40 bytes");
  e = queue_error(echo({{"a", {1, 2, 3, 4, 5, 6}}}));
  BOOST_TEST(e.message == "input.a: more than 5 elements");
  e = queue_error(echo({{"a", {{"b", {{"c", {{"d", {{"e", 1}}}}}}}}}}));
  BOOST_TEST(to_string(e.code) == "too_deep");
  BOOST_TEST(e.message == "input: nesting deeper than 4");

  auto req = echo();
  req.meta = {{"a", std::string(30, 'm')}, {"b", std::string(30, 'm')}};
  e = queue_error(req);
  BOOST_TEST(e.message.starts_with("meta: "));
  req = echo();
  req.log = std::string(11, 'l');
  BOOST_TEST(queue_error(req).message == "log: longer than 10 bytes");
  req = echo();
  req.idempotency_key = "123456789";
  e = queue_error(req);
  BOOST_TEST(to_string(e.code) == "invalid_input");
  BOOST_TEST(e.message == "idempotencyKey: longer than 8 bytes");

  BOOST_TEST(stored() == 0u);
  // Still serving.
  BOOST_TEST(queue_error(echo({{"ok", true}})).code == errc::none);
  BOOST_TEST(stored() == 1u);
}

BOOST_FIXTURE_TEST_CASE(invalid_utf8_anywhere_in_a_request_is_invalid_input,
                        fixture) {
  start();
  const std::string bad = "x\xc3(";
  auto check = [&](queue_request req, const std::string& field) {
    auto e = queue_error(req);
    BOOST_TEST(to_string(e.code) == "invalid_input", field);
    BOOST_TEST(e.message.starts_with(field), e.message);
  };
  check(echo({{"k", bad}}), "input.k");
  check(echo({{bad, 1}}), "input");
  auto req = echo();
  req.meta = {{"k", bad}};
  check(req, "meta.k");
  req = echo();
  req.log = bad;
  check(req, "log");
  req = echo();
  req.idempotency_key = bad;
  check(req, "idempotencyKey");
  req = echo();
  req.queue = bad;
  check(req, "queue");
  req = echo();
  req.task = bad;
  check(req, "task");
  BOOST_TEST(stored() == 0u);
}

BOOST_FIXTURE_TEST_CASE(wait_until_must_be_a_time_the_format_writes_back,
                        fixture) {
  start();
  // What the CLI sends for --wait-until '9999-12-31T23:59-23:59': year 10000.
  auto far = model::parse_iso8601("9999-12-31T23:59-23:59");
  BOOST_REQUIRE(far.has_value());
  for (model::time_ms t :
       {*far, model::max_request_time + 1, model::time_ms{-1},
        std::numeric_limits<model::time_ms>::min(),
        std::numeric_limits<model::time_ms>::max()}) {
    auto req = echo();
    req.wait_until = t;
    auto e = queue_error(req);
    BOOST_TEST(to_string(e.code) == "invalid_input");
    BOOST_TEST(e.message.starts_with("waitUntil: "), e.message);
  }
  BOOST_TEST(stored() == 0u);
  auto req = echo();
  req.wait_until = model::max_request_time;
  BOOST_TEST(queue_error(req).code == errc::none);
  req.wait_until = 1; // 1970-01-01T00:00:00.001Z
  BOOST_TEST(queue_error(req).code == errc::none);
  // Both survive a restart and list.
  restart();
  auto all = jobs->find({});
  BOOST_TEST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0]["waitUntil"] == "9999-12-31T23:59:59.999Z");
}

BOOST_FIXTURE_TEST_CASE(where_filters_and_page_sizes_are_bounded, fixture) {
  options.limits.max_where_bytes = 64;
  options.limits.max_page_size = 10;
  start();
  find_request f;
  f.limit = 11;
  BOOST_CHECK_EXCEPTION(jobs->find(f), request_error,
                        [](const request_error& e) {
                          return e.code() == errc::invalid_input
                                 && e.message() == "limit: at most 10";
                        });
  f.limit = 10;
  f.where = {{"queue", {{"equals", std::string(80, 'q')}}}};
  BOOST_CHECK_EXCEPTION(
    jobs->find(f), request_error, [](const request_error& e) {
      return e.code() == errc::invalid_input
             && e.message()
                  == "where: where.queue.equals: string longer than 64 bytes";
    });
  f.where = json::object();
  for (auto key : {"a", "b", "c", "d", "e"})
    f.where[key] = {{"equals", "0123456789"}};
  BOOST_CHECK_EXCEPTION(jobs->find(f), request_error,
                        [](const request_error& e) {
                          return e.code() == errc::invalid_input
                                 && e.message().starts_with("where: where: ")
                                 && e.message().ends_with("bytes, limit is 64");
                        });
  json deep = json::object();
  for (int i = 0; i < 20; ++i)
    deep = json{{"or", json::array({deep})}};
  cancel_request c;
  c.where = deep;
  BOOST_CHECK_EXCEPTION(
    jobs->cancel(c), request_error, [](const request_error& e) {
      return e.code() == errc::invalid_input
             && e.message().find("nesting deeper than 16") != std::string::npos;
    });
  run_request r;
  r.where = deep;
  BOOST_CHECK_THROW(jobs->run(r), request_error);
  BOOST_TEST(queue_error(echo()).code == errc::none);
}

BOOST_FIXTURE_TEST_CASE(output_over_the_limit_fails_the_task, fixture) {
  options.limits.max_output_bytes = 64;
  add_task({.slug = "big", .handler = [](task_context&) {
              return json{{"blob", std::string(100, 'b')}};
            }});
  start();
  auto id = client::id_of(jobs->queue([] {
    queue_request req;
    req.task = "big";
    return req;
  }()));
  jobs->run();
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "failed");
  BOOST_TEST(j["log"][0]["error"]["name"] == "InvalidOutput", j.dump());
  BOOST_TEST(
    j["log"][0]["error"]["message"].get<std::string>().starts_with("output: "));
}

BOOST_FIXTURE_TEST_CASE(limits_outside_the_table_refuse_to_start, fixture) {
  options.limits.max_json_depth = 1000;
  auto started = conveyor::start(sys, reg, options);
  BOOST_REQUIRE(!started);
  BOOST_TEST(started.error().message
             == "limits.maxJsonDepth: 1000 is outside 1 .. 64");
}

BOOST_AUTO_TEST_SUITE_END()
