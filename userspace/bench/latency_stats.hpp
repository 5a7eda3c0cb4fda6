// SPDX-License-Identifier: GPL-2.0
//
// Latency distributions for the benchmarks: nearest-rank percentiles, the
// spread d_max = l_max - l_min the X-Lane paper reports (§6.2), and a CDF
// sample for plotting.
//
//   auto s = xsel::bench::summarize(latencies_ns);   // any order
//   s.p99, s.d_max, s.cdf ...; to_json(s)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace xsel::bench {

// The nearest-rank q-quantile (0 <= q <= 1) of ascending samples: the
// smallest sample that at least a fraction q of all samples do not exceed.
// q = 0 gives the minimum, q = 1 the maximum. Needs at least one sample.
[[nodiscard]] std::int64_t percentile_sorted(std::span<const std::int64_t> sorted, double q);

struct latency_summary {
  std::size_t count = 0;  // samples
  std::int64_t l_min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, l_max = 0;
  std::int64_t d_max = 0;  // l_max - l_min
  double mean = 0, stddev = 0;
  // (q, value) at `cdf_points` evenly spaced q from 0 to 1, for plotting.
  std::vector<std::pair<double, std::int64_t>> cdf;
};

// Summary of `samples` (any order; empty gives count 0 and zeros).
[[nodiscard]] latency_summary summarize(std::vector<std::int64_t> samples,
                                        std::size_t cdf_points = 200);

// {"count","l_min","p50","p90","p99","p99_9","p99_99","l_max","d_max","mean",
//  "stddev","cdf":[[ns,q],...]} (p99.9 and p99.99 also as "p99.9", "p99.99");
// without "cdf" when with_cdf is false.
[[nodiscard]] nlohmann::json to_json(const latency_summary& s, bool with_cdf = true);

}  // namespace xsel::bench
