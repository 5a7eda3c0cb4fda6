// SPDX-License-Identifier: GPL-2.0
//
// Parsing and printing of X-Lane values, shared by xlanectl, xlane-lat and
// the tests: rates ("1gbit"), durations, and JSON for everything the API
// returns. Needs neither the module nor privileges.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "xlane/xlane.hpp"

namespace xlane {

// A rate in bits per second, tc(8) style: a decimal number (a fraction is
// allowed) with an optional unit bit, kbit, mbit, gbit or tbit (powers of
// 1000; "k", "m", "g", "t" alone mean the same). "1gbit" -> 1000000000.
// nullopt for anything else, zero, or more than 2^64-1.
[[nodiscard]] std::optional<std::uint64_t> parse_rate(std::string_view text);
// The shortest exact form: 1000000000 -> "1gbit", 1500000 -> "1500kbit".
[[nodiscard]] std::string format_rate(std::uint64_t bps);

// ns for people: "850 ns", "12.345 us", "1.500 ms", "2.000 s"; "unbounded"
// for XLANE_UNBOUNDED (any negative value).
[[nodiscard]] std::string format_ns(std::int64_t ns);

// The payload as text if it is printable ASCII, else as hex ("0x0a1b...").
[[nodiscard]] std::string payload_text(std::span<const std::byte> payload);

[[nodiscard]] nlohmann::json to_json(const Request& r);
[[nodiscard]] nlohmann::json to_json(const Resources& r);
[[nodiscard]] nlohmann::json to_json(const Event& e);
[[nodiscard]] nlohmann::json to_json(const FdEvent& e);
[[nodiscard]] nlohmann::json to_json(const Message& m);
[[nodiscard]] nlohmann::json to_json(const RingStats& s);
[[nodiscard]] nlohmann::json to_json(const xlane_attach& a);
[[nodiscard]] nlohmann::json to_json(const xlane_info& i);
[[nodiscard]] nlohmann::json to_json(const xlane_lane_info& l);
[[nodiscard]] nlohmann::json to_json(const xlane_fd_peer& p);
[[nodiscard]] nlohmann::json to_json(const AliveSnapshot& s);

// The model's path as the module uses it for `a`: zero fields take the
// defaults documented in uapi/xlane.h (tx_ns: `default_tx_ns`, the engine's
// calibration, which only the module knows).
[[nodiscard]] xlane_path path_of(const xlane_attach& a, std::uint32_t default_tx_ns);

}  // namespace xlane
