// SPDX-License-Identifier: GPL-2.0
#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace xcommon {

std::system_error errno_error(int err, std::string what) {
  return std::system_error(err, std::generic_category(), std::move(what));
}

int error_code_of(const std::exception& e) noexcept {
  if (const auto* se = dynamic_cast<const std::system_error*>(&e)) {
    if (se->code().category() == std::generic_category() ||
        se->code().category() == std::system_category())
      return se->code().value();
    return 0;
  }
  if (const auto* xe = dynamic_cast<const error*>(&e)) return xe->code();
  return 0;
}

std::string describe(const std::exception& e) {
  std::string text = e.what();
  if (const auto* xe = dynamic_cast<const error*>(&e); xe && !xe->hint().empty())
    text += fmt::format("\n  hint: {}", xe->hint());
  return text;
}

void unique_fd::reset(int fd) noexcept {
  const int old = std::exchange(fd_, fd);
  // Linux always releases the descriptor, even when close() reports EINTR,
  // so there is nothing to retry.
  if (old >= 0 && old != fd) ::close(old);
}

unique_fd unique_fd::open(std::string_view path, int flags, unsigned mode) {
  const std::string p{path};
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) throw_errno("open {}", p);
  return unique_fd{fd};
}

}  // namespace xcommon
