// SPDX-License-Identifier: GPL-2.0
//
// xpsctl's grammar: what parses into which command, and the usage errors.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test.hpp"
#include "xpsctl_cli.hpp"

namespace {

using namespace xsel::xpsctl;
using PS = xps::PredicateSpec;

using xsel::cli_test::contains;
const auto [parse_ok, expect_usage_error] = xsel::cli_test::checks<parse_args>();

TEST(XpsctlCli, AttachShippedWithDefaults) {
  const auto c = parse_ok({"handler", "attach", "redis"});
  EXPECT_EQ(c.action, verb::handler_attach);
  EXPECT_EQ(c.object, "redis");
  EXPECT_EQ(c.spec.set, 0u) << "nothing given: the object's predicate as it is";
  EXPECT_EQ(c.bpffs, "/sys/fs/bpf");
  EXPECT_EQ(c.sysfs, "/sys/kernel/xps");
}

TEST(XpsctlCli, AttachEveryOption) {
  const auto c = parse_ok({"handler", "attach", "x.bpf.o", "--name", "ping", "--port", "16379",
                           "--laddr", "10.0.0.1", "--raddr", "10.0.0.2", "--rport", "5000",
                           "--ipv4", "--strict", "--l7", "0:4:50494e47", "--owner", "77"});
  const auto& v = c.spec.value;
  EXPECT_EQ(c.object, "x.bpf.o");
  EXPECT_EQ(c.spec.set, PS::name | PS::lport | PS::laddr | PS::raddr | PS::rport | PS::family |
                            PS::strict | PS::l7 | PS::owner);
  EXPECT_EQ(v.name, "ping");
  EXPECT_EQ(v.lport, 16379);
  EXPECT_EQ(v.rport, 5000);
  EXPECT_EQ(v.laddr.str(), "10.0.0.1");
  EXPECT_EQ(v.raddr.str(), "10.0.0.2");
  EXPECT_EQ(v.flags, XPS_F_IPV4 | XPS_F_STRICT);
  EXPECT_EQ(v.l7.str(), "0:4:50494e47");
  EXPECT_EQ(v.owner_pid, 77u);
  // Port 0 given explicitly: the wildcard, overriding the object's port.
  const auto any = parse_ok({"handler", "attach", "redis", "--port", "0", "--ipv6",
                             "--laddr", "::1"});
  EXPECT_TRUE(any.spec.has(PS::lport));
  EXPECT_EQ(any.spec.value.lport, 0);
  EXPECT_EQ(any.spec.value.flags, XPS_F_IPV6);
}

TEST(XpsctlCli, AttachBadArguments) {
  expect_usage_error({"handler", "attach"}, "missing OBJECT");
  expect_usage_error({"handler", "attach", "redis", "http"}, "unexpected argument 'http'");
  expect_usage_error({"handler", "attach", "redis", "--l7", "0:4:5049"},
                     "bad --l7 '0:4:5049': HEX has 2 bytes but LEN is 4");
  expect_usage_error({"handler", "attach", "redis", "--l7", "0:9:00"}, "LEN is 1..8");
  expect_usage_error({"handler", "attach", "redis", "--l7", "ping"}, "give OFF:LEN:HEX");
  expect_usage_error({"handler", "attach", "redis", "--port", "65536"},
                     "bad port '65536': give 0..65535");
  expect_usage_error({"handler", "attach", "redis", "--port", "http"}, "bad port 'http'");
  expect_usage_error({"handler", "attach", "redis", "--laddr", "10.0.0"},
                     "bad laddr '10.0.0': give an IPv4 or IPv6 address");
  expect_usage_error({"handler", "attach", "redis", "--ipv4", "--ipv6"}, "exclude each other");
  expect_usage_error({"handler", "attach", "redis", "--ipv4", "--laddr", "::1"},
                     "--laddr ::1 is not an IPv4 address");
  expect_usage_error({"handler", "attach", "redis", "--name", "Bad/Name"}, "bad handler name");
  expect_usage_error({"handler", "attach", "redis", "--name", "x234567890123456"},
                     "longer than 15 characters");
  expect_usage_error({"handler", "attach", "redis", "--owner", "0"}, "bad --owner PID '0'");
  expect_usage_error({"handler", "attach", "redis", "--frob"}, "--frob");
  expect_usage_error({"--json", "handler", "attach", "redis"},
                     "--json is not supported by 'handler attach'");
}

TEST(XpsctlCli, HandlerVerbs) {
  auto c = parse_ok({"handler", "detach", "web"});
  EXPECT_EQ(c.action, verb::handler_detach);
  EXPECT_EQ(c.name, "web");
  c = parse_ok({"handler", "list", "--json"});
  EXPECT_EQ(c.action, verb::handler_list);
  EXPECT_TRUE(c.json);
  EXPECT_TRUE(parse_ok({"--json", "handler", "list"}).json);
  c = parse_ok({"handler", "update", "redis", "new.bpf.o"});
  EXPECT_EQ(c.action, verb::handler_update);
  EXPECT_EQ(c.name, "redis");
  EXPECT_EQ(c.object, "new.bpf.o");

  expect_usage_error({"handler"}, "missing verb (attach, detach, list, update)");
  expect_usage_error({"handler", "frob"}, "unknown verb for 'handler' 'frob'");
  expect_usage_error({"handler", "detach"}, "missing NAME");
  expect_usage_error({"handler", "detach", "a", "b"}, "unexpected argument 'b'");
  expect_usage_error({"handler", "update", "redis"}, "missing OBJECT");
  expect_usage_error({"handler", "update"}, "missing NAME OBJECT");
}

TEST(XpsctlCli, Data) {
  auto c = parse_ok({"data", "put", "ping", "replies", "u32:0", "hex:2b50"});
  EXPECT_EQ(c.action, verb::data_put);
  EXPECT_EQ(c.name, "ping");
  EXPECT_EQ(c.map, "replies");
  EXPECT_EQ(c.key, "u32:0");
  EXPECT_EQ(c.value, "hex:2b50");
  EXPECT_EQ(parse_ok({"data", "update", "a", "m", "k", "v"}).action, verb::data_update);
  c = parse_ok({"data", "delete", "a", "m", "k"});
  EXPECT_EQ(c.action, verb::data_delete);
  EXPECT_EQ(c.key, "k");
  EXPECT_TRUE(parse_ok({"data", "get", "a", "m", "k", "--json"}).json);
  c = parse_ok({"data", "dump", "a", "m", "--limit", "5"});
  EXPECT_EQ(c.action, verb::data_dump);
  EXPECT_EQ(c.limit, 5u);

  expect_usage_error({"data", "put", "a", "m", "k"}, "missing NAME MAP KEY VALUE");
  expect_usage_error({"data", "delete", "a", "m", "k", "v"}, "unexpected argument 'v'");
  expect_usage_error({"data", "get", "a", "link", "k"}, "bad map name 'link'");
  expect_usage_error({"data", "dump", "a", "m", "--limit", "0"}, "bad --limit '0'");
  expect_usage_error({"data", "put", "a", "m", "k", "v", "--json"}, "unknown option '--json'");
  expect_usage_error({"--json", "data", "put", "a", "m", "k", "v"},
                     "--json is not supported by 'data put'");
  expect_usage_error({"data"}, "missing verb (put, update, delete, get, dump)");
}

TEST(XpsctlCli, HttpAction) {
  auto c = parse_ok({"http", "action", "web", "POST", "405"});
  EXPECT_EQ(c.action, verb::http_action);
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.verdict.what, http_verdict::kind::status);
  EXPECT_EQ(c.verdict.status, 405);
  EXPECT_EQ(parse_ok({"http", "action", "web", "PUT", "reset"}).verdict.what,
            http_verdict::kind::reset);
  EXPECT_EQ(parse_ok({"http", "action", "web", "PUT", "drop"}).verdict.what,
            http_verdict::kind::drop);
  EXPECT_EQ(parse_ok({"http", "action", "web", "GET", "pass"}).verdict.what,
            http_verdict::kind::pass);
  EXPECT_EQ(parse_ok({"http", "action", "web", "M-SEARCH", "405"}).method, "M-SEARCH");
  expect_usage_error({"http", "action", "web", "PO ST", "405"}, "bad method 'PO ST'");
  expect_usage_error({"http", "action", "web", "VERYLONGMETHOD12", "405"}, "1..15 characters");
  expect_usage_error({"http", "action", "web", "POST", "199"}, "bad action '199'");
  expect_usage_error({"http", "action", "web", "POST", "block"}, "bad action 'block'");
  expect_usage_error({"http", "action", "web", "POST"}, "missing NAME METHOD ACTION");
}

