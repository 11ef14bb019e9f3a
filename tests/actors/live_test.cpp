// Live inspection: a running job shows its current step, each step's state
// and duration, the progress its task reports and the tail of what it
// writes; parallel steps show as each ends; events follow each change, the
// latest progress always among them; the tail stays in the log.

#include <boost/test/unit_test.hpp>

#include <future>
#include <mutex>
#include <vector>

#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace live_test {

/// A gate a task waits at until the test opens it.
struct gate {
  std::promise<void> opened;
  std::shared_future<void> future = opened.get_future().share();
  void open() { opened.set_value(); }
  void wait() const { future.wait(); }
};

struct seen_event {
  std::string type;
  model::job_id job;
  json live;
};

struct fixture : runtime_fixture {
  gate release;
  std::mutex events_mutex;
  std::vector<seen_event> events;

  fixture() {
    options.delete_job_on_complete = false;
    options.on_live = [this](std::string_view type, const model::job& j,
                             const json& live) {
      std::lock_guard guard{events_mutex};
      events.push_back({std::string{type}, j.id, live});
    };
  }

  std::vector<seen_event> events_of(std::string_view type) {
    std::lock_guard guard{events_mutex};
    std::vector<seen_event> out;
    for (const auto& e : events)
      if (e.type == type)
        out.push_back(e);
    return out;
  }

  /// Runs the queue on another thread (run() returns once jobs ended).
  std::future<json> run_async() {
    return std::async(std::launch::async, [this] {
      client mine{sys, rt->supervisor()};
      return mine.run();
    });
  }

  /// The job's document once `pred` holds for it (or the last one seen).
  json get_when(model::job_id id,
                const std::function<bool(const json&)>& pred) {
    json doc;
    testing::eventually([&] {
      doc = jobs->get(id);
      return pred(doc);
    });
    return doc;
  }
};

/// The error code a request throws (errc::none if it succeeds).
template <class F>
model::errc error_code_of(F request) {
  try {
    request();
  } catch (const request_error& e) {
    return e.code();
  }
  return model::errc::none;
}

json step_named(const json& live, const std::string& task_id) {
  for (const auto& s : live["steps"])
    if (s["taskID"] == task_id)
      return s;
  return nullptr;
}

} // namespace live_test

BOOST_FIXTURE_TEST_SUITE(live_tests, live_test::fixture)
using namespace live_test;

BOOST_AUTO_TEST_CASE(a_running_task_shows_its_step_progress_and_tail) {
  add_task({.slug = "resize", .handler = [this](task_context& ctx) {
              ctx.append_tail("reading input\n");
              ctx.progress(0.5, "half way");
              release.wait();
              return json{{"done", true}};
            }});
  start();
  auto id = queue_task("resize");
  auto runner = run_async();
  auto doc = get_when(id, [](const json& d) {
    return d.contains("live") && !d["live"]["progress"].is_null();
  });
  BOOST_TEST(doc["status"] == "running");
  const auto& live = doc["live"];
  BOOST_TEST(live["currentStep"]["taskSlug"] == "resize");
  BOOST_TEST(live["currentStep"]["taskID"] == "1");
  BOOST_REQUIRE(live["steps"].size() == 1u);
  const auto& step = live["steps"][0];
  BOOST_TEST(step["state"] == "running");
  BOOST_TEST(step["progress"] == 0.5);
  BOOST_TEST(step["message"] == "half way");
  BOOST_TEST(step["stderrTail"] == "reading input");
  BOOST_TEST(step.contains("startedAt"));
  BOOST_TEST(step["durationMs"].get<std::int64_t>() >= 0);
  BOOST_TEST(live["progress"]["fraction"] == 0.5);

  release.open();
  runner.get();
  auto done = jobs->get(id);
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(!done.contains("live"));
  BOOST_REQUIRE(done["log"].size() == 1u);
  BOOST_TEST(done["log"][0]["stderrTail"] == "reading input");
}

