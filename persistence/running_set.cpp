#include "persistence/running_set.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace conveyor::persistence {

namespace {

model::error file_error(const std::string& what, const std::string& path) {
  return model::make_error(model::errc::storage,
                           what + " '" + path + "': " + std::strerror(errno));
}

/// Slots are written with 8-byte atomic stores: a crash never leaves half
/// an id behind.
std::atomic_ref<std::uint64_t> slot(std::uint64_t* slots, std::size_t i) {
  return std::atomic_ref<std::uint64_t>{slots[i]};
}

} // namespace

model::expected<std::unique_ptr<running_set>>
running_set::open(const std::string& path, std::size_t capacity) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return file_error("cannot open", path);
  const auto bytes = capacity * sizeof(std::uint64_t);
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    auto err = file_error("cannot size", path);
    ::close(fd);
    return err;
  }
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) {
    auto err = file_error("cannot map", path);
    ::close(fd);
    return err;
  }
  return std::unique_ptr<running_set>{
    new running_set(fd, static_cast<std::uint64_t*>(mem), capacity)};
}

running_set::running_set(int fd, std::uint64_t* slots, std::size_t capacity)
    : fd_(fd), slots_(slots), capacity_(capacity) {
  free_.reserve(capacity);
  for (std::size_t i = capacity; i-- > 0;) {
    auto id = slot(slots_, i).load(std::memory_order_relaxed);
    if (id != 0) {
      left_over_.push_back(id);
      slot(slots_, i).store(0, std::memory_order_relaxed);
    }
    free_.push_back(i);
  }
}

running_set::~running_set() {
  ::munmap(slots_, capacity_ * sizeof(std::uint64_t));
  ::close(fd_);
}

void running_set::add(model::job_id id) {
  std::lock_guard guard{mutex_};
  if (free_.empty() || at_.count(id))
    return;
  auto i = free_.back();
  free_.pop_back();
  at_.emplace(id, i);
  slot(slots_, i).store(id, std::memory_order_relaxed);
}

void running_set::remove(model::job_id id) {
  std::lock_guard guard{mutex_};
  auto it = at_.find(id);
  if (it == at_.end())
    return;
  slot(slots_, it->second).store(0, std::memory_order_relaxed);
  free_.push_back(it->second);
  at_.erase(it);
}

} // namespace conveyor::persistence
