#include "conveyor/client.hpp"

#include "actors/errors.hpp"

namespace conveyor {

client::client(caf::actor_system& sys, supervisor_actor supervisor,
               request_context ctx, caf::duration timeout)
    : self_(sys), target_(std::move(supervisor)), ctx_(std::move(ctx)),
      timeout_(timeout) {}

client::client(caf::actor_system& sys, session_actor session,
               caf::duration timeout)
    : self_(sys), target_(std::move(session)), timeout_(timeout) {}

client client::clone(caf::actor_system& sys,
                     std::optional<caf::duration> timeout) const {
  auto t = timeout.value_or(timeout_);
  if (auto* sup = std::get_if<supervisor_actor>(&target_))
    return client{sys, *sup, ctx_, t};
  return client{sys, std::get<session_actor>(target_), t};
}

template <class Result, class Atom, class... Ts>
Result client::ask(Atom atom, Ts&&... xs) {
  Result out{};
  caf::error failure;
  auto on_reply = [&](Result& r) { out = std::move(r); };
  auto on_error = [&](caf::error& err) { failure = std::move(err); };
  if (auto* sup = std::get_if<supervisor_actor>(&target_))
    self_->request(*sup, timeout_, atom, ctx_, std::forward<Ts>(xs)...)
      .receive(on_reply, on_error);
  else
    self_
      ->request(std::get<session_actor>(target_), timeout_, atom,
                std::forward<Ts>(xs)...)
      .receive(on_reply, on_error);
  if (failure) {
    if (failure == caf::sec::request_timeout)
      throw request_error(
        {errc::unavailable, "no answer from the node within "
                              + caf::to_string(timeout_)
                              + " (a longer --timeout waits longer)"});
    throw request_error(actors::from_caf_error(failure));
  }
  return out;
}

json client::queue(const queue_request& req) {
  return ask(queue_atom::value, req);
}

json client::queue_bulk(const std::vector<queue_request>& reqs) {
  return ask(queue_bulk_atom::value, reqs);
}

json client::run(const run_request& req) {
  return ask(run_atom::value, req);
}

json client::run_by_id(model::job_id id) {
  return ask(run_by_id_atom::value, id);
}

json client::get(model::job_id id) {
  return ask(get_job_atom::value, id);
}

json client::follow(model::job_id id, const std::string& cursor) {
  return ask(follow_job_atom::value, id, cursor);
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
  return ask(find_atom::value, req);
}

json client::cancel_by_id(model::job_id id) {
  return ask(cancel_by_id_atom::value, id);
}

json client::cancel(const cancel_request& req) {
  return ask(cancel_atom::value, req);
}

json client::wait(model::job_id id) {
  return ask(wait_job_atom::value, id);
}

json client::pause(const std::string& queue, bool pause) {
  return ask(pause_queue_atom::value, queue, pause);
}

json client::set_concurrency(const std::string& queue, std::int32_t limit) {
  return ask(set_concurrency_atom::value, queue, limit);
}

json client::handle_schedules(const schedules_request& req) {
  return ask(handle_schedules_atom::value, req);
}

json client::handle_schedules_then_run(const schedules_request& schedules,
                                       const run_request& run) {
  auto queued = handle_schedules(schedules);
  auto ran = this->run(run);
  return json{{"schedules", std::move(queued)}, {"run", std::move(ran)}};
}

std::int64_t client::count_active(const count_request& req) {
  return ask<std::int64_t>(count_active_atom::value, req);
}

model::job_id client::id_of(const json& job) {
  return std::stoull(job.at("id").get<std::string>());
}

} // namespace conveyor
