// SPDX-License-Identifier: GPL-2.0
#include "xlane/format.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace xlane {

namespace {

struct unit {
  std::string_view name;
  std::uint64_t mult;
};

constexpr std::array<unit, 10> k_rate_units = {{
    {"bit", 1},
    {"kbit", 1000},
    {"mbit", 1000000},
    {"gbit", 1000000000},
    {"tbit", 1000000000000},
    {"k", 1000},
    {"m", 1000000},
    {"g", 1000000000},
    {"t", 1000000000000},
    {"", 1},
}};

std::string lower(std::string_view s) {
  std::string out{s};
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::uint64_t> parse_rate(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  const std::string_view number = text.substr(0, i);
  const std::string suffix = lower(text.substr(i));
  if (number.empty() || !std::isdigit(static_cast<unsigned char>(number.front())) ||
      number.back() == '.' || number.find('.') != number.rfind('.'))
    return std::nullopt;
  std::uint64_t mult = 0;
  for (const auto& u : k_rate_units)
    if (suffix == u.name) mult = u.mult;
  if (mult == 0) return std::nullopt;

  // Whole part and fraction in integers, so "1gbit" is exactly 10^9.
  const auto dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  const std::string_view frac =
      dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  std::uint64_t w = 0;
  if (auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
      ec != std::errc{} || p != whole.data() + whole.size())
    return std::nullopt;
  if (w > std::numeric_limits<std::uint64_t>::max() / mult) return std::nullopt;
  std::uint64_t value = w * mult;
  // The fraction: digits beyond what `mult` resolves must be zero.
  std::uint64_t scale = mult;
  for (char c : frac) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (scale % 10 != 0) {
      if (d != 0) return std::nullopt;  // finer than one bit/s
      continue;
    }
    scale /= 10;
    if (value > std::numeric_limits<std::uint64_t>::max() - d * scale) return std::nullopt;
    value += d * scale;
  }
  if (value == 0) return std::nullopt;
  return value;
}

std::string format_rate(std::uint64_t bps) {
  constexpr std::array<unit, 4> big = {
      {{"tbit", 1000000000000}, {"gbit", 1000000000}, {"mbit", 1000000}, {"kbit", 1000}}};
  for (const auto& u : big)
    if (bps != 0 && bps % u.mult == 0) return fmt::format("{}{}", bps / u.mult, u.name);
  return fmt::format("{}bit", bps);
}

std::string format_ns(std::int64_t ns) {
  if (ns < 0) return "unbounded";
  if (ns < 1000) return fmt::format("{} ns", ns);
  const double v = static_cast<double>(ns);
  if (ns < 1000000) return fmt::format("{:.3f} us", v / 1e3);
  if (ns < 1000000000) return fmt::format("{:.3f} ms", v / 1e6);
  return fmt::format("{:.3f} s", v / 1e9);
}

std::string payload_text(std::span<const std::byte> payload) {
  bool printable = true;
  for (std::byte b : payload) {
    const auto c = static_cast<unsigned char>(b);
    if (c < 0x20 || c > 0x7e) printable = false;
  }
  if (printable) return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
  constexpr std::size_t k_max = 64;
  std::string hex = "0x";
  for (std::size_t i = 0; i < payload.size() && i < k_max; ++i)
    hex += fmt::format("{:02x}", static_cast<unsigned>(payload[i]));
  if (payload.size() > k_max) hex += "...";
  return hex;
}

std::string Resources::str() const {
  return fmt::format("{} B every {} us, latency {} + jitter <= {}", loadsize, period_us,
                     format_ns(min_latency_ns), format_ns(max_jitter_ns));
}

nlohmann::json to_json(const Request& r) {
  return {{"loadsize", r.loadsize}, {"period_us", r.period_us}, {"ip", r.ip.str()},
          {"port", r.port},         {"prio", r.prio},           {"reclaim", r.reclaim}};
}

nlohmann::json to_json(const Resources& r) {
  nlohmann::json j = {{"loadsize", r.loadsize},
                      {"period_us", r.period_us},
                      {"min_latency_ns", r.min_latency_ns},
                      {"max_jitter_ns", r.max_jitter_ns}};
  j["jitter_bounded"] = r.jitter_bounded();
  return j;
}

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = {{"event", event_name(static_cast<std::uint32_t>(e.type))},
                      {"lane", e.lane},
                      {"reason", reason_name(static_cast<std::uint32_t>(e.reason))}};
  if (e.type == Event::Type::changed) j["resources"] = to_json(e.res);
  return j;
}

nlohmann::json to_json(const FdEvent& e) {
  return {{"event", fd_event_name(static_cast<std::uint32_t>(e.type))},
          {"node", e.node},
          {"ip", e.ip.str()},
          {"ns", e.ns},
          {"last_alive_ns", e.last_alive_ns}};
}

