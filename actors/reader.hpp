#pragma once

// The reader: journal reads (point loads and scans for find) on a detached
// actor, so a long scan never blocks a scheduler thread.

#include <functional>
#include <memory>
#include <unordered_map>

#include "actors/env.hpp"
#include "actors/interfaces.hpp"

namespace conveyor::actors {

using find_scan_atom = caf::atom_constant<caf::atom("cv_fscan")>;

/// One find: filters applied to the stored documents in id order.
struct scan_query {
  std::shared_ptr<const model::where> where;
  std::string queue;
  std::int32_t limit = 100;
  /// In-memory documents (running jobs carry their lease there).
  std::shared_ptr<std::unordered_map<model::job_id, model::job>> overlay;
  /// Access filter; empty: everything is visible.
  std::function<bool(const model::job&)> visible;
};

} // namespace conveyor::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(conveyor::actors::scan_query)

namespace conveyor::actors {

/// read: the stored document of a job (empty if none).
using reader_actor = caf::typed_actor<
  caf::replies_to<read_atom, model::job_id>::with<std::vector<model::job>>,
  caf::replies_to<find_scan_atom, scan_query>::with<std::vector<model::job>>>;

/// Spawned detached and linked to `owner`'s lifetime by the caller.
reader_actor::behavior_type reader(reader_actor::pointer self,
                                   const env_ptr& env);

/// A stored document with the state only the queue knows: the claim and
/// its lease (which are not journaled). The log stays the journal's, which
/// has every step success journaled so far.
model::job with_live_lease(model::job stored, const model::job& live);

} // namespace conveyor::actors
