#pragma once

// RocksDB's diagnostic log (DATA/LOG) written by us instead of RocksDB.
//
// Why: RocksDB 7.8 writes its LOG through a WritableFileWriter. Once one
// append to it fails (ENOSPC on a full disk), the writer remembers the
// error, and the next log line trips `assert(sync_without_flush_called_)`
// in WritableFileWriter::AssertFalseAndGetStatusForPrevError. Debian's
// librocksdb is built with assertions, so the process aborts: the error
// handler logs on the first failed journal write, the no-space recovery
// thread logs every 5 s, and DB::Open logs on a restart on a full disk.
// This logger appends with plain write(2) and drops lines it cannot write.

#include <rocksdb/env.h>

#include <memory>
#include <string>

namespace conveyor::persistence {

/// A logger appending to `path` (created 0600). Never fails: lines that
/// cannot be written (full disk, unopenable file) are dropped.
std::shared_ptr<rocksdb::Logger> make_info_log(const std::string& path);

} // namespace conveyor::persistence
