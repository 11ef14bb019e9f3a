#pragma once

// A fresh directory under /tmp, removed when the object dies.

#include <cstdlib>
#include <filesystem>
#include <string>

namespace conveyor::testing {

class temp_dir {
public:
  temp_dir() {
    std::string templ =
      (std::filesystem::temp_directory_path() / "conveyor-test-XXXXXX")
        .string();
    path_ = ::mkdtemp(templ.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace conveyor::testing
