// Templates, conditions, and declarative workflows run end to end through
// the real runtime with command tasks; plus the shipped default config.

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <thread>

#include "config/config.hpp"
#include "config/registry_builder.hpp"
#include "support/runtime_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using namespace conveyor::cfg;
using namespace conveyor::tasks;
using conveyor::testing::runtime_fixture;
using namespace std::chrono_literals;

namespace declarative_workflow_test {

json scope_of() {
  return json::parse(R"({
    "input": {"name": "Ada", "n": 3, "tags": ["a", "b"], "flag": false, "nil": null},
    "job": {"id": 12, "queue": "default"},
    "steps": {"1": {"output": {"file": "/tmp/x.png", "size": {"w": 2}}}}})");
}

condition_spec condition(const json& v) {
  std::vector<std::string> problems;
  auto c = parse_condition(v, "condition", problems);
  BOOST_REQUIRE_MESSAGE(c, (problems.empty() ? "" : problems.front()));
  return *c;
}

/// A runtime whose registry comes from a config document; command tasks
/// log "<task>:<id>" to a file so tests can count executions.
struct fixture : runtime_fixture {

  std::string log_path = dir.sub("runs.log");

  fixture() { options.delete_job_on_complete = false; }

  /// `echo` returns its input; `fail-once` fails on attempt 1 only.
  json tasks() const {
    auto logged = [&](const std::string& body) {
      return json::array(
        {"sh", "-c",
         "echo \"$CONVEYOR_TASK_ID\" >> " + log_path + "; " + body});
    };
    return json::array(
      {{{"slug", "echo"}, {"run", logged("cat")}},
       {{"slug", "fail-once"},
        {"run",
         logged("if [ \"$CONVEYOR_ATTEMPT\" -lt 2 ]; then echo \"not yet "
                "($CONVEYOR_ATTEMPT)\" >&2; exit 1; fi; cat")},
        {"retries", 1}}});
  }

  void load(const json& workflows) {
    load_doc({{"jobs", {{"tasks", tasks()}, {"workflows", workflows}}}});
  }

  /// Parses a whole config, builds its registry and starts the runtime.
  void load_doc(const json& doc) {
    auto cfg = parse_config(doc, dir.path());
    BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
    auto built = build_registry(*cfg);
    BOOST_REQUIRE(built);
    reg = *built;
    start();
  }

  std::vector<std::string> runs() const {
    std::ifstream in{log_path};
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    return out;
  }

  int runs_of(const std::string& id) const {
    auto all = runs();
    return static_cast<int>(std::count(all.begin(), all.end(), id));
  }
};

} // namespace declarative_workflow_test

BOOST_AUTO_TEST_SUITE(templates)
using namespace declarative_workflow_test;

BOOST_AUTO_TEST_CASE(a_lone_placeholder_keeps_its_type) {
  auto scope = scope_of();
  BOOST_TEST(*render_template("${input.n}", scope) == 3);
  BOOST_TEST(*render_template("${input.flag}", scope) == false);
  BOOST_TEST(render_template("${input.nil}", scope)->is_null());
  BOOST_TEST(*render_template("${input.tags}", scope)
             == json::parse(R"(["a","b"])"));
  BOOST_TEST(*render_template("${steps.1.output}", scope)
             == json::parse(R"({"file": "/tmp/x.png", "size": {"w": 2}})"));
  BOOST_TEST(*render_template("${input.tags.1}", scope) == "b");
  BOOST_TEST(*render_template("${job.id}", scope) == 12);
}

BOOST_AUTO_TEST_CASE(placeholders_inside_text_are_substituted) {
  auto scope = scope_of();
  BOOST_TEST(*render_template("hi ${input.name}, n=${input.n}", scope)
             == "hi Ada, n=3");
  BOOST_TEST(*render_template("size ${steps.1.output.size}", scope)
             == "size {\"w\":2}");
  BOOST_TEST(*render_template("$${input.name} is ${input.name}", scope)
             == "${input.name} is Ada");
  json tmpl = json::parse(
    R"({"a": ["${input.name}", 1, {"b": "${steps.1.output.size.w}"}],
                              "c": "job-${job.id}", "d": null})");
  BOOST_TEST(
    *render_template(tmpl, scope)
    == json::parse(R"({"a": ["Ada", 1, {"b": 2}], "c": "job-12", "d": null})"));
}

