#include "persistence/info_log.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace conveyor::persistence {

namespace {

class info_log final : public rocksdb::Logger {
public:
  explicit info_log(const std::string& path)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
        fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                   0600)) {}

  ~info_log() override {
    if (fd_ >= 0)
      ::close(fd_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0)
      return;
    char line[4096];
    timeval now{};
    ::gettimeofday(&now, nullptr);
    tm t{};
    ::localtime_r(&now.tv_sec, &t);
    int n =
      std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ",
                    t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                    t.tm_min, t.tm_sec, static_cast<long>(now.tv_usec));
    va_list copy;
    va_copy(copy, ap);
    int m = std::vsnprintf(line + n, sizeof line - n - 1, format, copy);
    va_end(copy);
    std::size_t len =
      n + (m < 0 ? 0 : std::min<std::size_t>(m, sizeof line - n - 2));
    if (len == 0 || line[len - 1] != '\n')
      line[len++] = '\n';
    // One write per line (O_APPEND keeps lines whole); a failure is dropped
    // on purpose: a diagnostic line is never worth a write error.
    [[maybe_unused]] auto w = ::write(fd_, line, len);
  }

private:
  int fd_;
};

} // namespace

std::shared_ptr<rocksdb::Logger> make_info_log(const std::string& path) {
  return std::make_shared<info_log>(path);
}

} // namespace conveyor::persistence
