// Config sections beyond tasks and workflows: access rules and tokens,
// concurrency keys.

#include "config_helpers.hpp"

using namespace conveyor;
using namespace conveyor::cfg;
using namespace conveyor::testing;

BOOST_AUTO_TEST_SUITE(config_sections)

BOOST_AUTO_TEST_CASE(access_tokens_and_rules) {
  folder f;
  json doc = {{"jobs",
               {{"queues", {{"media", json::object()}}},
                {"access",
                 {{"tokens",
                   {{"0123456789abcdef-ci",
                     {{"principal", "ci"}, {"roles", {"deployer"}}}},
                    {"0123456789abcdef-ops",
                     {{"principal", "ops"}, {"roles", {"admin"}}}}}},
                  {"queue",
                   {{{"roles", {"deployer"}}, {"queues", {"media"}}},
                    {{"roles", {"admin"}}}}},
                  {"cancel", {{{"roles", {"admin"}}, {"queues", {"*"}}}}},
                  {"read", {{{"roles", {"*"}}}}},
                  {"run", json::array()}}}}}};
  auto cfg = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  const auto& access = cfg->access;
  const auto* ci = access.authenticate("0123456789abcdef-ci");
  BOOST_REQUIRE(ci);
  BOOST_TEST(ci->principal == "ci");
  BOOST_TEST(!access.authenticate("0123456789abcdef-c"));
  BOOST_TEST(!access.authenticate(""));
  std::vector<std::string> deployer{"deployer"}, admin{"admin"}, nobody;
  BOOST_TEST(access.allows(operation::queue, deployer, "media"));
  BOOST_TEST(!access.allows(operation::queue, deployer, "default"));
  BOOST_TEST(!access.allows(operation::queue, deployer, "*"));
  BOOST_TEST(access.allows(operation::queue, admin, "default"));
  BOOST_TEST(access.allows(operation::queue, admin, "*"));
  BOOST_TEST(!access.allows(operation::cancel, deployer, "media"));
  BOOST_TEST(access.allows(operation::read, nobody, "media"));
  BOOST_TEST(!access.allows(operation::run, admin, "default")); // empty list
  // An empty access object: any authenticated principal may do anything.
  auto open =
    parse_config(json{{"jobs", {{"access", json::object()}}}}, f.dir.path());
  BOOST_REQUIRE(open);
  for (auto op :
       {operation::queue, operation::run, operation::cancel, operation::read})
    BOOST_TEST(open->access.allows(op, nobody, "any"));

  json bad = {{"jobs",
               {{"access",
                 {{"tokens",
                   {{"short-secret", {{"principal", "x"}}},
                    {"0123456789abcdef-x", {{"roles", "admin"}}}}},
                  {"queue", {{{"queues", {"nope"}}}}},
                  {"delete", json::array()}}}}}};
  auto ls = problems(bad, f.dir.path());
  const std::vector<std::string> expected = {
    "jobs.access.delete: unknown key",
    "jobs.access.tokens[token #0].principal: missing (required)",
    "jobs.access.tokens[token #0].roles: expected array of strings, got string",
    "jobs.access.tokens[token of 'x']: a token must have at least 16 "
    "characters",
    "jobs.access.queue[0].roles: missing (required)",
    "jobs.access.queue[0].queues[0]: unknown queue 'nope'",
  };
  for (const auto& e : expected)
    BOOST_TEST(has_line(ls, e), "missing: " << e);
  BOOST_TEST(ls.size() == expected.size());
  for (const auto& l : ls) // tokens are secrets: never in a message
    BOOST_TEST(l.find("short-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(concurrency_keys_render_from_input_and_queue) {
  folder f;
  json doc = {
    {"jobs",
     {{"tasks",
       json::array(
         {{{"slug", "a"},
           {"run", {"true"}},
           {"concurrency", "post-${input.id}"}},
          {{"slug", "b"},
           {"run", {"true"}},
           {"concurrency",
            {{"key", "${queue}:${input.id}"}, {"supersedes", true}}}},
          {{"slug", "c"},
           {"run", {"true"}},
           {"concurrency", {{"key", "${input.id}"}, {"exclusive", false}}},
           {"priority", -3},
           {"label", "C"}}})}}}};
  auto cfg = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  const auto& a = *cfg->tasks[0].concurrency;
  BOOST_TEST(a.exclusive);
  BOOST_TEST(!a.supersedes);
  BOOST_TEST(*render_concurrency_key(a, json{{"id", 7}}, "default")
             == "post-7");
  const auto& b = *cfg->tasks[1].concurrency;
  BOOST_TEST(b.supersedes);
  BOOST_TEST(*render_concurrency_key(b, json{{"id", "x"}}, "media")
             == "media:x");
  const auto& c = *cfg->tasks[2].concurrency;
  BOOST_TEST(!c.exclusive);
  BOOST_TEST(*render_concurrency_key(c, json{{"id", 12}}, "q") == "12");
  BOOST_TEST(cfg->tasks[2].priority == -3);
  BOOST_TEST(cfg->tasks[2].label == "C");
  auto missing = render_concurrency_key(c, json::object(), "q");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().message
             == "template reference ${input.id} not found");
}

BOOST_AUTO_TEST_CASE(limits_are_read_and_reach_the_runtime) {
  folder f;
  json doc = {
    {"jobs", {{"tasks", {{{"slug", "t"}, {"run", {f.script("t.sh")}}}}}}},
    {"limits",
     {{"maxInputBytes", 4096},
      {"maxOutputBytes", 2048},
      {"maxJsonDepth", 8},
      {"maxWhereDepth", 4},
      {"maxPageSize", 50},
      {"maxIdempotencyKeyBytes", 32}}}};
  auto cfg = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->limits.max_input_bytes == 4096u);
  BOOST_TEST(cfg->limits.max_json_depth == 8u);
  BOOST_TEST(cfg->limits.max_meta_bytes == model::limits{}.max_meta_bytes);
  // Command tasks stop reading stdout at the output limit.
  BOOST_TEST(cfg->tasks[0].command.max_output == 2048u);
  BOOST_TEST(cfg->limits.max_page_size == 50u);
  BOOST_TEST(cfg->limits.max_where_depth == 4u);
}

