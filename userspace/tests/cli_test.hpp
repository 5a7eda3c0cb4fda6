// SPDX-License-Identifier: GPL-2.0
//
// Helpers for the tests of a tool's grammar (parse_args() returning an
// xcommon::cli::parse_result), shared by canaryctl's and latrctl's tests:
//
//   using xsel::cli_test::contains;
//   const auto [parse_ok, expect_usage_error] = xsel::cli_test::checks<parse_args>();
//
//   EXPECT_EQ(parse_ok({"status", "--json"}).action, verb::status);
//   expect_usage_error({"frob"}, "unknown command 'frob'");
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace xsel::cli_test {

inline bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Expects `args` to parse into a command, and returns it (a default one if not).
template <auto Parse>
auto parse_ok(const std::vector<std::string>& args) {
  auto r = Parse(args);
  EXPECT_TRUE(r.cmd) << r.err;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.err.empty()) << r.err;
  using command = typename decltype(r.cmd)::value_type;
  return r.cmd.value_or(command{});
}

// Expects a usage error (exit 2) whose message contains `needle`.
template <auto Parse>
void expect_usage_error(const std::vector<std::string>& args, std::string_view needle) {
  auto r = Parse(args);
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, needle)) << "error was: " << r.err;
  EXPECT_TRUE(contains(r.err, "--help")) << "error should point to --help: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// Both checks for one grammar, to bind by name (see the top of this file).
template <auto Parse>
constexpr auto checks() {
  return std::pair{&parse_ok<Parse>, &expect_usage_error<Parse>};
}

}  // namespace xsel::cli_test
