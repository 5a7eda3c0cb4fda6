// SPDX-License-Identifier: GPL-2.0
//
// canaryctl's grammar: what parses into which command, and the usage errors.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test.hpp"
#include "canaryctl_cli.hpp"

namespace {

using namespace xsel::canaryctl;

using xsel::cli_test::contains;
const auto [parse_ok, expect_usage_error] = xsel::cli_test::checks<parse_args>();

TEST(CanaryCli, AttachDefaultsToNative) {
  const auto c = parse_ok({"xdp", "attach", "dev", "eth0"});
  EXPECT_EQ(c.action, verb::attach);
  EXPECT_EQ(c.ifname, "eth0");
  EXPECT_EQ(c.mode, attach_mode::native);
  EXPECT_EQ(c.bpffs, "/sys/fs/bpf");
  EXPECT_EQ(c.pin_dir(), "/sys/fs/bpf/canary/eth0");
}

TEST(CanaryCli, AttachGenericModeEitherPosition) {
  EXPECT_EQ(parse_ok({"xdp", "attach", "dev", "veth0", "--mode", "generic"}).mode,
            attach_mode::generic);
  EXPECT_EQ(parse_ok({"xdp", "attach", "--mode=generic", "dev", "veth0"}).mode,
            attach_mode::generic);
  EXPECT_EQ(parse_ok({"xdp", "attach", "dev", "veth0", "--mode", "native"}).mode,
            attach_mode::native);
}

TEST(CanaryCli, BadModeIsRejected) {
  expect_usage_error({"xdp", "attach", "dev", "eth0", "--mode", "turbo"}, "turbo");
  expect_usage_error({"xdp", "attach", "dev", "eth0", "--mode"}, "--mode");
}

TEST(CanaryCli, MissingDev) {
  expect_usage_error({"xdp", "attach"}, "missing 'dev IFNAME'");
  expect_usage_error({"xdp", "stats"}, "missing 'dev IFNAME'");
  expect_usage_error({"xdp", "detach"}, "missing 'dev IFNAME'");
}

TEST(CanaryCli, DevWithoutName) {
  expect_usage_error({"xdp", "attach", "dev"}, "'dev' needs an interface name");
}

TEST(CanaryCli, NameWithoutDevKeyword) {
  expect_usage_error({"xdp", "attach", "eth0"}, "expected 'dev IFNAME', got 'eth0'");
}

TEST(CanaryCli, TrailingWordsAreRejected) {
  expect_usage_error({"xdp", "detach", "dev", "eth0", "now"}, "unexpected argument 'now'");
  expect_usage_error({"xdp", "list", "dev", "eth0"}, "unexpected argument 'dev'");
}

TEST(CanaryCli, UnknownVerb) {
  expect_usage_error({"xdp", "frob"}, "unknown verb 'frob'");
  expect_usage_error({"xdp"}, "missing verb");
}

TEST(CanaryCli, UnknownObject) {
  expect_usage_error({"tc", "attach"}, "unknown object 'tc'");
  expect_usage_error({}, "missing object");
}

TEST(CanaryCli, UnknownOption) {
  expect_usage_error({"--frobnicate", "xdp", "list"}, "--frobnicate");
  expect_usage_error({"xdp", "stats", "dev", "eth0", "--frobnicate"}, "--frobnicate");
}

TEST(CanaryCli, InvalidInterfaceNames) {
  expect_usage_error({"xdp", "attach", "dev", "../../etc"}, "invalid interface name");
  expect_usage_error({"xdp", "attach", "dev", "a/b"}, "contains '/'");
  expect_usage_error({"xdp", "attach", "dev", "0123456789abcdef"}, "longer than 15");
  expect_usage_error({"xdp", "attach", "dev", ".."}, "invalid interface name");
  expect_usage_error({"xdp", "attach", "dev", "a b"}, "invalid interface name");
  EXPECT_FALSE(invalid_ifname("0123456789abcde"));  // 15 characters is fine
  EXPECT_FALSE(invalid_ifname("veth-xsel.1"));
}

TEST(CanaryCli, StatsAndListJson) {
  auto c = parse_ok({"xdp", "stats", "dev", "lo", "--json"});
  EXPECT_EQ(c.action, verb::stats);
  EXPECT_EQ(c.ifname, "lo");
  EXPECT_TRUE(c.json);

  c = parse_ok({"xdp", "stats", "dev", "lo"});
  EXPECT_FALSE(c.json);

  c = parse_ok({"xdp", "list"});
  EXPECT_EQ(c.action, verb::list);
  EXPECT_FALSE(c.json);

  c = parse_ok({"-j", "xdp", "list"});  // bpftool style
  EXPECT_TRUE(c.json);
}

TEST(CanaryCli, JsonOnlyWhereItMeansSomething) {
  expect_usage_error({"-j", "xdp", "attach", "dev", "eth0"}, "--json is not supported");
  expect_usage_error({"xdp", "detach", "dev", "eth0", "--json"}, "--json");
}

TEST(CanaryCli, DetachParses) {
  const auto c = parse_ok({"xdp", "detach", "dev", "eth0"});
  EXPECT_EQ(c.action, verb::detach);
  EXPECT_EQ(c.ifname, "eth0");
}

TEST(CanaryCli, GlobalOptions) {
  const auto c = parse_ok({"-v", "--bpffs", "/tmp/bpffs/", "xdp", "stats", "dev", "eth0"});
  EXPECT_TRUE(c.verbose);
  EXPECT_EQ(c.bpffs, "/tmp/bpffs");
  EXPECT_EQ(c.pin_root(), "/tmp/bpffs/canary");
  EXPECT_EQ(c.pin_dir(), "/tmp/bpffs/canary/eth0");
}

TEST(CanaryCli, HelpTeaches) {
  const auto r = parse_args({"--help"});
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "canary")) << r.out;
  EXPECT_TRUE(contains(r.out, "Examples:")) << r.out;
  EXPECT_TRUE(contains(r.out, "xdp attach dev")) << r.out;
  EXPECT_TRUE(contains(r.out, "CAP_BPF")) << r.out;
}

TEST(CanaryCli, VerbHelp) {
  const auto r = parse_args({"xdp", "attach", "--help"});
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "--mode")) << r.out;
}

TEST(CanaryCli, NamesOfEnums) {
  EXPECT_EQ(to_string(verb::attach), "attach");
  EXPECT_EQ(to_string(verb::list), "list");
  EXPECT_EQ(to_string(attach_mode::generic), "generic");
}

}  // namespace
