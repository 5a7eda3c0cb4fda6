// SPDX-License-Identifier: GPL-2.0
//
// unique_fd: owning wrapper around a file descriptor.
//
// Move-only; closes the descriptor when destroyed or reset. The default
// state holds no descriptor (-1). Use open() to get an fd with an error that
// names the path on failure.
#pragma once

#include <string_view>
#include <utility>

namespace xcommon {

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_{fd} {}

  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  unique_fd(unique_fd&& other) noexcept : fd_{other.release()} {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership; the caller must close the returned descriptor.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the current descriptor (if any) and takes ownership of fd.
  void reset(int fd = -1) noexcept;

  // open(2) with O_CLOEXEC added; throws std::system_error("open PATH: ...").
  [[nodiscard]] static unique_fd open(std::string_view path, int flags, unsigned mode = 0);

 private:
  int fd_ = -1;
};

}  // namespace xcommon
