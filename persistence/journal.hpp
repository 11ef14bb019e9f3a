#pragma once

// The journal: the only durable state of a node, behind a small abstract
// store interface.
//
// A store keeps jobs (a document plus the fields its indexes need), a few
// meta values and the idempotency index, and nothing else. Writes are
// whole-record operations, never storage keys, so a backend chooses its own
// layout: RocksDB keys (rocksdb_journal.cpp, FORMAT.md) or SQL rows. It owns
// no job semantics: callers build batches with the helpers in
// job_records.hpp. Every backend must pass the conformance suite in
// tests/persistence/journal_conformance_test.cpp.
//
// Two roles: a journal_writer (atomic batches, group commit: the journal
// actor overlaps one group's fsync with the next group's write) and a
// journal_reader (recovery at start, point reads and index seeks).
//
// Thread safety: every member function may be called from any thread.
// Writes are blocking (they may fsync): call them from a detached actor or a
// plain thread, never from a CAF scheduler thread. This header includes
// nothing from any storage library.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "model/durability.hpp"
#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::persistence {

using model::durability;

/// The fields of a job that a store indexes. `active` (not terminal): the
/// job is in its queue's ready index, and in the delayed index while it has
/// a wait_until.
struct indexed_job {
  model::job_id id = 0;
  std::string queue;
  std::int32_t priority = 0;
  std::optional<model::time_ms> wait_until;
  bool active = false;
};

/// Stores `document` as job `job.id` and moves its index entries from
/// `before` (absent: a new job). A new job with `idempotency_key` also
/// records key -> id; that entry outlives the job.
struct put_job {
  indexed_job job;
  std::string document; ///< encode_job() bytes, built by the caller
  std::optional<indexed_job> before;
  std::optional<std::string> idempotency_key;
};

/// Deletes job `before.id`'s document and index entries (not its
/// idempotency entry: a retried enqueue still finds the id).
struct erase_job {
  indexed_job before;
};

/// Sets a meta value; an absent value deletes the key.
struct put_meta {
  std::string key;
  std::optional<std::string> value;
};

using write_op = std::variant<put_job, erase_job, put_meta>;

/// Applied atomically: all ops or none.
struct write_batch {
  std::vector<write_op> ops;
  bool empty() const { return ops.empty(); }
};

/// What a node needs to resume after a restart.
struct recovered_state {
  /// Every non-terminal job, per queue, in processing order (priority
  /// descending, then id ascending). Leases of jobs that were running when
  /// the previous process stopped are already released.
  std::map<std::string, std::vector<model::job>> pending;
  /// The next job id to allocate (never reuses a deleted job's id).
  model::job_id next_id = 1;
  /// Queues paused by an operator (meta keys "paused/<queue>").
  std::vector<std::string> paused;
  /// Jobs (in `pending`, already released) that were running when the
  /// previous process stopped without closing the journal: a crash, kill -9
  /// or power loss. Empty after a clean stop, whose running jobs were
  /// stopped by the operator, not by themselves.
  std::vector<model::job_id> interrupted;
  /// False when the previous process stopped without closing the journal.
  bool previous_stop_clean = true;
};

/// The meta key that marks `queue` as paused (present = paused).
inline std::string paused_key(const std::string& queue) {
  return "paused/" + queue;
}

struct journal_options {
  std::string path;
  durability mode = durability::sync;
  /// After a full disk, how often a refused write may retry DB::Resume()
  /// (each try flushes memtables and switches logs, so not on every write).
  std::chrono::milliseconds resume_interval{250};
};

/// The write side: atomic batches and the fsync a group commit shares.
class journal_writer {
public:
  virtual ~journal_writer() = default;

  /// Applies `batches` as one atomic write (one fsync in sync mode). On OK,
  /// every batch is durable per the journal's durability mode. On error the
  /// batches are not acknowledged and the journal refuses further writes
  /// (except after errc::no_space, a full disk: writes resume once space is
  /// freed, see rocksdb_journal.cpp);
  /// like any write in flight at a crash, they may still be found after a
  /// restart (a failed fsync leaves its bytes in the log, and a reopen
  /// replays them), each batch whole or absent, never in part.
  virtual model::status commit(std::span<const write_batch> batches) = 0;

  /// Like commit, but returns without waiting for stable storage: the
  /// batches are applied (visible to reads) and survive a process crash, not
  /// a power cut, until sync() returns. Writes are applied in call order.
  virtual model::status write(std::span<const write_batch> batches) = 0;

  /// Makes every write() that returned before this call durable (one fsync
  /// of the log). May run concurrently with write() on another thread: that
  /// is what lets a group commit overlap one group's fsync with the next
  /// group's write.
  virtual model::status sync() = 0;

  virtual durability mode() const = 0;
};

/// The read side: recovery at start, then point reads and index seeks.
class journal_reader {
public:
  virtual ~journal_reader() = default;

  /// The stored document of `id`, or nullopt. Errors: storage, or a
  /// corruption report naming the record if it does not decode.
  virtual model::expected<std::optional<model::job>> load(model::job_id id) = 0;

  /// Visits stored documents in id order, starting after `after`, until
  /// `visit` returns false.
  virtual model::status
  scan_jobs(model::job_id after,
            const std::function<bool(const model::job&)>& visit) = 0;

  /// Ids of queue `queue`'s active jobs in processing order (priority
  /// descending, then id ascending), at most `limit`: one index seek.
  virtual model::expected<std::vector<model::job_id>>
  ready_ids(const std::string& queue, std::size_t limit) = 0;

  /// Ids of active jobs whose wait_until is at or before `now`, earliest
  /// first (ties by id), at most `limit`: one index seek.
  virtual model::expected<std::vector<model::job_id>>
  due_ids(model::time_ms now, std::size_t limit) = 0;

  virtual model::expected<std::optional<std::string>>
  get_meta(const std::string& key) = 0;

  virtual model::expected<std::optional<model::job_id>>
  find_idempotency_key(const std::string& key) = 0;

  /// Rebuilds what recovery needs from the indexes (see recovered_state).
  virtual model::expected<recovered_state> recover(model::time_ms now) = 0;
};

/// A store: both roles on one storage.
class journal : public journal_writer, public journal_reader {};

/// Opens (creating if missing) a RocksDB journal. Errors: storage with a
/// message saying what went wrong, e.g. "data directory 'x' is locked by
/// another process (pid 123)" or a corruption report naming the file.
model::expected<std::unique_ptr<journal>>
open_rocksdb_journal(const journal_options& options);

} // namespace conveyor::persistence
