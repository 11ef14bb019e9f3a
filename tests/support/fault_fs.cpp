#include "support/fault_fs.hpp"

#include <algorithm>
#include <filesystem>

namespace conveyor::testing {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

bool is_wal(const std::string& fname) {
  return fname.ends_with(".log");
}

} // namespace

// Shared by every name and open handle of one file (a rename or hard link
// keeps it), so the tracking follows the inode, not the name.
struct fault_fs::file_state {
  file_state(std::uint64_t sz, std::uint64_t dur) : size(sz), durable(dur) {}

  void appended(std::uint64_t end) {
    std::lock_guard guard{mutex};
    size = std::max(size, end);
    appends.push_back(size);
  }
  void synced(std::uint64_t covered) {
    std::lock_guard guard{mutex};
    durable = std::max(durable, covered);
    std::erase_if(appends, [&](auto end) { return end <= durable; });
  }
  void resized(std::uint64_t to) { // truncated, or found at this size
    std::lock_guard guard{mutex};
    size = to;
    durable = std::min(durable, to);
    std::erase_if(appends, [&](auto end) { return end > to; });
  }

  mutable std::mutex mutex;
  std::uint64_t size;                 // bytes written through our handles
  std::uint64_t durable;              // size when the last sync started
  std::vector<std::uint64_t> appends; // ends of the appends past `durable`
};

// Every writable file RocksDB opens through us. Counts the bytes it writes
// and records, on a successful sync, how many of them are durable.
class fault_fs::file final : public rocksdb::FSWritableFileOwnerWrapper {
public:
  file(std::unique_ptr<rocksdb::FSWritableFile> target, fault_fs& fs,
       std::shared_ptr<file_state> state, bool wal)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs),
        state_(std::move(state)), wal_(wal) {}

  IOStatus Append(const Slice& data, const IOOptions& opts,
                  IODebugContext* dbg) override {
    if (auto s = injected_append(data, opts, dbg); !s.ok())
      return s;
    auto s = FSWritableFileOwnerWrapper::Append(data, opts, dbg);
    if (s.ok())
      state_->appended(end_after(data));
    return s;
  }

  IOStatus Append(const Slice& data, const IOOptions& opts,
                  const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    if (auto s = injected_append(data, opts, dbg); !s.ok())
      return s;
    auto s = FSWritableFileOwnerWrapper::Append(data, opts, info, dbg);
    if (s.ok())
      state_->appended(end_after(data));
    return s;
  }

  // Only used with direct I/O (which the journal does not enable); tracked
  // anyway so that turning it on does not silently break the model.
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& opts,
                            IODebugContext* dbg) override {
    if (auto s = injected_append(data, opts, dbg); !s.ok())
      return s;
    auto s =
      FSWritableFileOwnerWrapper::PositionedAppend(data, offset, opts, dbg);
    if (s.ok())
      state_->appended(offset + data.size());
    return s;
  }

  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& opts,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (auto s = injected_append(data, opts, dbg); !s.ok())
      return s;
    auto s = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, opts,
                                                          info, dbg);
    if (s.ok())
      state_->appended(offset + data.size());
    return s;
  }

  IOStatus Truncate(uint64_t size, const IOOptions& opts,
                    IODebugContext* dbg) override {
    auto s = FSWritableFileOwnerWrapper::Truncate(size, opts, dbg);
    if (s.ok())
      state_->resized(size);
    return s;
  }

  IOStatus Sync(const IOOptions& opts, IODebugContext* dbg) override {
    return sync(false, opts, dbg);
  }

  IOStatus Fsync(const IOOptions& opts, IODebugContext* dbg) override {
    return sync(true, opts, dbg);
  }

  // sync_file_range(2) starts writeback but flushes neither the disk cache
  // nor the file size: it makes nothing durable, so it does not move
  // `durable` (RocksDB uses it for bytes_per_sync on SST files).
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& opts,
                     IODebugContext* dbg) override {
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, opts, dbg);
  }

  // close(2) does not fsync either: a file closed unsynced stays unsynced.
  IOStatus Close(const IOOptions& opts, IODebugContext* dbg) override {
    return FSWritableFileOwnerWrapper::Close(opts, dbg);
  }