BOOST_AUTO_TEST_CASE(limits_out_of_range_are_config_errors_with_paths) {
  folder f;
  json doc = {{"limits",
               {{"maxJsonDepth", 65},
                {"maxPageSize", "many"},
                {"maxInputBytes", 0},
                {"maxBogus", 1}}}};
  auto ps = problems(doc, f.dir.path());
  BOOST_TEST(has_line(
    ps, "limits.maxJsonDepth: expected an integer from 1 to 64, got 65"));
  BOOST_TEST(
    has_line(ps, "limits.maxPageSize: expected an integer from 1 to 1000000"));
  BOOST_TEST(has_line(
    ps, "limits.maxInputBytes: expected an integer from 2 to 16777216"));
  BOOST_TEST(has_line(ps, "limits.maxBogus: unknown key"));
  BOOST_TEST(has_line(problems({{"limits", 5}}, f.dir.path()),
                      "limits: expected object, got number"));
}

BOOST_AUTO_TEST_CASE(node_secret_env_is_never_passed_and_never_listed) {
  folder f;
  json task = {{"slug", "t"},
               {"run", {f.script("t.sh")}},
               {"env", {"PATH", "DEPLOY_KEY"}}};
  json doc = {
    {"jobs", {{"tasks", {task}}}},
    {"node",
     {{"secretEnv", {"AWS_SECRET_ACCESS_KEY"}}, {"maxPendingEnqueues", 500}}}};
  auto cfg = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  // Every command carries the list, so the runner drops the names too.
  BOOST_TEST(cfg->tasks[0].command.secret_env
             == std::vector<std::string>{"AWS_SECRET_ACCESS_KEY"});
  BOOST_TEST(cfg->node.max_pending_enqueues == 500u);
  // A task that lists a secret, by name or with a value, is refused.
  doc["node"]["secretEnv"] = {"DEPLOY_KEY", "bad name"};
  auto ps = problems(doc, f.dir.path());
  BOOST_TEST(has_line(ps,
                      "node.secretEnv: 'DEPLOY_KEY' is listed in the env of "
                      "task 't'; a secret is never passed to a command"));
  BOOST_TEST(has_line(ps, "node.secretEnv[1]: expected a variable name"));
  doc["jobs"]["tasks"][0]["env"] = {"DEPLOY_KEY=literal"};
  doc["node"]["secretEnv"] = {"DEPLOY_KEY"};
  BOOST_TEST(has_line(problems(doc, f.dir.path()),
                      "node.secretEnv: 'DEPLOY_KEY' is listed"));
  doc["node"] = {{"maxPendingEnqueues", 0}};
  BOOST_TEST(has_line(problems(doc, f.dir.path()),
                      "node.maxPendingEnqueues: expected an integer from 1"));
}

