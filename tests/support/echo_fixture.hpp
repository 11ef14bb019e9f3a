#pragma once

// A runtime with an "echo" task that keeps finished jobs, and a way to
// see the error a request gets: what the suites on limits and refusals
// share.

#include "conveyor/errors.hpp"
#include "support/runtime_fixture.hpp"

namespace conveyor::testing {

struct echo_fixture : runtime_fixture {
  echo_fixture() {
    options.delete_job_on_complete = false;
    add_task({.slug = "echo", .handler = [](task_context& ctx) {
                return json{{"echo", ctx.input()}};
              }});
  }

  /// The error `request()` throws, or errc::none if it succeeded.
  template <class F>
  static model::error error_of(F request) {
    try {
      request();
      return {};
    } catch (const request_error& e) {
      return {e.code(), e.message()};
    }
  }

  /// The error a queue request gets (errc::none if accepted).
  model::error queue_error(const queue_request& req) {
    return error_of([&] { jobs->queue(req); });
  }

  /// Jobs in the journal, finished or not.
  std::size_t stored() { return jobs->find({}).size(); }
};

} // namespace conveyor::testing
