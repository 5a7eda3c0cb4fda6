// SPDX-License-Identifier: GPL-2.0
//
// The X-Lane admission and grant model (modules/xlane/include/xlane/model.h).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "xlane/format.hpp"
#include "xlane/model.h"

namespace {

// The defaults of uapi/xlane.h, with a 1 us engine send cost.
xlane_path default_path() { return xlane::path_of(xlane_attach{}, 1000); }

struct verdict {
  int fits;
  std::vector<xlane_grant> grants;
};

verdict grants(const xlane_path& p, const std::vector<xlane_demand>& d) {
  verdict v{0, std::vector<xlane_grant>(d.size())};
  v.fits = xlane_model_grants(&p, d.data(), static_cast<__u32>(d.size()), v.grants.data());
  return v;
}

TEST(XlaneModel, DefaultPath) {
  const xlane_path p = default_path();
  EXPECT_EQ(p.link_bps, 1000000000ull);
  EXPECT_EQ(p.share_pct, 50u);
  EXPECT_EQ(p.links, 2u);
  EXPECT_EQ(p.hop_ns, 5000u);
  EXPECT_EQ(p.hop_jitter_ns, 2000u);
  EXPECT_EQ(p.tx_ns, 1000u);
  EXPECT_EQ(p.rx_ns, 2000u);
  EXPECT_EQ(p.engine_pct, 50u);
  EXPECT_EQ(p.mtu, 1514u);
  EXPECT_TRUE(xlane_path_valid(&p));
  EXPECT_EQ(xlane_ser_ns(&p, 1), 8u);
  EXPECT_EQ(xlane_ser_ns(&p, 1514), 12112u);
  xlane_path slow = p;
  slow.link_bps = 3000000;  // 3 Mbit/s: one byte is 2666.67 ns, rounded up
  EXPECT_EQ(xlane_ser_ns(&slow, 1), 2667u);
}

TEST(XlaneModel, OneLaneGrant) {
  const auto v = grants(default_path(), {{64, 1000, 0}});
  ASSERT_EQ(v.fits, XLANE_FITS);
  const auto& g = v.grants[0];
  EXPECT_EQ(g.loadsize, 64u);
  EXPECT_EQ(g.period_us, 1000u);
  // tx + rx + 2 links * (hop + ser(64 + 106 bytes))
  EXPECT_EQ(g.min_latency_ns, 1000 + 2000 + 2 * (5000 + 1360));
  // alone: 2 links * (hop jitter + one best-effort MTU frame ahead)
  EXPECT_EQ(g.max_jitter_ns, 2 * (2000 + 12112));
}

TEST(XlaneModel, LargePathConstantsDoNotWrap) {
  // tx + rx beyond 2^32 ns (both are 32-bit fields of the path).
  xlane_path p = default_path();
  p.tx_ns = 3000000000u;
  p.rx_ns = 2000000000u;
  p.engine_pct = 100;
  const auto v = grants(p, {{64, XLANE_MAX_PERIOD_US, 0}});
  EXPECT_EQ(v.grants[0].min_latency_ns, 5000000000ll + 2 * (5000 + 1360));
}

TEST(XlaneModel, BadRequests) {
  const xlane_path p = default_path();
  for (const xlane_demand d :
       {xlane_demand{0, 1000, 0}, xlane_demand{XLANE_MAX_LOADSIZE + 1, 1000, 0},
        xlane_demand{64, XLANE_MIN_PERIOD_US - 1, 0}, xlane_demand{64, XLANE_MAX_PERIOD_US + 1, 0},
        xlane_demand{64, 1000, XLANE_PRIO_LEVELS}})
    EXPECT_EQ(grants(p, {{64, 1000, 0}, d}).fits, XLANE_BAD_REQUEST)
        << d.loadsize << " B / " << d.period_us << " us / prio " << d.prio;
  EXPECT_EQ(grants(p, {{XLANE_MAX_LOADSIZE, XLANE_MAX_PERIOD_US, XLANE_PRIO_LEVELS - 1}}).fits,
            XLANE_FITS);

  auto bad_path = [&](auto mutate) {
    xlane_path q = p;
    mutate(q);
    return grants(q, {{64, 1000, 0}}).fits;
  };
  EXPECT_EQ(bad_path([](xlane_path& q) { q.link_bps = 999999; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(bad_path([](xlane_path& q) { q.share_pct = 0; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(bad_path([](xlane_path& q) { q.share_pct = 101; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(bad_path([](xlane_path& q) { q.engine_pct = 0; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(bad_path([](xlane_path& q) { q.links = 0; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(bad_path([](xlane_path& q) { q.links = 17; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(bad_path([](xlane_path& q) { q.mtu = 63; }), XLANE_BAD_REQUEST);
  EXPECT_EQ(grants(p, {}).fits, XLANE_FITS) << "no lanes always fit";
}

TEST(XlaneModel, BandwidthRefusal) {
  const xlane_path p = default_path();
  // 1506-byte frames every 20 us: 602 Mbit/s, over the 500 Mbit/s share.
  EXPECT_EQ(grants(p, {{1400, 20, 0}}).fits, XLANE_NO_BANDWIDTH);
  // Every 40 us: 301 Mbit/s; one fits, two do not.
  EXPECT_EQ(grants(p, {{1400, 40, 0}}).fits, XLANE_FITS);
  EXPECT_EQ(grants(p, {{1400, 40, 0}, {1400, 40, 1}}).fits, XLANE_NO_BANDWIDTH);
  // A larger share takes both bandwidth-wise; then the lower lane's jitter
  // (the other's frame queued ahead on both links) is what does not fit.
  xlane_path wide = p;
  wide.share_pct = 100;
  EXPECT_EQ(grants(wide, {{1400, 40, 0}, {1400, 40, 1}}).fits, XLANE_NO_JITTER);
  EXPECT_EQ(grants(wide, {{1400, 60, 0}, {1400, 60, 1}}).fits, XLANE_FITS);
}

TEST(XlaneModel, EngineRefusal) {
  xlane_path p = default_path();
  p.tx_ns = 6000;
  // 6 us of engine time every 10 us: 60 % of the core, over 50 %.
  auto v = grants(p, {{1, 10, 0}});
  EXPECT_EQ(v.fits, XLANE_NO_ENGINE);
  // Grants are filled in even when the set is refused.
  EXPECT_EQ(v.grants[0].loadsize, 1u);
  EXPECT_GT(v.grants[0].min_latency_ns, 6000);
  p.engine_pct = 100;
  EXPECT_NE(grants(p, {{1, 10, 0}}).fits, XLANE_NO_ENGINE);
  // Five lanes of 1 us every 10 us are exactly the 50 %.
  p = default_path();
  EXPECT_EQ(grants(p, std::vector<xlane_demand>(5, {1, 10, 0})).fits, XLANE_NO_JITTER)
      << "the engine share fits; their jitter does not";
  p.hop_jitter_ns = 0;
  p.mtu = 64;
  p.links = 1;
  p.share_pct = 100;  // so that bandwidth is not what refuses six
  EXPECT_EQ(grants(p, std::vector<xlane_demand>(5, {1, 10, 3})).fits, XLANE_FITS);
  EXPECT_EQ(grants(p, std::vector<xlane_demand>(6, {1, 10, 3})).fits, XLANE_NO_ENGINE);
}

TEST(XlaneModel, JitterRefusal) {
  const xlane_path p = default_path();
  // Alone a lane every 50 us has 28.2 us of jitter; each other lane of the
  // same priority adds its send (1 us) and its frame on both links (2.72 us).
  std::vector<xlane_demand> d;
  int fits_up_to = 0;
  for (int n = 1; n <= 10; ++n) {
    d.push_back({64, 50, 0});
    const auto v = grants(p, d);
    if (v.fits == XLANE_FITS) fits_up_to = n;
    if (v.fits != XLANE_FITS) {
      EXPECT_EQ(v.fits, XLANE_NO_JITTER) << n << " lanes";
    }
    EXPECT_EQ(v.grants[0].max_jitter_ns, 28224 + (n - 1) * 3720) << n << " lanes";
  }
  EXPECT_EQ(fits_up_to, 6);
}

TEST(XlaneModel, GrantsAreMonotonicInLoad) {
  const xlane_path p = default_path();
  std::int64_t last = 0;
  for (std::uint32_t size = 1; size <= XLANE_MAX_LOADSIZE; ++size) {
    const auto v = grants(p, {{size, 10000, 0}});
    ASSERT_EQ(v.fits, XLANE_FITS) << size;
    EXPECT_GE(v.grants[0].min_latency_ns, last) << size;
    last = v.grants[0].min_latency_ns;
  }
  // Adding lanes (load) never shrinks anybody's jitter bound, at any priority.
  std::vector<xlane_demand> d;
  std::vector<std::int64_t> before;
  for (std::uint32_t n = 0; n < 12; ++n) {
    d.push_back({16 + 100 * n, 5000, n % XLANE_PRIO_LEVELS});
    const auto v = grants(p, d);
    for (std::size_t i = 0; i < before.size(); ++i)
      EXPECT_GE(v.grants[i].max_jitter_ns, before[i]) << "lane " << i << " after " << n + 1;
    before.clear();
    for (const auto& g : v.grants) before.push_back(g.max_jitter_ns);
  }
  // A bigger loadsize of another lane never shrinks a lane's jitter either.
  std::int64_t prev = 0;
  for (std::uint32_t size = 1; size <= XLANE_MAX_LOADSIZE; size += 31) {
    const auto v = grants(p, {{64, 10000, 0}, {size, 10000, 0}});
    EXPECT_GE(v.grants[0].max_jitter_ns, prev);
    prev = v.grants[0].max_jitter_ns;
  }
}

TEST(XlaneModel, PriorityReducesJitter) {
  const xlane_path p = default_path();
  const std::vector<xlane_demand> flat = {{64, 1000, 1}, {1000, 1000, 1}, {1000, 1000, 1}};
  const std::vector<xlane_demand> prio = {{64, 1000, 0}, {1000, 1000, 1}, {1000, 1000, 1}};
  const auto a = grants(p, flat), b = grants(p, prio);
  ASSERT_EQ(a.fits, XLANE_FITS);
  ASSERT_EQ(b.fits, XLANE_FITS);
  EXPECT_LT(b.grants[0].max_jitter_ns, a.grants[0].max_jitter_ns);
  // The high-priority lane only pays for one lower-priority send already started.
  EXPECT_EQ(b.grants[0].max_jitter_ns, 1000 + 2 * (2000 + 12112));
  // The lower ones still count the high-priority lane ahead of them.
  EXPECT_EQ(b.grants[1].max_jitter_ns, a.grants[1].max_jitter_ns);
  // Same minimum latency: priority only changes the jitter.
  EXPECT_EQ(b.grants[0].min_latency_ns, a.grants[0].min_latency_ns);
}

}  // namespace