BOOST_AUTO_TEST_CASE(events_follow_steps_and_the_latest_progress_goes_out) {
  add_task({.slug = "count", .handler = [this](task_context& ctx) {
              // Faster than the event interval: most are held back, the
              // last must still be published.
              for (int i = 1; i <= 50; ++i)
                ctx.progress(i / 50.0, "item " + std::to_string(i));
              release.wait();
              return json::object();
            }});
  start();
  auto id = queue_task("count");
  auto runner = run_async();
  BOOST_TEST(testing::eventually([&] {
    auto p = events_of("progress");
    return !p.empty() && p.back().live["progress"]["message"] == "item 50";
  }));
  auto progress = events_of("progress");
  BOOST_TEST(progress.size() < 50u); // held back, not one per call
  BOOST_TEST(progress.back().job == id);
  BOOST_TEST(progress.back().live["progress"]["fraction"] == 1.0);
  release.open();
  runner.get();
  auto started = events_of("step_started");
  auto finished = events_of("step_finished");
  BOOST_REQUIRE(started.size() == 1u);
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(started[0].live["steps"][0]["state"] == "running");
  BOOST_TEST(finished[0].live["steps"][0]["state"] == "succeeded");
  BOOST_TEST(finished[0].live["currentStep"].is_null());
}

BOOST_AUTO_TEST_CASE(parallel_steps_show_as_each_ends) {
  add_workflow(
    {.slug = "pair", .handler = [this](workflow_context& wf) -> workflow {
       auto quick = wf.inline_task("quick", [](task_context&) {
         return json{{"q", 1}};
       });
       auto slow = wf.inline_task("slow", [this](task_context& ctx) {
         ctx.progress(0.1, "waiting");
         release.wait();
         return json{{"s", 1}};
       });
       co_await wf.all(std::move(quick), std::move(slow));
     }});
  start();
  auto id = queue_workflow("pair");
  auto runner = run_async();
  auto doc = get_when(id, [](const json& d) {
    return d.contains("live") && d["log"].size() == 1u
           && step_named(d["live"], "quick")["state"] == "succeeded";
  });
  BOOST_TEST(doc["log"][0]["taskID"] == "quick");
  BOOST_TEST(step_named(doc["live"], "slow")["state"] == "running");
  BOOST_TEST(doc["live"]["currentStep"]["taskID"] == "slow");
  release.open();
  BOOST_TEST(runner.get()["jobStatus"][std::to_string(id)]["status"]
             == "success");
}

BOOST_AUTO_TEST_CASE(a_nested_task_shows_as_a_step_with_its_parent) {
  add_task({.slug = "leaf", .handler = [this](task_context& ctx) {
              ctx.append_tail("leaf says hi");
              ctx.progress(0.3, "leafing");
              release.wait();
              return json{{"leaf", true}};
            }});
  add_task({.slug = "outer", .handler = [](task_context& ctx) {
              return ctx.task("leaf", "inner");
            }});
  start();
  auto id = queue_task("outer");
  auto runner = run_async();
  auto doc = get_when(id, [](const json& d) {
    return d.contains("live") && !step_named(d["live"], "inner").is_null()
           && !d["live"]["progress"].is_null();
  });
  auto inner = step_named(doc["live"], "inner");
  BOOST_TEST(inner["parent"]["taskSlug"] == "outer");
  BOOST_TEST(inner["message"] == "leafing");
  BOOST_TEST(step_named(doc["live"], "1")["state"] == "running");
  BOOST_TEST(doc["live"]["currentStep"]["taskID"] == "inner");
  release.open();
  runner.get();
  auto done = jobs->get(id);
  BOOST_TEST(done["status"] == "completed");
  bool logged = false;
  for (const auto& e : done["log"])
    if (e["taskID"] == "inner")
      logged = e["stderrTail"] == "leaf says hi";
  BOOST_TEST(logged);
}

