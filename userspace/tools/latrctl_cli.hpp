// SPDX-License-Identifier: GPL-2.0
//
// latrctl's command line, parsed into a plain struct without executing
// anything, so the grammar can be unit-tested without the module or root.
//
//   latrctl [--sysfs DIR] [-j] status [--json]
//   latrctl [--sysfs DIR] enable [--optin]
//   latrctl [--sysfs DIR] disable
//   latrctl [--sysfs DIR] set mode off|optin|all
//   latrctl [--sysfs DIR] set timeout US
//   latrctl [--sysfs DIR] process optin PID
//   latrctl [--sysfs DIR] process optout PID
//   latrctl [--sysfs DIR] [-j] stats [--json] [--reset]
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xcommon/cli.hpp"

namespace xsel::latrctl {

// What the module does with a shootdown (sysfs "mode").
enum class latr_mode {
  off,    // every shootdown synchronous (IPIs), as without LATR
  optin,  // lazy for processes that opted in
  all,    // lazy for every process
};

// enable, disable and "set mode" are all verb::set_mode.
enum class verb { status, set_mode, set_timeout, optin, optout, stats };

[[nodiscard]] std::string_view to_string(verb v) noexcept;
[[nodiscard]] std::string_view to_string(latr_mode m) noexcept;
// "off", "optin" or "all" (exactly, as the module names them).
[[nodiscard]] std::optional<latr_mode> parse_mode(std::string_view text) noexcept;

inline constexpr std::string_view k_default_sysfs = "/sys/kernel/latr";
// The bounds the module accepts for timeout_us (modules/latr/latr.c).
inline constexpr unsigned k_timeout_min_us = 100;
inline constexpr unsigned k_timeout_max_us = 1000000;

struct command {
  verb action = verb::status;
  latr_mode mode = latr_mode::all;  // set_mode
  unsigned timeout_us = 0;          // set_timeout
  int pid = 0;                      // optin, optout
  bool json = false;                // status, stats
  bool reset = false;               // stats: zero the counters after printing
  std::string sysfs{k_default_sysfs};
};

// Either a command to execute, or text to print and an exit status
// (0 after --help, 2 for a usage error).
using parse_result = xcommon::cli::parse_result<command>;

// args excludes the program name.
[[nodiscard]] parse_result parse_args(const std::vector<std::string>& args);

}  // namespace xsel::latrctl
