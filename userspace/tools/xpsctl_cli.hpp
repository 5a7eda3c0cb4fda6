// SPDX-License-Identifier: GPL-2.0
//
// xpsctl's command line, parsed into a plain struct without executing
// anything, so the grammar is unit-tested without the module, libbpf or
// privileges. Objects and verbs, ip(8) and bpftool style:
//
//   xpsctl [GLOBAL] handler attach {redis|http|FILE.bpf.o} [--name N] [--port P]
//                  [--laddr ADDR] [--raddr ADDR] [--rport P] [--ipv4|--ipv6]
//                  [--strict] [--l7 OFF:LEN:HEX] [--owner PID]
//   xpsctl [GLOBAL] handler detach NAME
//   xpsctl [GLOBAL] handler list                                   [--json]
//   xpsctl [GLOBAL] handler update NAME {redis|http|FILE.bpf.o}
//   xpsctl [GLOBAL] data put|update NAME MAP KEY VALUE
//   xpsctl [GLOBAL] data delete NAME MAP KEY
//   xpsctl [GLOBAL] data get NAME MAP KEY                          [--json]
//   xpsctl [GLOBAL] data dump NAME MAP [--limit N]                 [--json]
//   xpsctl [GLOBAL] http action NAME METHOD {405|...|reset|drop|pass}
//   xpsctl [GLOBAL] stats [NAME] [--keys N]                        [--json]
//   xpsctl [GLOBAL] redis fill [--server HOST:PORT] [--name N] [--batch N]
//                              [--no-write-through]
//   GLOBAL: -j/--json, -v/--verbose, --bpffs DIR, --sysfs DIR
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xcommon/cli.hpp"
#include "xps/predicate.hpp"

namespace xsel::xpsctl {

enum class verb {
  handler_attach,
  handler_detach,
  handler_list,
  handler_update,
  data_put,
  data_update,
  data_delete,
  data_get,
  data_dump,
  http_action,
  stats,
  redis_fill,
};

// "handler attach", "data put", ...
[[nodiscard]] std::string_view to_string(verb v) noexcept;

inline constexpr std::string_view k_default_bpffs = "/sys/fs/bpf";
inline constexpr std::string_view k_default_sysfs = "/sys/kernel/xps";

// What `http action` sets for a method.
struct http_verdict {
  enum class kind { status, reset, drop, pass } what = kind::pass;
  std::uint16_t status = 0;  // kind::status: 200..599 (nginx's 444 "close" is reset)
};

// "405", "reset", "drop", "pass"; a reason in *why if it is none of them.
[[nodiscard]] std::optional<http_verdict> parse_http_verdict(std::string_view text,
                                                             std::string* why = nullptr);
// Why METHOD is no HTTP method token of 1..15 characters ("GET", "POST").
[[nodiscard]] std::optional<std::string> invalid_method(std::string_view method);

struct command {
  verb action = verb::handler_list;
  bool json = false;
  bool verbose = false;
  std::string bpffs{k_default_bpffs};
  std::string sysfs{k_default_sysfs};

  std::string name;    // the handler (every verb but attach and list; stats: optional)
  std::string object;  // attach, update: "redis", "http" or a BPF object file
  xps::PredicateSpec spec;  // attach: what the options set (name too)

  // data
  std::string map;
  std::string key;
  std::string value;
  std::uint64_t limit = 100;  // data dump

  // http action
  std::string method;
  http_verdict verdict;

  // stats: show up to this many keys' hits (0: none)
  std::uint64_t keys = 0;

  // redis fill
  std::string redis_host = "127.0.0.1";
  std::uint16_t redis_port = 6379;
  std::uint64_t batch = 64;
  bool write_through = true;
};

using parse_result = xcommon::cli::parse_result<command>;

// args excludes the program name.
[[nodiscard]] parse_result parse_args(const std::vector<std::string>& args);

// "HOST:PORT", "[V6]:PORT", "HOST" (port 6379); a reason in *why if bad.
[[nodiscard]] bool parse_server(std::string_view text, std::string& host, std::uint16_t& port,
                                std::string* why = nullptr);

}  // namespace xsel::xpsctl