BOOST_AUTO_TEST_CASE(a_missing_reference_is_an_error_naming_it) {
  auto scope = scope_of();
  auto r =
    render_template(json{{"x", {"ok", "${steps.2.output.file}"}}}, scope);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message
             == "template reference ${steps.2.output.file} not found");
  BOOST_TEST(render_template("${input.tags.7}", scope).error().message
             == "template reference ${input.tags.7} not found");
  BOOST_TEST(render_template("${input.name.first}", scope).error().message
             == "template reference ${input.name.first} not found");
  BOOST_TEST(render_template("${input.", scope).error().message
             == "unterminated '${' in \"${input.\"");
  BOOST_TEST(render_template("${}", scope).error().message
             == "empty placeholder '${}'");
  BOOST_TEST(render_template("${input..a}", scope).error().message
             == "empty path segment in '${input..a}'");
}

BOOST_AUTO_TEST_CASE(conditions_have_three_forms) {
  auto scope = scope_of();
  BOOST_TEST(evaluate_condition(
    condition({{"exists", "${steps.1.output.file}"}}), scope));
  BOOST_TEST(
    evaluate_condition(condition({{"exists", "${input.nil}"}}), scope));
  BOOST_TEST(
    !evaluate_condition(condition({{"exists", "${steps.2.output}"}}), scope));
  BOOST_TEST(evaluate_condition(
    condition({{"path", "${input.n}"}, {"equals", 3.0}}), scope));
  BOOST_TEST(!evaluate_condition(
    condition({{"path", "${input.n}"}, {"equals", "3"}}), scope));
  BOOST_TEST(!evaluate_condition(
    condition({{"path", "${input.x}"}, {"equals", nullptr}}), scope));
  BOOST_TEST(evaluate_condition(
    condition({{"path", "${input.flag}"}, {"notEquals", true}}), scope));
  BOOST_TEST(evaluate_condition(
    condition({{"path", "${input.x}"}, {"notEquals", 1}}), scope));
  BOOST_TEST(!evaluate_condition(
    condition({{"path", "${steps.1.output.size}"}, {"notEquals", {{"w", 2}}}}),
    scope));
  std::vector<std::string> problems;
  BOOST_TEST(!parse_condition("${input.a}", "c", problems));
  BOOST_TEST(!parse_condition(json::object(), "c", problems));
  BOOST_TEST(!parse_condition({{"exists", 1}, {"also", 2}}, "c", problems));
  BOOST_TEST(
    problems
      == (std::vector<std::string>{
        "c: expected an object {\"exists\": \"${...}\"} or {\"path\": "
        "\"${...}\", "
        "\"equals\": value}, got string",
        "c: expected \"exists\" or \"path\"",
        "c.also: unknown key (expected exists, path, equals or notEquals)",
        "c.exists: expected a \"${...}\" reference, got number"}),
    boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dependencies_are_the_referenced_steps) {
  step_spec s;
  s.input = json::parse(
    R"({"a": "${steps.x.output.a} ${steps.y.output}", "b": ["${steps.x.output}"],
                            "c": "${input.z}"})");
  s.condition = condition({{"exists", "${steps.w.output.ok}"}});
  BOOST_TEST(step_dependencies(s) == (std::vector<std::string>{"x", "y", "w"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(declarative_workflows,
                         declarative_workflow_test::fixture)
using namespace declarative_workflow_test;

BOOST_AUTO_TEST_CASE(outputs_flow_from_step_to_step) {
  load(json::parse(R"([{"slug": "chain", "steps": [
    {"id": "1", "task": "echo", "input": {"greeting": "hi ${input.name}", "n": "${input.n}"}},
    {"id": "2", "task": "echo", "input": {"text": "${steps.1.output.greeting}!",
                                          "n": "${steps.1.output.n}", "job": "${job.id}"}}]}])"));
  auto id = queue_workflow("chain", {{"name", "Ada"}, {"n", 3}});
  BOOST_TEST(run_until_empty() == 1);
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(j["taskStatus"]["echo"]["2"]["output"]
             == (json{{"text", "hi Ada!"}, {"n", 3}, {"job", id}}));
  BOOST_TEST(runs() == (std::vector<std::string>{"1", "2"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(
  without_completes_job_it_ends_once_every_runnable_step_ran) {
  // Payload loops forever here; we complete after the last round.
  load(json::parse(R"([{"slug": "fan", "steps": [
    {"id": "a", "task": "echo"}, {"id": "b", "task": "echo"},
    {"id": "c", "task": "echo", "input": {"a": "${steps.a.output}"}}]}])"));
  auto id = queue_workflow("fan");
  BOOST_TEST(run_until_empty() == 1);
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(j["totalTried"] == 1); // one attempt
  BOOST_TEST(j["log"].size() == 3u);
  for (auto step : {"a", "b", "c"})
    BOOST_TEST(runs_of(step) == 1, step);
}

BOOST_AUTO_TEST_CASE(conditions_gate_steps) {
  load(json::parse(R"([{"slug": "gate", "steps": [
    {"id": "big", "task": "echo", "condition": {"path": "${input.size}", "equals": "big"}},
    {"id": "small", "task": "echo", "condition": {"path": "${input.size}", "equals": "small"},
     "input": {"kind": "small"}},
    {"id": "after-big", "task": "echo", "condition": {"exists": "${steps.big.output}"}},
    {"id": "after-small", "task": "echo",
     "condition": {"path": "${steps.small.output.kind}", "notEquals": "big"}}]}])"));
  auto id = queue_workflow("gate", {{"size", "small"}});
  run_until_empty();
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(runs_of("small") == 1);
  BOOST_TEST(runs_of("after-small") == 1);
  BOOST_TEST(runs_of("big") == 0);
  BOOST_TEST(runs_of("after-big") == 0);
  BOOST_TEST(!j["taskStatus"]["echo"].contains("big"));
}

BOOST_AUTO_TEST_CASE(completes_job_ends_the_workflow_after_its_round) {
  load(json::parse(R"([{"slug": "early", "steps": [
    {"id": "1", "task": "echo", "completesJob": true},
    {"id": "2", "task": "echo"},
    {"id": "3", "task": "echo", "input": {"x": "${steps.1.output}"}}]}])"));
  auto id = queue_workflow("early");
  run_until_empty();
  BOOST_TEST(jobs->get(id)["status"] == "completed");
  BOOST_TEST(runs_of("1") == 1);
  BOOST_TEST(runs_of("2") == 1); // same round as 1
  BOOST_TEST(runs_of("3") == 0); // a later round: never
}

