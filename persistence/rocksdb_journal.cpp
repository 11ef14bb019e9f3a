// The RocksDB journal. Layout and invariants: FORMAT.md.
// Long file: the one class that owns RocksDB (open, recovery, commits,
// no-space handling); its pieces share the database handles.

#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <variant>

#include "model/transitions.hpp"
#include "persistence/info_log.hpp"
#include "persistence/job_records.hpp"
#include "persistence/journal.hpp"
#include "persistence/key_codec.hpp"
#include "persistence/rocksdb_journal.hpp"

namespace conveyor::persistence {

namespace {

using model::errc;

constexpr std::array<const char*, 5> column_names{"jobs", "ready", "delayed",
                                                  "meta", "idempotency"};

constexpr const char* next_id_key = "next_id";
constexpr const char* format_key = "format_version";
// Present while a process has the journal open; removed on a clean close.
// Found at open: the previous process stopped without closing (crash,
// kill -9, power loss), so the jobs it was running were interrupted.
constexpr const char* open_marker_key = "open";
constexpr const char* format_version = "1";

// A full disk. Writes below this much free space are refused before they
// reach RocksDB: a WAL append that fails leaves RocksDB's log writer in a
// state where the next fsync of that log aborts the process (a Debian build
// with assertions), and flushes need room too.
constexpr std::uint64_t min_free_bytes = 1u << 20;
// Below this much free space a write and an fsync never run at the same
// time, so no fsync can start on a log whose append just failed.
constexpr std::uint64_t careful_free_bytes = 64u << 20;

model::error storage_error(const std::string& what, const rocksdb::Status& s) {
  if (s.IsNoSpace())
    return model::make_error(errc::no_space,
                             what + ": no space left on device (" + s.ToString()
                               + "); writes resume once space is freed");
  return model::make_error(errc::storage, what + ": " + s.ToString());
}

/// A record that cannot be decoded: reported with its column and key (hex),
/// never a crash and never silently skipped (FORMAT.md, Recovery).
model::error corrupt(std::string_view column, std::string_view key,
                     const std::string& what) {
  return model::make_error(errc::storage, "corrupt record in column '"
                                            + std::string(column) + "' at key "
                                            + hex(key) + ": " + what);
}

/// Free bytes for an unprivileged writer on the device holding `path`;
/// nullopt if unknown (then nothing is refused up front).
std::optional<std::uint64_t> free_bytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0)
    return std::nullopt;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

model::error no_space_error(std::uint64_t free) {
  return model::make_error(errc::no_space,
                           "no space left on the journal's device ("
                             + std::to_string(free) + " bytes free, "
                             + std::to_string(min_free_bytes)
                             + " needed); writes resume once space is freed");
}

// RocksDB would start its own recovery from a no-space error (a thread that
// waits for 64 MiB free, then flushes) while the journal keeps writing and
// syncing. The journal resumes the database itself instead, between its own
// writes (DB::Resume), so recovery never races a write or an fsync.
class manual_recovery final : public rocksdb::EventListener {
public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

std::string read_pid_file(const std::string& dir) {
  std::ifstream in{dir + "/conveyor.pid"};
  std::string pid;
  in >> pid;
  return pid;
}

class rocksdb_journal final : public journal {
public:
  rocksdb_journal(rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*> cfs,
                  const journal_options& options)
      : db_(db), cfs_(std::move(cfs)), mode_(options.mode), path_(options.path),
        resume_interval_(options.resume_interval) {
    write_options_.sync = mode_ == durability::sync;
  }

  ~rocksdb_journal() override {
    // A clean close leaves no log to replay: the next start opens at once.
    if (failure_.empty() && !no_space_) {
      db_->Delete(rocksdb::WriteOptions{}, cf(column::meta), open_marker_key)
        .PermitUncheckedError();
      rocksdb::FlushOptions fo;
      std::vector<rocksdb::ColumnFamilyHandle*> all(cfs_.begin(), cfs_.end());
      db_->Flush(fo, all).PermitUncheckedError();
    }
    for (auto* h : cfs_)
      db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }

