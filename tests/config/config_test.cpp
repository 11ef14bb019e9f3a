// Loading and validating the config file: defaults, path resolution, and
// every problem reported at once with its JSON path.

#include <boost/test/unit_test.hpp>

#include "config_helpers.hpp"

using namespace conveyor;
using namespace conveyor::cfg;
using namespace conveyor::testing;

namespace config_test {

/// The issue's example, with the upload task it refers to.
json issue_example() {
  return json::parse(R"({
    "jobs": {
      "tasks": [
        { "slug": "resize", "run": ["./resize.sh", "--fast"],
          "retries": { "attempts": 2, "backoff": { "type": "exponential", "delay": 100 } },
          "timeout": 30000, "inputSchema": { } },
        { "slug": "upload", "run": ["./upload.sh"] } ],
      "workflows": [ { "slug": "publish", "queue": "default", "retries": 1,
        "steps": [ { "id": "1", "task": "resize", "input": { "path": "${input.path}" } },
                   { "id": "2", "task": "upload", "input": { "file": "${steps.1.output.file}" } } ] } ],
      "queues": { "default": { "concurrency": 8 } },
      "deleteJobOnComplete": true,
      "access": { } },
    "node": { "listen": "127.0.0.1:4242", "data": "./conveyor-data", "durability": "sync" } })");
}

} // namespace config_test

BOOST_AUTO_TEST_SUITE(config_loading)
using namespace config_test;

BOOST_AUTO_TEST_CASE(an_empty_document_gets_every_default) {
  folder f;
  auto cfg = parse_config(json::object(), f.dir.path());
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->tasks.empty());
  BOOST_TEST(cfg->workflows.empty());
  BOOST_TEST(cfg->queues.empty());
  BOOST_TEST(cfg->processing_order == "createdAt");
  BOOST_TEST(cfg->delete_job_on_complete);
  BOOST_TEST(cfg->access.tokens.empty());
  BOOST_TEST(cfg->access.rules.empty());
  BOOST_TEST(cfg->auto_run.empty());
  BOOST_TEST(cfg->node.listen == "127.0.0.1:4242");
  BOOST_TEST(cfg->node.data == f.dir.sub("conveyor-data"));
  BOOST_TEST((cfg->node.durability == model::durability::sync));
  BOOST_TEST(cfg->node.workers == 8u);
  BOOST_TEST(cfg->node.tls_certificate.empty());
}

BOOST_AUTO_TEST_CASE(the_issue_example_loads_with_paths_resolved) {
  folder f;
  f.script("resize.sh");
  f.script("upload.sh");
  auto cfg = parse_config(issue_example(), f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_REQUIRE(cfg->tasks.size() == 2u);
  const auto& resize = cfg->tasks[0];
  BOOST_TEST(resize.command.argv
             == (std::vector<std::string>{f.dir.sub("resize.sh"), "--fast"}));
  BOOST_TEST(resize.command.timeout.count() == 30000);
  BOOST_REQUIRE(resize.retries);
  BOOST_TEST(*resize.retries->attempts == 2);
  BOOST_TEST(
    (resize.retries->backoff->type == model::backoff_type::exponential));
  BOOST_TEST(*resize.retries->backoff->delay == 100);
  BOOST_TEST(resize.input_schema == json::object());
  BOOST_TEST(resize.output_schema.is_null());
  BOOST_TEST(cfg->tasks[1].command.timeout.count() == 0);
  BOOST_REQUIRE(cfg->workflows.size() == 1u);
  const auto& wf = cfg->workflows[0];
  BOOST_TEST(*wf.queue == "default");
  BOOST_TEST(*wf.retries->attempts == 1);
  BOOST_REQUIRE(wf.spec.steps.size() == 2u);
  BOOST_TEST(wf.spec.steps[1].task == "upload");
  BOOST_TEST(wf.spec.steps[1].input["file"] == "${steps.1.output.file}");
  BOOST_TEST(cfg->queues.at("default").concurrency == 8);
  BOOST_TEST(cfg->node.data == f.dir.sub("conveyor-data"));
}

BOOST_AUTO_TEST_CASE(program_paths_resolve_against_the_config_folder) {
  folder f;
  f.script("bin/tool.sh");
  json doc = {
    {"jobs",
     {{"tasks",
       json::array({{{"slug", "a"}, {"run", {"bin/../bin/tool.sh", "x"}}},
                    {{"slug", "b"}, {"run", {"echo", "./not-a-program-path"}}},
                    {{"slug", "c"}, {"run", {f.dir.sub("bin/tool.sh")}}}})}}},
    {"node", {{"data", "state/db"}}}};
  auto cfg = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->tasks[0].command.argv[0] == f.dir.sub("bin/tool.sh"));
  BOOST_TEST(cfg->tasks[0].command.argv[1] == "x");
  BOOST_TEST(cfg->tasks[1].command.argv[0] == "echo"); // PATH lookup at exec
  BOOST_TEST(cfg->tasks[1].command.argv[1] == "./not-a-program-path");
  BOOST_TEST(cfg->tasks[2].command.argv[0] == f.dir.sub("bin/tool.sh"));
  BOOST_TEST(cfg->node.data == f.dir.sub("state/db"));
}

