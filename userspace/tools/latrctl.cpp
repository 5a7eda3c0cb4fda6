// SPDX-License-Identifier: GPL-2.0
//
// latrctl: drive the latr module (modules/latr/latr.c) through its sysfs
// interface. The command line is parsed by latrctl_cli.cpp, the attributes
// are read and written by latrctl_sysfs.cpp; this file does the verbs.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "latrctl_cli.hpp"
#include "latrctl_sysfs.hpp"
#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"

namespace xsel::latrctl {
namespace {

// The current mode, if it can be read: only for messages, never a reason to fail.
std::optional<latr_mode> current_mode(const latr_sysfs& sys) {
  try {
    return parse_mode(sys.read_attr("mode"));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// " (was X)" or " (unchanged)" after a change from `before` to `now`.
std::string was(const std::optional<std::string>& before, const std::string& now) {
  if (!before) return {};
  if (*before == now) return " (unchanged)";
  return fmt::format(" (was {})", *before);
}

// "4242 (redis-server)", or just "4242" if /proc does not say.
std::string process_name(int pid) {
  std::ifstream comm(fmt::format("/proc/{}/comm", pid));
  std::string name;
  if (comm && std::getline(comm, name) && !name.empty()) return fmt::format("{} ({})", pid, name);
  return std::to_string(pid);
}

int do_status(const command& cmd, const latr_sysfs& sys) {
  fmt::print("{}", format_status(sys.read_status(), cmd.json));
  return 0;
}

int do_set_mode(const command& cmd, const latr_sysfs& sys) {
  sys.require_loaded();
  const auto before = current_mode(sys);
  sys.set_mode(cmd.mode);
  const std::string now{to_string(cmd.mode)};
  const std::string change = fmt::format(
      "mode {}{}", now,
      was(before ? std::optional<std::string>(to_string(*before)) : std::nullopt, now));
  switch (cmd.mode) {
    case latr_mode::all:
      fmt::print("{}: lazy TLB shootdowns for every process\n", change);
      break;
    case latr_mode::optin:
      fmt::print(
          "{}: lazy TLB shootdowns for opted-in processes\n"
          "opt a process in with 'latrctl process optin PID'\n",
          change);
      break;
    case latr_mode::off:
      fmt::print(
          "{}: every new TLB shootdown is synchronous; pending lazy ones complete "
          "within timeout_us\n",
          change);
      break;
  }
  return 0;
}

int do_set_timeout(const command& cmd, const latr_sysfs& sys) {
  sys.require_loaded();
  std::optional<std::string> before;
  try {
    before = std::to_string(sys.read_u64("timeout_us"));
  } catch (const std::exception&) {
  }
  sys.set_timeout_us(cmd.timeout_us);
  const std::string now = std::to_string(cmd.timeout_us);
  fmt::print("timeout_us {}{}: pending lazy shootdowns are completed by IPIs after {} us\n", now,
             was(before, now), now);
  return 0;
}

int do_opt(const command& cmd, const latr_sysfs& sys) {
  const bool in = cmd.action == verb::optin;
  const std::string who = process_name(cmd.pid);
  if (in)
    sys.opt_in(cmd.pid);
  else
    sys.opt_out(cmd.pid);
  fmt::print("process {} opted {}\n", who, in ? "in" : "out");
  if (!in) return 0;
  // Say when the opt-in does not change anything yet.
  if (const auto mode = current_mode(sys); mode == latr_mode::off)
    fmt::print("note: mode is off, so nothing is lazy yet; run 'latrctl enable --optin'\n");
  else if (mode == latr_mode::all)
    fmt::print(
        "note: mode is all, so every process is lazy anyway; opt-in matters in mode optin\n");
  return 0;
}

int do_stats(const command& cmd, const latr_sysfs& sys) {
  // Open stats/reset first: if the reset is not allowed, fail before
  // printing, rather than print and then fail.
  xcommon::unique_fd reset;
  if (cmd.reset) reset = sys.open_reset();
  fmt::print("{}", format_stats(sys.read_stats(), cmd.json));
  if (cmd.reset) {
    std::fflush(stdout);
    sys.reset_stats(reset);
    if (!cmd.json) fmt::print("counters reset\n");
  }
  return 0;
}

int execute(const command& cmd) {
  const latr_sysfs sys{cmd.sysfs};
  switch (cmd.action) {
    case verb::status: return do_status(cmd, sys);
    case verb::set_mode: return do_set_mode(cmd, sys);
    case verb::set_timeout: return do_set_timeout(cmd, sys);
    case verb::optin:
    case verb::optout: return do_opt(cmd, sys);
    case verb::stats: return do_stats(cmd, sys);
  }
  return 2;
}

}  // namespace
}  // namespace xsel::latrctl

int main(int argc, char** argv) {
  using namespace xsel::latrctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  return xcommon::cli::run_main("latrctl", parse_args(args), execute);
}
