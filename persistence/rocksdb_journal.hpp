#pragma once

// The RocksDB journal with the storage environment chosen by the caller.
// Production code uses open_rocksdb_journal() from journal.hpp (the default
// environment); tests pass an Env built on a fault-injecting FileSystem to
// simulate power loss and failing fsyncs against the real journal, and plant
// damaged records with write_raw.

#include <rocksdb/env.h>

#include "persistence/journal.hpp"
#include "persistence/key_codec.hpp"

namespace conveyor::persistence {

/// Like open_rocksdb_journal(options), with every file operation going
/// through `env` (not owned; must outlive the journal). nullptr: the default.
model::expected<std::unique_ptr<journal>>
open_rocksdb_journal(const journal_options& options, rocksdb::Env* env);

/// One raw key write; an absent value deletes the key.
struct raw_write {
  column cf = column::jobs;
  std::string key;
  std::optional<std::string> value;
};

/// Writes raw key bytes to a RocksDB journal, bypassing the record
/// encoders, as one synced batch: tests plant damaged records with it.
/// invalid_input if `j` is not a RocksDB journal.
model::status write_raw(journal& j, std::span<const raw_write> ops);

} // namespace conveyor::persistence