  model::status init(const std::string& path) {
    std::string value;
    auto s = db_->Get({}, cf(column::meta), format_key, &value);
    if (s.IsNotFound()) {
      s = db_->Put(rocksdb::WriteOptions{}, cf(column::meta), format_key,
                   format_version);
      if (!s.ok())
        return storage_error("cannot write format version", s);
    } else if (!s.ok()) {
      return storage_error("cannot read format version", s);
    } else if (value != format_version) {
      return model::make_error(
        errc::storage, "data directory '" + path + "' has format version "
                         + value + ", expected " + format_version);
    }
    s = db_->Get({}, cf(column::meta), open_marker_key, &value);
    if (!s.ok() && !s.IsNotFound())
      return storage_error("cannot read meta key open", s);
    previous_stop_clean_ = s.IsNotFound();
    // No fsync needed: a job can only be "running" on disk after a later,
    // synced write, which makes this one durable too (the log is ordered).
    s = db_->Put(rocksdb::WriteOptions{}, cf(column::meta), open_marker_key,
                 std::to_string(::getpid()));
    if (!s.ok())
      return storage_error("cannot write meta key open", s);
    auto next = compute_next_id();
    if (!next)
      return next.error();
    max_id_ = *next - 1;
    std::ofstream{path + "/conveyor.pid", std::ios::trunc} << ::getpid()
                                                           << '\n';
    return model::ok();
  }

  model::status commit(std::span<const write_batch> batches) override {
    return apply(batches, write_options_);
  }

  model::status write(std::span<const write_batch> batches) override {
    rocksdb::WriteOptions wo;
    wo.sync = false;
    return apply(batches, wo);
  }

  model::status sync() override {
    if (mode_ == durability::async)
      return model::ok();
    // Held across SyncWAL: apply() takes it too when the disk is nearly
    // full, so an fsync never starts on a log whose append failed.
    std::lock_guard sync_guard{sync_mutex_};
    {
      // After a failed fsync the kernel may have dropped the dirty pages, so
      // a later fsync that succeeds proves nothing: stay failed.
      std::lock_guard guard{write_mutex_};
      if (!failure_.empty())
        return model::make_error(errc::storage,
                                 "journal is read-only after an earlier "
                                 "failure: "
                                   + failure_);
      // Groups written before a no-space error are not acknowledged (their
      // log cannot be synced); DB::Resume() flushes them to table files.
      if (no_space_)
        return model::make_error(errc::no_space,
                                 "journal sync skipped: " + *no_space_);
    }
    auto s = db_->SyncWAL();
    if (!s.ok()) {
      std::lock_guard guard{write_mutex_};
      failure_ = s.ToString();
      // Even ENOSPC: after a failed fsync the kernel may have dropped the
      // dirty pages, so this is never the recoverable no-space case.
      return model::make_error(errc::storage,
                               "journal sync failed: " + s.ToString());
    }
    return model::ok();
  }

  model::status apply(std::span<const write_batch> batches,
                      const rocksdb::WriteOptions& wo) {
    return apply_with(wo, [&](rocksdb::WriteBatch& wb, model::job_id& max_id) {
      for (const auto& batch : batches)
        for (const auto& op : batch.ops)
          std::visit([&](const auto& o) { add(wb, o, max_id); }, op);
    });
  }

  model::status write_raw(std::span<const raw_write> ops) {
    return apply_with(write_options_,
                      [&](rocksdb::WriteBatch& wb, model::job_id&) {
                        for (const auto& op : ops)
                          if (op.value)
                            wb.Put(cf(op.cf), op.key, *op.value);
                          else
                            wb.Delete(cf(op.cf), op.key);
                      });
  }

