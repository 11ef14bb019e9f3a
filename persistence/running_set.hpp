#pragma once

// The ids of the jobs this process is running, in a small memory-mapped
// file of the data directory (running.slots).
//
// Why: claims are not journaled (that would cost a write per job), so after
// a crash the journal alone cannot tell which jobs were running -- the ones
// that might have taken the process down. A store into a shared file
// mapping costs no system call, yet survives the process dying in any way
// (kill -9, a segfault in a handler): the kernel owns the page. It does not
// survive a power cut, which is right for its one use, counting poison
// pills: a power cut is no job's fault.
//
// Thread safety: add/remove may be called from any thread.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/error.hpp"
#include "model/job.hpp"

namespace conveyor::persistence {

class running_set {
public:
  /// Opens or creates `path` with room for `capacity` ids. Ids left by the
  /// previous process are read with left_over() and then cleared.
  static model::expected<std::unique_ptr<running_set>>
  open(const std::string& path, std::size_t capacity = 65536);

  ~running_set();
  running_set(const running_set&) = delete;
  running_set& operator=(const running_set&) = delete;

  /// The ids that were in the file when it was opened (the previous
  /// process's running jobs if it stopped without clearing them).
  const std::vector<model::job_id>& left_over() const { return left_over_; }

  /// Records a running job. Beyond capacity the job is not recorded (it
  /// then counts no interruption if the process dies).
  void add(model::job_id id);
  void remove(model::job_id id);

private:
  running_set(int fd, std::uint64_t* slots, std::size_t capacity);

  int fd_;
  std::uint64_t* slots_; ///< mapped; 0 = free
  std::size_t capacity_;
  std::vector<model::job_id> left_over_;
  std::mutex mutex_;
  std::vector<std::size_t> free_;                     // guarded by mutex_
  std::unordered_map<model::job_id, std::size_t> at_; // guarded by mutex_
};

} // namespace conveyor::persistence
