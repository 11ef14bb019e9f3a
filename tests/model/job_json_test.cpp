#include <boost/test/unit_test.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "model/job_json.hpp"
#include "model/time.hpp"
#include "model/transitions.hpp"

using namespace conveyor::model;

/// JSON equality with both sides printed on failure (BOOST_TEST would
/// otherwise treat json as a container and compare element by element).
#define CHECK_JSON_EQ(a, b)                                                    \
  BOOST_TEST(((a) == (b)), (a).dump() << " != " << (b).dump())

namespace {

constexpr time_ms t0 = 1'700'000'000'000; // 2023-11-14T22:13:20.000Z

log_entry sample_entry(std::string id, log_state state) {
  log_entry e;
  e.id = std::move(id);
  e.executed_at = t0 + 10;
  e.completed_at = t0 + 25;
  e.task_slug = "send-email";
  e.task_id = "1";
  e.input = {{"to", "a@example.com"}};
  e.state = state;
  if (state == log_state::succeeded)
    e.output = {{"sent", true}};
  else
    e.error = error_json("Error", "SMTP down", "at send (mail.ts:3)");
  return e;
}

job minimal_job() {
  job j;
  j.id = 1;
  j.task_slug = "send-email";
  j.created_at = t0;
  j.updated_at = t0;
  return j;
}

job full_job() {
  job j;
  j.id = 42;
  j.input = {{"post", 7},
             {"nested", {{"list", {1, 2.5, "x", nullptr, false}}}}};
  j.workflow_slug = "publish";
  j.queue = "nightly";
  j.wait_until = t0 + 60'000;
  j.total_tried = 2;
  j.interruptions = 2;
  j.has_error = false;
  j.error = error_json("Error", "workflow broke");
  j.log = {sample_entry("a1", log_state::failed),
           sample_entry("a2", log_state::succeeded)};
  j.log[1].parent = task_ref{"outer", "x"};
  j.processing_until = t0 + 5000;
  j.processing_token = "tok-123";
  j.concurrency_key = "post:7";
  j.meta = {{"scheduled", true}};
  j.priority = -5;
  j.idempotency_key = "idem-1";
  j.created_at = t0;
  j.updated_at = t0 + 30;
  j.status = job_status::running;
  return j;
}

job completed_job() {
  job j = minimal_job();
  j.id = std::numeric_limits<job_id>::max();
  j.log = {sample_entry("c1", log_state::succeeded)};
  j.completed_at = t0 + 100;
  j.total_tried = 1;
  j.status = job_status::completed;
  j.input = json::array({1, 2}); // input is free-form JSON
  return j;
}

job cancelled_job() {
  job j = minimal_job();
  j.id = 0;
  j.error = {{"cancelled", true}, {"message", "stop \xC3\xA9 \"now\""}};
  j.has_error = true;
  j.status = job_status::cancelled;
  j.created_at = -1; // before 1970
  j.updated_at = 253'402'300'799'999;
  return j;
}

std::vector<job> sample_jobs() {
  return {minimal_job(), full_job(), completed_job(), cancelled_job()};
}

job from_json_ok(const json& doc) {
  auto r = job_from_json(doc);
  BOOST_TEST_REQUIRE(r.has_value(), doc.dump()
                                      << ": " << (r ? "" : r.error().message));
  return *r;
}

/// The error message for a document built from the minimal job with one
/// field replaced.
std::string error_with(const std::string& field, const json& value) {
  json doc = to_document(minimal_job());
  doc[field] = value;
  auto r = job_from_json(doc);
  BOOST_TEST_REQUIRE(!r.has_value(),
                     "accepted " << field << "=" << value.dump());
  BOOST_TEST(to_string(r.error().code) == "invalid_input");
  return r.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(job_json_test)

BOOST_AUTO_TEST_CASE(document_uses_payload_field_names) {
  const json doc = to_document(full_job());
  const json expected = json::parse(R"json({
    "id": "42",
    "input": {"post": 7, "nested": {"list": [1, 2.5, "x", null, false]}},
    "workflowSlug": "publish",
    "queue": "nightly",
    "waitUntil": "2023-11-14T22:14:20.000Z",
    "totalTried": 2,
    "hasError": false,
    "error": {"name": "Error", "cancelled": false, "message": "workflow broke", "stack": ""},
    "log": [
      {"id": "a1", "executedAt": "2023-11-14T22:13:20.010Z",
       "completedAt": "2023-11-14T22:13:20.025Z", "taskSlug": "send-email",
       "taskID": "1", "input": {"to": "a@example.com"}, "output": {},
       "state": "failed",
       "error": {"name": "Error", "cancelled": false, "message": "SMTP down",
                 "stack": "at send (mail.ts:3)"}},
      {"id": "a2", "executedAt": "2023-11-14T22:13:20.010Z",
       "completedAt": "2023-11-14T22:13:20.025Z", "taskSlug": "send-email",
       "taskID": "1", "input": {"to": "a@example.com"}, "output": {"sent": true},
       "state": "succeeded", "parent": {"taskSlug": "outer", "taskID": "x"}}
    ],
    "processingUntil": "2023-11-14T22:13:25.000Z",
    "processingToken": "tok-123",
    "concurrencyKey": "post:7",
    "meta": {"scheduled": true},
    "createdAt": "2023-11-14T22:13:20.000Z",
    "updatedAt": "2023-11-14T22:13:20.030Z",
    "status": "running",
    "priority": -5,
    "idempotencyKey": "idem-1",
    "interruptions": 2
  })json");
  CHECK_JSON_EQ(doc, expected);
}

BOOST_AUTO_TEST_CASE(absent_optionals_are_omitted) {
  const json doc = to_document(minimal_job());
  const json expected = json::parse(R"({
    "id": "1", "input": {}, "taskSlug": "send-email", "queue": "default",
    "totalTried": 0, "hasError": false, "log": [],
    "createdAt": "2023-11-14T22:13:20.000Z",
    "updatedAt": "2023-11-14T22:13:20.000Z", "status": "queued", "priority": 0
  })");
  CHECK_JSON_EQ(doc, expected);
}