  /// One atomic RocksDB write of what `fill` adds (it may raise the id
  /// high-water mark), with the full-disk and failure rules of commit().
  template <class Fill>
  model::status apply_with(const rocksdb::WriteOptions& wo, Fill&& fill) {
    auto free = free_bytes(path_);
    if (free && *free < min_free_bytes)
      return no_space_error(*free);
    // Lock order: sync_mutex_, then write_mutex_. Nearly full, or
    // recovering from a full disk: no fsync may run meanwhile.
    std::unique_lock<std::mutex> sync_guard;
    if ((free && *free < careful_free_bytes) || recovering_.load())
      sync_guard = std::unique_lock{sync_mutex_};
    std::lock_guard guard{write_mutex_};
    if (!failure_.empty())
      return model::make_error(errc::storage,
                               "journal is read-only after an earlier write "
                               "failure: "
                                 + failure_);
    if (no_space_) {
      if (!sync_guard.owns_lock())
        return model::make_error(errc::no_space,
                                 "journal write refused: " + *no_space_);
      if (auto resumed = resume(); !resumed)
        return resumed;
    }
    rocksdb::WriteBatch wb;
    auto max_id = max_id_;
    fill(wb, max_id);
    if (max_id > max_id_) {
      // Persist the high-water mark so ids of deleted jobs are never reused.
      std::string next;
      append_u64(next, max_id + 1);
      wb.Put(cf(column::meta), next_id_key, next);
    }
    auto s = db_->Write(wo, &wb);
    if (!s.ok()) {
      // A full disk is recoverable (DB::Resume once space is freed): the
      // write was not applied and nothing acknowledged depends on it. Any
      // other write error may have lost bytes acknowledged earlier: stay
      // read-only.
      if (s.IsNoSpace()) {
        no_space_ = s.ToString();
        recovering_.store(true);
        last_resume_ = std::chrono::steady_clock::now();
      } else {
        failure_ = s.ToString();
      }
      return storage_error("journal write failed", s);
    }
    max_id_ = max_id;
    return model::ok();
  }

  model::expected<std::optional<model::job>> load(model::job_id id) override {
    std::string bytes;
    auto s = db_->Get({}, cf(column::jobs), job_key(id), &bytes);
    if (s.IsNotFound())
      return std::optional<model::job>{};
    if (!s.ok())
      return storage_error("cannot read job " + std::to_string(id), s);
    auto j = decode_job(bytes);
    if (!j)
      return corrupt("jobs", job_key(id), j.error().message);
    return std::optional<model::job>{std::move(*j)};
  }

  model::status
  scan_jobs(model::job_id after,
            const std::function<bool(const model::job&)>& visit) override {
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator({}, cf(column::jobs))};
    for (it->Seek(job_key(after + 1)); it->Valid(); it->Next()) {
      auto j = decode_job(view(it->value()));
      if (!j)
        return corrupt("jobs", view(it->key()), j.error().message);
      if (!visit(*j))
        break;
    }
    if (!it->status().ok())
      return storage_error("cannot scan jobs", it->status());
    return model::ok();
  }

  model::expected<std::vector<model::job_id>>
  ready_ids(const std::string& queue, std::size_t limit) override {
    std::vector<model::job_id> ids;
    auto prefix = ready_prefix(queue);
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator({}, cf(column::ready))};
    for (it->Seek(prefix); it->Valid() && ids.size() < limit; it->Next()) {
      if (!it->key().starts_with(prefix))
        break;
      auto id = ready_key_id(view(it->key()));
      if (!id)
        return corrupt("ready", view(it->key()), "not a ready key");
      ids.push_back(*id);
    }
    if (!it->status().ok())
      return storage_error("cannot read ready index", it->status());
    return ids;
  }