TEST(XpsctlCli, StatsAndFill) {
  auto c = parse_ok({"stats"});
  EXPECT_EQ(c.action, verb::stats);
  EXPECT_TRUE(c.name.empty());
  c = parse_ok({"stats", "redis", "--keys", "10", "--json"});
  EXPECT_EQ(c.name, "redis");
  EXPECT_EQ(c.keys, 10u);
  EXPECT_TRUE(c.json);
  expect_usage_error({"stats", "--keys", "3"}, "--keys needs a handler NAME");

  c = parse_ok({"redis", "fill"});
  EXPECT_EQ(c.action, verb::redis_fill);
  EXPECT_EQ(c.name, "redis");
  EXPECT_EQ(c.redis_host, "127.0.0.1");
  EXPECT_EQ(c.redis_port, 6379);
  EXPECT_TRUE(c.write_through);
  c = parse_ok({"redis", "fill", "--server", "[::1]:7000", "--name", "cache", "--batch", "8",
                "--no-write-through"});
  EXPECT_EQ(c.redis_host, "::1");
  EXPECT_EQ(c.redis_port, 7000);
  EXPECT_EQ(c.name, "cache");
  EXPECT_EQ(c.batch, 8u);
  EXPECT_FALSE(c.write_through);
  EXPECT_EQ(parse_ok({"redis", "fill", "--server", "db"}).redis_port, 6379);
  expect_usage_error({"redis", "fill", "--server", "db:0"}, "bad server port");
  expect_usage_error({"redis", "fill", "--server", "::1:7000"}, "[ADDR]:PORT");
  expect_usage_error({"redis", "fill", "--batch", "0"}, "bad --batch '0'");
}

