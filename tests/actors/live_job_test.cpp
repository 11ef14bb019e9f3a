// The live record alone, without an actor system, so ThreadSanitizer can
// watch it (scripts/tsan.sh): worker threads report progress and tails
// while a driver starts and ends steps and readers render it; every event
// is a consistent record, the latest progress always goes out, and
// nothing outgrows its bound.

#define BOOST_TEST_MODULE conveyor_live_job
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/live_job.hpp"
#include "model/json_guard.hpp"

using namespace conveyor;
using namespace conveyor::actors;

namespace {

struct recorder {
  std::mutex mutex;
  std::vector<std::pair<std::string, json>> events;
  live_job::publisher hook() {
    return [this](std::string_view type, const model::job&, const json& live) {
      std::lock_guard guard{mutex};
      events.emplace_back(std::string{type}, live);
    };
  }
};

job_ptr sample_job() {
  auto j = std::make_shared<model::job>();
  j->id = 7;
  j->task_slug = "t";
  return j;
}

} // namespace

BOOST_AUTO_TEST_CASE(steps_progress_and_tails_under_concurrent_use) {
  recorder rec;
  std::atomic<model::time_ms> now{1000};
  auto live = std::make_shared<live_job>(sample_job(), rec.hook(),
                                         [&] { return now.load(); });
  constexpr int steps = 4;
  for (int s = 1; s <= steps; ++s)
    live->step_started(s, "t", std::to_string(s), std::nullopt);
  std::atomic<bool> stop{false};
  std::atomic<int> renders{0}, bad_renders{0}; // Boost.Test asserts on one
                                               // thread only
  std::thread reader{[&] {
    while (!stop) {
      auto j = live->to_json();
      ++renders;
      if (!j["steps"].is_array() || !model::valid_utf8(j.dump()))
        ++bad_renders;
    }
  }};
  std::vector<std::thread> workers;
  for (int s = 1; s <= steps; ++s)
    workers.emplace_back([&, s] {
      for (int i = 0; i <= 1000; ++i) {
        if (live->progress(s, i / 1000.0, "step " + std::to_string(s)))
          live->flush(); // a driver would, after the interval
        live->append_tail(s, std::string(97, 'a' + s) + "\xc3\n");
        ++now;
      }
    });
  for (auto& w : workers)
    w.join();
  // Whatever was held back goes out with the next flush.
  live->flush();
  auto latest = live->to_json();
  for (const auto& s : latest["steps"]) {
    BOOST_TEST(s["progress"] == 1.0);
    BOOST_TEST(s["stderrTail"].get<std::string>().size() <= live_tail_bytes);
  }
  for (int s = 1; s <= steps; ++s) {
    auto tail = live->step_finished(s, "succeeded");
    BOOST_TEST(tail.size() <= logged_tail_bytes);
    BOOST_TEST(model::valid_utf8(tail));
  }
  stop = true;
  reader.join();
  BOOST_TEST(renders.load() > 0);
  BOOST_TEST(bad_renders.load() == 0);
  // (Read before taking the recorder's lock: publishing takes the record's
  // lock, then the recorder's.)
  auto version = live->version();
  std::lock_guard guard{rec.mutex};
  BOOST_TEST(rec.events.back().first == "step_finished");
  BOOST_TEST(rec.events.back().second["currentStep"].is_null());
  // One version per published change.
  BOOST_TEST(version == rec.events.size());
}

BOOST_AUTO_TEST_CASE(a_held_back_update_is_published_by_the_flush) {
  recorder rec;
  auto live = std::make_shared<live_job>(sample_job(), rec.hook(),
                                         [] { return model::time_ms{0}; });
  live->step_started(1, "t", "1", std::nullopt);
  BOOST_TEST(!live->progress(1, 0.1, "first")); // published at once
  BOOST_TEST(live->progress(1, 0.2, "second")); // held: arm a flush
  BOOST_TEST(!live->progress(1, 0.3, "third")); // held, flush armed
  {
    std::lock_guard guard{rec.mutex};
    BOOST_TEST(rec.events.back().second["progress"]["message"] == "first");
  }
  live->flush();
  std::lock_guard guard{rec.mutex};
  BOOST_TEST(rec.events.back().first == "progress");
  BOOST_TEST(rec.events.back().second["progress"]["message"] == "third");
}

BOOST_AUTO_TEST_CASE(unknown_steps_and_nan_change_nothing) {
  recorder rec;
  auto live = std::make_shared<live_job>(sample_job(), rec.hook(),
                                         [] { return model::time_ms{0}; });
  BOOST_TEST(!live->progress(9, 0.5, "nobody"));
  BOOST_TEST(!live->append_tail(9, "nobody"));
  BOOST_TEST(live->step_finished(9, "succeeded").empty());
  live->step_started(1, "t", "1", std::nullopt);
  BOOST_TEST(!live->progress(1, std::numeric_limits<double>::quiet_NaN(), "x"));
  BOOST_TEST(live->to_json()["progress"].is_null());
  std::lock_guard guard{rec.mutex};
  BOOST_TEST(rec.events.size() == 1u); // the step start only
}
