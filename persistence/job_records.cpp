#include "persistence/job_records.hpp"

#include <algorithm>

#include "model/job_json.hpp"

namespace conveyor::persistence {

namespace {

void append_sized(std::string& out, std::string_view part) {
  auto n = std::min<std::size_t>(part.size(), 0xffff);
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(part.substr(0, n));
}

} // namespace

indexed_job index_fields(const model::job& j) {
  return {j.id, j.queue, j.priority, j.wait_until,
          !model::is_terminal(j.status)};
}

std::string idempotency_index(std::string_view queue,
                              std::string_view principal,
                              std::string_view key) {
  std::string out;
  out.reserve(4 + queue.size() + principal.size() + key.size());
  append_sized(out, queue);
  append_sized(out, principal);
  out.append(key);
  return out;
}

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
  put_job op{index_fields(after), encode_job(after), std::nullopt,
             std::nullopt};
  if (before)
    op.before = index_fields(*before);
  else if (after.idempotency_key)
    op.idempotency_key = idempotency_index.empty()
                           ? *after.idempotency_key
                           : std::string{idempotency_index};
  b.ops.emplace_back(std::move(op));
}

void add_job_erase(write_batch& b, const model::job& before) {
  b.ops.emplace_back(erase_job{index_fields(before)});
}

void add_meta_write(write_batch& b, std::string key,
                    std::optional<std::string> value) {
  b.ops.emplace_back(put_meta{std::move(key), std::move(value)});
}

} // namespace conveyor::persistence
