// SPDX-License-Identifier: GPL-2.0
//
// libxps's predicates: the byte layout write_predicate() and
// read_predicate() use against struct xps_handler of xps.h, addresses,
// L7 values, merging with the object's own, and socket_predicate() on real
// listening sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"
#include "xps/predicate.hpp"

namespace {

using namespace xps;

// The layout of the contract, spelled out: a change to xps.h that moves a
// field must show up here (and in every handler object built against it).
static_assert(offsetof(xps_handler, handle) == 0);
static_assert(offsetof(xps_handler, name) == 8);
static_assert(offsetof(xps_handler, laddr) == 24);
static_assert(offsetof(xps_handler, raddr) == 40);
static_assert(offsetof(xps_handler, lport) == 56);
static_assert(offsetof(xps_handler, rport) == 58);
static_assert(offsetof(xps_handler, flags) == 60);
static_assert(offsetof(xps_handler, l7_off) == 64);
static_assert(offsetof(xps_handler, l7_len) == 66);
static_assert(offsetof(xps_handler, l7_value) == 68);
static_assert(offsetof(xps_handler, owner_pid) == 76);
static_assert(sizeof(xps_handler) == 80);

Predicate full() {
  Predicate p;
  p.name = "redis-1";
  p.laddr = *Address::parse("10.0.0.1");
  p.raddr = *Address::parse("2001:db8::7");
  p.lport = 6379;
  p.rport = 40000;
  p.flags = XPS_F_STRICT | XPS_F_IPV4;
  p.l7 = *L7Match::parse("2:4:50494e47");
  p.owner_pid = 4242;
  return p;
}

TEST(XpsPredicate, WritesEveryFieldAtXpsHOffsets) {
  std::vector<std::byte> buf(sizeof(xps_handler), std::byte{0xaa});
  const Predicate p = full();
  write_predicate(buf, p);

  xps_handler h{};
  std::memcpy(&h, buf.data(), sizeof(h));
  // The function pointer is libbpf's business: left exactly as it was.
  for (std::size_t i = 0; i < sizeof(h.handle); ++i) EXPECT_EQ(buf[i], std::byte{0xaa});
  EXPECT_STREQ(h.name, "redis-1");
  for (std::size_t i = 7; i < XPS_NAME_LEN; ++i) EXPECT_EQ(h.name[i], 0) << "name padding " << i;
  const std::uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  EXPECT_EQ(std::memcmp(h.laddr, v4, 16), 0) << "IPv4 as ::ffff:a.b.c.d, network order";
  in6_addr r{};
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::7", &r), 1);
  EXPECT_EQ(std::memcmp(h.raddr, &r, 16), 0);
  EXPECT_EQ(h.lport, 6379) << "host order";
  EXPECT_EQ(h.rport, 40000);
  EXPECT_EQ(h.flags, XPS_F_STRICT | XPS_F_IPV4);
  EXPECT_EQ(h.l7_off, 2);
  EXPECT_EQ(h.l7_len, 4);
  EXPECT_EQ(std::memcmp(h.l7_value, "PING\0\0\0\0", 8), 0) << "value zero-padded to XPS_L7_MAX";
  EXPECT_EQ(h.owner_pid, 4242u);

  EXPECT_EQ(read_predicate(buf), p);
}

TEST(XpsPredicate, ZeroIsTheWildcard) {
  std::vector<std::byte> buf(sizeof(xps_handler), std::byte{0x55});
  Predicate p;
  p.name = "any";
  write_predicate(buf, p);
  // Everything after the function pointer and the name is zero.
  for (std::size_t i = offsetof(xps_handler, laddr); i < sizeof(xps_handler); ++i)
    EXPECT_EQ(buf[i], std::byte{0}) << "byte " << i;
  EXPECT_EQ(p.str(), "any");
}

TEST(XpsPredicate, RefusesWhatTheModuleWould) {
  std::vector<std::byte> buf(sizeof(xps_handler));
  Predicate p = full();
  p.name = "";
  EXPECT_THROW(write_predicate(buf, p), std::invalid_argument);
  p.name = "sixteen-chars-xx";
  EXPECT_THROW(write_predicate(buf, p), std::invalid_argument);
  p.name = "Redis";
  EXPECT_THROW(write_predicate(buf, p), std::invalid_argument);
  p = full();
  p.l7.len = 9;
  EXPECT_THROW(write_predicate(buf, p), std::invalid_argument);
  std::vector<std::byte> small(sizeof(xps_handler) - 1);
  EXPECT_THROW(write_predicate(small, full()), std::invalid_argument);
  EXPECT_THROW((void)read_predicate(small), std::invalid_argument);
}

TEST(XpsPredicate, Names) {
  EXPECT_FALSE(invalid_name("redis"));
  EXPECT_FALSE(invalid_name("a_b-9"));
  EXPECT_FALSE(invalid_name("fifteen-chars-x"));
  EXPECT_TRUE(invalid_name(""));
  EXPECT_TRUE(invalid_name("sixteen-chars-xx"));
  EXPECT_NE(invalid_name("a/b")->find("'/'"), std::string::npos);
  EXPECT_TRUE(invalid_name("a b"));
  EXPECT_TRUE(invalid_name("UPPER"));
}

TEST(XpsPredicate, Addresses) {
  EXPECT_EQ(Address::parse("127.0.0.1")->str(), "127.0.0.1");
  EXPECT_TRUE(Address::parse("127.0.0.1")->v4_mapped());
  EXPECT_EQ(Address::parse("::ffff:10.1.2.3")->str(), "10.1.2.3");
  EXPECT_EQ(Address::parse("[::1]")->str(), "::1");
  EXPECT_EQ(Address::parse("2001:DB8::1")->str(), "2001:db8::1");
  EXPECT_TRUE(Address::parse("0.0.0.0")->any()) << "INADDR_ANY is the wildcard";
  EXPECT_TRUE(Address::parse("::")->any());
  EXPECT_EQ(Address{}.str(), "*");
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "host", "::g", "[::1", "1.2.3.4:80"})
    EXPECT_FALSE(Address::parse(bad)) << bad;
}

