// Long file: the job document both ways (render and parse), field by
// field; the two directions are kept side by side so they cannot drift.

#include "model/job_json.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <utility>

#include "model/task_status.hpp"
#include "model/text.hpp"
#include "model/time.hpp"
#include "model/transitions.hpp"

namespace conveyor::model {

namespace {

// ---- rendering
// ---------------------------------------------------------------

std::string_view state_name(log_state s) {
  return s == log_state::succeeded ? "succeeded" : "failed";
}

void put_time(json& out, const char* name, const std::optional<time_ms>& t) {
  if (t)
    out[name] = format_iso8601(*t);
}

void put_string(json& out, const char* name,
                const std::optional<std::string>& s) {
  if (s)
    out[name] = *s;
}

// ---- reading
// -------------------------------------------------------------------

std::string join(const std::string& path, std::string_view key) {
  std::string_view k = key.size() > 60 ? key.substr(0, 60) : key;
  while (k.size() < key.size() && !k.empty()
         && (static_cast<unsigned char>(key[k.size()]) & 0xC0) == 0x80)
    k.remove_suffix(1); // do not split a UTF-8 sequence
  std::string out = path.empty() ? std::string(k) : path + "." + std::string(k);
  return k.size() < key.size() ? out + "..." : out;
}

/// Typed field readers. Each returns false after recording the first error,
/// so callers can simply `return r.fail(...)` on the way out.
struct reader {
  std::optional<error> failure;

  bool fail(const std::string& path, const std::string& what) {
    failure = make_error(errc::invalid_input, path + ": " + what);
    return false;
  }
  bool expected_type(const std::string& path, std::string_view want,
                     const json& got) {
    return fail(path,
                "expected " + std::string(want) + ", got " + got.type_name());
  }

  bool string(const json& v, const std::string& path, std::string& out) {
    if (!v.is_string())
      return expected_type(path, "string", v);
    out = v.get<std::string>();
    return true;
  }
  /// null means "absent" for nullable fields (Payload writes null on clear).
  bool opt_string(const json& v, const std::string& path,
                  std::optional<std::string>& out) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    return string(v, path, out.emplace());
  }
  bool time(const json& v, const std::string& path, time_ms& out) {
    if (!v.is_string())
      return expected_type(path, "ISO 8601 date string", v);
    auto t = parse_iso8601(v.get_ref<const std::string&>());
    if (!t)
      return fail(path, "invalid ISO 8601 date " + shown(v));
    out = *t;
    return true;
  }
  bool opt_time(const json& v, const std::string& path,
                std::optional<time_ms>& out) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    return time(v, path, out.emplace());
  }
  bool int32(const json& v, const std::string& path, std::int32_t& out,
             std::int64_t min) {
    if (v.is_number_float())
      return fail(path, "expected integer, got non-integer number " + shown(v));
    if (!v.is_number_integer())
      return expected_type(path, "integer", v);
    const std::int64_t max = std::numeric_limits<std::int32_t>::max();
    if (v.is_number_unsigned()
          ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)
          : v.get<std::int64_t>() > max || v.get<std::int64_t>() < min)
      return fail(path, "integer out of range [" + std::to_string(min) + ", "
                          + std::to_string(max) + "]: " + shown(v));
    out = v.get<std::int32_t>();
    return true;
  }
  bool boolean(const json& v, const std::string& path, bool& out) {
    if (!v.is_boolean())
      return expected_type(path, "boolean", v);
    out = v.get<bool>();
    return true;
  }
  bool id(const json& v, const std::string& path, job_id& out);
};

