// Reads: one job, a listing, or waiting for a job to end. Every read is
// access-checked twice (before the lookup, then against the job found), and
// listings show only what the principal may read. What queues hold in
// memory (leases, live state) is newer than the journal and wins.

#include "actors/errors.hpp"
#include "actors/queue_actor.hpp"
#include "actors/supervisor_state.hpp"
#include "model/where.hpp"

namespace conveyor::actors::sup {

using model::errc;
using model::job_id;

/// Longer than any cursor a queue hands out.
constexpr std::size_t max_cursor_bytes = 256;

/// Answers with a job that just left its queue: its final document, or,
/// if deletion on completion already removed it, {id, status: completed}.
void deliver_final(supervisor_pointer self, job_id id,
                   caf::typed_response_promise<json> rp) {
  self->request(self->state.reader, caf::infinite, read_atom::value, id)
    .then(
      [=](std::vector<model::job>& found) mutable {
        if (found.empty())
          rp.deliver(deleted_completed(id));
        else
          rp.deliver(render(self, found.front()));
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
}

/// The journal's document merged with what its queue holds: leases live
/// in memory, journaled step successes in the journal, and a running job's
/// live record only in memory.
json merged(supervisor_pointer self, const model::job& journaled,
            live_document& held) {
  auto out = render(self, with_live_lease(journaled, held.doc));
  if (!held.live.is_null())
    out["live"] = std::move(held.live);
  return out;
}

caf::result<json> handle_get(supervisor_pointer self,
                             const request_context& ctx, std::uint64_t id) {
  return with_job_by_id(
    self, id, operation::read, ctx,
    [=](const model::job& j, const queue_actor& holder, auto rp) mutable {
      if (!holder) {
        rp.deliver(render(self, j));
        return;
      }
      self->request(holder, caf::infinite, peek_job_atom::value, id)
        .then(
          [=](live_document& held) mutable {
            rp.deliver(merged(self, j, held));
          },
          [=](caf::error&) mutable {
            // Finished meanwhile: the journal has the final state.
            deliver_final(self, id, rp);
          });
    });
}

caf::result<json> handle_follow(supervisor_pointer self,
                                const request_context& ctx, std::uint64_t id,
                                const std::string& cursor) {
  // Cursors are ours ("status:updated:token:version"); anything longer is
  // not one, and is refused before it is compared or stored.
  if (cursor.size() > max_cursor_bytes)
    return make_caf_error(errc::invalid_input,
                          "cursor: at most " + std::to_string(max_cursor_bytes)
                            + " bytes");
  return with_job_by_id(
    self, id, operation::read, ctx,
    [=](const model::job& j, const queue_actor& holder, auto rp) mutable {
      auto answer = [rp](json doc, std::string cur) mutable {
        rp.deliver(json{{"job", std::move(doc)}, {"cursor", std::move(cur)}});
      };
      if (!holder) {
        answer(render(self, j), "final");
        return;
      }
      // Reads the journal again (for the step successes journaled since
      // the first read) and answers with it, merged with what the queue
      // holds; without `held` the job left its queue and this is the end.
      auto reread = [=](std::optional<live_document> held) mutable {
        self->request(self->state.reader, caf::infinite, read_atom::value, id)
          .then(
            [=](std::vector<model::job>& found) mutable {
              if (found.empty())
                answer(deleted_completed(id), "final");
              else if (!held)
                answer(render(self, found.front()), "final");
              else
                answer(merged(self, found.front(), *held), held->cursor);
            },
            [=](caf::error& err) mutable { rp.deliver(err); });
      };
      // The queue answers once the job changed (within its window).
      self->request(holder, caf::infinite, follow_live_atom::value, id, cursor)
        .then([=](live_document& held) mutable { reread(std::move(held)); },
              [=](caf::error& err) mutable {
                if (from_caf_error(err).code == errc::not_found)
                  reread(std::nullopt);
                else
                  rp.deliver(err); // e.g. overloaded: too many followers
              });
    });
}

caf::result<json> handle_find(supervisor_pointer self,
                              const request_context& ctx,
                              const find_request& req) {
  const auto& env = self->state.env;
  std::optional<std::string> scope;
  if (!req.queue.empty())
    scope = req.queue;
  if (auto no = denied(self, operation::read, ctx, {scope}))
    return *no;
  scan_query q;
  q.queue = req.queue;
  if (!ctx.override_access) {
    // Listings show only what the principal may read.
    auto rules = env->options.access;
    q.visible = [rules, ctx](const model::job& j) {
      return allowed(rules, operation::read, ctx, {j.queue, &j});
    };
  }
  if (req.limit > 0
      && static_cast<std::size_t>(req.limit)
           > env->options.limits.max_page_size)
    return make_caf_error(
      errc::invalid_input,
      "limit: at most " + std::to_string(env->options.limits.max_page_size));
  q.limit = req.limit > 0 ? req.limit : 100;
  if (!req.where.is_null()) {
    auto w = model::parse_where(req.where, env->options.limits);
    if (!w)
      return make_caf_error(errc::invalid_input, "where: " + w.error().message);
    q.where = std::make_shared<const model::where>(std::move(*w));
  }
  // Errors above return directly: once a promise exists, a returned
  // error would never reach the requester.
  auto rp = self->make_response_promise<json>();
  gather_jobs(
    self, all_queues(self),
    [=](std::vector<model::job> live) mutable {
      // What the queues hold in memory is newer than the journal.
      auto overlay = std::make_shared<std::unordered_map<job_id, model::job>>();
      for (auto& d : live)
        (*overlay)[d.id] = std::move(d);
      q.overlay = std::move(overlay);
      self->request(self->state.reader, caf::infinite, find_scan_atom::value, q)
        .then(
          [=](std::vector<model::job>& found) mutable {
            json out = json::array();
            for (auto& j : found)
              out.push_back(render(self, j));
            rp.deliver(std::move(out));
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
    },
    snapshot_atom::value);
  return rp;
}

caf::result<json> handle_wait(supervisor_pointer self,
                              const request_context& ctx, std::uint64_t id) {
  const auto& env = self->state.env;
  if (auto no = denied(self, operation::read, ctx, {}))
    return *no;
  auto rp = self->make_response_promise<json>();
  self->request(self->state.reader, caf::infinite, read_atom::value, id)
    .then(
      [=](std::vector<model::job>& found) mutable {
        if (found.empty()) {
          // Ids are never reused: a missing id below the high-water mark
          // was a job deleted on completion.
          if (id < self->state.env->next_id.load())
            rp.deliver(deleted_completed(id));
          else
            rp.deliver(make_caf_error(
              errc::not_found, "job " + std::to_string(id) + " not found"));
          return;
        }
        auto j = std::move(found.front());
        access_target target{j.queue, &j};
        if (!allowed(env->options.access, operation::read, ctx, target)) {
          rp.deliver(to_caf_error(forbidden(operation::read, ctx, target)));
          return;
        }
        auto it = self->state.queues.find(j.queue);
        if (model::is_terminal(j.status) || it == self->state.queues.end()) {
          rp.deliver(render(self, j));
          return;
        }
        // The final document, even if deletion on completion removed it
        // from the journal meanwhile.
        self->request(it->second, caf::infinite, watch_atom::value, id)
          .then([=](model::job& f) mutable { rp.deliver(render(self, f)); },
                [=](caf::error&) mutable { deliver_final(self, id, rp); });
      },
      [=](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

} // namespace conveyor::actors::sup
