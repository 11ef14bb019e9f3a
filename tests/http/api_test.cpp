// The /v1 JSON API (docs/http.md): every route, its status codes, and bad
// input that must be refused without writing anything.

#include <boost/test/unit_test.hpp>

#include "http_fixture.hpp"
#include "support/wait.hpp"

using namespace conveyor;
using namespace conveyor::testing;
using namespace std::chrono_literals;

namespace api_test {

struct fixture : http_fixture {
  fixture() { serve(); }

  std::string queue_echo(const json& body) {
    auto r = call("POST", "/v1/jobs", body.dump());
    BOOST_REQUIRE_EQUAL(r.status, 201);
    return body_of(r)["id"].get<std::string>();
  }
};

} // namespace api_test

BOOST_FIXTURE_TEST_SUITE(http_api, api_test::fixture)
using namespace api_test;

BOOST_AUTO_TEST_CASE(probes_answer_without_a_token) {
  auto health = http_call(port, "GET", "/v1/health");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(body_of(health)["status"] == "ok");
  auto ready = http_call(port, "GET", "/v1/ready");
  BOOST_TEST(ready.status == 200);
  BOOST_TEST(body_of(ready)["ready"] == true);
}

BOOST_AUTO_TEST_CASE(every_other_route_needs_a_known_bearer_token) {
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/jobs"},
                                                        {"POST", "/v1/jobs"},
                                                        {"GET", "/v1/jobs/1"},
                                                        {"GET", "/v1/queues"},
                                                        {"POST", "/v1/run"},
                                                        {"GET", "/metrics"}}) {
    auto none = http_call(port, method, target);
    BOOST_TEST(none.status == 401, method << " " << target);
    BOOST_TEST(none.header("www-authenticate") == "Bearer");
    BOOST_TEST(none.header("content-type") == "application/problem+json");
    auto wrong = http_call(port, method, target, "not-a-known-token-at-all");
    BOOST_TEST(wrong.status == 401, method << " " << target);
  }
  BOOST_TEST(stored() == 0u);
}

BOOST_AUTO_TEST_CASE(a_job_is_queued_read_run_and_listed) {
  auto created =
    call("POST", "/v1/jobs",
         R"({"task":"echo","input":{"n":1},"queue":"q","priority":3,
             "log":"hello","meta":{"m":true},
             "waitUntil":"2000-01-01T00:00:00Z"})");
  BOOST_TEST_REQUIRE(created.status == 201);
  auto job = body_of(created);
  BOOST_TEST(job["taskSlug"] == "echo");
  BOOST_TEST(job["queue"] == "q");
  BOOST_TEST(job["input"]["n"] == 1);
  BOOST_TEST(job["priority"] == 3);
  auto id = job["id"].get<std::string>();

  auto got = call("GET", "/v1/jobs/" + id);
  BOOST_TEST(got.status == 200);
  BOOST_TEST(body_of(got)["id"] == id);

  auto ran = call("POST", "/v1/jobs/" + id + "/run");
  BOOST_TEST(ran.status == 200);
  auto after = body_of(call("GET", "/v1/jobs/" + id));
  BOOST_TEST(after["status"] == "completed");
  BOOST_TEST(after["log"][0]["output"]["echo"]["n"] == 1);

  auto list = body_of(call("GET", "/v1/jobs?queue=q"));
  BOOST_TEST_REQUIRE(list["docs"].size() == 1u);
  BOOST_TEST(list["docs"][0]["id"] == id);
  BOOST_TEST(list["nextCursor"].is_null());
}