TEST(XpsctlCli, TopLevel) {
  expect_usage_error({}, "missing object (handler, data, http, stats, redis)");
  expect_usage_error({"frob"}, "unknown object 'frob'");
  expect_usage_error({"--bpffs", "", "handler", "list"}, "--bpffs needs a directory");
  const auto c = parse_ok({"--bpffs", "/mnt/bpf/", "--sysfs", "/tmp/x", "stats"});
  EXPECT_EQ(c.bpffs, "/mnt/bpf");
  EXPECT_EQ(c.sysfs, "/tmp/x");
}

TEST(XpsctlCli, HelpTeaches) {
  const auto r = parse_args({"--help"});
  EXPECT_FALSE(r.cmd);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"Examples:", "handler attach redis --port 6379", "redis fill",
                             "insmod modules/xps/xps.ko", "CAP_BPF", "hex:"})
    EXPECT_TRUE(contains(r.out, needle)) << needle;
  const auto sub = parse_args({"handler", "attach", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_TRUE(contains(sub.out, "--l7 OFF:LEN:HEX")) << sub.out;
}

TEST(XpsctlCli, Server) {
  std::string host, why;
  std::uint16_t port = 0;
  EXPECT_TRUE(parse_server("localhost:6380", host, port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 6380);
  EXPECT_FALSE(parse_server(":6380", host, port, &why));
  EXPECT_FALSE(parse_server("[::1", host, port, &why));
}

}  // namespace
