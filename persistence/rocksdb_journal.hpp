#pragma once

// The RocksDB journal with the storage environment chosen by the caller.
// Production code uses open_rocksdb_journal() from journal.hpp (the default
// environment); tests pass an Env built on a fault-injecting FileSystem to
// simulate power loss and failing fsyncs against the real journal.

#include <rocksdb/env.h>

#include "persistence/journal.hpp"

namespace conveyor::persistence {

/// Like open_rocksdb_journal(options), with every file operation going
/// through `env` (not owned; must outlive the journal). nullptr: the default.
model::expected<std::unique_ptr<journal>>
open_rocksdb_journal(const journal_options& options, rocksdb::Env* env);

} // namespace conveyor::persistence
