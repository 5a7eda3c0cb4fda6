// SPDX-License-Identifier: GPL-2.0
#include "bench_sys.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace xbench {

std::vector<int> parse_cpus(const std::string& list) {
  std::vector<int> cpus;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto dash = part.find('-');
    const int a = std::stoi(part.substr(0, dash));
    const int b = dash == std::string::npos ? a : std::stoi(part.substr(dash + 1));
    if (a < 0 || b < a) throw std::invalid_argument(fmt::format("bad CPU range '{}'", part));
    for (int c = a; c <= b; ++c) cpus.push_back(c);
  }
  if (cpus.empty()) throw std::invalid_argument("empty CPU list");
  return cpus;
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
    throw std::system_error(err, std::generic_category(), fmt::format("pin to CPU {}", cpu));
}

ipi_counts read_ipis() {
  std::ifstream in("/proc/interrupts");
  if (!in) throw std::system_error(errno, std::generic_category(), "open /proc/interrupts");
  ipi_counts c;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string label;
    ls >> label;
    std::uint64_t* dst = label == "TLB:" ? &c.tlb : label == "CAL:" ? &c.cal : nullptr;
    if (!dst) continue;
    std::string tok;
    while (ls >> tok && std::all_of(tok.begin(), tok.end(), ::isdigit)) *dst += std::stoull(tok);
  }
  return c;
}

pinned_threads::pinned_threads(const std::vector<int>& cpus, body_fn body) {
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    threads_.emplace_back([this, i, cpu = cpus[i], n = cpus.size(), body] {
      pin(cpu);
      running_.fetch_add(1);
      while (running_.load() < n) std::this_thread::yield();
      body(i, stop_);
    });
  }
  while (running_.load() < cpus.size()) std::this_thread::yield();
}

pinned_threads::~pinned_threads() {
  stop_ = true;
  for (auto& t : threads_) t.join();
}

}  // namespace xbench
