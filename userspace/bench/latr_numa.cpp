// SPDX-License-Identifier: GPL-2.0
//
// latr-numa-bench: AutoNUMA's hinting scans and the shootdowns they cause.
//
// One writer thread per CPU of --cpus writes one byte per page over a
// slice of its own of a --mb MiB region, round after round, for --seconds.
// Each writer first touches its slice once every writer is up, so its pages
// sit on its own node (AutoNUMA skips the pages of a single-threaded
// process on its node, and then VMAs nobody faulted on). AutoNUMA keeps
// scanning the process for as long as it runs: change_prot_numa() makes a
// range PROT_NONE and flushes it on every CPU that runs a writer, and each
// writer then takes a hinting fault. Prints the pages written, the IPIs the
// run caused (/proc/interrupts "TLB" and "CAL" rows, summed over CPUs) and
// what AutoNUMA did to the process (/proc/self/sched, /proc/self/task/*/sched;
// this kernel has no VM event counters in /proc/vmstat).
//
// Run it with the latr module unloaded and loaded in the same boot;
// make bench-latr does that, with AutoNUMA's scan period shortened.
//
//   latr-numa-bench --cpus 0-3 --mb 64 --seconds 5 --json
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_sys.hpp"

namespace {

// Field @name of a /proc/.../sched file ("name   :   value"); 0 if absent.
std::uint64_t sched_field(const std::filesystem::path& file, const std::string& name) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.compare(0, name.size(), name) != 0 ||
        line.find_first_not_of(' ', name.size()) != colon)
      continue;
    return std::stoull(line.substr(colon + 1));
  }
  return 0;
}

// What AutoNUMA has done to this process so far: its scan passes over the
// address space, and the hinting faults and migrations of all its threads.
nlohmann::json numa_state() {
  std::uint64_t faults = 0, migrated = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    faults += sched_field(task.path() / "sched", "total_numa_faults");
    migrated += sched_field(task.path() / "sched", "numa_pages_migrated");
  }
  return {{"scan_passes", sched_field("/proc/self/sched", "mm->numa_scan_seq")},
          {"hinting_faults", faults},
          {"pages_migrated", migrated}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "latr-numa-bench: shootdowns caused by AutoNUMA's hinting scans. One writer per\n"
      "CPU of --cpus keeps writing its own slice of a region, first touched by that\n"
      "writer. Run it with the latr module unloaded and loaded (mode all, numa=Y) in\n"
      "the same boot and compare the IPIs; make bench-latr does that. AutoNUMA must be\n"
      "on (/proc/sys/kernel/numa_balancing)."};
  int mb = 64;
  double seconds = 5;
  std::string cpu_list = "0-3";
  bool json = false;
  app.add_option("-c,--cpus", cpu_list, "CPUs, one writer each; the first also runs the main thread")
      ->capture_default_str();
  app.add_option("-m,--mb", mb, "size of the region in MiB")->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("-s,--seconds", seconds, "how long the writers run")
      ->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  app.add_flag("-j,--json", json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto cpus = xbench::parse_cpus(cpu_list);
    const std::size_t page = ::sysconf(_SC_PAGESIZE);
    const std::size_t slice = static_cast<std::size_t>(mb) * 1024 * 1024 / cpus.size() / page * page;
    if (slice == 0) throw std::invalid_argument("--mb too small for one page per writer");
    xbench::pin(cpus.front());  // pthread_create() writes each new stack here
    if (!std::filesystem::exists("/proc/sys/kernel/numa_balancing"))
      throw std::runtime_error("no /proc/sys/kernel/numa_balancing: kernel without NUMA balancing");
    xbench::mapping region(slice * cpus.size());

    const auto ipi0 = xbench::read_ipis();
    const auto t0 = std::chrono::steady_clock::now();
    // pages written so far by each writer
    std::vector<std::atomic<std::uint64_t>> counts(cpus.size());
    nlohmann::json numa;
    {
      xbench::pinned_threads writers(cpus, [&](std::size_t i, const std::atomic<bool>& stop) {
        char* p = region.data() + i * slice;
        for (std::size_t off = 0; off < slice; off += page) p[off] = 1;  // first touch
        std::uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          for (std::size_t off = 0; off < slice; off += page) {
            volatile char* c = p + off;
            *c = *c + 1;
          }
          n += slice / page;
          counts[i].store(n, std::memory_order_relaxed);
        }
      });
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      numa = numa_state();  // while the writers are still threads of ours
    }
    std::uint64_t written = 0;
    for (const auto& c : counts) written += c.load();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto ipi1 = xbench::read_ipis();

    nlohmann::json out = {
        {"cpus", cpus.size()},
        {"mb", mb},
        {"seconds", wall},
        {"pages_written", written},
        {"pages_written_per_s", written / wall},
        {"ipis", {{"tlb", ipi1.tlb - ipi0.tlb}, {"cal", ipi1.cal - ipi0.cal}}},
        {"numa", numa},
    };
    if (json) {
      std::cout << out.dump() << '\n';
    } else {
      std::cout << fmt::format(
          "{} writer(s), {} MiB, {:.1f} s: {:.0f} pages written/s; IPIs: {} TLB, {} CAL; "
          "AutoNUMA: {} scan passes, {} hinting faults, {} pages migrated\n",
          cpus.size(), mb, wall, written / wall, ipi1.tlb - ipi0.tlb, ipi1.cal - ipi0.cal,
          numa["scan_passes"].get<std::uint64_t>(), numa["hinting_faults"].get<std::uint64_t>(),
          numa["pages_migrated"].get<std::uint64_t>());
    }
  } catch (const std::exception& e) {
    std::cerr << "latr-numa-bench: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
