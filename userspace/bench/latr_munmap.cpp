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
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_sys.hpp"

namespace {

using xbench::ipi_counts;
using xbench::mapping;
using xbench::read_ipis;

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
    const auto cpus = xbench::parse_cpus(cpu_list);
    const std::size_t len = static_cast<std::size_t>(pages) * ::sysconf(_SC_PAGESIZE);
    xbench::pin(cpus.front());
    mapping shared(::sysconf(_SC_PAGESIZE));
    shared.data()[0] = 1;
    // the other CPUs keep the mm loaded: they spin reading a shared page
    const volatile char* page = shared.data();
    xbench::pinned_threads others(std::vector<int>(cpus.begin() + 1, cpus.end()),
                                  [page](std::size_t, const std::atomic<bool>& stop) {
                                    while (!stop.load(std::memory_order_relaxed)) (void)*page;
                                  });

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