TEST(XpsPredicate, L7Values) {
  std::string why;
  const auto m = L7Match::parse("8:4:0a0B0c0d", &why);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->off, 8);
  EXPECT_EQ(m->len, 4);
  EXPECT_EQ(m->str(), "8:4:0a0b0c0d");
  EXPECT_TRUE(L7Match::parse("65535:8:0102030405060708"));

  auto bad = [](const char* text, const char* needle) {
    std::string w;
    EXPECT_FALSE(L7Match::parse(text, &w)) << text;
    EXPECT_NE(w.find(needle), std::string::npos) << text << ": " << w;
  };
  bad("", "OFF:LEN:HEX");
  bad("0:4", "OFF:LEN:HEX");
  bad("x:4:50494e47", "OFF is a byte offset");
  bad("65536:1:00", "OFF is a byte offset");
  bad("0:0:", "LEN is 1..8");
  bad("0:9:000000000000000000", "LEN is 1..8");
  bad("0:4:5049", "HEX has 2 bytes but LEN is 4");
  bad("0:2:zz00", "not hex");
  bad("0:2:504", "not hex");
}

TEST(XpsPredicate, MergeKeepsWhatTheSpecLeavesAlone) {
  Predicate object = full();
  PredicateSpec spec;
  EXPECT_EQ(merge(object, spec), object);

  spec.value.lport = 0;  // explicitly any
  spec.value.name = "other";
  spec.value.flags = XPS_F_IPV6;  // family only
  spec.set = PredicateSpec::lport | PredicateSpec::name | PredicateSpec::family;
  const Predicate m = merge(object, spec);
  EXPECT_EQ(m.lport, 0);
  EXPECT_EQ(m.name, "other");
  EXPECT_EQ(m.flags, XPS_F_STRICT | XPS_F_IPV6) << "strict kept, family replaced";
  EXPECT_EQ(m.laddr, object.laddr);
  EXPECT_EQ(m.l7, object.l7);
  EXPECT_EQ(m.owner_pid, object.owner_pid);
  EXPECT_TRUE(m.same_l4(merge(m, PredicateSpec{})));
}