BOOST_AUTO_TEST_CASE(a_failing_step_is_retried_and_earlier_steps_restored) {
  load(json::parse(R"([{"slug": "flaky", "steps": [
    {"id": "first", "task": "echo", "input": {"v": 1}},
    {"id": "second", "task": "fail-once", "input": {"v": "${steps.first.output.v}"}},
    {"id": "third", "task": "echo", "input": {"v": "${steps.second.output.v}"}}]}])"));
  auto id = queue_workflow("flaky");
  BOOST_TEST(run_until_empty() == 2);
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "completed");
  BOOST_TEST(j["taskStatus"]["echo"]["third"]["output"] == (json{{"v", 1}}));
  BOOST_TEST(runs_of("first") == 1);
  BOOST_TEST(runs_of("second") == 2);
  BOOST_TEST(runs_of("third") == 1);
  bool saw_failure = false;
  for (const auto& e : j["log"])
    if (e["state"] == "failed") {
      saw_failure = true;
      BOOST_TEST(e["error"]["message"] == "not yet (1)");
    }
  BOOST_TEST(saw_failure);
}

BOOST_AUTO_TEST_CASE(a_template_that_cannot_render_fails_the_job) {
  load(json::parse(R"([{"slug": "broken", "steps": [
    {"id": "1", "task": "echo", "input": {"p": "${input.path}"}}]}])"));
  auto id = queue_workflow("broken", json::object());
  run_until_empty();
  auto j = jobs->get(id);
  BOOST_TEST(j["status"] == "failed");
  BOOST_TEST(j["error"]["message"]
             == "step '1': template reference ${input.path} not found");
  BOOST_TEST(runs().empty());
}

