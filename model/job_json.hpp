#pragma once

// JSON with Payload's field names: id, input, taskSlug, workflowSlug, queue,
// waitUntil, completedAt, totalTried, hasError, error, log, processingUntil,
// processingToken, concurrencyKey, meta, createdAt, updatedAt, plus our
// status, priority and idempotencyKey. Dates are ISO 8601 strings; the id is
// a decimal string. Absent optionals are omitted.

#include <string_view>

#include "model/error.hpp"
#include "model/job.hpp"
#include "model/json_guard.hpp"

namespace conveyor::model {

/// The document as users see it: all stored fields plus the derived
/// `taskStatus`; a pending job's status is refined with `now` (queued vs
/// waiting).
json to_json(const job& j, time_ms now);

/// The stored form: every field, no taskStatus.
json to_document(const job& j);

/// Inverse of to_document / to_json (taskStatus is ignored). Wrong types are
/// invalid_input errors naming the field ("log[2].taskID: expected string").
/// A document deeper than document_json_limits is too_deep (checked without
/// recursion before anything is copied).
expected<job> job_from_json(const json& doc);

/// Guarded parse (json_guard.hpp) followed by job_from_json.
expected<job> job_from_text(std::string_view text,
                            const json_limits& limits = document_json_limits);

json to_json(const log_entry& e);
expected<log_entry> log_entry_from_json(const json& doc,
                                        const std::string& path = "log");

} // namespace conveyor::model