BOOST_AUTO_TEST_CASE(bad_input_is_a_problem_and_writes_nothing) {
  struct bad_case {
    std::string method, target, body;
    int status;
  };
  std::string deep(100'000, '[');
  std::vector<bad_case> cases{
    {"POST", "/v1/jobs", R"({"task":"echo","bogus":1})", 400},
    {"POST", "/v1/jobs", R"({"task":7})", 400},
    {"POST", "/v1/jobs", R"({"task":"nope"})", 400},
    {"POST", "/v1/jobs", R"({"input":{}})", 400},
    {"POST", "/v1/jobs", R"({"task":"echo","workflow":"w"})", 400},
    {"POST", "/v1/jobs", R"([1,2])", 400},
    {"POST", "/v1/jobs", R"({"task":"echo")", 400},
    {"POST", "/v1/jobs", R"({"task":"echo","priority":1e99})", 400},
    {"POST", "/v1/jobs", R"({"task":"echo","priority":4294967296})", 400},
    {"POST", "/v1/jobs", R"({"task":"echo","waitUntil":"yesterday"})", 400},
    {"POST", "/v1/jobs", R"({"task":"echo","queue":"a/b"})", 400},
    {"POST", "/v1/jobs", deep, 400},
    {"POST", "/v1/jobs", "{\"task\":\"echo\",\"input\":{\"s\":\"\xff\"}}", 400},
    {"GET", "/v1/jobs/abc", "", 400},
    {"GET", "/v1/jobs/0", "", 400},
    {"GET", "/v1/jobs/99999", "", 404},
    {"GET", "/v1/jobs?where=%7Bnot-json", "", 400},
    {"GET", "/v1/jobs?limit=-1", "", 400},
    {"GET", "/v1/jobs?cursor=x", "", 400},
    {"GET", "/v1/jobs?bad=%zz", "", 400},
    {"POST", "/v1/jobs/cancel", R"({"queue":"q"})", 400},
    {"POST", "/v1/run", R"({"limit":"ten"})", 400},
    {"GET", "/v1/nothing-here", "", 404},
    {"DELETE", "/v1/jobs/1", "", 405},
    {"GET", "/v1/run", "", 405},
  };
  for (const auto& c : cases) {
    auto r = call(c.method, c.target, c.body);
    BOOST_TEST(r.status == c.status,
               c.method << " " << c.target << " " << c.body.substr(0, 40)
                        << " -> " << r.status << " " << r.body.substr(0, 120));
    BOOST_TEST(r.header("content-type") == "application/problem+json");
    auto problem = body_of(r);
    BOOST_TEST(problem["status"] == c.status);
    BOOST_TEST(!problem.value("detail", "").empty());
  }
  BOOST_TEST(call("DELETE", "/v1/jobs/1").header("allow") == "GET");
  // A body that is not JSON by its content type is refused too.
  auto text = http_call(port, "POST", "/v1/jobs", admin_token,
                        R"({"task":"echo"})", "text/plain");
  BOOST_TEST(text.status == 400);
  BOOST_TEST(stored() == 0u);
}

BOOST_AUTO_TEST_CASE(a_refused_rule_is_403_and_writes_nothing) {
  auto r = call("POST", "/v1/jobs", R"({"task":"echo"})", reader_token);
  BOOST_TEST(r.status == 403);
  BOOST_TEST(body_of(r)["type"] == "urn:conveyor:forbidden");
  BOOST_TEST(stored() == 0u);
  auto id = queue_echo({{"task", "echo"}});
  BOOST_TEST(call("POST", "/v1/jobs/" + id + "/cancel", "", reader_token).status
             == 403);
  BOOST_TEST(call("POST", "/v1/queues/default/pause", "", reader_token).status
             == 403);
  // Reading is open to the reader.
  BOOST_TEST(call("GET", "/v1/jobs/" + id, "", reader_token).status == 200);
  BOOST_TEST(body_of(call("GET", "/v1/jobs/" + id))["status"] == "queued");
}

BOOST_AUTO_TEST_CASE(pages_follow_the_cursor_and_filters_narrow_them) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(queue_echo({{"task", "echo"}, {"input", {{"i", i}}}}));
  add_task(
    {.slug = "other", .handler = [](task_context&) { return json::object(); }});
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = call("GET", "/v1/jobs?limit=2" + cursor);
    BOOST_TEST_REQUIRE(r.status == 200);
    auto body = body_of(r);
    for (auto& doc : body["docs"])
      seen.push_back(doc["id"].get<std::string>());
    if (body["nextCursor"].is_null())
      break;
    cursor = "&cursor=" + body["nextCursor"].get<std::string>();
  }
  BOOST_TEST(seen == ids, boost::test_tools::per_element());
  auto where = R"({"input.i":{"greater_than":2}})";
  std::string encoded;
  for (char ch : std::string{where}) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
    encoded += buf;
  }
  auto filtered = body_of(call("GET", "/v1/jobs?where=" + encoded));
  BOOST_TEST(filtered["docs"].size() == 2u);
  BOOST_TEST(body_of(call("GET", "/v1/jobs?task=echo"))["docs"].size() == 5u);
  BOOST_TEST(body_of(call("GET", "/v1/jobs?task=other"))["docs"].size() == 0u);
  BOOST_TEST(body_of(call("GET", "/v1/jobs?status=queued"))["docs"].size()
             == 5u);
  BOOST_TEST(body_of(call("GET", "/v1/jobs?status=completed"))["docs"].size()
             == 0u);
}

