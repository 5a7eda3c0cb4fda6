// SPDX-License-Identifier: GPL-2.0
//
// libxlane without the module: parsing and printing, names, JSON, and the
// errors of a session that cannot open its device.
#include <arpa/inet.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "xcommon/error.hpp"
#include "xlane/format.hpp"
#include "xlane/xlane.hpp"

namespace {

using namespace xlane;

bool contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

TEST(XlaneFormat, ParseRate) {
  EXPECT_EQ(parse_rate("1gbit"), 1000000000ull);
  EXPECT_EQ(parse_rate("1Gbit"), 1000000000ull);
  EXPECT_EQ(parse_rate("100mbit"), 100000000ull);
  EXPECT_EQ(parse_rate("2.5gbit"), 2500000000ull);
  EXPECT_EQ(parse_rate("10g"), 10000000000ull);
  EXPECT_EQ(parse_rate("1500kbit"), 1500000ull);
  EXPECT_EQ(parse_rate("1.5k"), 1500ull);
  EXPECT_EQ(parse_rate("123456"), 123456ull);
  EXPECT_EQ(parse_rate("123456bit"), 123456ull);
  EXPECT_EQ(parse_rate("1tbit"), 1000000000000ull);
  EXPECT_EQ(parse_rate("0.000000001gbit"), 1ull);

  for (const char* bad :
       {"", "gbit", "0", "0gbit", "1.5", "1.0001kbit", "-1gbit", "1 gbit", "1gbps", "1..5g", "1.",
        ".5g", "1e9", "99999999999999999999", "18446744073709552kbit"})
    EXPECT_FALSE(parse_rate(bad)) << bad;
  EXPECT_EQ(parse_rate("18446744073709551615"), 18446744073709551615ull);
}

TEST(XlaneFormat, FormatRate) {
  EXPECT_EQ(format_rate(1000000000), "1gbit");
  EXPECT_EQ(format_rate(1500000), "1500kbit");
  EXPECT_EQ(format_rate(2500000000), "2500mbit");
  EXPECT_EQ(format_rate(999), "999bit");
  EXPECT_EQ(format_rate(0), "0bit");
  for (std::uint64_t r : {1ull, 1000ull, 1234567ull, 40000000000ull})
    EXPECT_EQ(parse_rate(format_rate(r)), r);
}

TEST(XlaneFormat, FormatNs) {
  EXPECT_EQ(format_ns(0), "0 ns");
  EXPECT_EQ(format_ns(850), "850 ns");
  EXPECT_EQ(format_ns(12345), "12.345 us");
  EXPECT_EQ(format_ns(1500000), "1.500 ms");
  EXPECT_EQ(format_ns(2000000000), "2.000 s");
  EXPECT_EQ(format_ns(XLANE_UNBOUNDED), "unbounded");
}

TEST(XlaneFormat, Ipv4) {
  auto a = Ipv4::parse("10.0.0.2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->be, htonl(0x0a000002));
  EXPECT_EQ(a->str(), "10.0.0.2");
  EXPECT_FALSE(a->multicast());
  EXPECT_TRUE(Ipv4::parse("239.1.2.3")->multicast());
  EXPECT_TRUE(Ipv4::parse("224.0.0.0")->multicast());
  EXPECT_FALSE(Ipv4::parse("240.0.0.1")->multicast());
  EXPECT_TRUE(Ipv4::parse("0.0.0.0")->any());
  for (const char* bad :
       {"", "10.0.0", "10.0.0.256", "10.0.0.2 ", "a.b.c.d", "::1", "10.0.0.2/24", "1.2.3.4.5"})
    EXPECT_FALSE(Ipv4::parse(bad)) << bad;
}

TEST(XlaneFormat, Names) {
  EXPECT_EQ(reason_name(XLANE_REASON_TE), "te");
  EXPECT_EQ(reason_name(XLANE_REASON_BW_EXCEEDED), "bw_exceeded");
  EXPECT_EQ(reason_name(XLANE_REASON_BW_UNUSED), "bw_unused");
  EXPECT_EQ(reason_name(XLANE_REASON_DETACHED), "detached");
  EXPECT_EQ(reason_name(42), "reason 42");
  EXPECT_EQ(refusal_name(XLANE_NO_BANDWIDTH), "no_bandwidth");
  EXPECT_TRUE(contains(refusal_text(XLANE_NO_ENGINE), "engine"));
  EXPECT_TRUE(contains(refusal_text(XLANE_NO_JITTER), "jitter"));
  EXPECT_TRUE(contains(refusal_text(XLANE_BAD_REQUEST), "1..1432"));
  EXPECT_EQ(fd_event_name(XLANE_FD_SUSPECTED), "suspected");
  EXPECT_EQ(event_name(XLANE_EV_TERMINATED), "terminated");
}

TEST(XlaneFormat, PayloadText) {
  const std::string text = "hello world";
  EXPECT_EQ(payload_text(std::as_bytes(std::span{text})), "hello world");
  const unsigned char bin[] = {0x00, 0x1b, 0xff};
  EXPECT_EQ(payload_text(std::as_bytes(std::span{bin})), "0x001bff");
  const std::vector<std::byte> big(100, std::byte{1});
  const auto t = payload_text(big);
  EXPECT_EQ(t.size(), 2 + 128 + 3);
  EXPECT_TRUE(t.ends_with("..."));
}

TEST(XlaneFormat, RequestResourcesEventJson) {
  Request r{64, 100, *Ipv4::parse("10.0.0.2"), 9000, 1, true, 0};
  EXPECT_EQ(r.str(), "64 B every 100 us to 10.0.0.2 port 9000 prio 1");
  const xlane_request u = r.to_uapi();
  EXPECT_EQ(u.loadsize, 64u);
  EXPECT_EQ(u.ip, htonl(0x0a000002));
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.flags, XLANE_REQ_RECLAIM);
  EXPECT_EQ(to_json(r)["ip"], "10.0.0.2");

  const Resources res = Resources::from({64, 100, 15720, XLANE_UNBOUNDED});
  EXPECT_FALSE(res.jitter_bounded());
  EXPECT_EQ(res.str(), "64 B every 100 us, latency 15.720 us + jitter <= unbounded");
  EXPECT_EQ(to_json(res)["max_jitter_ns"], -1);

  xlane_event raw{};
  raw.type = XLANE_EV_CHANGED;
  raw.lane = 4;
  raw.reason = XLANE_REASON_BW_UNUSED;
  raw.res = {64, 200, 1, 2};
  auto ev = Event::from(raw);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, Event::Type::changed);
  EXPECT_EQ(ev->reason, Reason::bw_unused);
  EXPECT_EQ(ev->res.period_us, 200u);
  const auto j = to_json(*ev);
  EXPECT_EQ(j["event"], "changed");
  EXPECT_EQ(j["reason"], "bw_unused");
  EXPECT_EQ(j["resources"]["period_us"], 200);
  raw.type = 99;
  EXPECT_FALSE(Event::from(raw));
}

