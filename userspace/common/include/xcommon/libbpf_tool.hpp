// SPDX-License-Identifier: GPL-2.0
//
// What the tools that load BPF programs (canaryctl, xlanectl) share around
// libbpf: its log, kept for the error of a failed operation unless
// --verbose shows it as it comes, the error that carries it, and libbpf's
// sized option structs.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace xcommon::libbpf {

struct log_state {
  bool verbose = false;
  std::string warnings;  // libbpf's warnings since the last fail()
};

log_state& log();

// Routes libbpf's output: everything to stderr with `verbose`, else its
// warnings are kept for fail().
void capture_log(bool verbose);

// Throws "WHAT: strerror(err)". EPERM and EACCES get `privilege_hint`;
// other errors get `first` (if any) and then what libbpf warned about, or a
// pointer to --verbose.
[[noreturn]] void fail(int err, const std::string& what, std::string_view privilege_hint,
                       std::string first = {});

// A libbpf option struct, zeroed, with its size set.
template <typename Opts>
Opts make_opts() {
  Opts opts;
  std::memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  return opts;
}

}  // namespace xcommon::libbpf