bool reader::id(const json& v, const std::string& path, job_id& out) {
  if (v.is_number_unsigned()
      || (v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    out = v.get<job_id>();
    return true;
  }
  const std::string want = "decimal string of an unsigned 64-bit integer";
  if (!v.is_string())
    return expected_type(path, want, v);
  const auto& s = v.get_ref<const std::string&>();
  // Canonical digits only, so one id has exactly one spelling.
  const bool canonical = !s.empty() && (s.size() == 1 || s[0] != '0');
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (!canonical || ec != std::errc() || end != s.data() + s.size())
    return fail(path, "expected " + want + ", got " + shown(v));
  return true;
}

/// Any JSON, null read as {} (Payload reads an empty input as {}).
json object_or_empty(const json& v) {
  return v.is_null() ? json::object() : v;
}

bool read_parent(reader& r, const json& v, const std::string& p,
                 std::optional<task_ref>& out) {
  if (v.is_null()) {
    out.reset();
    return true;
  }
  if (!v.is_object())
    return r.expected_type(p, "object", v);
  task_ref ref;
  for (const auto& [key, value] : v.items()) {
    const std::string field = join(p, key);
    if (key != "taskSlug" && key != "taskID")
      return r.fail(field, "unknown field");
    if (!r.string(value, field,
                  key == "taskSlug" ? ref.task_slug : ref.task_id))
      return false;
  }
  for (std::string_view name : {"taskSlug", "taskID"})
    if (!v.contains(name))
      return r.fail(join(p, name), "missing");
  out = std::move(ref);
  return true;
}

/// Reads one log entry field; false (with r.failure set) on a bad value or an
/// unknown key.
bool read_entry_field(reader& r, const std::string& key, const json& v,
                      const std::string& p, log_entry& e) {
  if (key == "id")
    return r.string(v, p, e.id);
  if (key == "executedAt")
    return r.time(v, p, e.executed_at);
  if (key == "completedAt")
    return r.time(v, p, e.completed_at);
  if (key == "taskSlug")
    return r.string(v, p, e.task_slug);
  if (key == "taskID")
    return r.string(v, p, e.task_id);
  if (key == "input" || key == "output") {
    (key == "input" ? e.input : e.output) = object_or_empty(v);
    return true;
  }
  if (key == "error") {
    e.error = v;
    return true;
  }
  if (key == "state") {
    if (!v.is_string())
      return r.expected_type(p, "string", v);
    if (v == "succeeded")
      e.state = log_state::succeeded;
    else if (v == "failed")
      e.state = log_state::failed;
    else
      return r.fail(p, "expected \"succeeded\" or \"failed\", got " + shown(v));
    return true;
  }
  if (key == "parent")
    return read_parent(r, v, p, e.parent);
  if (key == "stderrTail")
    return r.string(v, p, e.stderr_tail);
  return r.fail(p, "unknown field");
}

/// Fields every log entry must carry: without them an entry could not be
/// matched to its task, and a defaulted state would fake a success.
constexpr std::array<std::string_view, 3> required_entry_fields{
  "taskSlug", "taskID", "state"};

bool read_log(reader& r, const json& v, const std::string& p, job& j) {
  if (!v.is_array())
    return r.expected_type(p, "array", v);
  j.log.clear();
  j.log.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto e = log_entry_from_json(v[i], p + "[" + std::to_string(i) + "]");
    if (!e) {
      r.failure = e.error();
      return false;
    }
    j.log.push_back(std::move(*e));
  }
  return true;
}

bool read_status(reader& r, const json& v, const std::string& p, job& j) {
  if (!v.is_string())
    return r.expected_type(p, "string", v);
  auto s = parse_job_status(v.get_ref<const std::string&>());
  if (!s)
    return r.fail(p, "unknown status " + shown(v));
  j.status = *s;
  return true;
}

/// Reads one top-level job field (the key is its own path).
bool read_job_field(reader& r, const std::string& k, const json& v, job& j) {
  constexpr std::int32_t int32_min = std::numeric_limits<std::int32_t>::min();
  if (k == "id")
    return r.id(v, k, j.id);
  if (k == "taskSlug")
    return r.opt_string(v, k, j.task_slug);
  if (k == "workflowSlug")
    return r.opt_string(v, k, j.workflow_slug);
  if (k == "queue")
    return r.string(v, k, j.queue);
  if (k == "waitUntil")
    return r.opt_time(v, k, j.wait_until);
  if (k == "completedAt")
    return r.opt_time(v, k, j.completed_at);
  if (k == "totalTried")
    return r.int32(v, k, j.total_tried, 0);
  if (k == "interruptions")
    return r.int32(v, k, j.interruptions, 0);
  if (k == "hasError")
    return r.boolean(v, k, j.has_error);
  if (k == "log")
    return read_log(r, v, k, j);
  if (k == "processingUntil")
    return r.opt_time(v, k, j.processing_until);
  if (k == "processingToken")
    return r.opt_string(v, k, j.processing_token);
  if (k == "concurrencyKey")
    return r.opt_string(v, k, j.concurrency_key);
  if (k == "createdAt")
    return r.time(v, k, j.created_at);
  if (k == "updatedAt")
    return r.time(v, k, j.updated_at);
  if (k == "status")
    return read_status(r, v, k, j);
  if (k == "priority")
    return r.int32(v, k, j.priority, int32_min);
  if (k == "idempotencyKey")
    return r.opt_string(v, k, j.idempotency_key);
  if (k == "input") {
    j.input = object_or_empty(v);
    return true;
  }
  if (k == "error" || k == "meta") {
    (k == "error" ? j.error : j.meta) = v;
    return true;
  }
  // Derived on every read, never stored: accepted and ignored.
  if (k == "taskStatus")
    return true;
  return r.fail(join("", k), "unknown field");
}