BOOST_AUTO_TEST_CASE(jobs_are_cancelled_by_id_and_by_where) {
  auto a = queue_echo({{"task", "echo"}, {"queue", "a"}});
  auto b = queue_echo({{"task", "echo"}, {"queue", "b"}});
  auto r = call("POST", "/v1/jobs/" + a + "/cancel");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(body_of(r)["status"] == "cancelled");
  auto many =
    call("POST", "/v1/jobs/cancel", R"({"where":{"queue":{"equals":"b"}}})");
  BOOST_TEST(many.status == 200);
  BOOST_TEST(body_of(many)["cancelled"] == json::array({b}));
}

BOOST_AUTO_TEST_CASE(queues_show_their_counts_and_pause_and_resume) {
  queue_echo({{"task", "echo"}, {"queue", "mail"}});
  queue_echo({{"task", "echo"}, {"queue", "mail"}});
  queue_echo({{"task", "echo"},
              {"queue", "mail"},
              {"waitUntil", "2999-01-01T00:00:00Z"}});
  auto paused = call("POST", "/v1/queues/mail/pause");
  BOOST_TEST(paused.status == 200);
  BOOST_TEST(body_of(paused)["paused"] == true);
  auto queues = body_of(call("GET", "/v1/queues"));
  BOOST_TEST_REQUIRE(queues.is_array());
  auto mail = std::find_if(queues.begin(), queues.end(),
                           [](const json& q) { return q["name"] == "mail"; });
  BOOST_TEST_REQUIRE((mail != queues.end()));
  BOOST_TEST((*mail)["queued"] == 2);
  BOOST_TEST((*mail)["delayed"] == 1);
  BOOST_TEST((*mail)["running"] == 0);
  BOOST_TEST((*mail)["paused"] == true);
  // A paused queue hands out no job.
  BOOST_TEST(call("POST", "/v1/run", R"({"queue":"mail"})").status == 200);
  BOOST_TEST(
    jobs->find({.where = {{"status", {{"equals", "completed"}}}}}).empty());
  BOOST_TEST(call("POST", "/v1/queues/mail/resume").status == 200);
  auto ran = call("POST", "/v1/run", R"({"queue":"mail","limit":5})");
  BOOST_TEST(ran.status == 200);
  auto after = body_of(call("GET", "/v1/queues"));
  for (const auto& q : after)
    if (q["name"] == "mail") {
      BOOST_TEST(q["queued"] == 0);
      BOOST_TEST(q["completed"] == 2);
      BOOST_TEST(q["paused"] == false);
    }
}

BOOST_AUTO_TEST_CASE(a_full_queue_is_503_with_retry_after) {
  teardown();
  options.limits.max_queued_per_queue = 1;
  serve();
  queue_echo({{"task", "echo"}});
  auto r = call("POST", "/v1/jobs", R"({"task":"echo"})");
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.header("retry-after") == "1");
  BOOST_TEST(body_of(r)["type"] == "urn:conveyor:overloaded");
  BOOST_TEST(stored() == 1u);
}

BOOST_AUTO_TEST_CASE(queues_say_what_the_caller_may_do) {
  queue_echo({{"task", "echo"}, {"queue", "mail"}});
  auto may_in = [&](const std::string& token) {
    auto list =
      body_of(http_call(port, "GET", "/v1/queues", token, std::string{}));
    for (const auto& q : list)
      if (q["name"] == "mail")
        return q["may"];
    return json{};
  };
  BOOST_TEST(may_in(admin_token)
             == (json{{"run", true}, {"cancel", true}, {"queue", true}}));
  // The reader passes only the default `read` rule.
  BOOST_TEST(may_in(reader_token)
             == (json{{"run", false}, {"cancel", false}, {"queue", false}}));
}

BOOST_AUTO_TEST_CASE(the_dashboard_is_served_without_a_token_and_locked_down) {
  for (const char* path : {"/", "/ui/app.js", "/ui/app.css", "/ui/chart.js"}) {
    auto page = http_call(port, "GET", path, "", std::string{});
    BOOST_TEST(page.status == 200, path);
    BOOST_TEST(!page.body.empty(), path);
    BOOST_TEST(page.header("x-content-type-options") == "nosniff");
    BOOST_TEST(page.header("content-security-policy").find("script-src 'self'")
               != std::string::npos);
  }
  auto index = http_call(port, "GET", "/?x=1", "", std::string{});
  BOOST_TEST(index.header("content-type").find("text/html") == 0u);
  BOOST_TEST(index.body.find("/ui/app.js") != std::string::npos);
  // Anything else still needs a token; the files are read-only.
  BOOST_TEST(http_call(port, "GET", "/ui/other.js", "", std::string{}).status
             == 401);
  BOOST_TEST(http_call(port, "POST", "/", "", std::string{}).status == 401);
}

