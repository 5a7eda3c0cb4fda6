// SPDX-License-Identifier: GPL-2.0
#include "latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace xsel::bench {

std::int64_t percentile_sorted(std::span<const std::int64_t> sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("percentile of no samples");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("quantile outside [0, 1]");
  const auto n = sorted.size();
  // rank = ceil(q * n), in 1..n; a little slack so 0.99 * 100 is rank 99.
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

latency_summary summarize(std::vector<std::int64_t> samples, std::size_t cdf_points) {
  latency_summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const std::span<const std::int64_t> v{samples};
  s.l_min = v.front();
  s.l_max = v.back();
  s.d_max = s.l_max - s.l_min;
  s.p50 = percentile_sorted(v, 0.50);
  s.p90 = percentile_sorted(v, 0.90);
  s.p99 = percentile_sorted(v, 0.99);
  s.p999 = percentile_sorted(v, 0.999);
  s.p9999 = percentile_sorted(v, 0.9999);

  // Mean and deviation around the minimum, so large offsets lose no precision.
  double sum = 0, sq = 0;
  for (std::int64_t x : v) {
    const auto d = static_cast<double>(x - s.l_min);
    sum += d;
    sq += d * d;
  }
  const double n = static_cast<double>(v.size());
  const double m = sum / n;
  s.mean = static_cast<double>(s.l_min) + m;
  s.stddev = std::sqrt(std::max(0.0, sq / n - m * m));

  if (cdf_points == 1) s.cdf.emplace_back(1.0, s.l_max);
  for (std::size_t i = 0; cdf_points > 1 && i < cdf_points; ++i) {
    const double q = static_cast<double>(i) / static_cast<double>(cdf_points - 1);
    s.cdf.emplace_back(q, percentile_sorted(v, q));
  }
  return s;
}

nlohmann::json to_json(const latency_summary& s, bool with_cdf) {
  nlohmann::json j = {{"count", s.count},  {"l_min", s.l_min},  {"p50", s.p50},
                      {"p90", s.p90},      {"p99", s.p99},      {"p99_9", s.p999},
                      {"p99_99", s.p9999}, {"l_max", s.l_max},  {"d_max", s.d_max},
                      {"mean", s.mean},    {"stddev", s.stddev}};
  // The same two under the names people write.
  j["p99.9"] = s.p999;
  j["p99.99"] = s.p9999;
  if (with_cdf) {
    nlohmann::json cdf = nlohmann::json::array();
    for (const auto& [q, x] : s.cdf) cdf.push_back({x, q});
    j["cdf"] = std::move(cdf);
  }
  return j;
}

}  // namespace xsel::bench
