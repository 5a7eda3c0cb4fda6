// SPDX-License-Identifier: GPL-2.0
//
// mapping: owning wrapper around an mmap(2)ed range, move-only; munmap()s
// it when destroyed or reset.
//
//   auto area = xlane::mapping::map(fd, 1 << 20, PROT_READ | PROT_WRITE, 0, "/dev/xlane");
//   auto ring = xlane::mapping::anonymous(64 << 10);   // tests: shared-memory stand-in
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace xlane {

class mapping {
 public:
  mapping() noexcept = default;
  // Takes ownership of [addr, addr + len) as returned by mmap().
  mapping(void* addr, std::size_t len) noexcept : addr_{addr}, len_{len} {}

  mapping(const mapping&) = delete;
  mapping& operator=(const mapping&) = delete;
  mapping(mapping&& other) noexcept
      : addr_{std::exchange(other.addr_, nullptr)}, len_{std::exchange(other.len_, 0)} {}
  mapping& operator=(mapping&& other) noexcept {
    if (this != &other) {
      reset();
      addr_ = std::exchange(other.addr_, nullptr);
      len_ = std::exchange(other.len_, 0);
    }
    return *this;
  }
  ~mapping() { reset(); }

  // mmap(MAP_SHARED) of `fd`; throws "mmap WHAT (N bytes at offset O): strerror".
  [[nodiscard]] static mapping map(int fd, std::size_t len, int prot, off_t offset,
                                   std::string_view what);
  // Zero-filled private anonymous memory, read-write.
  [[nodiscard]] static mapping anonymous(std::size_t len);

  [[nodiscard]] std::byte* data() const noexcept { return static_cast<std::byte*>(addr_); }
  [[nodiscard]] std::size_t size() const noexcept { return len_; }
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {data(), len_}; }
  [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }

  void reset() noexcept;

 private:
  void* addr_ = nullptr;
  std::size_t len_ = 0;
};

}  // namespace xlane
