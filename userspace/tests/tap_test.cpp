// SPDX-License-Identifier: GPL-2.0
//
// kselftest stream parsing: result and plan lines, framing, counting rules.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xcommon/tap.hpp"

namespace {

using namespace xcommon::tap;

// Joins lines with "\n" (and a final newline).
std::string lines(std::initializer_list<std::string_view> ls, std::string_view eol = "\n") {
  std::string out;
  for (auto l : ls) {
    out += l;
    out += eol;
  }
  return out;
}

const source_summary& only_block(const stream_result& r) {
  EXPECT_EQ(r.blocks.size(), 1u);
  return r.blocks.at(0);
}

// ---- result lines -----------------------------------------------------------

TEST(TapResultLine, PlainOkAndNotOk) {
  auto ok = parse_result_line("ok 1 global.fragment_options");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->number, 1u);
  EXPECT_EQ(ok->description, "global.fragment_options");
  EXPECT_EQ(ok->counted_as(), outcome::pass);

  auto bad = parse_result_line("not ok 2 global.other");
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->number, 2u);
  EXPECT_EQ(bad->description, "global.other");
  EXPECT_EQ(bad->counted_as(), outcome::fail);
}

TEST(TapResultLine, DashAndMissingNumber) {
  auto r = parse_result_line("ok - described");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->number);
  EXPECT_EQ(r->description, "described");

  r = parse_result_line("not ok 7 - with dash");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->number, 7u);
  EXPECT_EQ(r->description, "with dash");

  r = parse_result_line("ok");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->description.empty());
}

TEST(TapResultLine, DirectivesAreCaseInsensitive) {
  auto skip = parse_result_line("ok 3 global.third # SKIP needs root");
  ASSERT_TRUE(skip);
  EXPECT_EQ(skip->directive, "SKIP");
  EXPECT_EQ(skip->reason, "needs root");
  EXPECT_EQ(skip->description, "global.third");
  EXPECT_EQ(skip->counted_as(), outcome::skip);

  auto lower = parse_result_line("ok 4 x # skip lowercase");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->directive, "SKIP");
  EXPECT_EQ(lower->counted_as(), outcome::skip);

  auto skipped = parse_result_line("not ok 5 y # Skipped: no device");
  ASSERT_TRUE(skipped);
  EXPECT_EQ(skipped->counted_as(), outcome::skip);

  auto bare = parse_result_line("ok 6 # SKIP");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->description, "");
  EXPECT_EQ(bare->counted_as(), outcome::skip);
}

TEST(TapResultLine, XfailCountsAsPass) {
  auto r = parse_result_line("ok 1 fixture.case # XFAIL known bug");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->directive, "XFAIL");
  EXPECT_EQ(r->counted_as(), outcome::pass);
  r = parse_result_line("not ok 1 fixture.case # xfail known bug");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->counted_as(), outcome::pass);
}

TEST(TapResultLine, TodoOnNotOkIsSkipped) {
  auto r = parse_result_line("not ok 2 pending # TODO write it");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->directive, "TODO");
  EXPECT_EQ(r->counted_as(), outcome::skip);
  auto passing_todo = parse_result_line("ok 2 pending # TODO write it");
  ASSERT_TRUE(passing_todo);
  EXPECT_EQ(passing_todo->counted_as(), outcome::pass);
}

TEST(TapResultLine, HashWithoutDirectiveStaysInDescription) {
  auto r = parse_result_line("not ok 1 issue #42 regression");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->description, "issue #42 regression");
  EXPECT_EQ(r->counted_as(), outcome::fail);

  auto escaped = parse_result_line("not ok 2 literal \\# SKIP is not a directive");
  ASSERT_TRUE(escaped);
  EXPECT_TRUE(escaped->directive.empty());
  EXPECT_EQ(escaped->counted_as(), outcome::fail);
}

TEST(TapResultLine, OnlyColumnZeroCounts) {
  EXPECT_FALSE(parse_result_line("    ok 1 nested"));
  EXPECT_FALSE(parse_result_line("\tnot ok 1 nested"));
  EXPECT_FALSE(parse_result_line("# ok 1 commented"));
  EXPECT_FALSE(parse_result_line("okay then"));
  EXPECT_FALSE(parse_result_line("not okay"));
  EXPECT_FALSE(parse_result_line(""));
}

TEST(TapResultLine, NumberGluedToTextIsDescription) {
  auto r = parse_result_line("ok 12abc");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->number);
  EXPECT_EQ(r->description, "12abc");
}

// ---- plan lines -------------------------------------------------------------

