// SPDX-License-Identifier: GPL-2.0
//
// The latr module's sysfs interface (modules/latr/latr.c), as latrctl uses
// it, and the text and JSON latrctl prints. Everything takes the root
// directory, so the tests run it against a fake tree in a temp directory.
//
//   <root>/mode         rw  off | optin | all
//   <root>/timeout_us   rw  100..1000000
//   <root>/pending      ro  lazy shootdowns not yet reclaimed
//   <root>/oldest_us    ro  age of the oldest of them, 0 if none
//   <root>/ring_size    ro  states per CPU
//   <root>/optin        wo  a PID: opt its mm in (CAP_SYS_ADMIN)
//   <root>/optout       wo  a PID: opt its mm out (CAP_SYS_ADMIN)
//   <root>/stats/NAME   ro  one u64 per counter (k_stat_names, maybe more)
//   <root>/stats/reset  wo  "1" zeroes them all (CAP_SYS_ADMIN)
//
// Errors are xcommon::error or std::system_error, each saying what was
// attempted, with a hint where the user can do something about it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "latrctl_cli.hpp"
#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"

namespace xsel::latrctl {

// The counters under <root>/stats that latrctl knows, in the module's order
// (modules/latr/latr.c: latr_stat_names, then reclaim_delay_ns_max).
inline constexpr std::array<std::string_view, 17> k_stat_names = {
    "recorded",
    "numa_recorded",
    "local_only",
    "ipis_avoided",
    "sweep_flushes",
    "switch_flushes",
    "idle_flushes",
    "fallback_ring_full",
    "fallback_nomem",
    "timeout_ipis",
    "timeout_waits",
    "reuse_syncs",
    "reuse_ipis",
    "steered",
    "reclaimed",
    "reclaim_delay_ns_sum",
    "reclaim_delay_ns_max",
};

// One line of explanation for a counter of k_stat_names; "" for others.
[[nodiscard]] std::string_view stat_description(std::string_view name) noexcept;

struct latr_status {
  std::string sysfs;  // the root it was read from
  latr_mode mode = latr_mode::off;
  std::uint64_t timeout_us = 0;
  std::uint64_t pending = 0;
  std::uint64_t oldest_us = 0;
  std::uint64_t ring_size = 0;
};

struct latr_counter {
  std::string name;
  std::uint64_t value = 0;
};

struct latr_stats {
  // Every file of <root>/stats but reset: those of k_stat_names in that
  // order, then any others (a newer module's) by name.
  std::vector<latr_counter> counters;

  [[nodiscard]] std::optional<std::uint64_t> get(std::string_view name) const noexcept;
  // reclaim_delay_ns_sum / reclaimed in microseconds; none before anything
  // was reclaimed (or if the module lacks either counter).
  [[nodiscard]] std::optional<double> mean_reclaim_delay_us() const noexcept;
};

class latr_sysfs {
 public:
  explicit latr_sysfs(std::string root = std::string(k_default_sysfs))
      : root_{std::move(root)} {}

  [[nodiscard]] const std::string& root() const noexcept { return root_; }
  // <root>/<attr>
  [[nodiscard]] std::string path(std::string_view attr) const;

  // Whether the module is loaded, i.e. <root> is a directory.
  [[nodiscard]] bool loaded() const;
  // Throws "latr module not loaded (insmod modules/latr/latr.ko)" unless it is.
  void require_loaded() const;

  [[nodiscard]] latr_status read_status() const;
  // Every counter the module has, or an error: never a partial set.
  [[nodiscard]] latr_stats read_stats() const;

  void set_mode(latr_mode mode) const;
  void set_timeout_us(unsigned us) const;
  void opt_in(int pid) const;
  void opt_out(int pid) const;

  // stats/reset in two steps, so that a reset the user may not do fails
  // before anything is printed: open it (checks the module and permissions),
  // then reset through the descriptor.
  [[nodiscard]] xcommon::unique_fd open_reset() const;
  void reset_stats(const xcommon::unique_fd& reset) const;
  void reset_stats() const { reset_stats(open_reset()); }

  // The text of a readable attribute, without its trailing newline.
  [[nodiscard]] std::string read_attr(std::string_view attr) const;
  // A readable attribute holding one unsigned decimal number.
  [[nodiscard]] std::uint64_t read_u64(std::string_view attr) const;

 private:
  [[nodiscard]] xcommon::unique_fd open_attr(std::string_view attr, std::string_view value) const;
  void store(std::string_view attr, std::string_view value) const;
  void store(const xcommon::unique_fd& fd, std::string_view attr, std::string_view value) const;

  std::string root_;
};

// What writing VALUE to ATTR means, for messages: "set mode to all",
// "opt in process 42", "reset the statistics".
[[nodiscard]] std::string describe_write(std::string_view attr, std::string_view value);

// The error for a write of VALUE to ATTR (file PATH) that failed with ERR,
// whether open() or the module's store refused it: says what was attempted,
// and why in terms of the attribute (ESRCH: no such process, ERANGE: the
// allowed timeouts, EACCES/EPERM: needs root, ...).
[[nodiscard]] xcommon::error write_error(int err, std::string_view attr, std::string_view value,
                                         const std::string& path);

// latrctl status / stats output: JSON objects (keys in the order of the text)
// and aligned text.
[[nodiscard]] nlohmann::ordered_json to_json(const latr_status& s);
[[nodiscard]] nlohmann::ordered_json to_json(const latr_stats& s);
[[nodiscard]] std::string format_status(const latr_status& s, bool json);
[[nodiscard]] std::string format_stats(const latr_stats& s, bool json);

}  // namespace xsel::latrctl