BOOST_AUTO_TEST_CASE(load_config_resolves_against_the_file_folder) {
  folder f;
  f.script("conf/run.sh");
  std::ofstream{f.dir.sub("conf/c.json")}
    << R"({"jobs": {"tasks": [{"slug": "t", "run": ["./run.sh"]}]}})";
  auto cfg = load_config(f.dir.sub("conf/c.json"));
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->tasks[0].command.argv[0] == f.dir.sub("conf/run.sh"));
  BOOST_TEST(cfg->base_dir == f.dir.sub("conf"));
  BOOST_TEST(cfg->node.data == f.dir.sub("conf/conveyor-data"));
}

BOOST_AUTO_TEST_CASE(load_config_reports_unreadable_and_malformed_files) {
  folder f;
  auto missing = load_config(f.dir.sub("nope.json"));
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().message
             == f.dir.sub("nope.json") + ": no such config file");
  std::ofstream{f.dir.sub("bad.json")} << R"({"jobs": )";
  auto bad = load_config(f.dir.sub("bad.json"));
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.error().code == model::errc::invalid_input);
  BOOST_TEST(bad.error().message.starts_with(f.dir.sub("bad.json") + ": "));
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_with_its_path) {
  folder f;
  f.script("resize.sh");
  auto doc = issue_example();
  auto& jobs = doc["jobs"];
  jobs["tasks"][0]["retries"]["backoff"]["type"] = "linear";
  jobs["tasks"][0]["schedule"] =
    json::array({{{"cron", "61 * * * *"}, {"queue", "default"}},
                 {{"cron", "* * * * *"}, {"queue", "nope"}}});
  jobs["tasks"][0]["concurrency"] = {{"key", 5}};
  jobs["tasks"][1] = {{"slug", "inline"}, {"run", {"true"}}, {"colour", "red"}};
  jobs["workflows"].push_back(
    {{"slug", "resize"},
     {"steps",
      json::array({{{"id", "a"},
                    {"task", "resize"},
                    {"input", {{"x", "${steps.b.output.y}"}}}},
                   {{"id", "b"}, {"task", "resize"}},
                   {{"id", "b"},
                    {"task", "resize"},
                    {"condition", {{"exists", "${steps.zz.output}"}}}}})}});
  jobs["bogus"] = 1;
  doc["node"]["durability"] = "fast";
  doc["node"]["listen"] = "0.0.0.0:4242";
  auto ls = problems(doc, f.dir.path());
  const std::vector<std::string> expected = {
    "jobs.bogus: unknown key",
    "jobs.tasks[0].retries.backoff.type: expected \"fixed\" or \"exponential\"",
    "jobs.tasks[0].schedule[0].cron: cron '61 * * * *': minute field",
    "jobs.tasks[0].schedule[1].queue: unknown queue 'nope'",
    "jobs.tasks[0].concurrency.key: expected string, got number",
    "jobs.tasks[1].colour: unknown key",
    "jobs.tasks[1].slug: 'inline' is reserved for inline tasks",
    "jobs.workflows[0].steps[1].task: unknown task 'upload'",
    "jobs.workflows[1].slug: 'resize' is already used by jobs.tasks[0].slug",
    "jobs.workflows[1].steps[2].id: duplicate step id 'b' (also "
    "jobs.workflows[1].steps[1])",
    "jobs.workflows[1].steps[0].input.x: ${steps.b.output.y} refers to step "
    "'b', "
    "which is not an earlier step",
    "jobs.workflows[1].steps[2].condition: ${steps.zz.output} refers to "
    "unknown step 'zz'",
    "node.durability: expected \"sync\" or \"async\", got \"fast\"",
    "node.listen: '0.0.0.0:4242' is not a loopback address, so mutual TLS is "
    "required",
  };
  for (const auto& e : expected)
    BOOST_TEST(has_line(ls, e), "missing: " << e);
  BOOST_TEST(ls.size() == expected.size());
  for (const auto& l : ls)
    BOOST_TEST_MESSAGE(l);
}