/// Status of a document written without one (e.g. imported from Payload),
/// from its fields (docs/semantics.md §3). Pending is "queued"; to_json
/// refines it.
job_status derive_status(const job& j) {
  if (j.completed_at)
    return job_status::completed;
  if (j.has_error) {
    const bool cancelled = j.error.is_object() && j.error.contains("cancelled")
                           && j.error["cancelled"] == true;
    return cancelled ? job_status::cancelled : job_status::failed;
  }
  if (j.processing_until)
    return job_status::running;
  return job_status::queued;
}

} // namespace

json to_json(const log_entry& e) {
  json out = {{"id", e.id},
              {"executedAt", format_iso8601(e.executed_at)},
              {"completedAt", format_iso8601(e.completed_at)},
              {"taskSlug", e.task_slug},
              {"taskID", e.task_id},
              {"input", e.input},
              {"output", e.output},
              {"state", state_name(e.state)}};
  if (!e.error.is_null())
    out["error"] = e.error;
  if (e.parent)
    out["parent"] = {{"taskSlug", e.parent->task_slug},
                     {"taskID", e.parent->task_id}};
  if (!e.stderr_tail.empty())
    out["stderrTail"] = e.stderr_tail;
  return out;
}

json to_document(const job& j) {
  json out = {{"id", std::to_string(j.id)},
              {"input", j.input},
              {"queue", j.queue},
              {"totalTried", j.total_tried},
              {"hasError", j.has_error},
              {"createdAt", format_iso8601(j.created_at)},
              {"updatedAt", format_iso8601(j.updated_at)},
              {"status", to_string(j.status)},
              {"priority", j.priority}};
  put_string(out, "taskSlug", j.task_slug);
  put_string(out, "workflowSlug", j.workflow_slug);
  put_time(out, "waitUntil", j.wait_until);
  put_time(out, "completedAt", j.completed_at);
  if (!j.error.is_null())
    out["error"] = j.error;
  json log = json::array();
  for (const log_entry& e : j.log)
    log.push_back(to_json(e));
  out["log"] = std::move(log);
  put_time(out, "processingUntil", j.processing_until);
  put_string(out, "processingToken", j.processing_token);
  put_string(out, "concurrencyKey", j.concurrency_key);
  if (!j.meta.is_null())
    out["meta"] = j.meta;
  put_string(out, "idempotencyKey", j.idempotency_key);
  // Not a Payload field: written only once it means something.
  if (j.interruptions > 0)
    out["interruptions"] = j.interruptions;
  return out;
}

json to_json(const job& j, time_ms now) {
  json out = to_document(j);
  if (j.status == job_status::queued || j.status == job_status::waiting)
    out["status"] = to_string(pending_status(j, now));
  out["taskStatus"] = to_json(derive_task_status(j.log));
  return out;
}

expected<log_entry> log_entry_from_json(const json& doc,
                                        const std::string& path) {
  reader r;
  if (!doc.is_object()) {
    r.expected_type(path, "object", doc);
    return *r.failure;
  }
  log_entry e;
  for (const auto& [key, value] : doc.items()) {
    const std::string field = join(path, key);
    if (!read_entry_field(r, key, value, field, e))
      return *r.failure;
  }
  for (std::string_view name : required_entry_fields)
    if (!doc.contains(name)) {
      r.fail(join(path, name), "missing");
      return *r.failure;
    }
  return e;
}

expected<job> job_from_json(const json& doc) {
  reader r;
  if (!doc.is_object()) {
    r.expected_type("job", "object", doc);
    return *r.failure;
  }
  // Copying a value recurses: refuse deep data (an old document written
  // before the limits) before any copy.
  if (json_depth(doc) > document_json_limits.max_depth)
    return make_error(errc::too_deep,
                      "job: nesting deeper than "
                        + std::to_string(document_json_limits.max_depth));
  job j;
  for (const auto& [key, value] : doc.items()) {
    if (!read_job_field(r, key, value, j))
      return *r.failure;
  }
  if (j.task_slug && j.workflow_slug) {
    r.fail("workflowSlug",
           "a job has either taskSlug or workflowSlug, not both");
    return *r.failure;
  }
  if (!doc.contains("status"))
    j.status = derive_status(j);
  return j;
}

expected<job> job_from_text(std::string_view text, const json_limits& limits) {
  auto doc = parse_json_guarded(text, limits);
  if (!doc)
    return doc.error();
  return job_from_json(*doc);
}

} // namespace conveyor::model
