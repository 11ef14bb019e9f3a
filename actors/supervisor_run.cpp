// run(): claiming across queues in processing order, then executing.

#include "actors/errors.hpp"
#include "actors/supervisor_state.hpp"
#include "model/processing_order.hpp"
#include "model/where.hpp"

namespace conveyor::actors::sup {

using model::errc;
using model::job_id;

void execute_claimed(supervisor_pointer self,
                     std::vector<std::pair<queue_actor, job_id>> claimed,
                     bool sequential, caf::typed_response_promise<json> rp) {
  if (claimed.empty()) {
    rp.deliver(run_result_json({}, true));
    return;
  }
  if (sequential) {
    auto reports = std::make_shared<std::vector<attempt_report>>();
    auto list = std::make_shared<decltype(claimed)>(std::move(claimed));
    // The loop holds itself only through pending replies (no cycle).
    auto next = std::make_shared<std::function<void(std::size_t)>>();
    std::weak_ptr<std::function<void(std::size_t)>> weak = next;
    *next = [=](std::size_t i) mutable {
      if (i == list->size()) {
        rp.deliver(run_result_json(*reports, false));
        return;
      }
      auto strong = weak.lock();
      auto [q, id] = (*list)[i];
      self->request(q, caf::infinite, execute_atom::value, id)
        .then(
          [=](attempt_report& r) {
            reports->push_back(r);
            (*strong)(i + 1);
          },
          [=](caf::error&) { (*strong)(i + 1); });
    };
    (*next)(0);
    return;
  }
  auto all = fan_in<attempt_report>::expect(
    claimed.size(), [rp](const std::vector<attempt_report>& done) mutable {
      rp.deliver(run_result_json(done, false));
    });
  for (auto& [q, id] : claimed)
    self->request(q, caf::infinite, execute_atom::value, id)
      .then([=](attempt_report& r) { all->add(r); },
            [=](caf::error&) { all->none(); });
}

void handle_run(supervisor_pointer self, const run_request& req,
                caf::typed_response_promise<json> rp) {
  auto& st = self->state;
  if (st.draining) {
    rp.deliver(make_caf_error(errc::unavailable, "the node is stopping"));
    return;
  }
  if (req.limit < 1) {
    rp.deliver(
      make_caf_error(errc::invalid_input, "limit: must be at least 1"));
    return;
  }
  auto order = req.processing_order;
  if (order.empty())
    order = req.all_queues ? st.env->options.processing_order
                           : st.env->order_for(req.queue);
  if (!model::is_processing_order(order)) {
    rp.deliver(make_caf_error(errc::invalid_input,
                              "processingOrder: '" + order
                                + "' (supported: createdAt, -createdAt)"));
    return;
  }
  claim_request claim;
  claim.limit = req.limit;
  claim.lifo = model::is_lifo(order);
  if (!req.where.is_null()) {
    auto w = model::parse_where(req.where, st.env->options.limits);
    if (!w) {
      rp.deliver(
        make_caf_error(errc::invalid_input, "where: " + w.error().message));
      return;
    }
    claim.where = std::make_shared<const model::where>(std::move(*w));
  }
  std::vector<queue_actor> targets;
  if (req.all_queues) {
    for (auto& [name, q] : st.queues)
      targets.push_back(q);
  } else if (auto it = st.queues.find(req.queue); it != st.queues.end()) {
    targets.push_back(it->second);
  }
  if (targets.empty()) {
    rp.deliver(run_result_json({}, true));
    return;
  }
  // Claim up to `limit` from every target, keep the first `limit` in
  // processing order across queues, give the rest back.
  using claimed_t = std::pair<queue_actor, claimed_job>;
  auto finish = [=](std::vector<claimed_t> all) mutable {
    // Same order as inside a queue: priority, then id (FIFO or LIFO).
    std::stable_sort(all.begin(), all.end(), [&](auto& a, auto& b) {
      if (a.second.priority != b.second.priority)
        return a.second.priority > b.second.priority;
      return claim.lifo ? a.second.id > b.second.id : a.second.id < b.second.id;
    });
    std::map<queue_actor, std::vector<job_id>> extra;
    while (all.size() > static_cast<std::size_t>(claim.limit)) {
      extra[all.back().first].push_back(all.back().second.id);
      all.pop_back();
    }
    for (auto& [q, ids] : extra)
      self->send(q, release_atom::value, ids);
    std::vector<std::pair<queue_actor, job_id>> order;
    order.reserve(all.size());
    for (auto& [q, c] : all)
      order.emplace_back(q, c.id);
    execute_claimed(self, std::move(order), req.sequential, rp);
  };
  auto claimed = fan_in<claimed_t>::expect(targets.size(), finish);
  for (auto& q : targets)
    self->request(q, caf::infinite, claim_atom::value, claim)
      .then(
        [=](std::vector<claimed_job>& got) {
          std::vector<claimed_t> from_q;
          from_q.reserve(got.size());
          for (auto& c : got)
            from_q.emplace_back(q, c);
          claimed->add_all(std::move(from_q));
        },
        [=](caf::error&) { claimed->none(); });
}

caf::result<json> handle_run_by_id(supervisor_pointer self,
                                   const request_context& ctx,
                                   std::uint64_t id) {
  return with_job_by_id(
    self, id, operation::run, ctx,
    [=](const model::job&, const queue_actor& q, auto rp) mutable {
      if (!q) {
        rp.deliver(run_result_json({}, true));
        return;
      }
      self->request(q, caf::infinite, claim_id_atom::value, id)
        .then(
          [=](std::vector<job_id>& ids) mutable {
            std::vector<std::pair<queue_actor, job_id>> claimed;
            claimed.reserve(ids.size());
            for (auto i : ids)
              claimed.emplace_back(q, i);
            execute_claimed(self, std::move(claimed), false, rp);
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
    });
}

} // namespace conveyor::actors::sup