// The issue's "bad input" list, one at a time.
BOOST_AUTO_TEST_CASE(invalid_cron_unknown_queue_and_non_string_key) {
  folder f;
  auto task = [](json extra) {
    json t = {{"slug", "t"}, {"run", {"true"}}};
    t.update(extra);
    return json{
      {"jobs", {{"tasks", {t}}, {"queues", {{"media", json::object()}}}}}};
  };
  BOOST_TEST(
    problems(task({{"schedule", {{{"cron", "* * *"}, {"queue", "media"}}}}}),
             f.dir.path())
    == std::vector<std::string>{"jobs.tasks[0].schedule[0].cron: cron '* * *': "
                                "expected 5 or 6 fields, got 3"});
  BOOST_TEST(
    problems(task({{"schedule", {{{"cron", "@hourly"}, {"queue", "medai"}}}}}),
             f.dir.path())
    == std::vector<std::string>{
      "jobs.tasks[0].schedule[0].queue: unknown queue 'medai' (list it "
      "in jobs.queues, or use \"default\")"});
  BOOST_TEST(
    problems(task({{"concurrency", 42}}), f.dir.path())
    == std::vector<std::string>{
      "jobs.tasks[0].concurrency: expected a key template string or an "
      "object {key, exclusive, supersedes}, got number"});
  BOOST_TEST(problems(task({{"concurrency", {{"key", true}}}}), f.dir.path())
             == std::vector<std::string>{
               "jobs.tasks[0].concurrency.key: expected string, got boolean"});
  BOOST_TEST(
    problems(task({{"concurrency", "${job.id}"}}), f.dir.path())
    == std::vector<std::string>{
      "jobs.tasks[0].concurrency: ${job.id}: a concurrency key can use "
      "${input...} and ${queue}"});
}

// Schedules and autoRun together: each problem is named by its path, on a
// task, a workflow and the autoRun list alike.
BOOST_AUTO_TEST_CASE(schedule_and_auto_run_problems_name_their_path) {
  folder f;
  json doc = json::parse(R"({"jobs": {
    "queues": {"media": {}},
    "tasks": [{"slug": "t", "run": ["true"],
               "schedule": [{"cron": "* * * * * * *", "queue": "media"},
                            {"cron": "0 * * * *", "queue": "nosuch"}]}],
    "workflows": [{"slug": "w", "steps": [{"id": "a", "task": "t"}],
                   "schedule": [{"cron": "0 25 * * *", "queue": "default"}]}],
    "autoRun": [{"cron": "*/5 * * * * *", "queue": "media"},
                {"cron": "soon", "allQueues": true}]}})");
  auto ls = problems(doc, f.dir.path());
  const std::vector<std::string> expected = {
    "jobs.tasks[0].schedule[0].cron: cron '* * * * * * *'",
    "jobs.tasks[0].schedule[1].queue: unknown queue 'nosuch'",
    "jobs.workflows[0].schedule[0].cron: cron '0 25 * * *'",
    "jobs.autoRun[1].cron: cron 'soon'",
  };
  for (const auto& e : expected)
    BOOST_TEST(has_line(ls, e), "missing: " << e);
  BOOST_TEST(ls.size() == expected.size());
  for (const auto& l : ls)
    BOOST_TEST_MESSAGE(l);
}

