#pragma once

// How far an acknowledged write is guaranteed to have gone. A model type
// (not the store's) because the public runtime options and the config file
// name it, and neither may depend on the store.

#include <cstdint>

namespace conveyor::model {

/// `sync`: every acknowledged commit was fsynced (survives power loss).
/// `async`: written to the OS (survives a process crash, not a power cut).
enum class durability : std::uint8_t { sync, async };

} // namespace conveyor::model
