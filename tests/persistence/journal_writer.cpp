// Test helper for the kill -9 tests: commits one job per sync write to the
// journal at argv[1] and prints each id on stdout once its commit returned
// (that is, once it is acknowledged). Every tenth job is stored as running
// (a lease, as a journaled workflow step leaves it). Runs until killed.

#include <cstdio>
#include <unistd.h>

#include "persistence/job_records.hpp"
#include "persistence/journal.hpp"

int main(int argc, char** argv) {
  using namespace conveyor;
  if (argc != 2)
    return 2;
  auto db =
    persistence::open_rocksdb_journal({argv[1], persistence::durability::sync});
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().message.c_str());
    return 3;
  }
  for (model::job_id id = 1;; ++id) {
    model::job j;
    j.id = id;
    j.task_slug = "t";
    j.input = {{"n", id}};
    if (id % 10 == 0) {
      j.status = model::job_status::running;
      j.processing_token = "lease";
      j.processing_until = 4'000'000'000'000;
    }
    persistence::write_batch b;
    persistence::add_job_write(b, j, nullptr);
    if (!(*db)->commit(std::span<const persistence::write_batch>{&b, 1}))
      return 4;
    // Unbuffered write: the parent must see exactly what was acknowledged.
    char line[32];
    int n =
      std::snprintf(line, sizeof line, "%lu\n", static_cast<unsigned long>(id));
    if (::write(1, line, static_cast<std::size_t>(n)) != n)
      return 5;
  }
}