BOOST_AUTO_TEST_CASE(a_command_task_job_sees_its_job_id_and_attempt) {
  load(json::array());
  json doc = {{"jobs",
               {{"tasks",
                 {{{"slug", "who"},
                   {"run",
                    {"sh", "-c",
                     "printf '{\"job\":\"%s\",\"task\":\"%s\",\"attempt\":%s}' "
                     "\"$CONVEYOR_JOB_ID\" "
                     "\"$CONVEYOR_TASK_ID\" \"$CONVEYOR_ATTEMPT\"; [ "
                     "\"$CONVEYOR_ATTEMPT\" -ge 3 ] || exit 1"}},
                   {"retries", 5}}}}}}};
  stop();
  auto cfg = parse_config(doc, dir.path());
  BOOST_REQUIRE(cfg);
  reg = *build_registry(*cfg);
  start();
  auto id = queue_task("who");
  BOOST_TEST(run_until_empty() == 3);
  auto out = jobs->get(id)["taskStatus"]["who"]["1"]["output"];
  BOOST_TEST(out["job"] == std::to_string(id));
  BOOST_TEST(out["task"] == "1");
  BOOST_TEST(out["attempt"] == 3);
}

BOOST_AUTO_TEST_CASE(cancelling_a_job_stops_its_running_command) {
  stop();
  json doc = {
    {"jobs", {{"tasks", {{{"slug", "slow"}, {"run", {"sleep", "30"}}}}}}}};
  auto cfg = parse_config(doc, dir.path());
  BOOST_REQUIRE(cfg);
  reg = *build_registry(*cfg);
  start();
  auto id = queue_task("slow");
  std::thread canceller{[&] {
    client other{sys, rt->supervisor()};
    testing::eventually([&] { return other.get(id)["status"] == "running"; });
    other.cancel_by_id(id);
  }};
  auto started = std::chrono::steady_clock::now();
  jobs->run();
  canceller.join();
  BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
  auto j = jobs->wait(id);
  BOOST_TEST(j["status"] == "cancelled");
}

BOOST_AUTO_TEST_CASE(runtime_options_come_from_the_config) {
  json doc = json::parse(
    R"({"jobs": {"queues": {"media": {"concurrency": 2, "processingOrder": "-createdAt"}},
    "processingOrder": "-createdAt", "deleteJobOnComplete": false},
    "node": {"data": "state", "durability": "async", "workers": 3}})");
  auto cfg = parse_config(doc, dir.path());
  BOOST_REQUIRE(cfg);
  auto opts = to_runtime_options(*cfg);
  BOOST_TEST(opts.data_dir == dir.sub("state"));
  BOOST_TEST((opts.durability == model::durability::async));
  BOOST_TEST(opts.workers == 3u);
  BOOST_TEST(!opts.delete_job_on_complete);
  BOOST_TEST(opts.processing_order == "-createdAt");
  BOOST_TEST(opts.queues.at("media").concurrency == 2);
  BOOST_TEST(opts.queues.at("media").processing_order == "-createdAt");
  BOOST_TEST(!opts.continuous);
}

BOOST_AUTO_TEST_CASE(schedules_and_priorities_come_from_the_config) {
  json doc = json::parse(R"({"jobs": {
    "queues": {"media": {}},
    "tasks": [
      {"slug": "tick", "run": ["true"], "priority": 7,
       "schedule": [{"cron": "*/5 * * * *", "queue": "media"},
                    {"cron": "0 0 * * * *", "queue": "default"}]},
      {"slug": "plain", "run": ["true"]}],
    "workflows": [
      {"slug": "nightly", "priority": -2, "queue": "media",
       "schedule": [{"cron": "0 3 * * *", "queue": "media"}],
       "steps": [{"id": "a", "task": "tick"}]}]}})");
  auto cfg = parse_config(doc, dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  auto built = build_registry(*cfg);
  BOOST_REQUIRE(built);
  const auto* tick = (*built)->find_task("tick");
  BOOST_REQUIRE(tick);
  BOOST_TEST(tick->priority == 7);
  BOOST_REQUIRE(tick->schedule.size() == 2u);
  BOOST_TEST(tick->schedule[0].cron == "*/5 * * * *");
  BOOST_TEST(tick->schedule[0].queue == "media");
  BOOST_TEST(!tick->schedule[0].before_schedule); // the default rules
  BOOST_TEST(!tick->schedule[0].after_schedule);
  BOOST_TEST(tick->schedule[1].cron == "0 0 * * * *");
  BOOST_TEST(tick->schedule[1].queue == "default");
  const auto* plain = (*built)->find_task("plain");
  BOOST_REQUIRE(plain);
  BOOST_TEST(plain->priority == 0);
  BOOST_TEST(plain->schedule.empty());
  const auto* nightly = (*built)->find_workflow("nightly");
  BOOST_REQUIRE(nightly);
  BOOST_TEST(nightly->priority == -2);
  BOOST_REQUIRE(nightly->schedule.size() == 1u);
  BOOST_TEST(nightly->schedule[0].cron == "0 3 * * *");
  BOOST_TEST(nightly->schedule[0].queue == "media");
}