BOOST_AUTO_TEST_CASE(task_shape_problems) {
  folder f;
  f.file("plain.txt");
  json doc = {
    {"jobs",
     {{"tasks",
       json::array({{{"slug", "no-run"}},
                    {{"slug", "empty-run"}, {"run", json::array()}},
                    {{"slug", "bad-arg"}, {"run", {"echo", 1}}},
                    {{"slug", "missing"}, {"run", {"./missing.sh"}}},
                    {{"slug", "not-exec"}, {"run", {"./plain.txt"}}},
                    {{"slug", "bad slug!"}, {"run", {"true"}}, {"timeout", -1}},
                    {{"slug", "schema"},
                     {"run", {"true"}},
                     {"inputSchema", {{"type", "strin"}}},
                     {"outputSchema", 3},
                     {"priority", 1.5}},
                    {{"run", {"true"}}}})}}}};
  auto ls = problems(doc, f.dir.path());
  const std::vector<std::string> expected = {
    "jobs.tasks[0].run: missing (required)",
    "jobs.tasks[1].run: expected a non-empty array of strings",
    "jobs.tasks[2].run[1]: expected string, got number",
    "jobs.tasks[3].run[0]: '" + f.dir.sub("missing.sh") + "' does not exist",
    "jobs.tasks[4].run[0]: '" + f.dir.sub("plain.txt") + "' is not executable",
    "jobs.tasks[5].slug: slug may contain only letters, digits and - _ . :",
    "jobs.tasks[5].timeout: expected an integer from 0 to 604800000, got -1",
    "jobs.tasks[6].inputSchema.type: unknown type 'strin'",
    "jobs.tasks[6].outputSchema: expected a schema object",
    "jobs.tasks[6].priority: expected an integer",
    "jobs.tasks[7].slug: missing (required)",
  };
  for (const auto& e : expected)
    BOOST_TEST(has_line(ls, e), "missing: " << e);
  BOOST_TEST(ls.size() == expected.size());
}

