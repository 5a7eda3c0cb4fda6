// SPDX-License-Identifier: GPL-2.0
//
// xlanectl's command line, parsed into a plain struct without executing
// anything, so the grammar can be unit-tested without the module, libbpf or
// privileges. Objects and verbs in the style of ip(8) and bpftool:
//
//   xlanectl [GLOBAL] attach dev IFNAME [port N] [rate R] [share PCT] [links N]
//                     [hop-ns N] [hop-jitter-ns N] [tx-ns N] [rx-ns N]
//                     [engine-pct N] [mtu N] [node N] [src IP]
//   xlanectl [GLOBAL] detach dev IFNAME
//   xlanectl [GLOBAL] show | lanes | bridges                       [--json]
//   xlanectl [GLOBAL] lane request loadsize N period US to IP port P [prio N]
//                     [slots N] [reclaim] [--hold S]                [--json]
//   xlanectl [GLOBAL] fd start group IP period US threshold US [slots N]
//                     [--for S] [--fifo PRIO] [--stall-after S [--stall-for S]]
//   xlanectl [GLOBAL] fd status                                     [--json]
//   xlanectl [GLOBAL] send to IP port P period US [loadsize N] [prio N]
//                     [--count N] [--payload STR]                  [--json]
//   xlanectl [GLOBAL] listen port P [slots N] [max-len N]
//                     [--count N] [--timeout S]                    [--json]
//   GLOBAL: -j/--json, -n/--netns NAME, --device PATH, --bpffs DIR, -v
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uapi/xlane.h"
#include "xcommon/cli.hpp"
#include "xlane/xlane.hpp"

namespace xsel::xlanectl {

enum class verb {
  attach,
  detach,
  show,
  lanes,
  lane_request,
  bridges,
  fd_start,
  fd_status,
  send,
  listen,
};

// "attach", "lane request", "fd status", ...
[[nodiscard]] std::string_view to_string(verb v) noexcept;

inline constexpr std::string_view k_default_device = xlane::k_device;
inline constexpr std::string_view k_default_bpffs = "/sys/fs/bpf";

struct command {
  verb action = verb::show;
  bool json = false;
  bool verbose = false;
  std::string netns;  // ip-netns name; empty: the caller's namespace
  std::string device{k_default_device};
  std::string bpffs{k_default_bpffs};

  // attach, detach
  std::string ifname;
  xlane_attach attach{};  // zeros take the module's defaults; ifindex set when run

  // lane request, send: the request (send: loadsize 0 = fit the payload)
  xlane::Request request;
  double hold_s = 0;  // lane request --hold

  // fd start
  xlane::Ipv4 group;
  std::uint32_t fd_period_us = 0;
  std::uint32_t fd_threshold_us = 0;
  std::uint32_t fd_slots = 0;
  double for_s = 0;           // 0: until SIGINT
  int fifo_priority = 10;     // 0: normal scheduling
  double stall_after_s = -1;  // < 0: never stall the liveness counter
  double stall_for_s = 0;     // 0: stay stalled

  // send, listen
  std::uint16_t port = 0;              // listen
  std::uint32_t slots = 0;             // listen
  std::uint32_t max_len = 0;           // listen
  std::uint64_t count = 0;             // send: messages (default 10); listen: 0 = unlimited
  double timeout_s = 0;                // listen: 0 = until SIGINT
  std::optional<std::string> payload;  // send

  // <bpffs>/xlane: one directory per network namespace (by inode number).
  [[nodiscard]] std::string pin_root() const;
};

// Either a command to execute, or text to print and an exit status
// (0 after --help, 2 for a usage error).
using parse_result = xcommon::cli::parse_result<command>;

// args excludes the program name.
[[nodiscard]] parse_result parse_args(const std::vector<std::string>& args);

// Checks an interface name for use as a path component and with
// if_nametoindex(); returns an explanation if it is unusable.
[[nodiscard]] std::optional<std::string> invalid_ifname(std::string_view name);

// Seconds as a decimal ("2", "0.5"); nullopt unless 0 <= value <= 1e7.
[[nodiscard]] std::optional<double> parse_seconds(std::string_view text);

}  // namespace xsel::xlanectl