TEST(XpsPredicate, TextAndJson) {
  EXPECT_EQ(full().str(),
            "lport 6379 laddr 10.0.0.1 rport 40000 raddr 2001:db8::7 strict ipv4 l7 "
            "2:4:50494e47 owner 4242");
  const auto j = to_json(full());
  EXPECT_EQ(j["laddr"], "10.0.0.1");
  EXPECT_EQ(j["flags"], nlohmann::json::array({"strict", "ipv4"}));
  EXPECT_EQ(j["l7"]["value"], "50494e47");
  EXPECT_TRUE(to_json(Predicate{}).at("laddr").is_null());
}

// --- socket_predicate --------------------------------------------------------

xcommon::unique_fd listener(int family, const char* addr, bool v6only = false,
                            bool listen_too = true) {
  xcommon::unique_fd fd{::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  EXPECT_TRUE(fd) << std::strerror(errno);
  if (family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin.sin_addr);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  } else {
    int on = v6only ? 1 : 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, addr, &sin6.sin6_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6)) != 0) return {};
  }
  if (listen_too) {
    EXPECT_EQ(::listen(fd.get(), 4), 0);
  }
  return fd;
}

std::uint16_t port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

TEST(XpsSocketPredicate, Ipv4Listener) {
  auto fd = listener(AF_INET, "127.0.0.1");
  const auto spec = socket_predicate(fd.get());
  EXPECT_EQ(spec.set, PredicateSpec::laddr | PredicateSpec::lport | PredicateSpec::family)
      << "name, remote side, strict, L7 and owner stay the object's";
  EXPECT_EQ(spec.value.laddr.str(), "127.0.0.1");
  EXPECT_EQ(spec.value.lport, port_of(fd.get()));
  EXPECT_EQ(spec.value.flags, XPS_F_IPV4);
}

TEST(XpsSocketPredicate, WildcardStaysWildcard) {
  auto fd = listener(AF_INET, "0.0.0.0");
  EXPECT_TRUE(socket_predicate(fd.get()).value.laddr.any());
}

TEST(XpsSocketPredicate, Ipv6OnlyAndDualStack) {
  auto v6 = listener(AF_INET6, "::1", true);
  if (!v6) GTEST_SKIP() << "no IPv6 loopback here";
  auto s = socket_predicate(v6.get());
  EXPECT_EQ(s.value.laddr.str(), "::1");
  EXPECT_EQ(s.value.flags, XPS_F_IPV6);
  // A dual-stack listener sees v4-mapped connections, which the module
  // matches as IPv4: no family flag.
  auto dual = listener(AF_INET6, "::", false);
  ASSERT_TRUE(dual);
  s = socket_predicate(dual.get());
  EXPECT_TRUE(s.value.laddr.any());
  EXPECT_EQ(s.value.flags, 0u);
}

TEST(XpsSocketPredicate, OnlyListeningTcpSockets) {
  auto not_listening = listener(AF_INET, "127.0.0.1", false, false);
  try {
    (void)socket_predicate(not_listening.get());
    ADD_FAILURE() << "no error for a socket that does not listen";
  } catch (const xcommon::error& e) {
    EXPECT_NE(std::string(e.what()).find("not a listening TCP socket"), std::string::npos);
  }
  xcommon::unique_fd udp{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  EXPECT_THROW((void)socket_predicate(udp.get()), xcommon::error);
  EXPECT_THROW((void)socket_predicate(-1), std::system_error);
}

}  // namespace