BOOST_AUTO_TEST_CASE(to_json_adds_task_status_and_refines_pending_status) {
  job j = minimal_job();
  j.log = {sample_entry("e1", log_state::failed),
           sample_entry("e2", log_state::succeeded)};
  j.wait_until = t0 + 1000;
  j.status = job_status::waiting;

  json before = to_json(j, t0);
  BOOST_TEST(before["status"] == "waiting");
  CHECK_JSON_EQ(before["taskStatus"], json::parse(R"({"send-email": {"1": {
    "complete": true, "input": {"to": "a@example.com"}, "output": {"sent": true},
    "taskSlug": "send-email", "totalTried": 2}}})"));
  // Once the wait has passed the same stored job reads as queued.
  BOOST_TEST(to_json(j, t0 + 1001)["status"] == "queued");
  // The stored form has neither taskStatus nor a refined status.
  BOOST_TEST(!to_document(j).contains("taskStatus"));
  BOOST_TEST(to_document(j)["status"] == "waiting");

  j.status = job_status::queued;
  BOOST_TEST(to_json(j, t0)["status"] == "waiting");
  // Non-pending states are never refined.
  j.status = job_status::running;
  BOOST_TEST(to_json(j, t0 + 5000)["status"] == "running");
  j.status = job_status::failed;
  BOOST_TEST(to_json(j, t0 + 5000)["status"] == "failed");
}

BOOST_AUTO_TEST_CASE(empty_log_gives_empty_task_status) {
  CHECK_JSON_EQ(to_json(minimal_job(), t0)["taskStatus"], json::object());
}

BOOST_AUTO_TEST_CASE(log_entry_json) {
  log_entry e = sample_entry("x", log_state::succeeded);
  json doc = to_json(e);
  BOOST_TEST(!doc.contains("error"));
  BOOST_TEST(!doc.contains("parent"));
  BOOST_TEST(doc["state"] == "succeeded");
  e.parent = task_ref{"p", "9"};
  CHECK_JSON_EQ(to_json(e)["parent"],
                json::parse(R"({"taskSlug":"p","taskID":"9"})"));

  auto back = log_entry_from_json(to_json(e));
  BOOST_TEST_REQUIRE(back.has_value());
  BOOST_TEST((*back == e));
}

