// SPDX-License-Identifier: GPL-2.0
//
// Error helpers: every error carries what was being attempted.
//
//   throw_errno("open {}", path);           // uses the current errno
//   throw_errno(-ret, "load {}", name);    // libbpf-style negative return
//   throw xcommon::error(fmt::format("{} is not attached", ifname))
//       .with_hint("run `canaryctl xdp attach dev IFNAME` first");
//
// std::system_error::what() then reads "open /x: No such file or directory".
#pragma once

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace xcommon {

// A project error: a message saying what failed, an optional errno value and
// an optional hint telling the user what to do about it.
class error : public std::runtime_error {
 public:
  explicit error(std::string message, int err = 0, std::string hint = {})
      : std::runtime_error(std::move(message)), errno_{err}, hint_{std::move(hint)} {}

  error&& with_hint(std::string hint) && {
    hint_ = std::move(hint);
    return std::move(*this);
  }

  // errno value behind the failure, 0 if there is none.
  [[nodiscard]] int code() const noexcept { return errno_; }
  [[nodiscard]] const std::string& hint() const noexcept { return hint_; }

 private:
  int errno_;
  std::string hint_;
};

// Builds "WHAT: strerror(err)" as a std::system_error.
[[nodiscard]] std::system_error errno_error(int err, std::string what);

template <typename... Args>
[[noreturn]] void throw_errno(int err, fmt::format_string<Args...> f, Args&&... args) {
  throw errno_error(err, fmt::format(f, std::forward<Args>(args)...));
}

// Same, taking errno as it is right now (read before formatting).
template <typename... Args>
[[noreturn]] void throw_errno(fmt::format_string<Args...> f, Args&&... args) {
  const int err = errno;
  throw errno_error(err, fmt::format(f, std::forward<Args>(args)...));
}

// errno value carried by an exception: system_error's code, error::code(), or 0.
[[nodiscard]] int error_code_of(const std::exception& e) noexcept;

// One-line description of an exception for a "tool: error: ..." message.
// Appends the hint of an xcommon::error on its own line.
[[nodiscard]] std::string describe(const std::exception& e);

}  // namespace xcommon