BOOST_AUTO_TEST_CASE(metrics_match_what_happened) {
  for (int i = 0; i < 3; ++i)
    queue_echo({{"task", "echo"}, {"queue", "m"}});
  call("GET", "/v1/jobs/abc");
  call("POST", "/v1/run", R"({"queue":"m","limit":1})");
  auto scrape = call("GET", "/metrics");
  BOOST_TEST_REQUIRE(scrape.status == 200);
  BOOST_TEST(scrape.header("content-type").find("text/plain") == 0u);
  auto has = [&](const std::string& line) {
    bool found = scrape.body.find("\n" + line + "\n") != std::string::npos;
    BOOST_TEST(found, "missing: " << line);
  };
  has(R"(conveyor_http_requests_total{code="201",route="/v1/jobs"} 3)");
  has(R"(conveyor_http_requests_total{code="400",route="/v1/jobs/{id}"} 1)");
  has(R"(conveyor_queue_jobs{queue="m",state="queued"} 2)");
  has(R"(conveyor_queue_paused{queue="m"} 0)");
  BOOST_TEST(scrape.body.find("conveyor_process_resident_memory_bytes ")
             != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

namespace api_test {

/// A task that fails on its first attempt and succeeds on its retry.
struct retry_fixture : http_fixture {
  std::atomic<int> attempts{0};
  retry_fixture() {
    add_task({.slug = "flaky",
              .handler = [this](task_context&) -> json {
                if (attempts.fetch_add(1) == 0)
                  throw std::runtime_error("first attempt fails");
                return json::object();
              },
              .retries = model::retry_config{.attempts = 2}});
    serve();
  }
};

} // namespace api_test

BOOST_FIXTURE_TEST_SUITE(http_metrics, api_test::retry_fixture)

BOOST_AUTO_TEST_CASE(retries_are_streamed_and_counted_with_the_journal) {
  http_socket events{port};
  events.send("GET /v1/events?queue=r HTTP/1.1\r\nHost: x\r\n"
              "Authorization: Bearer "
              + admin_token + "\r\n\r\n");
  BOOST_TEST_REQUIRE(events.read_until(": conveyor events\n\n", 10s));
  auto queued = call("POST", "/v1/jobs", R"({"task":"flaky","queue":"r"})");
  BOOST_TEST_REQUIRE(queued.status == 201);
  auto id = body_of(queued)["id"].get<std::string>();
  // Runs are explicit here: one for the attempt that fails, one for its
  // retry, due once the fixture's clock moves on.
  BOOST_TEST_REQUIRE(eventually([&] {
    now += 1000;
    call("POST", "/v1/run", R"({"queue":"r"})");
    return body_of(call("GET", "/v1/jobs/" + id))["status"] == "completed";
  }));
  BOOST_TEST_REQUIRE(events.read_until("event: completed\n", 10s));
  std::vector<std::string> types;
  for (auto at = events.text().find("\nevent: "); at != std::string::npos;
       at = events.text().find("\nevent: ", at + 1))
    types.push_back(
      events.text().substr(at + 8, events.text().find('\n', at + 8) - at - 8));
  BOOST_TEST(types
               == (std::vector<std::string>{"queued", "started", "step_started",
                                            "step_finished", "retrying",
                                            "started", "step_started",
                                            "step_finished", "completed"}),
             boost::test_tools::per_element());
  auto scrape = call("GET", "/metrics");
  BOOST_TEST_REQUIRE(scrape.status == 200);
  auto value_of = [&](const std::string& series) {
    auto at = scrape.body.find("\n" + series + " ");
    BOOST_TEST_REQUIRE(at != std::string::npos, "missing: " << series);
    auto from = at + series.size() + 2;
    return std::stod(
      scrape.body.substr(from, scrape.body.find('\n', from) - from));
  };
  BOOST_TEST(
    value_of(R"(conveyor_jobs_requeued_total{queue="r",reason="retrying"})")
    == 1);
  BOOST_TEST(
    value_of(R"(conveyor_jobs_finished_total{queue="r",status="completed"})")
    == 1);
  // The job was written three times (queued, its failed attempt, its
  // successful one), each through a group commit and an fsync.
  auto groups = value_of("conveyor_journal_group_size_count");
  BOOST_TEST(groups >= 1);
  BOOST_TEST(value_of("conveyor_journal_group_size_sum") >= 3);
  BOOST_TEST(value_of(R"(conveyor_journal_group_size_bucket{le="+Inf"})")
             == groups);
  BOOST_TEST(value_of("conveyor_journal_fsync_seconds_count") >= 1);
  BOOST_TEST(value_of("conveyor_journal_fsync_seconds_sum") > 0);
}

BOOST_AUTO_TEST_SUITE_END()