  model::expected<std::vector<model::job_id>>
  due_ids(model::time_ms now, std::size_t limit) override {
    std::vector<model::job_id> ids;
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator({}, cf(column::delayed))};
    for (it->SeekToFirst(); it->Valid() && ids.size() < limit; it->Next()) {
      auto key = view(it->key());
      auto due = delayed_key_time(key);
      auto id = delayed_key_id(key);
      if (!due || !id)
        return corrupt("delayed", key, "not a delayed key (16 bytes)");
      if (*due > now)
        break;
      ids.push_back(*id);
    }
    if (!it->status().ok())
      return storage_error("cannot read delayed index", it->status());
    return ids;
  }

  model::expected<std::optional<std::string>>
  get_meta(const std::string& key) override {
    std::string value;
    auto s = db_->Get({}, cf(column::meta), key, &value);
    if (s.IsNotFound())
      return std::optional<std::string>{};
    if (!s.ok())
      return storage_error("cannot read meta key " + key, s);
    return std::optional<std::string>{std::move(value)};
  }

  model::expected<std::optional<model::job_id>>
  find_idempotency_key(const std::string& key) override {
    std::string value;
    auto s = db_->Get({}, cf(column::idempotency), key, &value);
    if (s.IsNotFound())
      return std::optional<model::job_id>{};
    if (!s.ok())
      return storage_error("cannot read idempotency key", s);
    if (value.size() != 8)
      return corrupt("idempotency", key, "value is not an 8-byte job id");
    return std::optional<model::job_id>{read_u64(value)};
  }

  model::expected<recovered_state> recover(model::time_ms now) override {
    recovered_state state;
    state.previous_stop_clean = previous_stop_clean_;
    auto next = compute_next_id();
    if (!next)
      return next.error();
    state.next_id = *next;
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator({}, cf(column::ready))};
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto key = view(it->key());
      auto queue_name = ready_key_queue(key);
      auto id = ready_key_id(key);
      if (!queue_name || !id)
        return corrupt("ready", key, "not a ready key");
      auto queue = std::string{*queue_name};
      auto j = load(*id); // a document that does not decode names its key
      if (!j)
        return j.error();
      if (!*j)
        return model::make_error(errc::storage,
                                 "ready index names job " + std::to_string(*id)
                                   + " but its document is missing");
      auto doc = std::move(**j);
      // The process that held the lease is gone: claimable again, nothing
      // consumed (docs/semantics.md §13).
      if (doc.status == model::job_status::running || doc.processing_token) {
        if (!previous_stop_clean_)
          state.interrupted.push_back(doc.id);
        doc = model::release(std::move(doc), now);
      }
      state.pending[queue].push_back(std::move(doc));
    }
    if (!it->status().ok())
      return storage_error("cannot read ready index", it->status());
    std::unique_ptr<rocksdb::Iterator> meta{
      db_->NewIterator({}, cf(column::meta))};
    const std::string prefix = "paused/";
    for (meta->Seek(prefix); meta->Valid() && meta->key().starts_with(prefix);
         meta->Next())
      state.paused.emplace_back(view(meta->key()).substr(prefix.size()));
    if (!meta->status().ok())
      return storage_error("cannot read meta", meta->status());
    return state;
  }

  durability mode() const override { return mode_; }

private:
  /// After a no-space error: at most every resume_interval, DB::Resume()
  /// (flushes the memtables to table files, switches to a new log).
  /// Caller holds sync_mutex_ and write_mutex_.
  model::status resume() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_resume_ < resume_interval_)
      return model::make_error(errc::no_space,
                               "journal write refused: " + *no_space_
                                 + "; writes resume once space is freed");
    last_resume_ = now;
    auto s = db_->Resume();
    if (!s.ok())
      return storage_error("journal still cannot write (" + *no_space_ + ")",
                           s.IsBusy() || s.IsNoSpace()
                             ? rocksdb::Status::NoSpace(s.ToString())
                             : s);
    no_space_.reset();
    recovering_.store(false);
    return model::ok();
  }

  // The RocksDB layout of each store op (FORMAT.md): a job's document and
  // its ready / delayed keys change in one batch.
  void add(rocksdb::WriteBatch& wb, const put_job& op, model::job_id& max_id) {
    const auto& after = op.job;
    wb.Put(cf(column::jobs), job_key(after.id), op.document);
    max_id = std::max(max_id, after.id);
    if (op.before && op.before->active) {
      const auto& before = *op.before;
      bool same_ready = after.active && before.queue == after.queue
                        && before.priority == after.priority;
      if (!same_ready)
        wb.Delete(cf(column::ready),
                  ready_key(before.queue, before.priority, before.id));
      bool same_delayed = after.active && before.wait_until == after.wait_until;
      if (before.wait_until && !same_delayed)
        wb.Delete(cf(column::delayed),
                  delayed_key(*before.wait_until, before.id));
    }
    if (after.active) {
      std::string due;
      if (after.wait_until)
        append_u64(due, static_cast<std::uint64_t>(*after.wait_until));
      wb.Put(cf(column::ready),
             ready_key(after.queue, after.priority, after.id), due);
      if (after.wait_until)
        wb.Put(cf(column::delayed), delayed_key(*after.wait_until, after.id),
               after.queue);
    }
    if (op.idempotency_key) {
      std::string id;
      append_u64(id, after.id);
      wb.Put(cf(column::idempotency), *op.idempotency_key, id);
    }
  }

  void add(rocksdb::WriteBatch& wb, const erase_job& op, model::job_id&) {
    const auto& before = op.before;
    wb.Delete(cf(column::jobs), job_key(before.id));
    if (!before.active)
      return;
    wb.Delete(cf(column::ready),
              ready_key(before.queue, before.priority, before.id));
    if (before.wait_until)
      wb.Delete(cf(column::delayed),
                delayed_key(*before.wait_until, before.id));
  }

  void add(rocksdb::WriteBatch& wb, const put_meta& op, model::job_id&) {
    if (op.value)
      wb.Put(cf(column::meta), op.key, *op.value);
    else
      wb.Delete(cf(column::meta), op.key);
  }

  static std::string_view view(const rocksdb::Slice& s) {
    return {s.data(), s.size()};
  }

  rocksdb::ColumnFamilyHandle* cf(column c) const {
    // cfs_[0] is RocksDB's default family, which we do not use.
    return cfs_[static_cast<std::size_t>(c) + 1];
  }

  model::expected<model::job_id> compute_next_id() {
    model::job_id next = 1;
    auto meta = get_meta(next_id_key);
    if (!meta)
      return meta.error();
    if (*meta && (*meta)->size() == 8)
      next = *read_u64(**meta);
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator({}, cf(column::jobs))};
    it->SeekToLast();
    if (it->Valid()) {
      auto last = job_key_id(view(it->key()));
      if (!last)
        return corrupt("jobs", view(it->key()), "not an 8-byte job id");
      next = std::max(next, *last + 1);
    }
    if (!it->status().ok())
      return storage_error("cannot read jobs", it->status());
    return next;
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  durability mode_;
  std::string path_;
  rocksdb::WriteOptions write_options_;
  std::mutex write_mutex_; // serialises commit(); reads need no lock
  std::mutex sync_mutex_;  // see sync(); taken before write_mutex_
  std::optional<std::string> no_space_;               // guarded by write_mutex_
  std::atomic<bool> recovering_{false};               // no_space_ is set
  std::chrono::steady_clock::time_point last_resume_; // write_mutex_
  std::chrono::milliseconds resume_interval_;
  model::job_id max_id_ = 0;        // guarded by write_mutex_
  bool previous_stop_clean_ = true; // set once by init()
  std::string failure_;             // guarded by write_mutex_
};

} // namespace