BOOST_AUTO_TEST_CASE(hostile_progress_and_tails_stay_bounded) {
  add_task({.slug = "noisy", .handler = [this](task_context& ctx) {
              ctx.progress(std::numeric_limits<double>::quiet_NaN(), "nan");
              ctx.progress(7.5, std::string(100'000, '\xff'));
              for (int i = 0; i < 1000; ++i)
                ctx.append_tail(std::string(1000, 'a' + i % 26) + "\xc3");
              release.wait();
              throw std::runtime_error("noisy failed");
              return json::object();
            }});
  start();
  auto id = queue_task("noisy");
  auto runner = run_async();
  auto doc = get_when(id, [](const json& d) {
    return d.contains("live") && !d["live"]["progress"].is_null()
           && step_named(d["live"], "1").contains("stderrTail");
  });
  auto step = step_named(doc["live"], "1");
  BOOST_TEST(step["progress"] == 1.0); // clamped; the NaN was ignored
  BOOST_TEST(step["message"].get<std::string>().size() <= 200u);
  BOOST_TEST(step["stderrTail"].get<std::string>().size() <= 8 * 1024u);
  BOOST_TEST(doc.dump().size() < 64 * 1024u);
  release.open();
  runner.get();
  auto done = jobs->get(id);
  BOOST_REQUIRE(done["log"].size() == 1u);
  BOOST_TEST(done["log"][0]["state"] == "failed");
  BOOST_TEST(done["log"][0]["stderrTail"].get<std::string>().size()
             <= 2 * 1024u);
}

BOOST_AUTO_TEST_CASE(a_follower_gets_each_change_and_then_the_end) {
  add_task({.slug = "slow", .handler = [this](task_context& ctx) {
              ctx.progress(0.5, "half");
              release.wait();
              return json{{"ok", true}};
            }});
  start();
  auto id = queue_task("slow");
  // First call: at once, whatever the job is doing.
  auto first = jobs->follow(id);
  BOOST_TEST(first["job"]["id"] == std::to_string(id));
  auto cursor = first["cursor"].get<std::string>();
  BOOST_TEST(!cursor.empty());
  auto runner = run_async();
  // Each answer differs from the last (a follower never spins on the same
  // state); the half-way report shows up.
  bool saw_half = false;
  for (int i = 0; i < 20 && !saw_half; ++i) {
    auto next = jobs->follow(id, cursor);
    BOOST_TEST(next["cursor"] != cursor);
    cursor = next["cursor"].get<std::string>();
    const auto& job = next["job"];
    saw_half = job.contains("live") && !job["live"]["progress"].is_null()
               && job["live"]["progress"]["fraction"] == 0.5;
  }
  BOOST_TEST_REQUIRE(saw_half);
  // Parked until the job ends.
  auto end = std::async(std::launch::async, [&] {
    client mine{sys, rt->supervisor()};
    auto c = cursor;
    json last;
    for (int i = 0; i < 20 && c != "final"; ++i) {
      last = mine.follow(id, c);
      c = last["cursor"].get<std::string>();
    }
    return last;
  });
  release.open();
  runner.get();
  auto last = end.get();
  BOOST_TEST(last["cursor"] == "final");
  BOOST_TEST(last["job"]["status"] == "completed");
  // A finished job: at once, final.
  BOOST_TEST(jobs->follow(id, "anything")["cursor"] == "final");
}

BOOST_AUTO_TEST_CASE(followers_are_bounded_and_bad_cursors_refused) {
  add_task({.slug = "slow", .handler = [this](task_context&) {
              release.wait();
              return json::object();
            }});
  start();
  auto id = queue_task("slow");
  auto runner = run_async();
  get_when(id, [](const json& d) { return d.contains("live"); });
  auto err = error_code_of([&] { jobs->follow(id, std::string(1000, 'c')); });
  BOOST_TEST(err == model::errc::invalid_input);
  // One more than a job may have, each on the current cursor (which stays
  // while the task waits): the first 64 to arrive are parked until the job
  // changes, the last one is refused at once.
  auto cursor = jobs->follow(id)["cursor"].get<std::string>();
  std::vector<std::future<json>> calls;
  for (int i = 0; i < 65; ++i)
    calls.push_back(std::async(std::launch::async, [&] {
      client mine{sys, rt->supervisor()};
      try {
        return mine.follow(id, cursor);
      } catch (const request_error& e) {
        return json{{"refused", std::string{model::to_string(e.code())}}};
      }
    }));
  BOOST_TEST(testing::eventually([&] {
    return std::count_if(calls.begin(), calls.end(),
                         [](auto& f) {
                           return f.wait_for(std::chrono::seconds(0))
                                  == std::future_status::ready;
                         })
           == 1;
  }));

  release.open();
  runner.get();
  int refused = 0, answered = 0;
  for (auto& f : calls) {
    auto r = f.get();
    if (r.contains("refused"))
      refused += r["refused"] == "overloaded";
    else
      answered += r["cursor"] != cursor;
  }
  BOOST_TEST(refused == 1);
  BOOST_TEST(answered == 64);
}

BOOST_AUTO_TEST_SUITE_END()
