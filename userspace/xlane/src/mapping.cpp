// SPDX-License-Identifier: GPL-2.0
#include "xlane/mapping.hpp"

#include <sys/mman.h>

#include <string>

#include "xcommon/error.hpp"

namespace xlane {

mapping mapping::map(int fd, std::size_t len, int prot, off_t offset, std::string_view what) {
  void* addr = ::mmap(nullptr, len, prot, MAP_SHARED, fd, offset);
  if (addr == MAP_FAILED)
    xcommon::throw_errno("mmap {} ({} bytes at offset {:#x})", what, len,
                         static_cast<unsigned long long>(offset));
  return mapping{addr, len};
}

mapping mapping::anonymous(std::size_t len) {
  void* addr = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (addr == MAP_FAILED) xcommon::throw_errno("mmap {} anonymous bytes", len);
  return mapping{addr, len};
}

void mapping::reset() noexcept {
  if (addr_) ::munmap(addr_, len_);
  addr_ = nullptr;
  len_ = 0;
}

}  // namespace xlane
