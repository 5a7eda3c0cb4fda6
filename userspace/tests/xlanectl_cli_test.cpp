// SPDX-License-Identifier: GPL-2.0
//
// xlanectl's grammar: what parses into which command, and the usage errors.
#include <arpa/inet.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test.hpp"
#include "xlanectl_cli.hpp"

namespace {

using namespace xsel::xlanectl;

using xsel::cli_test::contains;
const auto [parse_ok, expect_usage_error] = xsel::cli_test::checks<parse_args>();

std::uint32_t ip(const char* s) { return xlane::Ipv4::parse(s).value().be; }

TEST(XlaneCli, AttachDefaults) {
  const auto c = parse_ok({"attach", "dev", "veth0"});
  EXPECT_EQ(c.action, verb::attach);
  EXPECT_EQ(c.ifname, "veth0");
  EXPECT_EQ(c.attach.port, 0) << "0: the module's default";
  EXPECT_EQ(c.attach.link_bps, 0u);
  EXPECT_EQ(c.attach.src_ip, 0u);
  EXPECT_EQ(c.device, "/dev/xlane");
  EXPECT_EQ(c.bpffs, "/sys/fs/bpf");
  EXPECT_EQ(c.pin_root(), "/sys/fs/bpf/xlane");
  EXPECT_FALSE(c.json);
}

TEST(XlaneCli, AttachEveryKeyword) {
  const auto c =
      parse_ok({"attach", "dev",   "eth1",  "port",  "7500",   "rate",       "2.5gbit",
                "share",  "40",    "links", "3",     "hop-ns", "4000",       "hop-jitter-ns",
                "1500",   "tx-ns", "1200",  "rx-ns", "1800",   "engine-pct", "60",
                "mtu",    "9000",  "node",  "12",    "src",    "10.0.0.1"});
  const auto& a = c.attach;
  EXPECT_EQ(c.ifname, "eth1");
  EXPECT_EQ(a.port, 7500);
  EXPECT_EQ(a.link_bps, 2500000000ull);
  EXPECT_EQ(a.share_pct, 40u);
  EXPECT_EQ(a.links, 3u);
  EXPECT_EQ(a.hop_ns, 4000u);
  EXPECT_EQ(a.hop_jitter_ns, 1500u);
  EXPECT_EQ(a.tx_ns, 1200u);
  EXPECT_EQ(a.rx_ns, 1800u);
  EXPECT_EQ(a.engine_pct, 60u);
  EXPECT_EQ(a.mtu, 9000u);
  EXPECT_EQ(a.node_id, 12u);
  EXPECT_EQ(a.src_ip, ip("10.0.0.1"));
  // Keywords in any order, dev not first.
  EXPECT_EQ(parse_ok({"attach", "rate", "1gbit", "dev", "eth1"}).attach.link_bps, 1000000000ull);
}

TEST(XlaneCli, AttachBadValues) {
  expect_usage_error({"attach"}, "missing 'dev IFNAME'");
  expect_usage_error({"attach", "dev"}, "'dev' needs a value (dev IFNAME)");
  expect_usage_error({"attach", "veth0"}, "unknown keyword 'veth0' (known: dev, port, rate");
  expect_usage_error({"attach", "dev", "a/b"}, "invalid interface name 'a/b': contains '/'");
  expect_usage_error({"attach", "dev", "averyveryverylongname"}, "longer than 15 characters");
  expect_usage_error({"attach", "dev", "v0", "port", "0"}, "bad port '0': give 1..65535");
  expect_usage_error({"attach", "dev", "v0", "port", "65536"}, "bad port '65536'");
  expect_usage_error({"attach", "dev", "v0", "rate", "fast"}, "bad rate 'fast'");
  expect_usage_error({"attach", "dev", "v0", "rate", "999kbit"}, "at least 1mbit");
  expect_usage_error({"attach", "dev", "v0", "share", "101"},
                     "bad share '101': give 1..100 percent");
  expect_usage_error({"attach", "dev", "v0", "links", "17"}, "bad links '17': give 1..16");
  expect_usage_error({"attach", "dev", "v0", "mtu", "63"}, "bad mtu '63'");
  expect_usage_error({"attach", "dev", "v0", "hop-ns", "0"}, "bad hop-ns '0'");
  expect_usage_error({"attach", "dev", "v0", "tx-ns", "-5"}, "-5");
  expect_usage_error({"attach", "dev", "v0", "src", "239.1.1.1"}, "give a unicast address");
  expect_usage_error({"attach", "dev", "v0", "src", "10.0.0"}, "bad src '10.0.0'");
  expect_usage_error({"attach", "dev", "v0", "port", "1", "port", "2"}, "'port' given twice");
  expect_usage_error({"attach", "dev", "v0", "--mode", "generic"}, "unknown option '--mode'");
}

TEST(XlaneCli, Detach) {
  const auto c = parse_ok({"detach", "dev", "veth0"});
  EXPECT_EQ(c.action, verb::detach);
  EXPECT_EQ(c.ifname, "veth0");
  expect_usage_error({"detach"}, "missing 'dev IFNAME'");
  expect_usage_error({"detach", "dev", "veth0", "now"}, "unknown keyword 'now' (known: dev)");
}

TEST(XlaneCli, ReadVerbsTakeJson) {
  for (auto [word, v] : {std::pair{"show", verb::show}, std::pair{"lanes", verb::lanes},
                         std::pair{"bridges", verb::bridges}}) {
    auto c = parse_ok({word});
    EXPECT_EQ(c.action, v);
    EXPECT_FALSE(c.json);
    EXPECT_TRUE(parse_ok({word, "--json"}).json);
    EXPECT_TRUE(parse_ok({word, "-j"}).json);
    EXPECT_TRUE(parse_ok({"-j", word}).json);  // bpftool style
  }
  auto c = parse_ok({"fd", "status"});
  EXPECT_EQ(c.action, verb::fd_status);
  EXPECT_TRUE(parse_ok({"fd", "status", "--json"}).json);
  EXPECT_TRUE(parse_ok({"--json", "fd", "status"}).json);
  EXPECT_TRUE(parse_ok({"listen", "port", "9", "--json"}).json);
  EXPECT_TRUE(parse_ok({"-j", "lane", "request", "loadsize", "64", "period", "100", "to",
                        "10.0.0.2", "port", "9"})
                  .json);
  expect_usage_error({"-j", "attach", "dev", "v0"}, "--json is not supported by 'attach'");
  expect_usage_error({"--json", "detach", "dev", "v0"}, "--json is not supported by 'detach'");
  expect_usage_error({"show", "extra"}, "unexpected argument 'extra'");
  expect_usage_error({"lanes", "--all"}, "unknown option '--all'");
}

TEST(XlaneCli, LaneRequest) {
  auto c = parse_ok(
      {"lane", "request", "loadsize", "64", "period", "100", "to", "10.0.0.2", "port", "9000"});
  EXPECT_EQ(c.action, verb::lane_request);
  EXPECT_EQ(c.request.loadsize, 64u);
  EXPECT_EQ(c.request.period_us, 100u);
  EXPECT_EQ(c.request.ip.be, ip("10.0.0.2"));
  EXPECT_EQ(c.request.port, 9000);
  EXPECT_EQ(c.request.prio, 0);
  EXPECT_FALSE(c.request.reclaim);
  EXPECT_EQ(c.request.slots, 0u);
  EXPECT_EQ(c.hold_s, 0);

  c = parse_ok({"lane", "request", "to", "239.1.2.3", "port", "1", "prio", "3", "period",
                "10000000", "loadsize", "1432", "slots", "256", "reclaim", "--hold", "2.5"});
  EXPECT_EQ(c.request.ip.be, ip("239.1.2.3"));
  EXPECT_EQ(c.request.prio, 3);
  EXPECT_EQ(c.request.period_us, 10000000u);
  EXPECT_EQ(c.request.loadsize, 1432u);
  EXPECT_EQ(c.request.slots, 256u);
  EXPECT_TRUE(c.request.reclaim);
  EXPECT_DOUBLE_EQ(c.hold_s, 2.5);
  EXPECT_DOUBLE_EQ(parse_ok({"lane", "request", "--hold", "10", "loadsize", "1", "period", "10",
                             "to", "1.2.3.4", "port", "5"})
                       .hold_s,
                   10);
}

TEST(XlaneCli, LaneRequestBadValues) {
  const std::vector<std::string> base = {"lane", "request"};
  auto with = [&](std::vector<std::string> words) {
    std::vector<std::string> v = base;
    v.insert(v.end(), words.begin(), words.end());
    return v;
  };
  expect_usage_error(with({"period", "100", "to", "10.0.0.2", "port", "9"}),
                     "missing 'loadsize N'");
  expect_usage_error(with({"loadsize", "64", "to", "10.0.0.2", "port", "9"}),
                     "missing 'period US'");
  expect_usage_error(with({"loadsize", "64", "period", "100", "port", "9"}), "missing 'to IP'");
  expect_usage_error(with({"loadsize", "64", "period", "100", "to", "10.0.0.2"}),
                     "missing 'port P'");
  expect_usage_error(with({"loadsize", "0", "period", "100", "to", "10.0.0.2", "port", "9"}),
                     "bad loadsize '0': give 1..1432 bytes");
  expect_usage_error(with({"loadsize", "1433", "period", "100", "to", "10.0.0.2", "port", "9"}),
                     "bad loadsize '1433'");
  expect_usage_error(with({"loadsize", "64", "period", "9", "to", "10.0.0.2", "port", "9"}),
                     "bad period '9': give 10..10000000 microseconds");
  expect_usage_error(with({"loadsize", "64", "period", "1ms", "to", "10.0.0.2", "port", "9"}),
                     "bad period '1ms'");
  expect_usage_error(with({"loadsize", "64", "period", "100", "to", "0.0.0.0", "port", "9"}),
                     "not an address a lane can reach");
  expect_usage_error(with({"loadsize", "64", "period", "100", "to", "host", "port", "9"}),
                     "bad receiver 'host'");
  expect_usage_error(
      with({"loadsize", "64", "period", "100", "to", "10.0.0.2", "port", "9", "prio", "4"}),
      "bad prio '4': give 0..3");
  expect_usage_error(
      with({"loadsize", "64", "period", "100", "to", "10.0.0.2", "port", "9", "slots", "100"}),
      "bad slots '100': a power of two");
  expect_usage_error(
      with({"loadsize", "64", "period", "100", "to", "10.0.0.2", "port", "9", "--hold", "x"}),
      "bad --hold 'x': give seconds");
  expect_usage_error(
      with({"loadsize", "64", "period", "100", "to", "10.0.0.2", "port", "9", "--hold", "-1"}),
      "-1");
  expect_usage_error({"lane"}, "missing verb (request)");
  expect_usage_error({"lane", "release", "3"}, "unknown verb for 'lane' 'release'");
}

TEST(XlaneCli, FdStart) {
  auto c = parse_ok({"fd", "start", "group", "239.1.1.1", "period", "1000", "threshold", "500"});
  EXPECT_EQ(c.action, verb::fd_start);
  EXPECT_EQ(c.group.be, ip("239.1.1.1"));
  EXPECT_EQ(c.fd_period_us, 1000u);
  EXPECT_EQ(c.fd_threshold_us, 500u);
  EXPECT_EQ(c.fd_slots, 0u);
  EXPECT_EQ(c.for_s, 0);
  EXPECT_EQ(c.fifo_priority, 10);
  EXPECT_LT(c.stall_after_s, 0) << "no stall unless asked";

  c = parse_ok({"fd", "start", "group", "224.0.0.9", "period", "100", "threshold", "50", "slots",
                "64", "--for", "30", "--fifo", "0", "--stall-after", "5", "--stall-for", "2",
                "--json"});
  EXPECT_EQ(c.fd_slots, 64u);
  EXPECT_DOUBLE_EQ(c.for_s, 30);
  EXPECT_EQ(c.fifo_priority, 0);
  EXPECT_DOUBLE_EQ(c.stall_after_s, 5);
  EXPECT_DOUBLE_EQ(c.stall_for_s, 2);
  EXPECT_TRUE(c.json);

  expect_usage_error({"fd", "start", "group", "10.0.0.1", "period", "1000", "threshold", "500"},
                     "multicast group (224.0.0.0/4)");
  expect_usage_error({"fd", "start", "group", "239.1.1.1", "period", "1000"},
                     "missing 'threshold US'");
  expect_usage_error({"fd", "start", "group", "239.1.1.1", "period", "1000", "threshold", "0"},
                     "bad threshold '0'");
  expect_usage_error(
      {"fd", "start", "group", "239.1.1.1", "period", "1000", "threshold", "5", "--fifo", "100"},
      "bad --fifo '100': give 0..99");
  expect_usage_error(
      {"fd", "start", "group", "239.1.1.1", "period", "1000", "threshold", "5", "--stall-for", "1"},
      "--stall-for needs --stall-after");
  expect_usage_error({"fd"}, "missing verb (start or status)");
  expect_usage_error({"fd", "stop"}, "unknown verb for 'fd' 'stop'");
  expect_usage_error({"fd", "status", "now"}, "unexpected argument 'now'");
}

TEST(XlaneCli, SendAndListen) {
  auto c = parse_ok({"send", "to", "10.0.0.2", "port", "9000", "period", "1000"});
  EXPECT_EQ(c.action, verb::send);
  EXPECT_EQ(c.request.loadsize, 0u) << "0: fit the payload";
  EXPECT_EQ(c.request.period_us, 1000u);
  EXPECT_EQ(c.count, 10u);
  EXPECT_FALSE(c.payload);

  c = parse_ok({"send", "to", "10.0.0.2", "port", "9000", "period", "100", "loadsize", "128",
                "prio", "1", "--count", "5", "--payload", "hello"});
  EXPECT_EQ(c.request.loadsize, 128u);
  EXPECT_EQ(c.request.prio, 1);
  EXPECT_EQ(c.count, 5u);
  EXPECT_EQ(c.payload, "hello");
  EXPECT_EQ(
      parse_ok({"send", "to", "10.0.0.2", "port", "9", "period", "100", "--payload", ""}).payload,
      "");
  expect_usage_error({"send", "to", "10.0.0.2", "port", "9000"}, "missing 'period US'");
  expect_usage_error({"send", "to", "10.0.0.2", "port", "9", "period", "100", "--count", "0"},
                     "bad --count '0'");
  expect_usage_error(
      {"send", "to", "10.0.0.2", "port", "9", "period", "100", "--payload", std::string(1421, 'x')},
      "--payload of 1421 bytes is too long");

  c = parse_ok({"listen", "port", "9000"});
  EXPECT_EQ(c.action, verb::listen);
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.count, 0u) << "0: until stopped";
  EXPECT_EQ(c.timeout_s, 0);
  c = parse_ok({"listen", "port", "9", "slots", "2048", "max-len", "512", "--count", "3",
                "--timeout", "1.5"});
  EXPECT_EQ(c.slots, 2048u);
  EXPECT_EQ(c.max_len, 512u);
  EXPECT_EQ(c.count, 3u);
  EXPECT_DOUBLE_EQ(c.timeout_s, 1.5);
  expect_usage_error({"listen"}, "missing 'port P'");
  expect_usage_error({"listen", "port", "9", "--timeout", "soon"}, "bad --timeout 'soon'");
  expect_usage_error({"listen", "port", "9", "--payload", "x"}, "--payload");
}

