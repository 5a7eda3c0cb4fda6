// SPDX-License-Identifier: GPL-2.0
//
// latrctl's grammar: what parses into which command, and the usage errors.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test.hpp"
#include "latrctl_cli.hpp"

namespace {

using namespace xsel::latrctl;

using xsel::cli_test::contains;
const auto [parse_ok, expect_usage_error] = xsel::cli_test::checks<parse_args>();

TEST(LatrCli, Status) {
  auto c = parse_ok({"status"});
  EXPECT_EQ(c.action, verb::status);
  EXPECT_FALSE(c.json);
  EXPECT_EQ(c.sysfs, "/sys/kernel/latr");

  EXPECT_TRUE(parse_ok({"status", "--json"}).json);
  EXPECT_TRUE(parse_ok({"status", "-j"}).json);
  EXPECT_TRUE(parse_ok({"-j", "status"}).json);  // bpftool style
  EXPECT_TRUE(parse_ok({"--json", "status"}).json);
}

TEST(LatrCli, EnableAndDisableSetTheMode) {
  auto c = parse_ok({"enable"});
  EXPECT_EQ(c.action, verb::set_mode);
  EXPECT_EQ(c.mode, latr_mode::all);

  c = parse_ok({"enable", "--optin"});
  EXPECT_EQ(c.action, verb::set_mode);
  EXPECT_EQ(c.mode, latr_mode::optin);

  c = parse_ok({"disable"});
  EXPECT_EQ(c.action, verb::set_mode);
  EXPECT_EQ(c.mode, latr_mode::off);
}

TEST(LatrCli, SetMode) {
  EXPECT_EQ(parse_ok({"set", "mode", "off"}).mode, latr_mode::off);
  EXPECT_EQ(parse_ok({"set", "mode", "optin"}).mode, latr_mode::optin);
  const auto c = parse_ok({"set", "mode", "all"});
  EXPECT_EQ(c.action, verb::set_mode);
  EXPECT_EQ(c.mode, latr_mode::all);
}

TEST(LatrCli, BadModes) {
  expect_usage_error({"set", "mode", "on"}, "bad mode 'on' (known: off, optin, all)");
  expect_usage_error({"set", "mode", "ALL"}, "bad mode 'ALL'");
  expect_usage_error({"set", "mode", ""}, "bad mode ''");
  expect_usage_error({"set", "mode"}, "missing MODE");
  expect_usage_error({"set", "mode", "all", "optin"}, "unexpected argument 'optin'");
  expect_usage_error({"enable", "--all"}, "unknown option '--all'");
  expect_usage_error({"enable", "optin"}, "unexpected argument 'optin'");
  expect_usage_error({"disable", "--optin"}, "unknown option '--optin'");
}

TEST(LatrCli, SetTimeout) {
  auto c = parse_ok({"set", "timeout", "500"});
  EXPECT_EQ(c.action, verb::set_timeout);
  EXPECT_EQ(c.timeout_us, 500u);
  EXPECT_EQ(parse_ok({"set", "timeout", "100"}).timeout_us, 100u);
  EXPECT_EQ(parse_ok({"set", "timeout", "1000000"}).timeout_us, 1000000u);
}

TEST(LatrCli, BadTimeouts) {
  expect_usage_error({"set", "timeout", "99"}, "accepts 100..1000000 microseconds");
  expect_usage_error({"set", "timeout", "1000001"}, "timeout 1000001 us is out of range");
  expect_usage_error({"set", "timeout", "99999999999999999999999"}, "bad timeout");
  expect_usage_error({"set", "timeout", "0"}, "out of range");
  expect_usage_error({"set", "timeout", "2ms"}, "bad timeout '2ms'");
  expect_usage_error({"set", "timeout", "+500"}, "bad timeout '+500'");
  expect_usage_error({"set", "timeout", " 500"}, "bad timeout");
  expect_usage_error({"set", "timeout", "-500"}, "bad timeout '-500'");
  expect_usage_error({"set", "timeout"}, "missing US");
  expect_usage_error({"set", "timeout", "500", "600"}, "unexpected argument '600'");
}

TEST(LatrCli, ProcessOptInOut) {
  auto c = parse_ok({"process", "optin", "4242"});
  EXPECT_EQ(c.action, verb::optin);
  EXPECT_EQ(c.pid, 4242);

  c = parse_ok({"process", "optout", "1"});
  EXPECT_EQ(c.action, verb::optout);
  EXPECT_EQ(c.pid, 1);

  EXPECT_EQ(parse_ok({"process", "optin", "2147483647"}).pid, 2147483647);
}

TEST(LatrCli, BadPids) {
  expect_usage_error({"process", "optin"}, "missing PID");
  expect_usage_error({"process", "optin", "0"}, "bad PID '0'");
  expect_usage_error({"process", "optin", "-5"}, "bad PID '-5'");
  expect_usage_error({"process", "optout", "abc"}, "bad PID 'abc'");
  expect_usage_error({"process", "optin", "12x"}, "bad PID '12x'");
  expect_usage_error({"process", "optin", "2147483648"}, "positive decimal number");
  expect_usage_error({"process", "optin", "1", "2"}, "unexpected argument '2'");
}

TEST(LatrCli, NoRunVerb) {
  // Opt-in is per address space and exec() makes a new one: no 'run CMD'.
  expect_usage_error({"run", "--", "sleep", "1"}, "unknown command 'run'");
}

TEST(LatrCli, Stats) {
  auto c = parse_ok({"stats"});
  EXPECT_EQ(c.action, verb::stats);
  EXPECT_FALSE(c.json);
  EXPECT_FALSE(c.reset);

  c = parse_ok({"stats", "--json", "--reset"});
  EXPECT_TRUE(c.json);
  EXPECT_TRUE(c.reset);

  c = parse_ok({"-j", "stats", "--reset"});
  EXPECT_TRUE(c.json);
  EXPECT_TRUE(c.reset);
}

TEST(LatrCli, JsonOnlyWhereItMeansSomething) {
  expect_usage_error({"-j", "enable"}, "--json is not supported by 'enable'");
  expect_usage_error({"--json", "set", "timeout", "500"},
                     "--json is not supported by 'set timeout'");
  expect_usage_error({"-j", "process", "optin", "1"}, "--json is not supported");
  expect_usage_error({"disable", "--json"}, "unknown option '--json'");
  expect_usage_error({"status", "--reset"}, "unknown option '--reset'");
}

TEST(LatrCli, UnknownWords) {
  expect_usage_error({}, "missing command (status, enable, disable, set, process, stats)");
  expect_usage_error({"frob"}, "unknown command 'frob'");
  expect_usage_error({"--frobnicate", "status"}, "--frobnicate");
  expect_usage_error({"status", "--frobnicate"}, "unknown option '--frobnicate'");
  expect_usage_error({"status", "now"}, "unexpected argument 'now'");
  expect_usage_error({"set"}, "missing setting (mode or timeout)");
  expect_usage_error({"set", "ring_size", "32"}, "unknown setting 'ring_size'");
  expect_usage_error({"process"}, "missing verb (optin or optout)");
  expect_usage_error({"process", "list"}, "unknown verb for 'process' 'list'");
}

TEST(LatrCli, OneCommandAtATime) {
  expect_usage_error({"disable", "status"}, "unexpected argument 'status'");
  expect_usage_error({"status", "stats"}, "unexpected argument 'stats'");
  expect_usage_error({"set", "mode", "all", "timeout", "500"}, "unexpected argument 'timeout'");
}

TEST(LatrCli, ErrorsNameTheCommandForHelp) {
  const auto r = parse_args({"set", "timeout", "5"});
  EXPECT_TRUE(contains(r.err, "latrctl set timeout --help")) << r.err;
  EXPECT_TRUE(contains(r.err, "latrctl: error: ")) << r.err;
}

TEST(LatrCli, SysfsOption) {
  auto c = parse_ok({"--sysfs", "/tmp/fake/", "status"});
  EXPECT_EQ(c.sysfs, "/tmp/fake");
  c = parse_ok({"--sysfs=/tmp/x", "process", "optin", "7"});
  EXPECT_EQ(c.sysfs, "/tmp/x");
  EXPECT_EQ(c.pid, 7);
  EXPECT_EQ(parse_ok({"--sysfs", "/", "stats"}).sysfs, "/");
  expect_usage_error({"--sysfs", "", "status"}, "--sysfs needs a directory");
  expect_usage_error({"status", "--sysfs", "/tmp/x"}, "--sysfs");  // global option only
}

TEST(LatrCli, HelpTeaches) {
  const auto r = parse_args({"--help"});
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.err.empty());
  for (std::string_view s : {"TLB shootdown", "IPI", "Examples:", "status", "enable --optin",
                             "disable", "set timeout US", "process optin PID", "stats",
                             "fork()", "exec()", "CAP_SYS_ADMIN", "insmod", "Exit status"})
    EXPECT_TRUE(contains(r.out, s)) << "missing '" << s << "' in:\n" << r.out;
}

TEST(LatrCli, VerbHelp) {
  auto r = parse_args({"set", "timeout", "--help"});
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "latrctl set timeout")) << r.out;
  EXPECT_TRUE(contains(r.out, "100..1000000")) << r.out;

  r = parse_args({"process", "optin", "-h"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "fork()")) << r.out;
  EXPECT_TRUE(contains(r.out, "PID")) << r.out;

  r = parse_args({"stats", "--help"});
  EXPECT_TRUE(contains(r.out, "ipis_avoided")) << r.out;
  EXPECT_TRUE(contains(r.out, "--reset")) << r.out;
}

TEST(LatrCli, ModeNames) {
  EXPECT_EQ(to_string(latr_mode::off), "off");
  EXPECT_EQ(to_string(latr_mode::optin), "optin");
  EXPECT_EQ(to_string(latr_mode::all), "all");
  EXPECT_EQ(parse_mode("optin"), latr_mode::optin);
  EXPECT_FALSE(parse_mode("optin\n"));
  EXPECT_FALSE(parse_mode("on"));
  EXPECT_EQ(to_string(verb::set_timeout), "set timeout");
}

}  // namespace
