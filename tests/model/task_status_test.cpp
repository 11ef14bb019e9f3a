#include <boost/test/unit_test.hpp>

#include "model/task_status.hpp"

using namespace conveyor::model;

/// JSON equality with both sides printed on failure (BOOST_TEST would
/// otherwise treat json as a container and compare element by element).
#define CHECK_JSON_EQ(a, b)                                                    \
  BOOST_TEST(((a) == (b)), (a).dump() << " != " << (b).dump())

namespace {

log_entry entry(std::string slug, std::string id, log_state state,
                json input = json::object(), json output = json::object()) {
  log_entry e;
  e.id = slug + "/" + id;
  e.task_slug = std::move(slug);
  e.task_id = std::move(id);
  e.state = state;
  e.input = std::move(input);
  e.output = state == log_state::succeeded ? std::move(output) : json::object();
  return e;
}

constexpr auto ok = log_state::succeeded;
constexpr auto failed = log_state::failed;

} // namespace

BOOST_AUTO_TEST_SUITE(task_status_test)

BOOST_AUTO_TEST_CASE(empty_log_gives_empty_map) {
  BOOST_TEST(derive_task_status({}).empty());
  CHECK_JSON_EQ(to_json(derive_task_status({})), json::object());
}

BOOST_AUTO_TEST_CASE(first_success_creates_a_complete_state) {
  auto map = derive_task_status(
    {entry("mail", "1", ok, {{"to", "a"}}, {{"sent", true}})});
  const task_state* s = find_task_state(map, "mail", "1");
  BOOST_TEST_REQUIRE(s != nullptr);
  BOOST_TEST(s->complete);
  BOOST_TEST(s->total_tried == 1);
  BOOST_TEST(s->task_slug == "mail");
  CHECK_JSON_EQ(s->input, json({{"to", "a"}}));
  CHECK_JSON_EQ(s->output, json({{"sent", true}}));
}

BOOST_AUTO_TEST_CASE(first_failure_creates_an_incomplete_state) {
  auto map = derive_task_status({entry("mail", "1", failed, {{"n", 1}})});
  const task_state* s = find_task_state(map, "mail", "1");
  BOOST_TEST_REQUIRE(s != nullptr);
  BOOST_TEST(!s->complete);
  BOOST_TEST(s->total_tried == 1);
  CHECK_JSON_EQ(s->input, json({{"n", 1}}));
  CHECK_JSON_EQ(s->output, json::object());
}

BOOST_AUTO_TEST_CASE(later_success_completes_and_replaces_input_output) {
  auto map = derive_task_status({
    entry("mail", "1", failed, {{"n", 1}}),
    entry("mail", "1", failed, {{"n", 2}}),
    entry("mail", "1", ok, {{"n", 3}}, {{"out", 3}}),
  });
  const task_state* s = find_task_state(map, "mail", "1");
  BOOST_TEST_REQUIRE(s != nullptr);
  BOOST_TEST(s->complete);
  BOOST_TEST(s->total_tried == 3);
  CHECK_JSON_EQ(s->input, json({{"n", 3}}));
  CHECK_JSON_EQ(s->output, json({{"out", 3}}));
}

BOOST_AUTO_TEST_CASE(later_failure_never_clears_complete) {
  auto map = derive_task_status({
    entry("mail", "1", ok, {{"n", 1}}, {{"out", 1}}),
    entry("mail", "1", failed, {{"n", 2}}),
    entry("mail", "1", failed, {{"n", 3}}),
  });
  const task_state* s = find_task_state(map, "mail", "1");
  BOOST_TEST_REQUIRE(s != nullptr);
  BOOST_TEST(s->complete);
  BOOST_TEST(s->total_tried == 3);
  // The cached output of the success survives.
  CHECK_JSON_EQ(s->input, json({{"n", 1}}));
  CHECK_JSON_EQ(s->output, json({{"out", 1}}));
}

BOOST_AUTO_TEST_CASE(second_success_replaces_output) {
  auto map = derive_task_status({
    entry("t", "1", ok, {{"n", 1}}, {{"out", 1}}),
    entry("t", "1", ok, {{"n", 2}}, {{"out", 2}}),
  });
  CHECK_JSON_EQ(find_task_state(map, "t", "1")->output, json({{"out", 2}}));
  BOOST_TEST(find_task_state(map, "t", "1")->total_tried == 2);
}

BOOST_AUTO_TEST_CASE(states_are_keyed_by_slug_and_id) {
  auto map = derive_task_status({
    entry("a", "1", ok),
    entry("a", "2", failed),
    entry("b", "1", failed),
    entry("b", "1", failed),
  });
  BOOST_TEST(map.size() == 2u);
  BOOST_TEST(map["a"].size() == 2u);
  BOOST_TEST(find_task_state(map, "a", "1")->complete);
  BOOST_TEST(!find_task_state(map, "a", "2")->complete);
  BOOST_TEST(find_task_state(map, "b", "1")->total_tried == 2);
  BOOST_TEST(find_task_state(map, "b", "2") == nullptr);
  BOOST_TEST(find_task_state(map, "c", "1") == nullptr);
}

BOOST_AUTO_TEST_CASE(parent_is_not_part_of_the_key) {
  // docs/semantics.md §8: a nested task and a top-level task with the same
  // slug and id share one status (a known Payload collision, kept for
  // compatibility).
  log_entry nested = entry("t", "1", failed);
  nested.parent = task_ref{"outer", "x"};
  auto map = derive_task_status({nested, entry("t", "1", ok)});
  BOOST_TEST(map["t"].size() == 1u);
  BOOST_TEST(find_task_state(map, "t", "1")->total_tried == 2);
}

BOOST_AUTO_TEST_CASE(incremental_apply_matches_full_derivation) {
  std::vector<log_entry> log = {
    entry("a", "1", failed, {{"i", 0}}),
    entry("b", "1", ok, {}, {{"o", 1}}),
    entry("a", "1", ok, {{"i", 1}}, {{"o", 2}}),
    entry("a", "1", failed),
    entry("c", "9", failed),
  };
  task_status_map incremental;
  for (std::size_t i = 0; i < log.size(); ++i) {
    apply_log_entry(incremental, log[i]);
    std::vector<log_entry> prefix(log.begin(),
                                  log.begin() + static_cast<long>(i) + 1);
    BOOST_TEST_REQUIRE((incremental == derive_task_status(prefix)));
  }
}

BOOST_AUTO_TEST_CASE(json_shape_uses_payload_names) {
  auto map =
    derive_task_status({entry("mail", "1", ok, {{"to", "a"}}, {{"sent", 1}}),
                        entry("inline", "x", failed)});
  const json expected = {
    {"mail",
     {{"1",
       {{"complete", true},
        {"input", {{"to", "a"}}},
        {"output", {{"sent", 1}}},
        {"taskSlug", "mail"},
        {"totalTried", 1}}}}},
    {"inline",
     {{"x",
       {{"complete", false},
        {"input", json::object()},
        {"output", json::object()},
        {"taskSlug", "inline"},
        {"totalTried", 1}}}}},
  };
  CHECK_JSON_EQ(to_json(map), expected);
}

BOOST_AUTO_TEST_SUITE_END()