private:
  // Appends of one file are serialised by RocksDB (one writer per file).
  std::uint64_t end_after(const Slice& data) const {
    std::lock_guard guard{state_->mutex};
    return state_->size + data.size();
  }

  IOStatus injected_append(const Slice& data, const IOOptions& opts,
                           IODebugContext* dbg) {
    if (!wal_ || !fs_.fail_appends_.load())
      return IOStatus::OK();
    ++fs_.injected_appends_;
    if (fs_.torn_appends_.load()) {
      Slice half{data.data(), data.size() / 2};
      if (FSWritableFileOwnerWrapper::Append(half, opts, dbg).ok())
        state_->appended(end_after(half));
    }
    if (fs_.no_space_appends_.load())
      return IOStatus::NoSpace(
        "injected append failure: no space left on device");
    return IOStatus::IOError("injected append failure");
  }

  IOStatus sync(bool fsync, const IOOptions& opts, IODebugContext* dbg) {
    ++(wal_ ? (fsync ? fs_.wal_fsync_ : fs_.wal_sync_) : fs_.other_sync_);
    if (wal_ && fs_.fail_syncs_.load()) {
      ++fs_.injected_syncs_;
      return IOStatus::IOError("injected fsync failure");
    }
    // Read the size before syncing: bytes appended by another thread while
    // the fsync runs (SyncWAL overlaps writes) may miss it.
    std::uint64_t covered = 0;
    {
      std::lock_guard guard{state_->mutex};
      covered = state_->size;
    }
    auto s = fsync ? FSWritableFileOwnerWrapper::Fsync(opts, dbg)
                   : FSWritableFileOwnerWrapper::Sync(opts, dbg);
    if (s.ok())
      state_->synced(covered);
    return s;
  }

  fault_fs& fs_; // outlives its files: the Env owning it outlives the DB
  std::shared_ptr<file_state> state_;
  bool wal_;
};