TEST(TapPlanLine, Parses) {
  auto p = parse_plan_line("1..3");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, 3u);
  EXPECT_FALSE(p->skip);

  p = parse_plan_line("1..0 # SKIP no hardware");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, 0u);
  EXPECT_TRUE(p->skip);
  EXPECT_EQ(p->reason, "no hardware");

  EXPECT_FALSE(parse_plan_line(" 1..3"));
  EXPECT_FALSE(parse_plan_line("1..x"));
  EXPECT_FALSE(parse_plan_line("1..3 trailing"));
  EXPECT_FALSE(parse_plan_line("2..3"));
}

TEST(TapConsole, StripsCarriageReturnsAndTrailingBlanks) {
  EXPECT_EQ(strip_console("ok 1 x\r"), "ok 1 x");
  EXPECT_EQ(strip_console("ok 1 x\r\r\n"), "ok 1 x");
  EXPECT_EQ(strip_console("\rok 1 x  \t"), "ok 1 x");
  EXPECT_EQ(strip_console("  indented\r"), "  indented");
}

// ---- streams ----------------------------------------------------------------

TEST(TapStream, ExampleFromTheRunner) {
  const auto r = parse_stream_text(lines({
      "# xsel-begin: infra/config",
      "TAP version 13",
      "1..3",
      "# Starting 3 tests from 1 test cases.",
      "#  RUN           global.fragment_options ...",
      "#            OK  global.fragment_options",
      "ok 1 global.fragment_options",
      "not ok 2 global.other",
      "ok 3 global.third # SKIP needs root",
      "# totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0",
      "# xsel-end: infra/config rc=1",
  }));
  const auto& b = only_block(r);
  EXPECT_EQ(b.name, "infra/config");
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 1u);
  EXPECT_EQ(b.skipped, 1u);
  EXPECT_EQ(b.failures, std::vector<std::string>{"global.other"});
  EXPECT_EQ(b.plan, 3u);
  EXPECT_EQ(b.rc, 1);
  EXPECT_TRUE(b.complete);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(TapStream, CarriageReturnsFromSerialConsole) {
  const auto r = parse_stream_text(lines({"# xsel-begin: serial", "1..2", "ok 1 a",
                                          "not ok 2 b # SKIP why", "# xsel-end: serial rc=0"},
                                         "\r\n"));
  const auto& b = only_block(r);
  EXPECT_EQ(b.name, "serial");
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.skipped, 1u);
  EXPECT_EQ(b.failed, 0u);
  EXPECT_EQ(b.rc, 0);
}

TEST(TapStream, NoiseBetweenAndInsideBlocksIsIgnored) {
  const auto r = parse_stream_text(lines({
      "[    0.000000] Linux version 6.12.0",
      "random console chatter",
      "ok 99 stray result outside any block",
      "# xsel-begin: a",
      "[   12.345678] virtio_net virtio0: noise inside the block",
      "1..1",
      "some program output",
      "ok 1 first",
      "# xsel-end: a rc=0",
      "[   13.000000] more noise",
      "# xsel-begin: b",
      "1..1",
      "ok 1 second",
      "# xsel-end: b rc=0",
  }));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].name, "a");
  EXPECT_EQ(r.blocks[1].name, "b");
  EXPECT_EQ(r.blocks[0].passed + r.blocks[1].passed, 2u);
  EXPECT_EQ(r.blocks[0].failed + r.blocks[1].failed, 0u);
  ASSERT_EQ(r.warnings.size(), 1u);  // the stray result
  EXPECT_NE(r.warnings[0].find("outside"), std::string::npos);
}