model::status write_raw(journal& j, std::span<const raw_write> ops) {
  auto* rocks = dynamic_cast<rocksdb_journal*>(&j);
  if (!rocks)
    return model::make_error(errc::invalid_input, "not a RocksDB journal");
  return rocks->write_raw(ops);
}

model::expected<std::unique_ptr<journal>>
open_rocksdb_journal(const journal_options& options) {
  return open_rocksdb_journal(options, nullptr);
}

model::expected<std::unique_ptr<journal>>
open_rocksdb_journal(const journal_options& options, rocksdb::Env* env) {
  rocksdb::Options opts;
  if (env)
    opts.env = env;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  // Refuse to open on mid-log corruption, tolerate only a torn tail: the
  // default (point-in-time) silently drops acknowledged writes after a bad
  // record.
  opts.wal_recovery_mode =
    rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  opts.paranoid_checks = true;
  opts.track_and_verify_wals_in_manifest = true;
  opts.max_background_jobs = 2;
  // RocksDB's own LOG writer aborts the process after a failed append (see
  // info_log.hpp); and the journal, not RocksDB, recovers from a full disk.
  opts.info_log = make_info_log(options.path + "/LOG");
  opts.listeners.push_back(std::make_shared<manual_recovery>());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors{
    {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{}}};
  for (const auto* name : column_names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(opts, options.path, descriptors, &handles, &raw);
  if (!s.ok()) {
    auto text = s.ToString();
    if (s.IsIOError() && text.find("lock") != std::string::npos) {
      auto pid = read_pid_file(options.path);
      return model::make_error(
        errc::storage,
        "data directory '" + options.path + "' is locked by another process"
          + (pid.empty() ? "" : " (pid " + pid + ")") + ": " + text);
    }
    if (s.IsNoSpace())
      return model::make_error(errc::no_space,
                               "cannot open data directory '" + options.path
                                 + "': no space left on device; free some "
                                   "space and start again ("
                                 + text + ")");
    return model::make_error(errc::storage, "cannot open data directory '"
                                              + options.path + "': " + text);
  }
  auto j = std::make_unique<rocksdb_journal>(raw, std::move(handles), options);
  if (auto st = j->init(options.path); !st)
    return st.error();
  return std::unique_ptr<journal>{std::move(j)};
}

} // namespace conveyor::persistence