BOOST_AUTO_TEST_CASE(step_shape_problems) {
  folder f;
  json doc = {
    {"jobs",
     {{"tasks", {{{"slug", "t"}, {"run", {"true"}}}}},
      {"workflows",
       json::array(
         {{{"slug", "w0"}},
          {{"slug", "w1"},
           {"queue", "elsewhere"},
           {"steps",
            json::array(
              {{{"id", "a b"}, {"task", "t"}, {"input", "literal"}},
               {{"id", "ok"},
                {"task", "w0"},
                {"input", {{"x", "${nope.x}"}, {"y", "${input.a"}}},
                {"condition", {{"path", "${input.a}"}}},
                {"completesJob", "yes"}},
               {{"id", "j"},
                {"task", "t"},
                {"input", "${job.token}"},
                {"condition",
                 {{"exists", "${input.a} and more"}, {"equals", 1}}}}})}}})}}}};
  auto ls = problems(doc, f.dir.path());
  const std::vector<std::string> expected = {
    "jobs.workflows[0].steps: missing (required)",
    "jobs.workflows[1].queue: unknown queue 'elsewhere'",
    "jobs.workflows[1].steps[0].id: a step id has 1 to 64 letters, digits, - "
    "or _",
    "jobs.workflows[1].steps[0].input: expected an object or a single "
    "\"${...}\" reference",
    "jobs.workflows[1].steps[1].task: 'w0' is a workflow; steps run tasks",
    "jobs.workflows[1].steps[1].condition: \"path\" needs exactly one of "
    "\"equals\" or \"notEquals\"",
    "jobs.workflows[1].steps[1].completesJob: expected boolean, got string",
    "jobs.workflows[1].steps[1].input.y: unterminated '${' in \"${input.a\"",
    "jobs.workflows[1].steps[1].input.x: ${nope.x}: unknown reference root "
    "'nope'",
    "jobs.workflows[1].steps[2].condition: \"exists\" cannot be combined",
    "jobs.workflows[1].steps[2].condition.exists: expected exactly one "
    "\"${...}\" reference",
    "jobs.workflows[1].steps[2].input: ${job.token}: a job reference is "
    "${job.id} or ${job.queue}",
  };
  for (const auto& e : expected)
    BOOST_TEST(has_line(ls, e), "missing: " << e);
  BOOST_TEST(ls.size() == expected.size());
  for (const auto& l : ls)
    BOOST_TEST_MESSAGE(l);
}

BOOST_AUTO_TEST_CASE(queues_processing_order_and_auto_run) {
  folder f;
  json doc = {
    {"jobs",
     {{"queues",
       {{"default", {{"concurrency", 8}}},
        {"media", {{"processingOrder", "-createdAt"}}}}},
      {"processingOrder",
       {{"default", "-createdAt"}, {"queues", {{"default", "createdAt"}}}}},
      {"deleteJobOnComplete", false},
      {"maxInterruptions", 0},
      {"autoRun",
       {{{"cron", "*/5 * * * * *"}, {"queue", "media"}, {"limit", 3}},
        {{"allQueues", true},
         {"silent", true},
         {"disableScheduling", true}}}}}}};
  auto cfg = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->processing_order == "-createdAt");
  BOOST_TEST(cfg->queues.at("default").concurrency == 8);
  BOOST_TEST(cfg->queues.at("default").processing_order == "createdAt");
  BOOST_TEST(cfg->queues.at("media").concurrency == 16);
  BOOST_TEST(cfg->queues.at("media").processing_order == "-createdAt");
  BOOST_TEST(!cfg->delete_job_on_complete);
  BOOST_TEST(cfg->max_interruptions == 0);
  BOOST_REQUIRE(cfg->auto_run.size() == 2u);
  BOOST_TEST(cfg->auto_run[0].cron == "*/5 * * * * *");
  BOOST_TEST(cfg->auto_run[0].queue == "media");
  BOOST_TEST(cfg->auto_run[0].limit == 3);
  BOOST_TEST(!cfg->auto_run[0].all_queues);
  BOOST_TEST(cfg->auto_run[1].cron == "* * * * *");
  BOOST_TEST(cfg->auto_run[1].queue == "default");
  BOOST_TEST(cfg->auto_run[1].limit == 10);
  BOOST_TEST(cfg->auto_run[1].all_queues);
  BOOST_TEST(cfg->auto_run[1].silent);
  BOOST_TEST(cfg->auto_run[1].disable_scheduling);

  json bad = {
    {"jobs",
     {{"queues", {{"q", {{"concurrency", 0}, {"processingOrder", "id"}}}}},
      {"processingOrder", "newest"},
      {"deleteJobOnComplete", "yes"},
      {"maxInterruptions", -1},
      {"autoRun",
       {{{"cron", "every minute"}, {"limit", 0}, {"queue", "r"}}}}}}};
  auto ls = problems(bad, f.dir.path());
  const std::vector<std::string> expected = {
    "jobs.queues.q.concurrency: expected an integer from 1 to 100000, got 0",
    "jobs.queues.q.processingOrder: expected \"createdAt\" or \"-createdAt\", "
    "got \"id\"",
    "jobs.processingOrder: expected \"createdAt\" or \"-createdAt\", got "
    "\"newest\"",
    "jobs.deleteJobOnComplete: expected boolean, got string",
    "jobs.maxInterruptions: expected an integer from 0 to 1000000, got -1",
    "jobs.autoRun[0].cron: cron 'every minute'",
    "jobs.autoRun[0].limit: expected an integer from 1 to 100000, got 0",
    "jobs.autoRun[0].queue: unknown queue 'r'",
  };
  for (const auto& e : expected)
    BOOST_TEST(has_line(ls, e), "missing: " << e);
  BOOST_TEST(ls.size() == expected.size());
}