BOOST_AUTO_TEST_CASE(a_config_schedule_queues_a_scheduled_job) {
  json doc = json::parse(R"({"jobs": {"tasks": [
    {"slug": "tick", "run": ["true"], "priority": 4,
     "schedule": [{"cron": "* * * * *", "queue": "default"}]}]}})");
  load_doc(doc);
  auto first = jobs->handle_schedules();
  BOOST_TEST_MESSAGE(first.dump());
  BOOST_REQUIRE(first["queued"].size() == 1u);
  BOOST_TEST(first["queued"][0]["task"] == "tick");
  BOOST_TEST(first["queued"][0]["queue"] == "default");
  BOOST_TEST(first["queued"][0]["cron"] == "* * * * *");
  BOOST_TEST(first["queued"][0].contains("waitUntil"));
  BOOST_TEST(first["skipped"].empty());
  BOOST_TEST(first["errored"].empty());
  auto job =
    jobs->get(std::stoull(first["queued"][0]["job"].get<std::string>()));
  BOOST_TEST(job["meta"]["scheduled"] == true);
  BOOST_TEST(job["priority"] == 4); // the task's default priority
  BOOST_TEST(job["waitUntil"] == first["queued"][0]["waitUntil"]);
  auto second = jobs->handle_schedules();
  BOOST_TEST(second["queued"].empty());
  BOOST_REQUIRE(second["skipped"].size() == 1u);
  BOOST_TEST(second["skipped"][0]["task"] == "tick");
}

BOOST_AUTO_TEST_CASE(auto_run_entries_come_from_the_config) {
  json doc = json::parse(R"({"jobs": {"queues": {"media": {}}, "autoRun": [
    {"cron": "*/5 * * * * *", "queue": "media", "limit": 3},
    {"allQueues": true, "silent": true, "disableScheduling": true}]}})");
  auto cfg = parse_config(doc, dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  auto opts = to_runtime_options(*cfg);
  BOOST_REQUIRE(opts.auto_run.size() == 2u);
  BOOST_TEST(opts.auto_run[0].cron == "*/5 * * * * *");
  BOOST_TEST(opts.auto_run[0].queue == "media");
  BOOST_TEST(opts.auto_run[0].limit == 3);
  BOOST_TEST(!opts.auto_run[0].all_queues);
  BOOST_TEST(!opts.auto_run[0].disable_scheduling);
  BOOST_TEST(!opts.auto_run[0].silent);
  BOOST_TEST(opts.auto_run[1].cron == "* * * * *");
  BOOST_TEST(opts.auto_run[1].queue == "default");
  BOOST_TEST(opts.auto_run[1].limit == 10);
  BOOST_TEST(opts.auto_run[1].all_queues);
  BOOST_TEST(opts.auto_run[1].disable_scheduling);
  BOOST_TEST(opts.auto_run[1].silent);
  BOOST_TEST(!opts.should_auto_run); // the caller's choice
  BOOST_TEST(!opts.log);
  // No autoRun key: none.
  auto bare = parse_config(json::object(), dir.path());
  BOOST_REQUIRE(bare);
  BOOST_TEST(to_runtime_options(*bare).auto_run.empty());
  BOOST_TEST(to_runtime_options(*bare).max_interruptions == 3);
}

