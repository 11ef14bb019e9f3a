// Access control (docs/semantics.md §16): the in-process API with
// overrideAccess false, plus per-queue rules and filtered listings.

#include <boost/test/unit_test.hpp>

#include "support/runtime_fixture.hpp"

using namespace conveyor;
using conveyor::testing::runtime_fixture;

namespace access_test {

struct fixture : runtime_fixture {

  fixture() {
    options.delete_job_on_complete = false;
    add_task({.slug = "CreateSimple", .handler = [this](task_context&) {
                bump("CreateSimple");
                return json::object();
              }});
  }

  request_context anonymous() {
    request_context ctx;
    ctx.override_access = false;
    return ctx;
  }

  request_context user(std::string name = "ada",
                       std::vector<std::string> roles = {}) {
    request_context ctx;
    ctx.principal = std::move(name);
    ctx.roles = std::move(roles);
    ctx.override_access = false;
    return ctx;
  }

  /// Runs `f` as `ctx` and says whether it was refused as forbidden.
  template <class F>
  bool forbidden_as(const request_context& ctx, F f) {
    client as{sys, rt->supervisor(), ctx};
    try {
      f(as);
      return false;
    } catch (const request_error& e) {
      BOOST_TEST(e.code() == errc::forbidden, e.what());
      return e.code() == errc::forbidden;
    }
  }

  queue_request simple(std::string queue = {}) {
    queue_request req;
    req.task = "CreateSimple";
    req.input = {{"message", "hi"}};
    req.queue = std::move(queue);
    return req;
  }
};

} // namespace access_test

BOOST_FIXTURE_TEST_SUITE(access_tests, access_test::fixture)
using namespace access_test;

BOOST_AUTO_TEST_CASE(queue_requires_a_user_when_access_is_not_overridden) {
  start();
  BOOST_TEST(forbidden_as(anonymous(), [&](client& c) { c.queue(simple()); }));
  BOOST_TEST(jobs->find().empty()); // nothing written
  client as_user{sys, rt->supervisor(), user()};
  auto job = as_user.queue(simple());
  BOOST_TEST(job["input"]["message"] == "hi");
}

BOOST_AUTO_TEST_CASE(run_and_run_by_id_require_a_user) {
  start();
  auto id = queue_task("CreateSimple");
  BOOST_TEST(forbidden_as(anonymous(), [&](client& c) { c.run(); }));
  BOOST_TEST(count("CreateSimple") == 0);
  // Access is checked before the lookup: a job that does not exist is
  // still "forbidden", not "not found".
  BOOST_TEST(
    forbidden_as(anonymous(), [&](client& c) { c.run_by_id(1'000'000); }));
  client as_user{sys, rt->supervisor(), user()};
  as_user.run_by_id(id);
  BOOST_TEST(count("CreateSimple") == 1);
  queue_task("CreateSimple");
  as_user.run();
  BOOST_TEST(count("CreateSimple") == 2);
}

BOOST_AUTO_TEST_CASE(cancel_and_cancel_by_id_require_a_user) {
  start();
  auto a = queue_task("CreateSimple");
  auto b = queue_task("CreateSimple");
  cancel_request all;
  all.where = {{"id", {{"exists", true}}}};
  BOOST_TEST(forbidden_as(anonymous(), [&](client& c) { c.cancel(all); }));
  BOOST_TEST(forbidden_as(anonymous(), [&](client& c) { c.cancel_by_id(a); }));
  for (auto id : {a, b}) {
    auto j = jobs->get(id);
    BOOST_TEST(j["hasError"] == false);
    BOOST_TEST(!j.contains("error"));
  }
  client as_user{sys, rt->supervisor(), user()};
  as_user.cancel_by_id(a);
  auto ja = jobs->get(a);
  BOOST_TEST(ja["hasError"] == true);
  BOOST_TEST(ja["error"]["cancelled"] == true);
  auto res = as_user.cancel(all);
  BOOST_TEST(res["cancelled"] == json::array({std::to_string(b)}));
  BOOST_TEST(jobs->get(b)["error"]["cancelled"] == true);
}

BOOST_AUTO_TEST_CASE(per_queue_rules_and_filtered_listings) {
  // Role "billing" may do everything on queue "billing" only.
  auto on_own_queue = [](const request_context& ctx, const access_target& t) {
    bool billing = std::find(ctx.roles.begin(), ctx.roles.end(), "billing")
                   != ctx.roles.end();
    if (!t.queue)
      return billing; // by-id requests: refuse before lookup if no rights
    return billing && *t.queue == "billing";
  };
  options.access = {on_own_queue, on_own_queue, on_own_queue, on_own_queue};
  start();
  auto mine = client::id_of(jobs->queue(simple("billing")));
  auto other = client::id_of(jobs->queue(simple("mail")));
  auto ctx = user("bob", {"billing"});
  client bob{sys, rt->supervisor(), ctx};
  BOOST_TEST(forbidden_as(ctx, [&](client& c) { c.queue(simple("mail")); }));
  BOOST_TEST(forbidden_as(ctx, [&](client& c) { c.get(other); }));
  BOOST_TEST(forbidden_as(ctx, [&](client& c) { c.cancel_by_id(other); }));
  BOOST_TEST(bob.get(mine)["queue"] == "billing");
  auto listed = bob.find();
  BOOST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(client::id_of(listed[0]) == mine);
  BOOST_TEST(jobs->get(other)["hasError"] == false); // untouched
  BOOST_TEST(forbidden_as(user("eve"), [&](client& c) { c.get(mine); }));
}

BOOST_AUTO_TEST_CASE(a_rule_that_throws_denies) {
  options.access.queue = [](const request_context&,
                            const access_target&) -> bool {
    throw std::runtime_error("rule bug");
  };
  start();
  BOOST_TEST(forbidden_as(user(), [&](client& c) { c.queue(simple()); }));
  BOOST_TEST(jobs->find().empty());
}

BOOST_AUTO_TEST_SUITE_END()