BOOST_AUTO_TEST_CASE(round_trip_through_document) {
  for (const job& j : sample_jobs()) {
    const json doc = to_document(j);
    job back = from_json_ok(doc);
    BOOST_TEST((back == j), doc.dump());
    // And through text, as the journal stores it.
    auto parsed = job_from_text(doc.dump());
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == j));
  }
}

BOOST_AUTO_TEST_CASE(round_trip_through_user_json_ignores_task_status) {
  for (const job& j : sample_jobs()) {
    // Status of these samples is not pending, or already what `now` gives.
    job back = from_json_ok(to_json(j, t0));
    BOOST_TEST((back == j));
  }
}

BOOST_AUTO_TEST_CASE(missing_fields_take_defaults) {
  job j = from_json_ok(json::parse(R"({"taskSlug":"t"})"));
  job expected;
  expected.task_slug = "t";
  BOOST_TEST((j == expected));
  BOOST_TEST(j.queue == "default");
  BOOST_TEST(j.input.is_object());
  BOOST_TEST(j.error.is_null());
  BOOST_TEST((j.status == job_status::queued));

  // A job with no slug at all is still a readable document.
  BOOST_TEST(job_from_json(json::object()).has_value());
}

BOOST_AUTO_TEST_CASE(null_means_absent_for_nullable_fields) {
  json doc = to_document(full_job());
  for (const char* field :
       {"waitUntil", "completedAt", "processingUntil", "processingToken",
        "concurrencyKey", "idempotencyKey", "error", "meta"})
    doc[field] = nullptr;
  doc["input"] = nullptr;
  doc["log"][1]["parent"] = nullptr;
  doc["log"][0]["error"] = nullptr;
  job j = from_json_ok(doc);
  BOOST_TEST(!j.wait_until.has_value());
  BOOST_TEST(!j.completed_at.has_value());
  BOOST_TEST(!j.processing_until.has_value());
  BOOST_TEST(!j.processing_token.has_value());
  BOOST_TEST(!j.concurrency_key.has_value());
  BOOST_TEST(!j.idempotency_key.has_value());
  BOOST_TEST(j.error.is_null());
  BOOST_TEST(j.meta.is_null());
  CHECK_JSON_EQ(j.input, json::object());
  BOOST_TEST(!j.log[1].parent.has_value());
  BOOST_TEST(j.log[0].error.is_null());
}

BOOST_AUTO_TEST_CASE(missing_status_is_derived_from_fields) {
  auto status_of = [](const char* text) {
    return std::string(to_string(from_json_ok(json::parse(text)).status));
  };
  BOOST_TEST(status_of(R"({"completedAt":"2026-01-01T00:00:00.000Z"})")
             == "completed");
  BOOST_TEST(status_of(R"({"hasError":true,"error":{"cancelled":true}})")
             == "cancelled");
  BOOST_TEST(status_of(R"({"hasError":true,"error":{"message":"x"}})")
             == "failed");
  BOOST_TEST(status_of(R"({"hasError":true,"error":{"cancelled":false}})")
             == "failed");
  BOOST_TEST(status_of(R"({"processingUntil":"2026-01-01T00:00:00.000Z"})")
             == "running");
  BOOST_TEST(status_of(R"({"waitUntil":"2026-01-01T00:00:00.000Z"})")
             == "queued");
  // An explicit status wins.
  BOOST_TEST(
    status_of(
      R"({"hasError":true,"status":"failed","error":{"cancelled":true}})")
    == "failed");
}

BOOST_AUTO_TEST_CASE(task_status_is_ignored) {
  json doc = to_document(full_job());
  doc["taskStatus"] = "garbage";
  BOOST_TEST((from_json_ok(doc) == full_job()));
}

