// SPDX-License-Identifier: GPL-2.0
//
// latr-munmap-bench: the munmap() microbenchmark of the LATR paper (§4.5).
//
// The main thread, pinned to the first CPU, maps N pages, touches them and
// unmaps them, ITERATIONS times; threads pinned to the other CPUs of the set
// share the address space and keep it loaded (they spin reading a shared
// page), so every munmap() has remote CPUs to shoot down. Prints the
// latency of munmap() and the IPIs the whole run caused (/proc/interrupts:
// "TLB shootdowns" and "Function call interrupts", summed over CPUs).
//
//   latr-munmap-bench --pages 1 --cpus 0-3 --iterations 20000 --json
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

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

// Sum of the TLB and CAL rows of /proc/interrupts over all CPUs.
struct ipi_counts {
  std::uint64_t tlb = 0, cal = 0;
};

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

// RAII for the spinner threads: stop and join on every exit path.
class spinners {
 public:
  spinners(const std::vector<int>& cpus, const volatile char* page) {
    for (int cpu : cpus) {
      threads_.emplace_back([this, cpu, page] {
        pin(cpu);
        running_.fetch_add(1);
        while (!stop_.load(std::memory_order_relaxed)) (void)*page;
      });
    }
    while (running_.load() < static_cast<int>(cpus.size())) std::this_thread::yield();
  }
  ~spinners() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  spinners(const spinners&) = delete;
  spinners& operator=(const spinners&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
};

// An anonymous mapping that is unmapped on destruction unless released.
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "latr-munmap-bench: munmap() latency and the IPIs it causes, with threads\n"
      "sharing the address space on the other CPUs of --cpus (LATR paper, §4.5).\n"
      "Run it once with the latr module unloaded and once loaded (mode all) in the\n"
      "same boot and compare; make bench-latr does that."};
  int pages = 1, iterations = 10000, warmup = 200;
  std::string cpu_list = "0";
  bool json = false;
  app.add_option("-p,--pages", pages, "pages per mapping")->check(CLI::Range(1, 1 << 20));
  app.add_option("-c,--cpus", cpu_list, "CPUs: the first runs the benchmark, the others share the mm")
      ->capture_default_str();
  app.add_option("-n,--iterations", iterations, "timed mmap/touch/munmap rounds")
      ->check(CLI::Range(1, 100000000));
  app.add_option("--warmup", warmup, "untimed rounds first")->check(CLI::Range(0, 1000000));
  app.add_flag("-j,--json", json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto cpus = parse_cpus(cpu_list);
    const std::size_t len = static_cast<std::size_t>(pages) * ::sysconf(_SC_PAGESIZE);
    pin(cpus.front());
    mapping shared(::sysconf(_SC_PAGESIZE));
    shared.data()[0] = 1;
    spinners others(std::vector<int>(cpus.begin() + 1, cpus.end()), shared.data());

    auto round = [&] {
      mapping m(len);
      for (std::size_t off = 0; off < len; off += ::sysconf(_SC_PAGESIZE)) m.data()[off] = 1;
      return m.unmap();
    };
    for (int i = 0; i < warmup; ++i) round();

    std::vector<std::int64_t> ns;
    ns.reserve(iterations);
    const ipi_counts before = read_ipis();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) ns.push_back(round().count());
    const auto wall = std::chrono::steady_clock::now() - t0;
    const ipi_counts after = read_ipis();

    std::sort(ns.begin(), ns.end());
    auto pct = [&](double p) { return ns[std::min(ns.size() - 1, static_cast<std::size_t>(p * ns.size()))]; };
    const double mean = std::accumulate(ns.begin(), ns.end(), 0.0) / ns.size();
    nlohmann::json out = {
        {"pages", pages},
        {"cpus", cpus.size()},
        {"iterations", iterations},
        {"munmap_ns", {{"mean", mean}, {"p50", pct(0.5)}, {"p99", pct(0.99)}, {"min", ns.front()}}},
        {"ipis", {{"tlb", after.tlb - before.tlb}, {"cal", after.cal - before.cal}}},
        {"wall_s", std::chrono::duration<double>(wall).count()},
    };
    if (json) {
      std::cout << out.dump() << '\n';
    } else {
      std::cout << fmt::format(
          "{} page(s), {} CPU(s), {} rounds: munmap mean {:.0f} ns, p50 {} ns, p99 {} ns; "
          "IPIs: {} TLB, {} CAL\n",
          pages, cpus.size(), iterations, mean, pct(0.5), pct(0.99), after.tlb - before.tlb,
          after.cal - before.cal);
    }
  } catch (const std::exception& e) {
    std::cerr << "latr-munmap-bench: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
