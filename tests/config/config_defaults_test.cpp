// `conveyor config defaults` and `config init`: the documents they print
// and write load back, and the defaults document holds what a config
// without settings gets.

#include "config/config_defaults.hpp"
#include "config_helpers.hpp"

using namespace conveyor;
using namespace conveyor::cfg;
using namespace conveyor::testing;

namespace config_defaults_test {

/// A document without the path the loader resolves against its folder.
json without_data(json doc) {
  doc["node"].erase("data");
  return doc;
}

} // namespace config_defaults_test

BOOST_AUTO_TEST_SUITE(config_defaults)
using namespace config_defaults_test;

BOOST_AUTO_TEST_CASE(the_defaults_document_loads_back_to_the_defaults) {
  folder f;
  auto doc = defaults_document();
  // Every key is one the loader knows (unknown keys are errors) and every
  // value is in its range.
  auto loaded = parse_config(doc, f.dir.path());
  BOOST_REQUIRE_MESSAGE(loaded, (loaded ? "" : loaded.error().message));
  BOOST_TEST(without_data(settings_document(*loaded)) == without_data(doc));
  // ... and what a config without settings gets.
  auto empty = parse_config(json::object(), f.dir.path());
  BOOST_REQUIRE(empty);
  BOOST_TEST(without_data(settings_document(*empty)) == without_data(doc));
  BOOST_TEST(doc["node"]["listen"] == "127.0.0.1:4242");
  BOOST_TEST(doc["limits"]["maxInputBytes"] == 1024 * 1024);
  BOOST_TEST(doc["limits"].size() == model::limit_fields().size());
}

BOOST_AUTO_TEST_CASE(a_changed_setting_shows_in_the_settings_document) {
  folder f;
  auto loaded = parse_config({{"node", {{"workers", 3}, {"http", nullptr}}},
                              {"limits", {{"maxPageSize", 50}}}},
                             f.dir.path());
  BOOST_REQUIRE(loaded);
  auto doc = settings_document(*loaded);
  BOOST_TEST(doc["node"]["workers"] == 3);
  BOOST_TEST(doc["node"]["http"].is_null());
  BOOST_TEST(doc["limits"]["maxPageSize"] == 50);
}

BOOST_AUTO_TEST_CASE(the_starter_config_is_valid_and_has_a_task) {
  folder f;
  auto loaded = parse_config(starter_document(), f.dir.path());
  BOOST_REQUIRE_MESSAGE(loaded, (loaded ? "" : loaded.error().message));
  BOOST_REQUIRE(loaded->tasks.size() == 1u);
  BOOST_TEST(loaded->tasks[0].slug == "hello");
}

BOOST_AUTO_TEST_SUITE_END()