BOOST_AUTO_TEST_CASE(ids) {
  BOOST_TEST(from_json_ok(json::parse(R"({"id":"18446744073709551615"})")).id
             == std::numeric_limits<job_id>::max());
  BOOST_TEST(from_json_ok(json::parse(R"({"id":7})")).id == 7u);
  BOOST_TEST(from_json_ok(json::parse(R"({"id":"0"})")).id == 0u);
  const std::string want =
    "id: expected decimal string of an unsigned 64-bit integer, got ";
  BOOST_TEST(error_with("id", "abc") == want + "\"abc\"");
  BOOST_TEST(error_with("id", "-1") == want + "\"-1\"");
  BOOST_TEST(error_with("id", "+1") == want + "\"+1\"");
  BOOST_TEST(error_with("id", "01") == want + "\"01\"");
  BOOST_TEST(error_with("id", "") == want + "\"\"");
  BOOST_TEST(error_with("id", "1 ") == want + "\"1 \"");
  BOOST_TEST(error_with("id", "18446744073709551616")
             == want + "\"18446744073709551616\"");
  BOOST_TEST(error_with("id", -1) == want + "number");
  BOOST_TEST(error_with("id", 1.5) == want + "number");
  BOOST_TEST(error_with("id", nullptr) == want + "null");
}

BOOST_AUTO_TEST_CASE(wrong_types_name_the_field) {
  BOOST_TEST(error_with("totalTried", "3")
             == "totalTried: expected integer, got string");
  BOOST_TEST(error_with("totalTried", 1.5)
             == "totalTried: expected integer, got non-integer number 1.5");
  BOOST_TEST(
    error_with("totalTried", -1).find("totalTried: integer out of range")
    == 0u);
  BOOST_TEST(error_with("totalTried", json::parse("4294967296"))
               .find("totalTried: integer out of range")
             == 0u);
  BOOST_TEST(error_with("totalTried", nullptr)
             == "totalTried: expected integer, got null");
  BOOST_TEST(error_with("priority", json::parse("-2147483649"))
               .find("priority: integer out of range")
             == 0u);
  BOOST_TEST(error_with("hasError", "true")
             == "hasError: expected boolean, got string");
  BOOST_TEST(error_with("queue", 5) == "queue: expected string, got number");
  BOOST_TEST(error_with("taskSlug", json::array())
             == "taskSlug: expected string, got array");
  BOOST_TEST(error_with("status", "paused")
             == R"(status: unknown status "paused")");
  BOOST_TEST(error_with("status", 1) == "status: expected string, got number");
  BOOST_TEST(error_with("log", json::object())
             == "log: expected array, got object");
  BOOST_TEST(error_with("processingToken", false)
             == "processingToken: expected string, got boolean");
}