TEST(XlaneCli, GlobalOptions) {
  auto c = parse_ok({"-n", "h1", "--device", "/tmp/xl", "--bpffs", "/mnt/bpf/", "-v", "show"});
  EXPECT_EQ(c.netns, "h1");
  EXPECT_EQ(c.device, "/tmp/xl");
  EXPECT_EQ(c.bpffs, "/mnt/bpf");
  EXPECT_TRUE(c.verbose);
  expect_usage_error({"-n", "../x", "show"}, "bad namespace name '../x'");
  expect_usage_error({"--device", "", "show"}, "--device needs a path");
  expect_usage_error({"--bpffs", "", "show"}, "--bpffs needs a directory");
}

TEST(XlaneCli, UnknownWords) {
  expect_usage_error({},
                     "missing command (attach, detach, show, lanes, bridges, lane, fd, send, "
                     "listen)");
  expect_usage_error({"frob"}, "unknown command 'frob'");
  expect_usage_error({"--frobnicate", "show"}, "--frobnicate");
  expect_usage_error({"show", "lanes"}, "unexpected argument 'lanes'");
}

TEST(XlaneCli, ErrorsNameTheCommandForHelp) {
  const auto r = parse_args({"fd", "start", "group", "1.2.3.4"});
  EXPECT_TRUE(contains(r.err, "xlanectl fd start --help")) << r.err;
  EXPECT_TRUE(contains(r.err, "xlanectl: error: ")) << r.err;
}

