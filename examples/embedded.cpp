// An application embedding Conveyor in its own CAF actor system.
//
// It registers three C++ tasks and a workflow that chains them, starts the
// runtime in continuous mode on ./conveyor-data, queues a batch of real work
// (text statistics over a few documents), waits for every job and prints
// each result as JSON. Run it twice: jobs are durable, and a run interrupted
// with Ctrl-C resumes its unfinished jobs the next time.

#include <iostream>
#include <map>
#include <sstream>

#include "caf/all.hpp"
#include "conveyor/client.hpp"
#include "conveyor/registry.hpp"
#include "conveyor/runtime.hpp"

using conveyor::json;

namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

std::shared_ptr<conveyor::registry> make_registry() {
  auto reg = std::make_shared<conveyor::registry>();
  auto check = [](conveyor::model::status st) {
    if (!st)
      throw std::runtime_error(st.error().message);
  };
  check(reg->add_task({
    .slug = "count-words",
    .handler =
      [](conveyor::task_context& ctx) {
        auto words = words_of(ctx.input().at("text").get<std::string>());
        return json{{"words", words.size()}};
      },
    .retries = conveyor::model::retry_config{.attempts = 2},
    .input_schema = json{{"type", "object"},
                         {"required", {"text"}},
                         {"properties", {{"text", {{"type", "string"}}}}}},
  }));
  check(reg->add_task({
    .slug = "top-word",
    .handler =
      [](conveyor::task_context& ctx) {
        std::map<std::string, int> freq;
        for (auto& w : words_of(ctx.input().at("text").get<std::string>()))
          ++freq[w];
        std::string best;
        int n = 0;
        for (auto& [w, c] : freq)
          if (c > n) {
            best = w;
            n = c;
          }
        return json{{"word", best}, {"count", n}};
      },
  }));
  check(reg->add_task({
    .slug = "summarize",
    .handler =
      [](conveyor::task_context& ctx) {
        const auto& in = ctx.input();
        std::ostringstream out;
        out << in.at("title").get<std::string>() << ": "
            << in.at("words").get<int>() << " words, most frequent '"
            << in.at("top").get<std::string>() << "'";
        return json{{"summary", out.str()}};
      },
  }));
  // Scheduled every second: handle_schedules queues one job per tick.
  check(reg->add_task({
    .slug = "heartbeat",
    .handler =
      [](conveyor::task_context& ctx) {
        return json{{"tick", *ctx.job().wait_until}};
      },
    .schedule = {{.cron = "* * * * * *", .queue = "default"}},
  }));
  check(reg->add_workflow({
    .slug = "analyze",
    .handler = [](conveyor::workflow_context& wf) -> conveyor::workflow {
      json text = {{"text", wf.input().at("text")}};
      // Two independent steps in parallel, then one that needs both.
      auto outs = co_await wf.all(wf.task("count-words", "count", {text}),
                                  wf.task("top-word", "top", {text}));
      json summary_in = {{"title", wf.input().at("title")},
                         {"words", outs[0].at("words")},
                         {"top", outs[1].at("word")}};
      co_await wf.task("summarize", "summary", {summary_in});
    },
    .retries = conveyor::model::retry_config{.attempts = 1},
  }));
  return reg;
}

} // namespace

int main(int argc, char** argv) {
  std::string data_dir = argc > 1 ? argv[1] : "./conveyor-data";
  caf::actor_system_config cfg;
  conveyor::register_types(cfg);
  caf::actor_system sys{cfg};
  conveyor::runtime_options options;
  options.data_dir = data_dir;
  options.continuous = true;
  options.delete_job_on_complete = false; // keep results to print them
  auto rt = conveyor::start(sys, make_registry(), options);
  if (!rt) {
    std::cerr << "conveyor: " << rt.error().message << "\n";
    return 1;
  }
  conveyor::client jobs{sys, (*rt)->supervisor()};
  std::vector<std::pair<std::string, std::string>> docs{
    {"ballad", "the road goes on and on the road goes ever on"},
    {"recipe", "mix the flour with the water then bake the bread"},
    {"notes", "actors send messages and messages carry the work"},
  };
  std::vector<conveyor::model::job_id> ids;
  for (auto& [title, text] : docs) {
    conveyor::queue_request req;
    req.workflow = "analyze";
    req.input = {{"title", title}, {"text", text}};
    ids.push_back(conveyor::client::id_of(jobs.queue(req)));
  }
  int failures = 0;
  for (auto id : ids) {
    auto done = jobs.wait(id);
    auto full = jobs.get(id);
    json line = {{"id", full["id"]},
                 {"status", full["status"]},
                 {"totalTried", full["totalTried"]}};
    if (full["status"] == "completed")
      line["summary"] =
        full["taskStatus"]["summarize"]["summary"]["output"]["summary"];
    else
      ++failures;
    std::cout << line.dump() << std::endl;
  }
  // The next tick of the heartbeat schedule: queued now, run on the tick.
  auto scheduled = jobs.handle_schedules({"default", false});
  for (auto& entry : scheduled["queued"]) {
    auto done = jobs.wait(std::stoull(entry["job"].get<std::string>()));
    std::cout << json{{"scheduled", entry["task"]},
                      {"waitUntil", entry["waitUntil"]},
                      {"status", done["status"]}}
                   .dump()
              << std::endl;
    if (done["status"] != "completed")
      ++failures;
  }
  (*rt)->stop();
  return failures == 0 ? 0 : 1;
}
