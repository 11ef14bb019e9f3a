#pragma once

// What `conveyor --help`, `conveyor help [COMMAND]`, `conveyor COMMAND
// --help` and `conveyor --version` print.

#include <optional>
#include <ostream>
#include <string>

namespace conveyor::app {

/// Every command's synopsis, the common options and the exit codes.
void print_usage(std::ostream& out);

/// One command's synopsis, what it does and examples; false (nothing
/// printed) for an unknown command.
bool print_command_help(std::ostream& out, const std::string& command);

/// If the arguments ask for help or the version, prints it on stdout and
/// returns the exit code (0, or 2 for `help` of an unknown command).
std::optional<int> answer_help_or_version(int argc, char** argv);

} // namespace conveyor::app
