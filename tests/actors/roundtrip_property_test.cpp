// Property: every queue request the validation accepts round-trips. It
// crosses the network unchanged (CAF binary format), and the job built from
// it is encoded as a journal record and decoded back equal. Inputs are
// drawn from a seeded generator (CONVEYOR_PROPERTY_SEED overrides the
// seed): JSON within and around the limits, Unicode, times at the edges of
// the format, extreme priorities, meta, idempotency keys.

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <limits>
#include <random>

#include "actors/requests.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "model/time.hpp"
#include "persistence/job_records.hpp"

using namespace conveyor;

namespace roundtrip_property_test {

class generator {
public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(int percent) {
    return below(100) < static_cast<std::size_t>(percent);
  }

  /// Mostly valid UTF-8 across all encoded lengths; sometimes a stray byte.
  std::string text(std::size_t max_len, bool may_be_invalid = true) {
    std::string out;
    const std::size_t n = below(max_len + 1);
    for (std::size_t i = 0; i < n; ++i) {
      switch (below(6)) {
      case 0:
        append(out, static_cast<std::uint32_t>(below(0x80)));
        break;
      case 1:
        append(out, 0x80 + static_cast<std::uint32_t>(below(0x780)));
        break;
      case 2: { // BMP without surrogates
        auto cp = 0x800 + static_cast<std::uint32_t>(below(0xF800));
        append(out, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
        break;
      }
      case 3:
        append(out, 0x10000 + static_cast<std::uint32_t>(below(0x100000)));
        break;
      default:
        out += static_cast<char>('a' + below(26));
      }
    }
    if (may_be_invalid && chance(3))
      out.insert(below(out.size() + 1), 1,
                 static_cast<char>(0x80 + below(0x80)));
    return out;
  }

  json number() {
    switch (below(7)) {
    case 0:
      return std::numeric_limits<std::int64_t>::min();
    case 1:
      return std::numeric_limits<std::uint64_t>::max();
    case 2:
      return static_cast<std::int64_t>(rng_());
    case 3:
      return std::uniform_real_distribution<double>(-1e300, 1e300)(rng_);
    case 4:
      return std::numeric_limits<double>::denorm_min();
    case 5:
      return chance(50) ? std::nan("")
                        : -std::numeric_limits<double>::infinity();
    default:
      return static_cast<int>(below(1000)) - 500;
    }
  }

  /// A value nested at most `depth` levels (objects and arrays count).
  json value(std::size_t depth) {
    if (depth == 0 || chance(40)) {
      switch (below(5)) {
      case 0:
        return nullptr;
      case 1:
        return chance(50);
      case 2:
        return number();
      default:
        return text(12);
      }
    }
    return chance(50) ? object(depth) : array(depth);
  }

  json object(std::size_t depth) {
    json out = json::object();
    for (std::size_t i = below(5); i > 0; --i)
      out[text(8)] = value(depth - 1);
    return out;
  }

  json array(std::size_t depth) {
    json out = json::array();
    for (std::size_t i = below(5); i > 0; --i)
      out.push_back(value(depth - 1));
    return out;
  }

  /// A chain exactly `depth` deep, to probe the depth limit itself.
  json chain(std::size_t depth) {
    json v = json::object();
    for (std::size_t i = 1; i < depth; ++i)
      v = json{{"d", std::move(v)}};
    return v;
  }

  model::time_ms time() {
    switch (below(8)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return model::max_request_time;
    case 3:
      return model::max_request_time + 1;
    case 4:
      return -1 - static_cast<model::time_ms>(below(1000));
    case 5:
      return static_cast<model::time_ms>(rng_());
    default:
      return std::uniform_int_distribution<model::time_ms>(
        model::min_request_time, model::max_request_time)(rng_);
    }
  }

  std::int32_t priority() {
    switch (below(4)) {
    case 0:
      return std::numeric_limits<std::int32_t>::min();
    case 1:
      return std::numeric_limits<std::int32_t>::max();
    default:
      return static_cast<std::int32_t>(rng_());
    }
  }

  std::uint64_t raw() { return rng_(); }

private:
  static void append(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::mt19937_64 rng_;
};

queue_request random_request(generator& g, const model::limits& lim) {
  queue_request req;
  req.task = g.chance(95) ? (g.chance(50) ? "plain" : "urgent") : g.text(6);
  if (g.chance(10))
    req.input = g.chain(lim.max_json_depth + g.below(2)); // at or just over
  else
    req.input = g.chance(5) ? g.value(3) : g.object(1 + g.below(8));
  if (g.chance(40))
    req.queue = g.chance(90) ? "q" + std::to_string(g.below(100)) : g.text(5);
  if (g.chance(60))
    req.wait_until = g.time();
  if (g.chance(30))
    req.log = g.text(20);
  if (g.chance(40))
    req.meta = g.chance(90) ? g.object(1 + g.below(4)) : g.value(2);
  if (g.chance(30))
    req.idempotency_key = g.text(g.chance(5) ? 300 : 20);
  if (g.chance(70))
    req.priority = g.priority();
  return req;
}

std::uint64_t seed() {
  if (const char* s = std::getenv("CONVEYOR_PROPERTY_SEED"))
    return std::strtoull(s, nullptr, 10);
  return 20261204;
}

} // namespace roundtrip_property_test

BOOST_AUTO_TEST_SUITE(roundtrip_property)
using namespace roundtrip_property_test;

BOOST_AUTO_TEST_CASE(every_accepted_request_round_trips) {
  registry reg;
  auto noop = [](task_context&) { return json::object(); };
  BOOST_REQUIRE(reg.add_task({.slug = "plain", .handler = noop}).has_value());
  BOOST_REQUIRE(reg.add_task({.slug = "urgent", .handler = noop, .priority = 7})
                  .has_value());
  const model::limits lim;
  const std::uint64_t s = seed();
  BOOST_TEST_MESSAGE("seed " << s);
  generator g(s);
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    const queue_request req = random_request(g, lim);

    // Through the wire format first, as a remote request would arrive.
    std::vector<char> buf;
    caf::binary_serializer sink{nullptr, buf};
    queue_request copy = req;
    BOOST_REQUIRE(!sink(copy));
    queue_request received;
    caf::binary_deserializer source{nullptr, buf};
    auto wire_error = source(received);

    const model::time_ms now = model::max_request_time / 2;
    auto j = actors::build_job(reg, req, now, lim);
    if (!j) {
      ++rejected;
      const auto code = j.error().code;
      BOOST_TEST((code == model::errc::invalid_input
                  || code == model::errc::too_large
                  || code == model::errc::too_deep),
                 j.error().message);
      continue;
    }
    ++accepted;
    BOOST_TEST_REQUIRE(!wire_error, "seed " << s << " case " << i);
    BOOST_TEST_REQUIRE(received.input == req.input,
                       "seed " << s << " case " << i);
    BOOST_TEST_REQUIRE(received.meta == req.meta,
                       "seed " << s << " case " << i);
    BOOST_TEST_REQUIRE(received.wait_until == req.wait_until);
    BOOST_TEST_REQUIRE(received.idempotency_key == req.idempotency_key);

    j->id = g.raw();
    const std::string bytes = persistence::encode_job(*j);
    auto back = persistence::decode_job(bytes);
    BOOST_TEST_REQUIRE(back.has_value(),
                       "seed " << s << " case " << i << ": "
                               << (back ? "" : back.error().message));
    BOOST_TEST_REQUIRE((*back == *j), "seed " << s << " case " << i << ": "
                                              << bytes.substr(0, 400));
    // And the re-encoding is byte for byte the same record.
    BOOST_TEST_REQUIRE(persistence::encode_job(*back) == bytes);
  }
  BOOST_TEST_MESSAGE(accepted << " accepted, " << rejected << " rejected");
  BOOST_TEST(accepted > 500);
  BOOST_TEST(rejected > 100);
}

BOOST_AUTO_TEST_SUITE_END()