TEST(TapStream, MarkersAfterConsoleNoiseOnTheSameLine) {
  const auto r = parse_stream_text(lines({"[    5.1] kernel: foo# xsel-begin: noisy", "1..1",
                                          "ok 1 x", "[    5.2] bar # xsel-end: noisy rc=0"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.name, "noisy");
  EXPECT_TRUE(b.complete);
  EXPECT_EQ(b.passed, 1u);
}

TEST(TapStream, IndentedSubtestsAreIgnored) {
  const auto r = parse_stream_text(lines({
      "# xsel-begin: nested",
      "1..1",
      "    1..2",
      "    ok 1 sub one",
      "    not ok 2 sub two",
      "# ok 5 commented",
      "ok 1 parent",
      "# xsel-end: nested rc=0",
  }));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 0u);
  EXPECT_EQ(b.plan, 1u);
}

TEST(TapStream, FewerResultsThanPlanMeansMissingTests) {
  const auto r = parse_stream_text(lines(
      {"# xsel-begin: crash", "1..4", "ok 1 a", "ok 3 c", "# xsel-end: crash rc=139"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 2u);
  EXPECT_EQ(b.failed, 2u);
  EXPECT_EQ(b.failures, (std::vector<std::string>{"test 2 missing (binary crashed?)",
                                                   "test 4 missing (binary crashed?)"}));
}

TEST(TapStream, UnnumberedResultsAreNumberedInOrder) {
  const auto r = parse_stream_text(
      lines({"# xsel-begin: u", "1..3", "ok - a", "not ok - b", "# xsel-end: u rc=1"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 2u);
  EXPECT_EQ(b.failures, (std::vector<std::string>{"b", "test 3 missing (binary crashed?)"}));
}

TEST(TapStream, MoreResultsThanPlanFails) {
  const auto r = parse_stream_text(
      lines({"# xsel-begin: extra", "1..1", "ok 1 a", "ok 2 b", "# xsel-end: extra rc=0"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 2u);
  EXPECT_EQ(b.failed, 1u);
  EXPECT_EQ(b.failures, std::vector<std::string>{"2 results but plan was 1..1"});
}

TEST(TapStream, SkipXfailTodoCounting) {
  const auto r = parse_stream_text(lines({
      "# xsel-begin: directives",
      "1..5",
      "ok 1 skipped # SKIP no root",
      "ok 2 xfailed # XFAIL known",
      "not ok 3 todo # TODO later",
      "ok 4 plain",
      "not ok 5 real failure",
      "# xsel-end: directives rc=1",
  }));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 2u);
  EXPECT_EQ(b.skipped, 2u);
  EXPECT_EQ(b.failed, 1u);
  EXPECT_EQ(b.failures, std::vector<std::string>{"real failure"});
}

TEST(TapStream, FailureWithoutDescriptionIsNamedByNumber) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: n", "1..1", "not ok 1", "# xsel-end: n rc=1"}));
  EXPECT_EQ(only_block(r).failures, std::vector<std::string>{"test 1"});
}

TEST(TapStream, BailOutCountsOneFailureAndStopsCounting) {
  const auto r = parse_stream_text(lines({
      "# xsel-begin: bail",
      "1..5",
      "ok 1 a",
      "Bail out! cannot open /dev/foo",
      "ok 2 ignored after bail out",
      "# xsel-end: bail rc=1",
  }));
  const auto& b = only_block(r);
  EXPECT_TRUE(b.bailed_out);
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 1u);  // no "missing" failures, no rc failure on top
  EXPECT_EQ(b.failures, std::vector<std::string>{"bail out: cannot open /dev/foo"});
}

TEST(TapStream, BailOutWithoutReason) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: b", "Bail out!", "# xsel-end: b rc=0"}));
  EXPECT_EQ(only_block(r).failures, std::vector<std::string>{"bail out"});
}

TEST(TapStream, MissingEndMarkerIsIncomplete) {
  const auto r = parse_stream_text(lines({"# xsel-begin: died", "1..3", "ok 1 a", "not ok 2 b"}));
  const auto& b = only_block(r);
  EXPECT_FALSE(b.complete);
  EXPECT_FALSE(b.rc);
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 2u);  // the real failure + incomplete, no "missing" on top
  EXPECT_EQ(b.failures, (std::vector<std::string>{"b", "incomplete (no end marker)"}));
  EXPECT_FALSE(r.warnings.empty());
}

TEST(TapStream, NewBeginClosesUnfinishedBlockAsIncomplete) {
  const auto r = parse_stream_text(lines({"# xsel-begin: first", "1..1", "# xsel-begin: second",
                                          "1..1", "ok 1 x", "# xsel-end: second rc=0"}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_FALSE(r.blocks[0].complete);
  EXPECT_EQ(r.blocks[0].failures, std::vector<std::string>{"incomplete (no end marker)"});
  EXPECT_TRUE(r.blocks[1].complete);
  EXPECT_EQ(r.blocks[1].failed, 0u);
}

TEST(TapStream, NonZeroRcWithoutFailuresCountsOnce) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: rc", "1..1", "ok 1 a", "# xsel-end: rc rc=3"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 1u);
  EXPECT_EQ(b.failures, std::vector<std::string>{"exited rc=3"});
}

TEST(TapStream, NonZeroRcWithFailuresAddsNothing) {
  const auto r = parse_stream_text(
      lines({"# xsel-begin: rc", "1..1", "not ok 1 a", "# xsel-end: rc rc=1"}));
  EXPECT_EQ(only_block(r).failed, 1u);
}

TEST(TapStream, KselftestSkipExitCodeIsNotAFailure) {
  const auto r = parse_stream_text(lines(
      {"# xsel-begin: skip", "1..1", "ok 1 a # SKIP no hw", "# xsel-end: skip rc=4"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.failed, 0u);
  EXPECT_EQ(b.skipped, 1u);
}

TEST(TapStream, NegativeRcIsParsed) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: sig", "1..1", "ok 1 a", "# xsel-end: sig rc=-11"}));
  EXPECT_EQ(only_block(r).rc, -11);
  EXPECT_EQ(only_block(r).failures, std::vector<std::string>{"exited rc=-11"});
}

TEST(TapStream, GarbledRcIsAWarningNotAFailure) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: g", "1..1", "ok 1 a", "# xsel-end: g rc=what"}));
  const auto& b = only_block(r);
  EXPECT_FALSE(b.rc);
  EXPECT_EQ(b.failed, 0u);
  EXPECT_FALSE(r.warnings.empty());
}

TEST(TapStream, NoPlanAndNoResultsFails) {
  const auto r = parse_stream_text(lines({"# xsel-begin: empty", "# xsel-end: empty rc=0"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.failed, 1u);
  EXPECT_EQ(b.failures, std::vector<std::string>{"no test results"});
}

TEST(TapStream, WholeBinarySkippedByPlan) {
  const auto r = parse_stream_text(
      lines({"# xsel-begin: noskip", "1..0 # SKIP needs a NIC with XDP", "# xsel-end: noskip rc=4"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.failed, 0u);
  EXPECT_EQ(b.skipped, 1u);
}

TEST(TapStream, EmptyPlanWithoutSkipCountsNothing) {
  const auto r = parse_stream_text(lines({"# xsel-begin: zero", "1..0", "# xsel-end: zero rc=0"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed + b.failed + b.skipped, 0u);
}

TEST(TapStream, ResultsWithoutPlanAreAccepted) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: np", "ok 1 a", "ok 2 b", "# xsel-end: np rc=0"}));
  const auto& b = only_block(r);
  EXPECT_EQ(b.passed, 2u);
  EXPECT_EQ(b.failed, 0u);
  EXPECT_FALSE(b.plan);
}

TEST(TapStream, StrayEndMarkerIsAWarning) {
  const auto r = parse_stream_text(lines({"# xsel-end: ghost rc=0"}));
  EXPECT_TRUE(r.blocks.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("ghost"), std::string::npos);
}

TEST(TapStream, MismatchedEndMarkerLeavesBlockIncomplete) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: a", "1..1", "ok 1 x", "# xsel-end: b rc=0"}));
  const auto& blk = only_block(r);
  EXPECT_FALSE(blk.complete);
  EXPECT_EQ(blk.failed, 1u);
}

TEST(TapStream, SecondPlanIsIgnoredWithWarning) {
  const auto r =
      parse_stream_text(lines({"# xsel-begin: p", "1..1", "1..5", "ok 1 a", "# xsel-end: p rc=0"}));
  EXPECT_EQ(only_block(r).plan, 1u);
  EXPECT_EQ(only_block(r).failed, 0u);
  EXPECT_EQ(r.warnings.size(), 1u);
}

TEST(TapStream, EmptyStreamHasNoBlocks) {
  EXPECT_TRUE(parse_stream_text("").blocks.empty());
  EXPECT_TRUE(parse_stream_text("just noise\nmore noise\n").blocks.empty());
}

TEST(TapStream, WarningsNameOriginAndLine) {
  const auto r = parse_stream_text(lines({"noise", "# xsel-end: ghost rc=0"}), "vm.log");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].rfind("vm.log:2:", 0), 0u) << r.warnings[0];
}

TEST(TapStream, IncrementalParserMatchesWholeText) {
  stream_parser p("inc");
  for (std::string_view l : {"# xsel-begin: x\r\n", "1..2\r\n", "ok 1 a\r\n", "not ok 2 b\r\n",
                             "# xsel-end: x rc=1\r\n"})
    p.feed_line(l);
  const auto r = p.finish();
  const auto& b = only_block(r);
  EXPECT_EQ(b.origin, "inc");
  EXPECT_EQ(b.passed, 1u);
  EXPECT_EQ(b.failed, 1u);
}

TEST(TapStream, ReadsFromIstreamWithoutFinalNewline) {
  std::istringstream in("# xsel-begin: s\n1..1\nok 1 a\n# xsel-end: s rc=0");
  const auto r = parse_stream(in, "stdin");
  const auto& b = only_block(r);
  EXPECT_TRUE(b.complete);
  EXPECT_EQ(b.passed, 1u);
}

}  // namespace
