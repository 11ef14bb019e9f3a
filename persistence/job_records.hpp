#pragma once

// Job transitions as journal writes: the document and its index keys always
// change in the same batch (FORMAT.md lists the invariants).

#include <string>
#include <string_view>

#include "model/error.hpp"
#include "model/job.hpp"
#include "persistence/journal.hpp"

namespace conveyor::persistence {

/// The stored bytes of a job document (compact JSON of to_document).
std::string encode_job(const model::job& j);

/// Inverse of encode_job. invalid_input if the bytes are not a document.
model::expected<model::job> decode_job(std::string_view bytes);

/// Writes `after`, replacing `before` (nullptr for a new job): the document,
/// the ready key while the job is not terminal, the delayed key while it has
/// a wait_until, and the idempotency index entry of a new job
/// (`idempotency_index`, see key_codec.hpp; empty: the job's key as is).
void add_job_write(write_batch& batch, const model::job& after,
                   const model::job* before,
                   std::string_view idempotency_index = {});

/// Deletes the document of `before` and its index keys (delete on complete).
/// The idempotency key stays, so a retried enqueue still finds the id.
void add_job_erase(write_batch& batch, const model::job& before);

} // namespace conveyor::persistence