TEST(XlaneFormat, InfoAndLaneJson) {
  xlane_info i{};
  i.attached = 1;
  i.src_ip = htonl(0x0a000001);
  i.port = 7400;
  i.path.link_bps = 1000000000;
  i.rx_ring_full = 3;
  const auto j = to_json(i);
  EXPECT_EQ(j["attached"], true);
  EXPECT_EQ(j["src_ip"], "10.0.0.1");
  EXPECT_EQ(j["path"]["link_bps"], 1000000000);
  EXPECT_EQ(j["counters"]["rx_ring_full"], 3);

  xlane_lane_info l{};
  l.lane = 2;
  l.owner_pid = 77;
  l.req = Request{64, 100, *Ipv4::parse("239.0.0.1"), 9, 0, false, 0}.to_uapi();
  l.policed = 5;
  const auto lj = to_json(l);
  EXPECT_EQ(lj["request"]["ip"], "239.0.0.1");
  EXPECT_EQ(lj["policed"], 5);

  AliveSnapshot s;
  s.active = true;
  xlane_fd_peer p{};
  p.node = 3;
  p.state = XLANE_FD_SUSPECTED;
  s.peers.push_back(p);
  EXPECT_EQ(to_json(s)["peers"][0]["state"], "suspected");
}

TEST(XlaneSession, MissingDeviceSaysLoadTheModule) {
  try {
    Session s({.device = "/nonexistent/xlane", .area_size = 0});
    ADD_FAILURE() << "opening a missing device must throw";
  } catch (const xcommon::error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/xlane: No such file or directory (is the xlane module loaded? "
              "insmod modules/xlane/xlane.ko)");
  }
  try {
    (void)AliveTable::open("/nonexistent/xlane");
    ADD_FAILURE() << "opening a missing device must throw";
  } catch (const xcommon::error& e) {
    EXPECT_TRUE(contains(e.what(), "is the xlane module loaded?")) << e.what();
  }
}

TEST(XlaneSession, NotTheDeviceFailsWithTheIoctlNamed) {
  // /dev/null opens but speaks no ioctl: the error names ioctl and device.
  Session s({.device = "/dev/null", .area_size = 0});
  try {
    (void)s.info();
    ADD_FAILURE() << "XLANE_IOC_INFO on /dev/null must fail";
  } catch (const xcommon::error& e) {
    EXPECT_EQ(e.code(), ENOTTY);
    EXPECT_TRUE(contains(e.what(), "XLANE_IOC_INFO on /dev/null: ")) << e.what();
  }
  try {
    (void)s.request_bandwidth({64, 100, *Ipv4::parse("10.0.0.2"), 9000, 0, false, 0});
    ADD_FAILURE();
  } catch (const xcommon::error& e) {
    EXPECT_TRUE(contains(e.what(), "lane request 64 B every 100 us to 10.0.0.2 port 9000"))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "XLANE_IOC_LANE_REQUEST on /dev/null")) << e.what();
  }
}

TEST(XlaneLane, EmptyLaneIsHarmless) {
  Lane l;
  EXPECT_FALSE(l.active());
  l.release();  // nothing to release
  EXPECT_THROW((void)l.id(), xcommon::error);
  EXPECT_THROW((void)l.send({}), xcommon::error);
}

}  // namespace
