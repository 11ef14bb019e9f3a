#pragma once

// Shared by the config test files: temp folders with scripts, and problem
// lists of rejected configs.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

namespace conveyor::testing {

/// A temp folder with executable scripts in it.
struct folder {
  temp_dir dir;

  std::string script(const std::string& name, const std::string& body = "cat") {
    auto path = dir.sub(name);
    std::filesystem::create_directories(
      std::filesystem::path{path}.parent_path());
    std::ofstream{path} << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }
  std::string file(const std::string& name) {
    auto path = dir.sub(name);
    std::ofstream{path} << "x\n";
    return path;
  }
};

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

/// The problems of a config that must be rejected.
inline std::vector<std::string> problems(const json& doc,
                                         const std::string& base) {
  auto cfg = cfg::parse_config(doc, base);
  BOOST_REQUIRE(!cfg);
  BOOST_TEST(cfg.error().code == model::errc::invalid_input);
  return lines(cfg.error().message);
}

inline bool has_line(const std::vector<std::string>& ls,
                     const std::string& prefix) {
  for (const auto& l : ls)
    if (l.starts_with(prefix))
      return true;
  return false;
}

} // namespace conveyor::testing
