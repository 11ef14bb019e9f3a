#include "persistence/job_records.hpp"

#include "model/job_json.hpp"
#include "persistence/key_codec.hpp"

namespace conveyor::persistence {

namespace {

bool indexed(const model::job& j) {
  return !model::is_terminal(j.status);
}

std::string ready_value(const model::job& j) {
  std::string value;
  if (j.wait_until)
    append_u64(value, static_cast<std::uint64_t>(*j.wait_until));
  return value;
}

void put(write_batch& b, column cf, std::string key, std::string value) {
  b.ops.push_back(write_op{cf, std::move(key), std::move(value)});
}

void del(write_batch& b, column cf, std::string key) {
  b.ops.push_back(write_op{cf, std::move(key), std::nullopt});
}

} // namespace

std::string encode_job(const model::job& j) {
  return model::to_document(j).dump(-1, ' ', false,
                                    model::json::error_handler_t::replace);
}

model::expected<model::job> decode_job(std::string_view bytes) {
  // Only this journal writes these bytes, but older versions accepted
  // values of any depth, and a damaged file may hold anything: the guarded
  // parse bounds the work (a SAX depth pass before the DOM) and never
  // throws. Damage on disk is otherwise caught by RocksDB's checksums.
  return model::job_from_text(bytes, model::document_json_limits);
}

void add_job_write(write_batch& b, const model::job& after,
                   const model::job* before,
                   std::string_view idempotency_index) {
  put(b, column::jobs, job_key(after.id), encode_job(after));
  if (before && indexed(*before)) {
    bool same_ready = indexed(after) && before->queue == after.queue
                      && before->priority == after.priority;
    if (!same_ready)
      del(b, column::ready, ready_key(before->queue, before->priority,
                                      before->id));
    bool same_delayed = indexed(after) && before->wait_until == after.wait_until;
    if (before->wait_until && !same_delayed)
      del(b, column::delayed, delayed_key(*before->wait_until, before->id));
  }
  if (indexed(after)) {
    put(b, column::ready, ready_key(after.queue, after.priority, after.id),
        ready_value(after));
    if (after.wait_until)
      put(b, column::delayed, delayed_key(*after.wait_until, after.id),
          after.queue);
  }
  if (!before && after.idempotency_key) {
    std::string id;
    append_u64(id, after.id);
    put(b, column::idempotency,
        idempotency_index.empty() ? *after.idempotency_key
                                  : std::string{idempotency_index},
        std::move(id));
  }
}

void add_job_erase(write_batch& b, const model::job& before) {
  del(b, column::jobs, job_key(before.id));
  if (!indexed(before))
    return;
  del(b, column::ready, ready_key(before.queue, before.priority, before.id));
  if (before.wait_until)
    del(b, column::delayed, delayed_key(*before.wait_until, before.id));
}

} // namespace conveyor::persistence
