// SPDX-License-Identifier: GPL-2.0
//
// tapsum end to end, in-process: arguments, inputs, output and exit status.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tapsum_app.hpp"

namespace {

const std::string k_data = XSEL_TEST_DATA_DIR;

struct run_result {
  int rc;
  std::string out;
  std::string err;
};

run_result tapsum(std::vector<std::string> args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  const int rc = xsel::tapsum::run(args, in, out, err);
  return {rc, out.str(), err.str()};
}

std::string last_line(const std::string& text) {
  if (text.empty()) return {};
  auto body = text.back() == '\n' ? text.substr(0, text.size() - 1) : text;
  return body.substr(body.rfind('\n') + 1);
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Tapsum, HelpTeachesAndExitsZero) {
  const auto r = tapsum({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(contains(r.out, "--ctest-log")) << r.out;
  EXPECT_TRUE(contains(r.out, "xsel-begin")) << r.out;
  EXPECT_TRUE(contains(r.out, "Examples:")) << r.out;
}

TEST(Tapsum, SampleStreamAndCtestLog) {
  const auto r = tapsum({"--ctest-log", k_data + "/ctest_all_pass.log",
                         k_data + "/sample_stream.tap"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(contains(r.out, "FAIL infra/config: global.other\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "FAIL infra/crash: test 2 missing (binary crashed?)\n"));
  EXPECT_TRUE(contains(r.out, "FAIL infra/died: incomplete (no end marker)\n"));
  EXPECT_TRUE(contains(r.out, "host (ctest): 12 passed, 0 failed\n"));
  EXPECT_TRUE(contains(r.out, "infra/config: 1 passed, 1 failed, 1 skipped\n"));
  EXPECT_TRUE(contains(r.out, "infra/xfail: 1 passed, 0 failed, 1 skipped\n"));
  EXPECT_EQ(last_line(r.out), "16 passed, 4 failed, 2 skipped");
}

TEST(Tapsum, CtestFailuresAreListed) {
  const auto r = tapsum({"--ctest-log", k_data + "/ctest_some_fail.log", "--allow-empty"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(contains(r.out, "FAIL host (ctest): Suite.segv\n")) << r.out;
  EXPECT_EQ(last_line(r.out), "1 passed, 4 failed, 2 skipped");
}

TEST(Tapsum, AllPassExitsZero) {
  const auto r = tapsum({"--ctest-log", k_data + "/ctest_all_pass.log"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "12 passed, 0 failed");
}

TEST(Tapsum, ReadsStdin) {
  const auto r = tapsum({"-"}, "# xsel-begin: s\n1..1\nok 1 a\n# xsel-end: s rc=0\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "s: 1 passed, 0 failed\n1 passed, 0 failed\n");
}

TEST(Tapsum, StreamWithoutBlocksIsAnError) {
  const auto r = tapsum({"-"}, "kernel panic before the runner started\n");
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "no '# xsel-begin: NAME' block")) << r.err;
  EXPECT_FALSE(contains(r.out, "0 passed, 0 failed"));
}

TEST(Tapsum, AllowEmptyAcceptsEmptyInputs) {
  auto r = tapsum({"--allow-empty", "-"}, "");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "0 passed, 0 failed");

  r = tapsum({"--allow-empty", "--ctest-log", k_data + "/ctest_none.log"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(Tapsum, CtestWithoutTestsIsAnError) {
  const auto r = tapsum({"--ctest-log", k_data + "/ctest_none.log"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "ctest found no tests")) << r.err;
}

TEST(Tapsum, CtestLogWithoutSummaryIsAnError) {
  const auto r = tapsum({"--ctest-log", k_data + "/sample_stream.tap"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "no CTest summary line")) << r.err;
}

TEST(Tapsum, MissingFileIsAnIoError) {
  const auto r = tapsum({"/nonexistent/vm.log"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "open /nonexistent/vm.log")) << r.err;
}

TEST(Tapsum, ErrorsTakePrecedenceOverFailures) {
  const auto r = tapsum({k_data + "/sample_stream.tap", "/nonexistent/vm.log"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.out, "FAIL infra/config: global.other"));
}

TEST(Tapsum, NothingToDoIsAUsageError) {
  const auto r = tapsum({});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "nothing to summarise")) << r.err;
}

TEST(Tapsum, UnknownOptionIsAUsageError) {
  const auto r = tapsum({"--frobnicate"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(contains(r.err, "frobnicate")) << r.err;
}

TEST(Tapsum, StdinTwiceIsAUsageError) {
  const auto r = tapsum({"-", "-"}, "");
  EXPECT_EQ(r.rc, 2);
}

TEST(Tapsum, JsonOutput) {
  const auto r = tapsum({"--json", "--ctest-log", k_data + "/ctest_all_pass.log",
                         k_data + "/sample_stream.tap"});
  EXPECT_EQ(r.rc, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["passed"], 16);
  EXPECT_EQ(j["failed"], 4);
  EXPECT_EQ(j["skipped"], 2);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["sources"].size(), 5u);
  EXPECT_EQ(j["sources"][0]["name"], "host (ctest)");
  EXPECT_EQ(j["failures"].size(), 4u);
}

TEST(Tapsum, JsonOnErrorStillParsesAndExitsTwo) {
  const auto r = tapsum({"--json", "-"}, "noise only\n");
  EXPECT_EQ(r.rc, 2);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["exit_code"], 2);
  EXPECT_EQ(j["errors"].size(), 1u);
}

}  // namespace