nlohmann::json to_json(const Message& m) {
  return {{"tx_ns", m.tx_ns},
          {"rx_ns", m.rx_ns},
          {"latency_ns", m.latency_ns()},
          {"seq", m.seq},
          {"node", m.node},
          {"src", m.src.str()},
          {"lane", m.lane},
          {"port", m.port},
          {"len", m.payload.size()},
          {"payload", payload_text(m.payload)}};
}

nlohmann::json to_json(const RingStats& s) {
  return {{"slots", s.slots},
          {"max_len", s.max_len},
          {"used", s.used},
          {"dropped", s.dropped},
          {"bad", s.bad}};
}

nlohmann::json to_json(const xlane_attach& a) {
  return {{"link_bps", a.link_bps}, {"share_pct", a.share_pct},         {"links", a.links},
          {"hop_ns", a.hop_ns},     {"hop_jitter_ns", a.hop_jitter_ns}, {"tx_ns", a.tx_ns},
          {"rx_ns", a.rx_ns},       {"engine_pct", a.engine_pct},       {"mtu", a.mtu}};
}

nlohmann::json to_json(const xlane_info& i) {
  nlohmann::json j = {{"attached", i.attached != 0},
                      {"ifindex", i.ifindex},
                      {"src_ip", Ipv4{i.src_ip}.str()},
                      {"node_id", i.node_id},
                      {"port", i.port},
                      {"engine_cpu", i.engine_cpu},
                      {"engine_poll", (i.engine_flags & XLANE_ENGINE_POLL) != 0},
                      {"lanes", i.lanes},
                      {"listeners", i.listeners},
                      {"path", to_json(i.path)}};
  j["counters"] = {{"tx_packets", i.tx_packets},
                   {"tx_errors", i.tx_errors},
                   {"rx_packets", i.rx_packets},
                   {"rx_chunks", i.rx_chunks},
                   {"rx_bad", i.rx_bad},
                   {"rx_foreign", i.rx_foreign},
                   {"rx_ring_full", i.rx_ring_full},
                   {"engine_loops", i.engine_loops},
                   {"engine_late", i.engine_late},
                   {"tx_cost_max_ns", i.tx_cost_max_ns},
                   {"tx_cost_avg_ns", i.tx_cost_avg_ns},
                   {"bw_used_ppm", i.bw_used_ppm},
                   {"engine_stalls", i.engine_stalls},
                   {"engine_stolen_ns", i.engine_stolen_ns},
                   {"engine_max_stall_ns", i.engine_max_stall_ns},
                   {"engine_masked_gap_max_ns", i.engine_masked_gap_max_ns}};
  return j;
}

nlohmann::json to_json(const xlane_lane_info& l) {
  Request r;
  r.loadsize = l.req.loadsize;
  r.period_us = l.req.period_us;
  r.ip = Ipv4{l.req.ip};
  r.port = l.req.port;
  r.prio = l.req.prio;
  r.reclaim = (l.req.flags & XLANE_REQ_RECLAIM) != 0;
  return {{"lane", l.lane},
          {"owner_pid", l.owner_pid},
          {"request", to_json(r)},
          {"resources", to_json(Resources::from(l.res))},
          {"sent", l.sent},
          {"msgs", l.msgs},
          {"policed", l.policed},
          {"late", l.late},
          {"idle_periods", l.idle_periods}};
}

nlohmann::json to_json(const xlane_fd_peer& p) {
  return {{"node", p.node},
          {"ip", Ipv4{p.ip}.str()},
          {"state", fd_event_name(p.state)},
          {"last_alive_ns", p.last_alive_ns},
          {"counter", p.counter},
          {"beats", p.beats},
          {"suspicions", p.suspicions},
          {"last_latency_ns", p.last_latency_ns},
          {"max_latency_ns", p.max_latency_ns}};
}

nlohmann::json to_json(const AliveSnapshot& s) {
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& p : s.peers) peers.push_back(to_json(p));
  return {{"active", s.active},         {"self_node", s.self_node},
          {"period_ns", s.period_ns},   {"threshold_ns", s.threshold_ns},
          {"beats_tx", s.beats_tx},     {"beats_skipped", s.beats_skipped},
          {"beats_rx", s.beats_rx},     {"suspicions", s.suspicions},
          {"recoveries", s.recoveries}, {"peers", std::move(peers)}};
}

xlane_path path_of(const xlane_attach& a, std::uint32_t default_tx_ns) {
  xlane_path p{};
  p.link_bps = a.link_bps ? a.link_bps : 1000000000ull;
  p.share_pct = a.share_pct ? a.share_pct : 50;
  p.links = a.links ? a.links : 2;
  p.hop_ns = a.hop_ns ? a.hop_ns : 5000;
  p.hop_jitter_ns = a.hop_jitter_ns ? a.hop_jitter_ns : 2000;
  p.tx_ns = a.tx_ns ? a.tx_ns : default_tx_ns;
  p.rx_ns = a.rx_ns ? a.rx_ns : 2000;
  p.engine_pct = a.engine_pct ? a.engine_pct : 50;
  p.mtu = a.mtu ? a.mtu : 1514;
  return p;
}

}  // namespace xlane
