// SPDX-License-Identifier: GPL-2.0
//
// The xps module's sysfs tree, read-only:
//
//   <root>/fences_pending           write fences not yet ended
//   <root>/conns                    connections with handler state
//   <root>/write_through_confirmed  write-through fences the reply confirmed
//   <root>/write_through_voided     ... and those it did not (or never came)
//   <root>/handlers/<name>/<counter>  one decimal value per file:
//       calls tx drop pass reset refused unsync fenced yielded write_through
//       cpu_ns charged_ns conns lport owner_pid
//
// A missing <root> means the module is not loaded. Everything takes the
// root, so the tests run it against a fake tree.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace xps {

inline constexpr std::string_view k_sysfs = "/sys/kernel/xps";
inline constexpr std::string_view k_not_loaded = "xps module not loaded: insmod modules/xps/xps.ko";

// The counters of a handler directory that xpsctl knows, in the order it
// shows them; a newer module's other files follow by name.
inline constexpr std::array<std::string_view, 15> k_handler_counters = {
    "calls",   "tx",            "drop",   "pass",       "reset", "refused", "unsync",    "fenced",
    "yielded", "write_through", "cpu_ns", "charged_ns", "conns", "lport",   "owner_pid",
};

// One line on what a counter counts; "" for unknown ones.
[[nodiscard]] std::string_view counter_description(std::string_view name) noexcept;

struct Counter {
  std::string name;
  std::uint64_t value = 0;
};

struct Counters {
  std::vector<Counter> items;
  [[nodiscard]] std::optional<std::uint64_t> get(std::string_view name) const noexcept;
  [[nodiscard]] std::uint64_t operator[](std::string_view name) const noexcept {
    return get(name).value_or(0);
  }
};

// get_allstats(): the module's counters of one handler.
struct HandlerStats {
  std::string name;
  Counters counters;
};

[[nodiscard]] nlohmann::json to_json(const Counters& c);

class Sysfs {
 public:
  explicit Sysfs(std::string root = std::string(k_sysfs)) : root_{std::move(root)} {}

  [[nodiscard]] const std::string& root() const noexcept { return root_; }
  [[nodiscard]] bool loaded() const;
  // Throws k_not_loaded (ENOENT) unless <root> is a directory.
  void require_loaded() const;

  // Names of the attached handlers, sorted.
  [[nodiscard]] std::vector<std::string> handlers() const;
  [[nodiscard]] bool has_handler(std::string_view name) const;
  // Every counter of handler `name`; "unknown handler" (ENOENT) if none.
  [[nodiscard]] HandlerStats handler(std::string_view name) const;
  // fences_pending, conns (and any other file at the top).
  [[nodiscard]] Counters global() const;

 private:
  [[nodiscard]] Counters read_dir(const std::string& dir) const;

  std::string root_;
};

// A sysfs value: one unsigned decimal, maybe followed by a newline.
[[nodiscard]] std::optional<std::uint64_t> parse_counter(std::string_view text) noexcept;

}  // namespace xps