BOOST_AUTO_TEST_CASE(node_stop_grace_is_bounded) {
  folder f;
  auto cfg =
    parse_config(json{{"node", {{"stopGraceMs", 2500}}}}, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->node.stop_grace_ms == 2500);
  auto defaults = parse_config(json::object(), f.dir.path());
  BOOST_REQUIRE(defaults);
  BOOST_TEST(defaults->node.stop_grace_ms == 30'000);
  for (const json& bad : {json(-1), json(86'400'001), json("30s"), json(1.5)})
    BOOST_TEST(
      has_line(problems(json{{"node", {{"stopGraceMs", bad}}}}, f.dir.path()),
               "node.stopGraceMs: expected an integer from 0 to "
               "86400000"),
      "accepted " << bad.dump());
}

BOOST_AUTO_TEST_CASE(node_lease_and_heartbeat_are_bounded) {
  folder f;
  auto cfg = parse_config(
    json{{"node", {{"leaseMs", 60'000}, {"heartbeatMs", 250}}}}, f.dir.path());
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->node.lease_ms == 60'000);
  BOOST_TEST(cfg->node.heartbeat_ms == 250);
  auto defaults = parse_config(json::object(), f.dir.path());
  BOOST_REQUIRE(defaults);
  BOOST_TEST(defaults->node.lease_ms == 1'200'000);
  BOOST_TEST(defaults->node.heartbeat_ms == 1000);
  for (const json& bad : {json(2999), json(86'400'001), json("1m")})
    BOOST_TEST(
      has_line(problems(json{{"node", {{"leaseMs", bad}}}}, f.dir.path()),
               "node.leaseMs: expected an integer from 3000 to 86400000"),
      "accepted " << bad.dump());
  BOOST_TEST(
    has_line(problems(json{{"node", {{"heartbeatMs", 0}}}}, f.dir.path()),
             "node.heartbeatMs: expected an integer from 10 to 600000"));
}

BOOST_AUTO_TEST_CASE(queue_names_follow_the_one_name_rule) {
  folder f;
  // The same rule as a queue request's: a name the runtime would refuse
  // later is refused at load.
  json doc = {{"jobs",
               {{"queues",
                 {{"bad name", json::object()},
                  {std::string(129, 'q'), json::object()},
                  {"ok-name.v2:x", json::object()}}}}}};
  auto ps = problems(doc, f.dir.path());
  BOOST_TEST(
    has_line(ps, "jobs.queues.bad name: a queue name may contain only"));
  BOOST_TEST(has_line(ps, "jobs.queues." + std::string(129, 'q')
                            + ": a queue name has 1 to 128 characters"));
  BOOST_TEST(ps.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