BOOST_AUTO_TEST_CASE(max_interruptions_comes_from_the_config) {
  auto cfg = parse_config(json::parse(R"({"jobs": {"maxInterruptions": 7}})"),
                          dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(to_runtime_options(*cfg).max_interruptions == 7);
}

BOOST_AUTO_TEST_CASE(access_rules_come_from_the_config) {
  json doc = json::parse(R"({"jobs": {"queues": {"media": {}},
    "access": {"queue": [{"roles": ["editor"], "queues": ["media"]}], "cancel": []}}})");
  auto cfg = parse_config(doc, dir.path());
  BOOST_REQUIRE(cfg);
  auto opts = to_runtime_options(*cfg);
  request_context editor;
  editor.principal = "ed";
  editor.roles = {"editor"};
  request_context anonymous;
  access_target media;
  media.queue = "media";
  access_target other;
  other.queue = "default";
  access_target by_id; // queue not known yet
  BOOST_TEST(opts.access.queue(editor, media));
  BOOST_TEST(!opts.access.queue(editor, other));
  BOOST_TEST(opts.access.queue(editor, by_id));
  BOOST_TEST(!opts.access.queue(anonymous, media));
  BOOST_TEST(opts.access.run(editor, other)); // no rules: any principal
  BOOST_TEST(!opts.access.run(anonymous, other));
  BOOST_TEST(!opts.access.cancel(editor, media)); // empty list: nobody
  BOOST_TEST(!opts.access.cancel(editor, by_id));
}

BOOST_AUTO_TEST_CASE(the_shipped_config_loads_and_its_workflow_runs) {
  auto cfg = load_config(CONVEYOR_SOURCE_DIR "/config/conveyor.json");
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->tasks.size() >= 3u);
  BOOST_TEST(cfg->workflows.size() >= 1u);
  BOOST_TEST(cfg->node.listen == "127.0.0.1:4242");
  BOOST_TEST((cfg->node.durability == model::durability::sync));
  BOOST_TEST(cfg->queues.at("default").concurrency == 8);
  auto built = build_registry(*cfg);
  BOOST_REQUIRE(built);
  // hello every minute on the default queue; an autoRun tick every second.
  const auto* hello_def = (*built)->find_task("hello");
  BOOST_REQUIRE(hello_def);
  BOOST_REQUIRE(hello_def->schedule.size() == 1u);
  BOOST_TEST(hello_def->schedule[0].cron == "* * * * *");
  BOOST_TEST(hello_def->schedule[0].queue == "default");
  auto shipped = to_runtime_options(*cfg);
  BOOST_REQUIRE(shipped.auto_run.size() == 1u);
  BOOST_TEST(shipped.auto_run[0].cron == "* * * * * *");
  BOOST_TEST(shipped.auto_run[0].all_queues);
  reg = *built;
  start();
  // The README's example input.
  auto id = queue_workflow("text-report",
                           {{"name", "Ada"}, {"text", "the quick brown fox"}});
  auto hello = queue_task("hello", {{"name", "Grace"}});
  auto flaky = queue_task("flaky");
  run_request all;
  all.all_queues = true;
  run_until_empty(all);
  auto j = jobs->get(id);
  BOOST_TEST_MESSAGE(j.dump(2));
  BOOST_REQUIRE(j["status"] == "completed");
  const auto& st = j["taskStatus"];
  BOOST_TEST(st["hello"]["greet"]["output"]["greeting"] == "Hello, Ada!");
  BOOST_TEST(st["wordcount"]["count"]["output"]["words"] == 4);
  // sha256("Hello, Ada!")
  BOOST_TEST(
    st["checksum"]["sign"]["output"]["sha256"]
    == "fc80a614993089e736b5321633d88401ea4fecdeddecaff5cf05d619bd941a90");
  BOOST_TEST(jobs->get(hello)["taskStatus"]["hello"]["1"]["output"]["greeting"]
             == "Hello, Grace!");
  auto f = jobs->get(flaky);
  BOOST_TEST(f["status"] == "completed");
  BOOST_TEST(f["totalTried"] == 2); // failed once, then succeeded
}

BOOST_AUTO_TEST_CASE(config_limits_reach_the_runtime_options) {
  json doc = {{"limits", {{"maxPageSize", 50}, {"maxWhereDepth", 4}}}};
  auto cfg = parse_config(doc, ".");
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  auto opts = to_runtime_options(*cfg);
  BOOST_TEST(opts.limits.max_page_size == 50u);
  BOOST_TEST(opts.limits.max_where_depth == 4u);
  BOOST_TEST(opts.limits.max_input_bytes == model::limits{}.max_input_bytes);
}

BOOST_AUTO_TEST_SUITE_END()
