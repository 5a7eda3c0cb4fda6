// SPDX-License-Identifier: GPL-2.0
//
// CTest log parsing: summary line, FAILED list, did-not-run list.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xcommon/tap.hpp"

namespace {

using namespace xcommon::tap;

TEST(CtestLog, AllPass) {
  const auto r = parse_ctest_log_text(
      "Test project /b\n"
      "1/3 Test #1: a ....   Passed    0.00 sec\n"
      "\n"
      "100% tests passed, 0 tests failed out of 3\n"
      "\n"
      "Total Test time (real) =   0.01 sec\n");
  EXPECT_FALSE(r.no_tests);
  EXPECT_EQ(r.summary.name, "host (ctest)");
  EXPECT_EQ(r.summary.kind, source_kind::ctest);
  EXPECT_EQ(r.summary.passed, 3u);
  EXPECT_EQ(r.summary.failed, 0u);
  EXPECT_EQ(r.summary.skipped, 0u);
  EXPECT_TRUE(r.summary.failures.empty());
  EXPECT_TRUE(r.warnings.empty());
}

// The layout ctest 3.25 prints, with every kind of non-pass.
constexpr std::string_view k_mixed =
    "    Start 1: Suite.pass\n"
    "1/7 Test #1: Suite.pass .......................   Passed    0.00 sec\n"
    "2/7 Test #2: Suite.fail .......................***Failed    0.00 sec\n"
    "3/7 Test #3: Suite.skip .......................***Skipped   0.00 sec\n"
    "4/7 Test #4: Suite.disabled ...................***Not Run (Disabled)   0.00 sec\n"
    "\n"
    "33% tests passed, 4 tests failed out of 6\n"
    "\n"
    "Total Test time (real) =   1.02 sec\n"
    "\n"
    "The following tests did not run:\n"
    "\t  3 - Suite.skip (Skipped)\n"
    "\t  4 - Suite.disabled (Disabled)\n"
    "\n"
    "The following tests FAILED:\n"
    "\t  2 - Suite.fail (Failed)\n"
    "\t  5 - Suite.segv (SEGFAULT)\n"
    "\t  6 - Suite.timeout (Timeout)\n"
    "\t  7 - Suite.notrun (Not Run)\n"
    "Errors while running CTest\n";

TEST(CtestLog, SomeFailWithNames) {
  const auto r = parse_ctest_log_text(k_mixed);
  EXPECT_EQ(r.summary.failed, 4u);
  // Out of 6 (disabled not counted): 2 not failed, one of which was skipped.
  EXPECT_EQ(r.summary.passed, 1u);
  EXPECT_EQ(r.summary.skipped, 2u);  // skipped + disabled
  EXPECT_EQ(r.summary.failures, (std::vector<std::string>{"Suite.fail", "Suite.segv",
                                                           "Suite.timeout", "Suite.notrun"}));
  EXPECT_TRUE(r.warnings.empty());
}

TEST(CtestLog, CarriageReturns) {
  std::string text;
  for (char c : std::string(k_mixed)) {
    if (c == '\n') text += '\r';
    text += c;
  }
  const auto r = parse_ctest_log_text(text);
  EXPECT_EQ(r.summary.failed, 4u);
  EXPECT_EQ(r.summary.failures.front(), "Suite.fail");
}

TEST(CtestLog, NamesWithSpacesAndParentheses) {
  const auto r = parse_ctest_log_text(
      "50% tests passed, 1 tests failed out of 2\n"
      "\n"
      "The following tests FAILED:\n"
      "\t 12 - cli.tool (with args) works (Failed)\n");
  EXPECT_EQ(r.summary.failures, std::vector<std::string>{"cli.tool (with args) works"});
}

TEST(CtestLog, NoneFound) {
  const auto r = parse_ctest_log_text("Test project /b\nNo tests were found!!!\n");
  EXPECT_TRUE(r.no_tests);
  EXPECT_EQ(r.summary.passed + r.summary.failed + r.summary.skipped, 0u);
}

TEST(CtestLog, NoSummaryIsAParseError) {
  EXPECT_THROW((void)parse_ctest_log_text(""), parse_error);
  EXPECT_THROW((void)parse_ctest_log_text("Test project /b\n1/3 Test #1: a ... Passed\n"),
               parse_error);
  try {
    (void)parse_ctest_log_text("garbage\n", "ctest.log");
  } catch (const parse_error& e) {
    EXPECT_NE(std::string(e.what()).find("ctest.log"), std::string::npos);
  }
}

TEST(CtestLog, LastRunWins) {
  const auto r = parse_ctest_log_text(
      "50% tests passed, 1 tests failed out of 2\n"
      "The following tests FAILED:\n"
      "\t  2 - old.failure (Failed)\n"
      "Errors while running CTest\n"
      "Test project /b\n"
      "100% tests passed, 0 tests failed out of 5\n");
  EXPECT_EQ(r.summary.passed, 5u);
  EXPECT_EQ(r.summary.failed, 0u);
  EXPECT_TRUE(r.summary.failures.empty());
}

TEST(CtestLog, SummaryLookalikeInTestOutputIsOverridden) {
  const auto r = parse_ctest_log_text(
      "2/2 Test #2: nested ***Failed\n"
      "100% tests passed, 0 tests failed out of 99\n"
      "\n"
      "50% tests passed, 1 tests failed out of 2\n"
      "\n"
      "The following tests FAILED:\n"
      "\t  2 - nested (Failed)\n");
  EXPECT_EQ(r.summary.passed, 1u);
  EXPECT_EQ(r.summary.failed, 1u);
}

TEST(CtestLog, FewerNamesThanFailuresGetPlaceholders) {
  const auto r = parse_ctest_log_text("0% tests passed, 2 tests failed out of 2\n");
  EXPECT_EQ(r.summary.failed, 2u);
  ASSERT_EQ(r.summary.failures.size(), 2u);
  EXPECT_EQ(r.summary.failures[0], "(unnamed failure 1)");
  EXPECT_EQ(r.warnings.size(), 1u);
}

TEST(CtestLog, MalformedSummaryIsNotASummary) {
  EXPECT_THROW((void)parse_ctest_log_text("x% tests passed, 0 tests failed out of 3\n"),
               parse_error);
  EXPECT_THROW((void)parse_ctest_log_text("100% tests passed, 5 tests failed out of 3\n"),
               parse_error);
}

}  // namespace
