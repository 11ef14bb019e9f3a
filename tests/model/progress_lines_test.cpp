// The command-task progress protocol: what counts as a report, and how a
// hostile stream (overlong lines, bad numbers, bad UTF-8) is contained.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "model/json_guard.hpp"
#include "model/progress_lines.hpp"
#include "model/text.hpp"

using namespace conveyor::model;

namespace {

std::vector<progress_report> reports_of(const std::vector<std::string>& pieces,
                                        bool finish = true) {
  std::vector<progress_report> out;
  progress_lines lines{[&](const progress_report& r) { out.push_back(r); }};
  for (const auto& p : pieces)
    lines.feed(p);
  if (finish)
    lines.finish();
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(progress_lines_suite)

BOOST_AUTO_TEST_CASE(a_line_is_a_fraction_and_an_optional_message) {
  auto r = parse_progress_line("0.42 resizing images");
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->fraction == 0.42);
  BOOST_TEST(r->message == "resizing images");
  r = parse_progress_line("1");
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->fraction == 1.0);
  BOOST_TEST(r->message.empty());
  r = parse_progress_line("0 starting\r");
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->message == "starting");
}

BOOST_AUTO_TEST_CASE(anything_else_is_ignored) {
  for (const char* bad : {"", " 0.5", "half", "1.5", "-0.1", "nan", "inf",
                          "0.5x", "1e999", "+0.5", "0,5 comma"})
    BOOST_TEST(!parse_progress_line(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(lines_are_joined_across_pieces_and_split_inside_them) {
  auto out = reports_of({"0.1 a\n0.", "2 b", "\n0.3 c\n", "0.4"});
  BOOST_REQUIRE(out.size() == 4u);
  BOOST_TEST(out[1].fraction == 0.2);
  BOOST_TEST(out[1].message == "b");
  BOOST_TEST(out[3].fraction == 0.4); // the last line, without a newline
  BOOST_TEST(reports_of({"0.4"}, false).empty());
}

BOOST_AUTO_TEST_CASE(an_overlong_line_is_cut_and_the_next_one_still_counts) {
  std::string huge = "0.5 " + std::string(1'000'000, 'x') + "\n0.6 next\n";
  auto out = reports_of({huge});
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].message.size() == progress_lines::max_line_bytes - 4);
  BOOST_TEST(out[1].message == "next");
}

BOOST_AUTO_TEST_CASE(messages_are_repaired_to_valid_utf8) {
  auto out = reports_of({"0.5 caf\xc3\xa9 \xff\xfe end\n"});
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(valid_utf8(out[0].message));
  BOOST_TEST(out[0].message.find("caf\xc3\xa9") == 0u);
}

BOOST_AUTO_TEST_CASE(text_tail_keeps_the_end_on_a_character_boundary) {
  BOOST_TEST(text_tail("  hello \n", 100) == "hello");
  std::string s = "ab\xc3\xa9"
                  "cd";                // 'é' is 2 bytes
  BOOST_TEST(text_tail(s, 3) == "cd"); // never half of the 'é'
  BOOST_TEST(text_tail(s, 4)
             == "\xc3\xa9"
                "cd");
  BOOST_TEST(repaired_utf8("a\xffz") == "a\xef\xbf\xbdz");
}

BOOST_AUTO_TEST_SUITE_END()
