// SPDX-License-Identifier: GPL-2.0
//
// What the LATR benchmark drivers read and set on the system they run on:
// CPU lists, thread pinning and the IPI rows of /proc/interrupts, and an
// anonymous mapping.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace xbench {

// "0-2,5" -> {0, 1, 2, 5}; std::invalid_argument on a bad or empty list.
std::vector<int> parse_cpus(const std::string& list);

// Run the calling thread on @cpu only; std::system_error if it cannot.
void pin(int cpu);

// The TLB and CAL rows of /proc/interrupts, summed over all CPUs.
struct ipi_counts {
  std::uint64_t tlb = 0, cal = 0;
};
ipi_counts read_ipis();

// An anonymous read-write mapping, unmapped on destruction or by unmap().
class mapping {
 public:
  explicit mapping(std::size_t len)
      : len_(len), p_(::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
    if (p_ == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  }
  ~mapping() {
    if (p_ != MAP_FAILED) ::munmap(p_, len_);
  }
  mapping(const mapping&) = delete;
  mapping& operator=(const mapping&) = delete;
  char* data() const { return static_cast<char*>(p_); }
  // munmap() now, returning how long it took.
  std::chrono::nanoseconds unmap() {
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = ::munmap(p_, len_);
    const auto t1 = std::chrono::steady_clock::now();
    if (rc != 0) throw std::system_error(errno, std::generic_category(), "munmap");
    p_ = MAP_FAILED;
    return t1 - t0;
  }

 private:
  std::size_t len_;
  void* p_;
};

// One thread pinned to each CPU of @cpus, running body(index, stop) once
// every thread is up, until @stop is set. The constructor returns once all
// have started; the destructor sets @stop and joins them, on every exit
// path.
class pinned_threads {
 public:
  using body_fn = std::function<void(std::size_t index, const std::atomic<bool>& stop)>;
  pinned_threads(const std::vector<int>& cpus, body_fn body);
  ~pinned_threads();
  pinned_threads(const pinned_threads&) = delete;
  pinned_threads& operator=(const pinned_threads&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> running_{0};
  std::vector<std::thread> threads_;
};

}  // namespace xbench