TEST(XlaneCli, HelpTeaches) {
  const auto r = parse_args({"--help"});
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 0);
  for (std::string_view s :
       {"Examples:", "attach dev IFNAME", "lane request", "fd start", "fd status", "listen port P",
        "send to IP", "rmmod", "EBUSY", "CAP_NET_ADMIN", "insmod", "--json", "Exit status"})
    EXPECT_TRUE(contains(r.out, s)) << "missing '" << s << "' in:\n" << r.out;

  auto v = parse_args({"attach", "--help"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(contains(v.out, "hop-jitter-ns")) << v.out;
  EXPECT_TRUE(contains(v.out, "EBUSY")) << v.out;
  v = parse_args({"lane", "request", "-h"});
  EXPECT_TRUE(contains(v.out, "xlanectl lane request")) << v.out;
  EXPECT_TRUE(contains(v.out, "XLANE_IOC_LANE_REQUEST")) << v.out;
}

TEST(XlaneCli, Names) {
  EXPECT_EQ(to_string(verb::lane_request), "lane request");
  EXPECT_EQ(to_string(verb::fd_status), "fd status");
  EXPECT_TRUE(parse_seconds("0"));
  EXPECT_DOUBLE_EQ(*parse_seconds("0.25"), 0.25);
  EXPECT_FALSE(parse_seconds("1e3"));
  EXPECT_FALSE(parse_seconds(".5"));
  EXPECT_FALSE(parse_seconds("nan"));
  EXPECT_FALSE(parse_seconds("99999999"));
}

}  // namespace
