#pragma once

// Every built-in default of the config file, as a config document
// (`conveyor config defaults`), and a small valid starting config
// (`conveyor config init`). Both load back with load_config.

#include "config/config.hpp"

namespace conveyor::cfg {

/// The settings of `c` as a config document: `jobs` (its top-level
/// settings), `node` (without `tls`) and `limits`.
json settings_document(const config& c);

/// settings_document of a config without any settings: every default.
json defaults_document();

/// A config to start from: one command task, the defaults of the settings
/// operators change first, and nothing that needs another file.
json starter_document();

} // namespace conveyor::cfg