fault_fs::fault_fs(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(base) {}

std::string fault_fs::normal(const std::string& path) {
  return std::filesystem::path{path}.lexically_normal().string();
}

std::shared_ptr<fault_fs::file_state> fault_fs::track(const std::string& fname,
                                                      std::uint64_t size,
                                                      std::uint64_t durable) {
  auto st = std::make_shared<file_state>(size, durable);
  std::lock_guard guard{mutex_};
  files_[normal(fname)] = st;
  return st;
}

std::shared_ptr<fault_fs::file_state>
fault_fs::find(const std::string& fname) const {
  std::lock_guard guard{mutex_};
  auto it = files_.find(normal(fname));
  return it == files_.end() ? nullptr : it->second;
}

fault_fs::sync_counts fault_fs::counts() const {
  return {wal_sync_.load(), wal_fsync_.load(), other_sync_.load(),
          injected_syncs_.load(), injected_appends_.load()};
}

std::uint64_t fault_fs::unsynced_bytes(const std::string& dir) const {
  auto prefix = normal(dir + "/");
  std::uint64_t total = 0;
  std::lock_guard guard{mutex_};
  for (const auto& [name, st] : files_) {
    std::lock_guard file_guard{st->mutex};
    if (name.starts_with(prefix) && st->size > st->durable)
      total += st->size - st->durable;
  }
  return total;
}

std::optional<fault_fs::unsynced>
fault_fs::unsynced_tail(const std::string& path) const {
  auto st = find(path);
  if (!st)
    return std::nullopt;
  std::lock_guard guard{st->mutex};
  return unsynced{st->durable, st->appends};
}

void fault_fs::power_cut_copy(const std::string& src_dir,
                              const std::string& dst_dir,
                              const std::optional<partial_tail>& tail) const {
  namespace stdfs = std::filesystem;
  for (const auto& entry : stdfs::directory_iterator{src_dir}) {
    if (!entry.is_regular_file())
      continue;
    auto to = stdfs::path{dst_dir} / entry.path().filename();
    stdfs::copy_file(entry.path(), to, stdfs::copy_options::overwrite_existing);
    auto st = find(entry.path().string());
    if (!st)
      continue; // not ours: whole (see the header)
    // The disk is the truth for what exists; our counts only say how much
    // of it is durable.
    auto size = stdfs::file_size(to);
    std::uint64_t keep = 0;
    {
      std::lock_guard guard{st->mutex};
      keep = std::min<std::uint64_t>(st->durable, size);
    }
    if (tail && normal(tail->path) == normal(entry.path().string()))
      keep = std::clamp<std::uint64_t>(tail->length, keep, size);
    stdfs::resize_file(to, keep);
  }
}

rocksdb::IOStatus fault_fs::NewWritableFile(
  const std::string& fname, const rocksdb::FileOptions& opts,
  std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  auto s = target()->NewWritableFile(fname, opts, result, dbg);
  if (s.ok()) // creates or truncates: nothing of it is durable yet
    *result = std::make_unique<file>(std::move(*result), *this,
                                     track(fname, 0, 0), is_wal(fname));
  return s;
}

rocksdb::IOStatus fault_fs::ReopenWritableFile(
  const std::string& fname, const rocksdb::FileOptions& opts,
  std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  auto s = target()->ReopenWritableFile(fname, opts, result, dbg);
  if (!s.ok())
    return s;
  std::uint64_t size = 0;
  auto ss = target()->GetFileSize(fname, IOOptions{}, &size, dbg);
  if (!ss.ok())
    return ss;
  // Appends go after the existing bytes. A file we never saw counts as
  // durable as a whole, like any other untracked file.
  auto st = find(fname);
  if (st)
    st->resized(size); // what is there now; durable cannot exceed it
  else
    st = track(fname, size, size);
  *result = std::make_unique<file>(std::move(*result), *this, std::move(st),
                                   is_wal(fname));
  return s;
}

// Log recycling (recycle_log_file_num > 0, off in the journal): RocksDB
// renames an old log and overwrites it from offset 0. We count it as a new,
// empty file, so a cut drops the stale bytes past the new durable length
// that a real disk would keep (RocksDB must skip those anyway).
rocksdb::IOStatus fault_fs::ReuseWritableFile(
  const std::string& fname, const std::string& old_fname,
  const rocksdb::FileOptions& opts,
  std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  auto s = target()->ReuseWritableFile(fname, old_fname, opts, result, dbg);
  if (!s.ok())
    return s;
  {
    std::lock_guard guard{mutex_};
    files_.erase(normal(old_fname));
  }
  *result = std::make_unique<file>(std::move(*result), *this,
                                   track(fname, 0, 0), is_wal(fname));
  return s;
}

rocksdb::IOStatus fault_fs::DeleteFile(const std::string& fname,
                                       const IOOptions& opts,
                                       IODebugContext* dbg) {
  auto s = target()->DeleteFile(fname, opts, dbg);
  if (s.ok()) {
    std::lock_guard guard{mutex_};
    files_.erase(normal(fname));
  }
  return s;
}

rocksdb::IOStatus fault_fs::RenameFile(const std::string& src,
                                       const std::string& dst,
                                       const IOOptions& opts,
                                       IODebugContext* dbg) {
  auto s = target()->RenameFile(src, dst, opts, dbg);
  if (s.ok()) {
    // rename(2) replaces dst: its old tracking goes, src's moves over (an
    // untracked src leaves dst untracked, i.e. copied whole).
    std::lock_guard guard{mutex_};
    auto it = files_.find(normal(src));
    auto moved = it == files_.end() ? nullptr : it->second;
    if (it != files_.end())
      files_.erase(it);
    if (moved)
      files_[normal(dst)] = std::move(moved);
    else
      files_.erase(normal(dst));
  }
  return s;
}

rocksdb::IOStatus fault_fs::LinkFile(const std::string& src,
                                     const std::string& dst,
                                     const IOOptions& opts,
                                     IODebugContext* dbg) {
  auto s = target()->LinkFile(src, dst, opts, dbg);
  if (s.ok()) {
    // One inode, two names: both share the same durable length.
    std::lock_guard guard{mutex_};
    auto it = files_.find(normal(src));
    if (it != files_.end())
      files_[normal(dst)] = it->second;
  }
  return s;
}

rocksdb::IOStatus fault_fs::Truncate(const std::string& fname, size_t size,
                                     const IOOptions& opts,
                                     IODebugContext* dbg) {
  auto s = target()->Truncate(fname, size, opts, dbg);
  if (s.ok())
    if (auto st = find(fname))
      st->resized(size);
  return s;
}

} // namespace conveyor::testing
