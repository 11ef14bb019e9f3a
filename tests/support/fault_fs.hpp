#pragma once

// A test-only RocksDB FileSystem that knows which bytes an fsync made
// durable, so a test can simulate "the machine lost power now" against the
// real journal, and that can make fsyncs or appends of the write-ahead log
// fail on demand.
//
// Model of a power cut (what power_cut_copy keeps):
// - A file's durable length is its length when its last successful
//   Sync/Fsync started. Bytes appended while that sync ran may or may not be
//   covered, so they count as not durable. A file never synced keeps 0 bytes
//   (it survives as an empty file, see "directory" below).
// - RangeSync (sync_file_range) and Flush (write() to the OS) make nothing
//   durable: neither flushes the disk cache nor the file's metadata.
// - Only files opened through NewWritableFile / ReopenWritableFile /
//   ReuseWritableFile are tracked. Every other file of the directory is
//   copied whole: files written before this FileSystem existed, RocksDB's
//   info LOG (NewLogger), and files written behind RocksDB's back, like the
//   journal's conveyor.pid. RenameFile/LinkFile/DeleteFile carry the
//   tracking along (RocksDB writes CURRENT, IDENTITY and OPTIONS as a temp
//   file that it renames).
// - Directory fsync is not simulated: RocksDB fsyncs the DB directory after
//   creating a WAL or SST file, and we never drop an unsynced directory
//   entry, so a file's name always survives even if its bytes do not.
// - Optionally one file keeps a prefix of its unsynced tail too (the OS
//   wrote some dirty pages back before the cut). Real writeback can persist
//   pages out of order; a prefix is the common outcome for appends and the
//   one a log must tolerate (a torn last record). The file's unsynced
//   appends are listed, so a test can cut exactly at or inside each one.
//
// What RocksDB 7.8.3 was seen doing through it (the journal's options):
// - The WAL gets Sync (fdatasync), one per sync write and per SyncWAL,
//   never Fsync: DBOptions::use_fsync is false and SyncWAL honours it.
// - OPTIONS-*.dbtmp files always get Fsync (RocksDB ignores use_fsync for
//   them); the first open writes one per column family created.
// - Before flushing a memtable, RocksDB syncs the WAL it just closed (even
//   if its writes were not synced) and records that synced size in the
//   MANIFEST (track_and_verify_wals_in_manifest): a flush makes earlier
//   write()s durable as a side effect.
// - After a failed WAL append or sync, DB::SyncWAL does not return an error:
//   Debian's librocksdb is built with assertions and aborts the process
//   (WritableFileWriter: assert sync_without_flush_called_). The journal
//   never gets there because it refuses sync() once a write failed.
//
// Thread safety: every member may be called from any thread; the switches
// take effect on the next call that checks them.

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace conveyor::testing {

class fault_fs final : public rocksdb::FileSystemWrapper {
public:
  /// Sync-call counters (cumulative since construction).
  struct sync_counts {
    std::uint64_t wal_sync = 0;         // FSWritableFile::Sync on a *.log file
    std::uint64_t wal_fsync = 0;        // FSWritableFile::Fsync on a *.log file
    std::uint64_t other_sync = 0;       // Sync or Fsync of any other file
    std::uint64_t injected_syncs = 0;   // WAL syncs we failed on purpose
    std::uint64_t injected_appends = 0; // WAL appends we failed on purpose
  };

  /// Wraps `base` (the default POSIX file system unless given).
  explicit fault_fs(
    std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "ConveyorFaultFS"; }
  const char* Name() const override { return kClassName(); }

  // -- switches ---------------------------------------------------------------

  /// While on, Sync/Fsync of WAL files (*.log) return IOError("injected
  /// fsync failure") without syncing: their bytes stay in the file but do
  /// not become durable.
  void fail_syncs(bool on) { fail_syncs_.store(on); }

  /// While on, Append/PositionedAppend to WAL files return an IOError. With
  /// `torn`, the first half of the data is written before failing (a short
  /// write, as when the disk fills up mid-record); otherwise nothing is.
  /// With `no_space`, the error is IOStatus::NoSpace (what a full disk's
  /// ENOSPC becomes), which RocksDB treats as recoverable.
  void fail_appends(bool on, bool torn = false, bool no_space = false) {
    torn_appends_.store(torn);
    no_space_appends_.store(no_space);
    fail_appends_.store(on);
  }

  sync_counts counts() const;

  /// Bytes of tracked files under `dir` that a power cut now would lose.
  std::uint64_t unsynced_bytes(const std::string& dir) const;

  /// The unsynced tail of tracked file `path`: its durable length and where
  /// each later append ended (file offsets, ascending). For a WAL, RocksDB
  /// hands each DB write to the file as one append (WritableFileWriter
  /// flushes after every write, its buffer being far larger than our
  /// records), so these are the record boundaries. nullopt: untracked.
  struct unsynced {
    std::uint64_t durable = 0;
    std::vector<std::uint64_t> append_ends;
  };
  std::optional<unsynced> unsynced_tail(const std::string& path) const;

  /// A tracked file that keeps `length` bytes instead of only its durable
  /// ones (clamped to [durable, size]).
  struct partial_tail {
    std::string path;
    std::uint64_t length = 0;
  };

  /// Copies every regular file of `src_dir` (not recursive: a RocksDB
  /// directory is flat) into the existing `dst_dir` as a power cut now would
  /// leave it: tracked files keep their durable bytes (`tail.path` keeps
  /// `tail.length`); untracked ones are copied whole. Paths are compared
  /// lexically: spell `src_dir` as the journal's path. Call it while no
  /// write is in flight: a file that grows during the copy may be caught
  /// mid-append.
  void power_cut_copy(const std::string& src_dir, const std::string& dst_dir,
                      const std::optional<partial_tail>& tail = {}) const;

  // -- rocksdb::FileSystem ----------------------------------------------------

  rocksdb::IOStatus
  NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                  rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus
  ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                     std::unique_ptr<rocksdb::FSWritableFile>* result,
                     rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus
  ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                    const rocksdb::FileOptions& opts,
                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname,
                               const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst,
                             const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;

private:
  class file;        // the FSWritableFile wrapper, in fault_fs.cpp
  struct file_state; // what a tracked file has seen, in fault_fs.cpp

  static std::string normal(const std::string& path);
  std::shared_ptr<file_state> track(const std::string& fname,
                                    std::uint64_t size, std::uint64_t durable);
  std::shared_ptr<file_state> find(const std::string& fname) const;

  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> fail_appends_{false};
  std::atomic<bool> torn_appends_{false};
  std::atomic<bool> no_space_appends_{false};
  std::atomic<std::uint64_t> wal_sync_{0};
  std::atomic<std::uint64_t> wal_fsync_{0};
  std::atomic<std::uint64_t> other_sync_{0};
  std::atomic<std::uint64_t> injected_syncs_{0};
  std::atomic<std::uint64_t> injected_appends_{0};

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<file_state>> files_; // by normal path
};

} // namespace conveyor::testing