BOOST_AUTO_TEST_CASE(dates_must_be_valid_iso_strings) {
  BOOST_TEST(
    error_with("waitUntil", "2026-02-30T00:00:00.000Z")
    == R"(waitUntil: invalid ISO 8601 date "2026-02-30T00:00:00.000Z")");
  BOOST_TEST(error_with("createdAt", "yesterday")
             == R"(createdAt: invalid ISO 8601 date "yesterday")");
  BOOST_TEST(error_with("createdAt", 1700000000000)
             == "createdAt: expected ISO 8601 date string, got number");
  BOOST_TEST(error_with("updatedAt", nullptr)
             == "updatedAt: expected ISO 8601 date string, got null");
  BOOST_TEST(error_with("completedAt", "2026-13-01")
               .find("completedAt: invalid ISO 8601 date")
             == 0u);
  // Long bad values are shortened in the message.
  BOOST_TEST(error_with("waitUntil", std::string(10'000, '9')).size() < 150u);
  // Offsets are accepted and normalised to UTC.
  json doc = to_document(minimal_job());
  doc["waitUntil"] = "2023-11-14T23:13:20.000+01:00";
  BOOST_TEST(from_json_ok(doc).wait_until.value_or(0) == t0);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_rejected) {
  BOOST_TEST(error_with("processing", true) == "processing: unknown field");
  BOOST_TEST(error_with("Status", "queued") == "Status: unknown field");
  BOOST_TEST(error_with(std::string(1000, 'z'), 1).size() < 100u);
}

BOOST_AUTO_TEST_CASE(both_slugs_are_rejected) {
  BOOST_TEST(
    error_with("workflowSlug", "wf")
    == "workflowSlug: a job has either taskSlug or workflowSlug, not both");
}

BOOST_AUTO_TEST_CASE(log_errors_carry_the_entry_path) {
  json doc = to_document(full_job());
  doc["log"].push_back(doc["log"][0]);
  doc["log"][2]["taskID"] = 5;
  auto r = job_from_json(doc);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message == "log[2].taskID: expected string, got number");

  auto entry_error = [&](const std::function<void(json&)>& edit) {
    json d = to_document(full_job());
    edit(d["log"][1]);
    auto res = job_from_json(d);
    BOOST_TEST_REQUIRE(!res.has_value(), d["log"][1].dump());
    return res.error().message;
  };
  BOOST_TEST(entry_error([](json& e) { e.erase("state"); })
             == "log[1].state: missing");
  BOOST_TEST(entry_error([](json& e) { e.erase("taskSlug"); })
             == "log[1].taskSlug: missing");
  BOOST_TEST(
    entry_error([](json& e) { e["state"] = "done"; })
    == R"(log[1].state: expected "succeeded" or "failed", got "done")");
  BOOST_TEST(entry_error([](json& e) { e["state"] = json::array({"failed"}); })
             == "log[1].state: expected string, got array");
  BOOST_TEST(entry_error([](json& e) { e["extra"] = 1; })
             == "log[1].extra: unknown field");
  BOOST_TEST(
    entry_error([](json& e) { e["executedAt"] = "2026-02-29T00:00:00Z"; })
    == R"(log[1].executedAt: invalid ISO 8601 date "2026-02-29T00:00:00Z")");
  BOOST_TEST(entry_error([](json& e) { e["parent"] = "outer"; })
             == "log[1].parent: expected object, got string");
  BOOST_TEST(entry_error([](json& e) { e["parent"].erase("taskID"); })
             == "log[1].parent.taskID: missing");
  BOOST_TEST(entry_error([](json& e) { e["parent"]["depth"] = 1; })
             == "log[1].parent.depth: unknown field");
  BOOST_TEST(entry_error([](json& e) { e["parent"]["taskSlug"] = 1; })
             == "log[1].parent.taskSlug: expected string, got number");
  BOOST_TEST(entry_error([](json& e) { e = 5; })
             == "log[1]: expected object, got number");
}

BOOST_AUTO_TEST_CASE(non_object_documents_are_rejected) {
  auto r = job_from_json(json::array());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message == "job: expected object, got array");
}

BOOST_AUTO_TEST_CASE(job_from_text_is_guarded) {
  auto deep =
    job_from_text(R"({"taskSlug":"t","input":)" + std::string(100'000, '['));
  BOOST_TEST_REQUIRE(!deep.has_value());
  BOOST_TEST(to_string(deep.error().code) == "too_deep");
  BOOST_TEST(deep.error().message.find("$.input[0][0]") != std::string::npos);

  auto garbage = job_from_text(R"({"taskSlug":"t"} trailing)");
  BOOST_TEST_REQUIRE(!garbage.has_value());
  BOOST_TEST(to_string(garbage.error().code) == "invalid_input");

  json_limits tiny;
  tiny.max_bytes = 10;
  auto big = job_from_text(R"({"taskSlug":"send-email"})", tiny);
  BOOST_TEST_REQUIRE(!big.has_value());
  BOOST_TEST(to_string(big.error().code) == "too_large");

  auto typed = job_from_text(R"({"taskSlug":"t","totalTried":"1"})");
  BOOST_TEST_REQUIRE(!typed.has_value());
  BOOST_TEST(typed.error().message
             == "totalTried: expected integer, got string");
}

BOOST_AUTO_TEST_SUITE_END()
