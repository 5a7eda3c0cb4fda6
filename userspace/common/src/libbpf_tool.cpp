// SPDX-License-Identifier: GPL-2.0
#include "xcommon/libbpf_tool.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <utility>

#include <fmt/format.h>

#include "xcommon/error.hpp"

namespace xcommon::libbpf {

log_state& log() {
  static log_state state;
  return state;
}

namespace {

int print(enum libbpf_print_level level, const char* format, va_list args) {
  auto& l = log();
  if (level == LIBBPF_DEBUG && !l.verbose) return 0;
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string text(static_cast<std::size_t>(n), '\0');
  std::vsnprintf(text.data(), text.size() + 1, format, args);
  if (l.verbose)
    std::fputs(text.c_str(), stderr);
  else if (level == LIBBPF_WARN)
    l.warnings += text;
  return n;
}

}  // namespace

void capture_log(bool verbose) {
  log().verbose = verbose;
  libbpf_set_print(print);
}

void fail(int err, const std::string& what, std::string_view privilege_hint, std::string first) {
  std::string message = fmt::format("{}: {}", what, std::strerror(err));
  if (err == EPERM || err == EACCES)
    throw xcommon::error(std::move(message), err).with_hint(std::string(privilege_hint));
  std::string hint = std::move(first);
  if (!hint.empty()) hint += "\n  ";
  auto& l = log();
  if (!l.warnings.empty()) {
    hint += "libbpf said:\n" + l.warnings;
    while (!hint.empty() && hint.back() == '\n') hint.pop_back();
    l.warnings.clear();
  } else if (!l.verbose) {
    hint += "run with --verbose to see libbpf's log";
  }
  throw xcommon::error(std::move(message), err, std::move(hint));
}

}  // namespace xcommon::libbpf
