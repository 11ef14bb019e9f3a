#pragma once

// Job transitions as journal writes, for any backend: a job's document and
// its index fields always change in the same op (FORMAT.md lists the
// invariants of the RocksDB layout).

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

/// The fields of `j` that a store indexes.
indexed_job index_fields(const model::job& j);

/// The idempotency index entry of a client's key: it counts within one
/// queue and one principal (u16 BE length + queue, u16 BE length +
/// principal, key), so two tenants never see or take each other's keys.
std::string idempotency_index(std::string_view queue,
                              std::string_view principal, std::string_view key);

/// Writes `after`, replacing `before` (nullptr for a new job): the document,
/// its ready entry while the job is not terminal, its delayed entry while it
/// has a wait_until, and the idempotency entry of a new job
/// (`idempotency_index`; empty: the job's key as is).
void add_job_write(write_batch& batch, const model::job& after,
                   const model::job* before,
                   std::string_view idempotency_index = {});

/// Deletes the document of `before` and its index keys (delete on complete).
/// The idempotency key stays, so a retried enqueue still finds the id.
void add_job_erase(write_batch& batch, const model::job& before);

/// Sets (or, with no value, deletes) a meta key.
void add_meta_write(write_batch& batch, std::string key,
                    std::optional<std::string> value);

} // namespace conveyor::persistence
