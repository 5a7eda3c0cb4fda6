// SPDX-License-Identifier: GPL-2.0
//
// Report aggregation and rendering (text and JSON), and exit codes.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "xcommon/tap.hpp"

namespace {

using namespace xcommon::tap;

source_summary make(std::string name, std::size_t p, std::size_t f, std::size_t s,
                    std::vector<std::string> failures = {},
                    source_kind kind = source_kind::kselftest) {
  source_summary x;
  x.name = std::move(name);
  x.origin = "f";
  x.kind = kind;
  x.passed = p;
  x.failed = f;
  x.skipped = s;
  x.failures = std::move(failures);
  return x;
}

std::string last_line(const std::string& text) {
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const auto body = text.substr(0, text.size() - 1);
  return body.substr(body.rfind('\n') + 1);
}

TEST(Report, FormatCountsOmitsZeroSkipped) {
  EXPECT_EQ(format_counts(3, 0, 0), "3 passed, 0 failed");
  EXPECT_EQ(format_counts(3, 1, 2), "3 passed, 1 failed, 2 skipped");
}

TEST(Report, TextHasFailuresPerSourceAndTotalsLast) {
  report r;
  r.sources.push_back(make("host (ctest)", 12, 0, 0, {}, source_kind::ctest));
  r.sources.push_back(make("infra/config", 1, 1, 1, {"global.other"}));
  const std::string text = render_text(r);
  EXPECT_EQ(text,
            "FAIL infra/config: global.other\n"
            "host (ctest): 12 passed, 0 failed\n"
            "infra/config: 1 passed, 1 failed, 1 skipped\n"
            "13 passed, 1 failed, 1 skipped\n");
  EXPECT_EQ(r.exit_code(), 1);
}

TEST(Report, AllPassExitsZero) {
  report r;
  r.sources.push_back(make("a", 2, 0, 0));
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(last_line(render_text(r)), "2 passed, 0 failed");
}

TEST(Report, EmptyReportPrintsZeroTotals) {
  report r;
  EXPECT_EQ(render_text(r), "0 passed, 0 failed\n");
  EXPECT_EQ(r.exit_code(), 0);
}

TEST(Report, ErrorsWinAndSuppressTotalsLine) {
  report r;
  r.sources.push_back(make("a", 2, 0, 0));
  r.errors.push_back("x.tap: no block");
  EXPECT_EQ(r.exit_code(), 2);
  const std::string text = render_text(r);
  EXPECT_EQ(text, "a: 2 passed, 0 failed\n");
}

TEST(Report, Json) {
  report r;
  r.sources.push_back(make("host (ctest)", 3, 1, 0, {"Suite.bad"}, source_kind::ctest));
  auto ks = make("infra/config", 1, 1, 2, {"global.other"});
  ks.plan = 4;
  ks.rc = 1;
  r.sources.push_back(ks);
  r.warnings.push_back("w");
  const auto j = to_json(r);
  EXPECT_EQ(j["passed"], 4);
  EXPECT_EQ(j["failed"], 2);
  EXPECT_EQ(j["skipped"], 2);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["exit_code"], 1);
  ASSERT_EQ(j["sources"].size(), 2u);
  EXPECT_EQ(j["sources"][0]["kind"], "ctest");
  EXPECT_FALSE(j["sources"][0].contains("rc"));
  EXPECT_EQ(j["sources"][1]["kind"], "kselftest");
  EXPECT_EQ(j["sources"][1]["plan"], 4);
  EXPECT_EQ(j["sources"][1]["rc"], 1);
  EXPECT_EQ(j["sources"][1]["complete"], true);
  ASSERT_EQ(j["failures"].size(), 2u);
  EXPECT_EQ(j["failures"][1]["source"], "infra/config");
  EXPECT_EQ(j["failures"][1]["name"], "global.other");
  EXPECT_EQ(j["warnings"].size(), 1u);
  EXPECT_TRUE(j["errors"].empty());
}

TEST(Report, JsonNullsForUnknownPlanAndRc) {
  report r;
  auto s = make("died", 0, 1, 0, {"incomplete (no end marker)"});
  s.complete = false;
  r.sources.push_back(s);
  const auto j = to_json(r);
  EXPECT_TRUE(j["sources"][0]["plan"].is_null());
  EXPECT_TRUE(j["sources"][0]["rc"].is_null());
  EXPECT_EQ(j["sources"][0]["complete"], false);
}

}  // namespace
