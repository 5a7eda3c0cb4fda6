// SPDX-License-Identifier: GPL-2.0
//
// The benchmarks' latency statistics (userspace/bench/latency_stats.cpp).
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "latency_stats.hpp"

namespace {

using namespace xsel::bench;

std::vector<std::int64_t> one_to(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 1);
  return v;
}

TEST(LatencyStats, NearestRank) {
  const auto v = one_to(100);
  EXPECT_EQ(percentile_sorted(v, 0.0), 1);
  EXPECT_EQ(percentile_sorted(v, 0.01), 1);
  EXPECT_EQ(percentile_sorted(v, 0.5), 50);
  EXPECT_EQ(percentile_sorted(v, 0.99), 99);
  EXPECT_EQ(percentile_sorted(v, 0.999), 100);
  EXPECT_EQ(percentile_sorted(v, 1.0), 100);
  const std::vector<std::int64_t> one = {42};
  for (double q : {0.0, 0.5, 0.9999, 1.0}) EXPECT_EQ(percentile_sorted(one, q), 42);
  const std::vector<std::int64_t> four = {10, 20, 30, 40};
  EXPECT_EQ(percentile_sorted(four, 0.25), 10);
  EXPECT_EQ(percentile_sorted(four, 0.26), 20);
  EXPECT_EQ(percentile_sorted(four, 0.5), 20);
  EXPECT_EQ(percentile_sorted(four, 0.75), 30);
  EXPECT_EQ(percentile_sorted(four, 0.76), 40);
  EXPECT_THROW((void)percentile_sorted({}, 0.5), std::invalid_argument);
  EXPECT_THROW((void)percentile_sorted(four, 1.5), std::invalid_argument);
  EXPECT_THROW((void)percentile_sorted(four, -0.1), std::invalid_argument);
}

TEST(LatencyStats, SummaryOfAKnownSet) {
  auto v = one_to(10000);
  std::shuffle(v.begin(), v.end(), std::mt19937(7));  // order does not matter
  const auto s = summarize(v);
  EXPECT_EQ(s.count, 10000u);
  EXPECT_EQ(s.l_min, 1);
  EXPECT_EQ(s.p50, 5000);
  EXPECT_EQ(s.p90, 9000);
  EXPECT_EQ(s.p99, 9900);
  EXPECT_EQ(s.p999, 9990);
  EXPECT_EQ(s.p9999, 9999);
  EXPECT_EQ(s.l_max, 10000);
  EXPECT_EQ(s.d_max, 9999);
  EXPECT_DOUBLE_EQ(s.mean, 5000.5);
  EXPECT_NEAR(s.stddev, 2886.75, 0.01);
}

TEST(LatencyStats, TailAndSpread) {
  // 9999 samples of 1000 ns and one of 50000: only the very tail sees it.
  std::vector<std::int64_t> v(9999, 1000);
  v.push_back(50000);
  const auto s = summarize(v);
  EXPECT_EQ(s.p99, 1000);
  EXPECT_EQ(s.p999, 1000);
  EXPECT_EQ(s.p9999, 1000);
  EXPECT_EQ(s.l_max, 50000);
  EXPECT_EQ(s.d_max, 49000);
  // Negative values (clock offsets) and large ones are fine.
  const auto n = summarize({-5, 5, 4000000000000});
  EXPECT_EQ(n.l_min, -5);
  EXPECT_EQ(n.d_max, 4000000000005);
}

TEST(LatencyStats, CdfIsMonotonicFromMinToMax) {
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> v(5000);
  for (auto& x : v) x = static_cast<std::int64_t>(rng() % 100000);
  const auto s = summarize(v);
  ASSERT_EQ(s.cdf.size(), 200u);
  EXPECT_EQ(s.cdf.front().first, 0.0);
  EXPECT_EQ(s.cdf.front().second, s.l_min);
  EXPECT_EQ(s.cdf.back().first, 1.0);
  EXPECT_EQ(s.cdf.back().second, s.l_max);
  for (std::size_t i = 1; i < s.cdf.size(); ++i) {
    EXPECT_GT(s.cdf[i].first, s.cdf[i - 1].first);
    EXPECT_GE(s.cdf[i].second, s.cdf[i - 1].second);
  }
  EXPECT_EQ(summarize(v, 1).cdf.size(), 1u);
  EXPECT_TRUE(summarize(v, 0).cdf.empty());
}

TEST(LatencyStats, EmptyAndJson) {
  const auto e = summarize({});
  EXPECT_EQ(e.count, 0u);
  EXPECT_TRUE(e.cdf.empty());
  EXPECT_EQ(to_json(e)["l_max"], 0);

  const auto j = to_json(summarize(one_to(1000)));
  for (const char* k : {"count", "l_min", "p50", "p90", "p99", "p99_9", "p99_99", "p99.9", "p99.99",
                        "l_max", "d_max", "mean", "stddev", "cdf"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["p99_9"], 999);
  EXPECT_EQ(j["p99.9"], 999);
  EXPECT_EQ(j["p99_99"], 1000);
  // The CDF as plotted: [latency, fraction of samples at or below it].
  EXPECT_EQ(j["cdf"].size(), 200u);
  EXPECT_EQ(j["cdf"][0][0], 1);
  EXPECT_EQ(j["cdf"][0][1], 0.0);
  EXPECT_EQ(j["cdf"][199][0], 1000);
  EXPECT_EQ(j["cdf"][199][1], 1.0);
  EXPECT_FALSE(to_json(summarize(one_to(10)), false).contains("cdf"));
}

}  // namespace
