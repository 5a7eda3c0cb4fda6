// SPDX-License-Identifier: GPL-2.0
//
// canaryctl's command line, parsed into a plain struct without executing
// anything, so the grammar can be unit-tested without libbpf or privileges.
//
//   canaryctl [-v] [--bpffs DIR] xdp attach dev IFNAME [--mode native|generic]
//   canaryctl [-v] [--bpffs DIR] xdp detach dev IFNAME
//   canaryctl [-v] [--bpffs DIR] xdp stats  dev IFNAME [--json]
//   canaryctl [-v] [--bpffs DIR] xdp list [--json]
//   -n/--netns NAME before the object works in /run/netns/NAME, like ip -n
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xcommon/cli.hpp"

namespace xsel::canaryctl {

enum class verb { attach, detach, stats, list };
enum class attach_mode { native, generic };

[[nodiscard]] std::string_view to_string(verb v) noexcept;
[[nodiscard]] std::string_view to_string(attach_mode m) noexcept;

inline constexpr std::string_view k_default_bpffs = "/sys/fs/bpf";

struct command {
  verb action = verb::list;
  std::string ifname;  // empty for list
  attach_mode mode = attach_mode::native;
  bool json = false;
  bool verbose = false;
  std::string bpffs{k_default_bpffs};
  std::string netns;  // ip-netns name; empty: the caller's namespace

  // <bpffs>/canary: one directory per interface the canary is attached to.
  [[nodiscard]] std::string pin_root() const;
  // <bpffs>/canary/<ifname>
  [[nodiscard]] std::string pin_dir() const;
};

// Either a command to execute, or text to print and an exit status
// (0 after --help, 2 for a usage error).
using parse_result = xcommon::cli::parse_result<command>;

// args excludes the program name.
[[nodiscard]] parse_result parse_args(const std::vector<std::string>& args);

// Checks an interface name for use as a path component and with
// if_nametoindex(); returns an explanation if it is unusable.
[[nodiscard]] std::optional<std::string> invalid_ifname(std::string_view name);

}  // namespace xsel::canaryctl