BOOST_AUTO_TEST_CASE(listening_beyond_loopback_needs_mutual_tls) {
  folder f;
  f.file("cert.pem");
  f.file("key.pem");
  f.file("ca.pem");
  auto node = [](json n) { return json{{"node", n}}; };
  for (auto listen :
       {"127.0.0.1:4242", "127.8.9.10:1", "localhost:80", "[::1]:4242"})
    BOOST_TEST(
      parse_config(node({{"listen", listen}}), f.dir.path()).has_value(),
      listen);
  json tls = {{"certificate", "cert.pem"},
              {"key", "./key.pem"},
              {"ca", f.dir.sub("ca.pem")}};
  auto cfg = parse_config(node({{"listen", "0.0.0.0:4242"},
                                {"tls", tls},
                                {"workers", 2},
                                {"durability", "async"}}),
                          f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->node.tls_certificate == f.dir.sub("cert.pem"));
  BOOST_TEST(cfg->node.tls_key == f.dir.sub("key.pem"));
  BOOST_TEST(cfg->node.tls_ca == f.dir.sub("ca.pem"));
  BOOST_TEST(cfg->node.workers == 2u);
  BOOST_TEST((cfg->node.durability == model::durability::async));

  BOOST_TEST(
    problems(node({{"listen", "[::]:4242"}}), f.dir.path())
    == std::vector<std::string>{
      "node.listen: '[::]:4242' is not a loopback address, so mutual TLS is "
      "required: set node.tls.certificate, node.tls.key and node.tls.ca"});
  auto ls =
    problems(node({{"listen", "10.0.0.1:4242"},
                   {"tls", {{"certificate", "cert.pem"}, {"ca", "gone.pem"}}}}),
             f.dir.path());
  BOOST_TEST(
    ls
      == (std::vector<std::string>{
        "node.tls.ca: file '" + f.dir.sub("gone.pem") + "' does not exist",
        "node.tls: certificate, key and ca must be set together (missing: key)",
        "node.listen: '10.0.0.1:4242' is not a loopback address, so mutual "
        "TLS is required: set node.tls.certificate, node.tls.key and "
        "node.tls.ca"}),
    boost::test_tools::per_element());
  for (auto listen : {"4242", "host:", ":80", "::1:80", "h:99999", "h:port"})
    BOOST_TEST(has_line(problems(node({{"listen", listen}}), f.dir.path()),
                        "node.listen: expected host:port"),
               listen);
  BOOST_TEST(
    has_line(problems(node({{"workers", 0}, {"data", ""}}), f.dir.path()),
             "node.workers: expected an integer from 1 to 1024, got 0"));
  BOOST_TEST(has_line(problems(node({{"data", ""}}), f.dir.path()),
                      "node.data: must not be empty"));
}

BOOST_AUTO_TEST_CASE(the_document_itself_must_be_an_object) {
  folder f;
  BOOST_TEST(problems(json::array(), f.dir.path())
             == std::vector<std::string>{"config: expected object, got array"});
  BOOST_TEST(
    problems(json{{"jobs", {{"tasks", {{"slug", "x"}}}}}}, f.dir.path())
    == std::vector<std::string>{"jobs.tasks: expected array, got object"});
}

BOOST_AUTO_TEST_SUITE_END()
