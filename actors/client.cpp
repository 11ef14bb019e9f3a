#include "conveyor/client.hpp"

#include "actors/errors.hpp"

namespace conveyor {

client::client(caf::actor_system& sys, supervisor_actor supervisor,
               request_context ctx, caf::duration timeout)
  : self_(sys), sup_(std::move(supervisor)), ctx_(std::move(ctx)),
    timeout_(timeout) {}

template <class... Ts>
json client::ask(Ts&&... xs) {
  json out;
  caf::error failure;
  self_->request(sup_, timeout_, std::forward<Ts>(xs)...)
    .receive([&](json& j) { out = std::move(j); },
             [&](caf::error& err) { failure = std::move(err); });
  if (failure)
    throw request_error(actors::from_caf_error(failure));
  return out;
}

json client::queue(const queue_request& req) {
  return ask(queue_atom::value, ctx_, req);
}

json client::queue_bulk(const std::vector<queue_request>& reqs) {
  return ask(queue_bulk_atom::value, ctx_, reqs);
}

json client::run(const run_request& req) {
  return ask(run_atom::value, ctx_, req);
}

json client::run_by_id(model::job_id id) {
  return ask(run_by_id_atom::value, ctx_, id);
}

json client::get(model::job_id id) {
  return ask(get_job_atom::value, ctx_, id);
}

std::optional<json> client::try_get(model::job_id id) {
  try {
    return get(id);
  } catch (const request_error& e) {
    if (e.code() == errc::not_found)
      return std::nullopt;
    throw;
  }
}

json client::find(const find_request& req) {
  return ask(find_atom::value, ctx_, req);
}

json client::cancel_by_id(model::job_id id) {
  return ask(cancel_by_id_atom::value, ctx_, id);
}

json client::cancel(const cancel_request& req) {
  return ask(cancel_atom::value, ctx_, req);
}

json client::wait(model::job_id id) {
  return ask(wait_job_atom::value, ctx_, id);
}

json client::pause(const std::string& queue, bool pause) {
  return ask(pause_queue_atom::value, ctx_, queue, pause);
}

json client::set_concurrency(const std::string& queue, std::int32_t limit) {
  return ask(set_concurrency_atom::value, ctx_, queue, limit);
}

json client::handle_schedules(const schedules_request& req) {
  return ask(handle_schedules_atom::value, ctx_, req);
}

std::int64_t client::count_active(const count_request& req) {
  std::int64_t out = 0;
  caf::error failure;
  self_->request(sup_, timeout_, count_active_atom::value, ctx_, req)
    .receive([&](std::int64_t n) { out = n; },
             [&](caf::error& err) { failure = std::move(err); });
  if (failure)
    throw request_error(actors::from_caf_error(failure));
  return out;
}

model::job_id client::id_of(const json& job) {
  return std::stoull(job.at("id").get<std::string>());
}

} // namespace conveyor
