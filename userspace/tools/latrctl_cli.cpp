// SPDX-License-Identifier: GPL-2.0
#include "latrctl_cli.hpp"

#include <charconv>
#include <climits>
#include <cstdint>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace xsel::latrctl {
namespace {

using xcommon::cli::looks_like_option;
using xcommon::cli::parse_decimal;

constexpr std::string_view k_description =
    "latrctl - control LATR, lazy TLB shootdowns\n"
    "\n"
    "When a process frees memory (munmap, madvise(MADV_DONTNEED)) while its threads\n"
    "run on several CPUs, Linux interrupts each of those CPUs with an IPI so that it\n"
    "drops its stale TLB entries, and waits for all of them: a TLB shootdown.\n"
    "LATR (the latr module, modules/latr/latr.c) makes the shootdown lazy: the\n"
    "freeing CPU records a state in its per-CPU ring and goes on; the other CPUs\n"
    "flush at their next scheduler tick, context switch or before going idle, and\n"
    "the freed pages are reused only after every one of them has flushed. A\n"
    "shootdown still pending after timeout_us is completed by IPIs; one whose range\n"
    "is about to be mapped again is completed at once; when the ring is full the\n"
    "kernel falls back to the synchronous IPIs.\n"
    "\n"
    "latrctl reads and writes the module's sysfs interface, /sys/kernel/latr.";

constexpr std::string_view k_footer =
    "Commands:\n"
    "  status [--json]           is the module loaded; mode, timeout_us, pending\n"
    "                            lazy shootdowns, ring size\n"
    "  enable [--optin]          lazy shootdowns for every process (mode all), or\n"
    "                            only for processes that opted in (mode optin)\n"
    "  disable                   every new shootdown synchronous again (mode off)\n"
    "  set mode off|optin|all    the same three modes by name\n"
    "  set timeout US            bound in microseconds after which a pending\n"
    "                            shootdown is completed by IPIs (100..1000000)\n"
    "  process optin PID         opt the process PID in (matters in mode optin)\n"
    "  process optout PID        opt it out again\n"
    "  stats [--json] [--reset]  counters since the module was loaded or reset;\n"
    "                            --reset zeroes them after printing\n"
    "\n"
    "Opt-in belongs to the address space (mm) of a running process: it covers all\n"
    "of its threads and is inherited by the children it fork()s, but exec() starts\n"
    "a new address space without it. So opt a process in once it runs (by PID);\n"
    "there is deliberately no 'latrctl run CMD'.\n"
    "\n"
    "Reading (status, stats) works for every user. Changing anything (enable,\n"
    "disable, set, process, stats --reset) needs root (CAP_SYS_ADMIN). The module\n"
    "must be loaded: insmod modules/latr/latr.ko [mode=optin|all].\n"
    "\n"
    "Examples:\n"
    "  insmod modules/latr/latr.ko && latrctl status\n"
    "  latrctl enable                        # lazy for every process\n"
    "  latrctl enable --optin                # lazy only for opted-in processes...\n"
    "  latrctl process optin $(pidof redis-server)   # ...such as this one\n"
    "  latrctl set timeout 500               # complete by IPIs after 0.5 ms\n"
    "  latrctl stats                         # IPIs avoided, fallbacks, delays\n"
    "  latrctl stats --json --reset          # a snapshot; start a new interval\n"
    "  latrctl disable\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 usage error.";

constexpr std::string_view k_see_main_help =
    "\nRun 'latrctl --help' for the whole picture and examples.";

parse_result usage_error(std::string_view message, std::string_view help_cmd) {
  return xcommon::cli::usage_error("latrctl", message, help_cmd);
}

// The one word a verb takes ("PID", "US", "MODE"); nullopt with `problem` set otherwise.
std::optional<std::string> take_one(const std::vector<std::string>& words, std::string_view name,
                                    std::string& problem) {
  if (words.empty()) {
    problem = fmt::format("missing {}", name);
    return std::nullopt;
  }
  if (words.size() > 1) {
    problem = fmt::format("unexpected argument '{}'", words[1]);
    return std::nullopt;
  }
  return words[0];
}

std::optional<std::string> check_pid(const std::string& word, int& pid) {
  const auto value = parse_decimal<std::uint64_t>(word);
  if (!value || *value == 0 || *value > static_cast<std::uint64_t>(INT_MAX))
    return fmt::format("bad PID '{}': a process ID is a positive decimal number", word);
  pid = static_cast<int>(*value);
  return std::nullopt;
}

std::optional<std::string> check_timeout(const std::string& word, unsigned& us) {
  const auto value = parse_decimal<std::uint64_t>(word);
  if (!value)
    return fmt::format("bad timeout '{}': give whole microseconds, e.g. 2000 for 2 ms", word);
  if (*value < k_timeout_min_us || *value > k_timeout_max_us)
    return fmt::format("timeout {} us is out of range: the module accepts {}..{} microseconds",
                       word, k_timeout_min_us, k_timeout_max_us);
  us = static_cast<unsigned>(*value);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(verb v) noexcept {
  switch (v) {
    case verb::status: return "status";
    case verb::set_mode: return "set mode";
    case verb::set_timeout: return "set timeout";
    case verb::optin: return "process optin";
    case verb::optout: return "process optout";
    case verb::stats: return "stats";
  }
  return "?";
}

std::string_view to_string(latr_mode m) noexcept {
  switch (m) {
    case latr_mode::off: return "off";
    case latr_mode::optin: return "optin";
    case latr_mode::all: return "all";
  }
  return "?";
}

std::optional<latr_mode> parse_mode(std::string_view text) noexcept {
  for (latr_mode m : {latr_mode::off, latr_mode::optin, latr_mode::all})
    if (text == to_string(m)) return m;
  return std::nullopt;
}

parse_result parse_args(const std::vector<std::string>& args) {
  command cmd;
  bool json_global = false;
  bool enable_optin = false;
  std::vector<std::string> mode_words, timeout_words, optin_words, optout_words;

  CLI::App app{std::string(k_description), "latrctl"};
  xcommon::cli::use_formatter(app, 28);  // inherited by subcommands
  app.footer(std::string(k_footer));
  app.allow_extras();           // reported below with clearer messages
  app.require_subcommand(0, 1);  // "disable status" is an error, not two commands
  app.add_flag("-j,--json", json_global, "JSON output (status, stats)");
  app.add_option("--sysfs", cmd.sysfs,
                 "the module's sysfs directory (another one is useful for tests)")
      ->type_name("DIR")
      ->capture_default_str();

  CLI::App* status = app.add_subcommand("status", "is the module loaded; its mode and settings");
  status->footer(
      "Print whether the latr module is loaded and, if so:\n"
      "  mode        off, optin or all (see 'latrctl enable --help')\n"
      "  timeout_us  bound after which pending shootdowns are completed by IPIs\n"
      "  pending     lazy shootdowns recorded and not yet reclaimed\n"
      "  oldest_us   age of the oldest of them; one that keeps growing well past\n"
      "              timeout_us is stuck (it holds its pages and its ring slot)\n"
      "  ring_size   states per CPU; a CPU with a full ring shoots down synchronously\n"
      "Fails (exit 1) if the module is not loaded. --json prints\n"
      "{\"loaded\",\"sysfs\",\"mode\",\"timeout_us\",\"pending\",\"oldest_us\",\"ring_size\"}.\n");
  status->add_flag("-j,--json", cmd.json, "print a JSON object");

  CLI::App* enable = app.add_subcommand("enable", "make TLB shootdowns lazy (mode all or optin)");
  enable->footer(
      "Set the mode to 'all': every process frees memory with lazy shootdowns.\n"
      "With --optin, set it to 'optin': only processes opted in with\n"
      "'latrctl process optin PID' do; the others keep the synchronous IPIs.\n"
      "Same as 'latrctl set mode all|optin'. Needs root.\n");
  enable->add_flag("--optin", enable_optin, "only for processes that opted in (mode optin)");

  CLI::App* disable = app.add_subcommand("disable", "make every new shootdown synchronous again");
  disable->footer(
      "Set the mode to 'off': every new shootdown interrupts the other CPUs and\n"
      "waits, as without LATR. Lazy shootdowns already pending still complete\n"
      "within timeout_us. Opt-ins are kept for a later 'enable --optin'.\n"
      "Same as 'latrctl set mode off'. Needs root.\n");

  CLI::App* set = app.add_subcommand("set", "change a setting (mode, timeout)");
  set->require_subcommand(0, 1);
  set->footer(
      "Settings:\n"
      "  set mode off|optin|all   what the module does with shootdowns\n"
      "  set timeout US           bound after which pending shootdowns get IPIs\n");
  CLI::App* set_mode = set->add_subcommand("mode", "off, optin or all");
  set_mode->footer(
      "Set the mode:\n"
      "  off    every shootdown synchronous (IPIs), as without LATR\n"
      "  optin  lazy for processes opted in with 'latrctl process optin PID'\n"
      "  all    lazy for every process\n"
      "Needs root.\n");
  set_mode->add_option("MODE", mode_words, "off, optin or all");
  CLI::App* set_timeout =
      set->add_subcommand("timeout", "bound after which pending shootdowns get IPIs");
  set_timeout->footer(
      fmt::format("Set timeout_us: a lazy shootdown still pending after US microseconds\n"
                  "is completed by IPIs to the CPUs that have not flushed yet (CPUs that\n"
                  "do not tick, idle or nohz_full, are covered that way). The module\n"
                  "accepts {}..{}; the default 2000 is two 1 ms ticks. Shorter bounds\n"
                  "free memory sooner and send more IPIs. Needs root.\n",
                  k_timeout_min_us, k_timeout_max_us));
  set_timeout->add_option("US", timeout_words, "microseconds");

  CLI::App* process = app.add_subcommand("process", "opt a process in or out (optin, optout)");
  process->require_subcommand(0, 1);
  process->footer(
      "Verbs:\n"
      "  process optin PID    opt the process in (matters in mode optin)\n"
      "  process optout PID   opt it out again\n"
      "Opt-in belongs to the address space of a running process: its threads share\n"
      "it, fork()ed children inherit it, exec() drops it.\n");
  CLI::App* optin = process->add_subcommand("optin", "opt the process PID in");
  optin->footer(
      "Opt the process PID in: in mode optin its munmap() and madvise() take lazy\n"
      "shootdowns. The opt-in belongs to the address space: all threads of the\n"
      "process share it and fork()ed children inherit it; exec() drops it.\n"
      "Needs root (CAP_SYS_ADMIN).\n");
  optin->add_option("PID", optin_words, "a process ID");
  CLI::App* optout = process->add_subcommand("optout", "opt the process PID out");
  optout->footer(
      "Opt the process PID out: its future shootdowns are synchronous again;\n"
      "the lazy ones already pending still complete within timeout_us.\n"
      "Needs root (CAP_SYS_ADMIN).\n");
  optout->add_option("PID", optout_words, "a process ID");

  CLI::App* stats = app.add_subcommand("stats", "print the module's counters");
  stats->footer(
      "Print the module's counters, summed over all CPUs:\n"
      "  recorded              shootdowns taken lazily\n"
      "  local_only            ... of them with no other CPU to flush (the others\n"
      "                        had left the mm): pages freed at once\n"
      "  ipis_avoided          remote CPUs not interrupted by them\n"
      "  sweep_flushes         pending states flushed by a CPU at a tick, switch\n"
      "                        or before idling\n"
      "  switch_flushes        ... of them at a context switch\n"
      "  idle_flushes          ... of them before the CPU went idle\n"
      "  fallback_ring_full    synchronous shootdowns: the CPU's ring was full\n"
      "  fallback_nomem        synchronous shootdowns: no memory to keep the pages\n"
      "  timeout_ipis          IPIs sent because timeout_us expired (to CPUs that\n"
      "                        do not tick: idle, nohz_full), or ten times\n"
      "                        timeout_us (to CPUs that tick but had not)\n"
      "  timeout_waits         states whose IPIs waited past timeout_us for a CPU\n"
      "                        that ticks but had not since (interrupts off, or\n"
      "                        a vCPU the host descheduled)\n"
      "  reuse_syncs           states completed because their range was reused\n"
      "  reuse_ipis            IPIs sent for them\n"
      "  steered               mmaps placed off a range whose shootdown is pending\n"
      "  reclaimed             states whose pages were freed\n"
      "  reclaim_delay_ns_sum  total time from record to free\n"
      "  reclaim_delay_ns_max  longest time from record to free\n"
      "and mean_reclaim_delay_us = reclaim_delay_ns_sum / reclaimed / 1000.\n"
      "Counters of a newer module are printed too, after these.\n"
      "--reset zeroes the counters after printing them (needs root); if the\n"
      "reset is not allowed, nothing is printed.\n");
  stats->add_flag("-j,--json", cmd.json, "print a JSON object");
  stats->add_flag("--reset", cmd.reset, "zero the counters after printing them");

  for (CLI::App* sub : {status, enable, disable, set, set_mode, set_timeout, process, optin,
                        optout, stats})
    sub->footer(sub->get_footer() + std::string(k_see_main_help));

  if (auto stop = xcommon::cli::parse(app, args)) return *stop;

  // The chain of parsed (sub)commands: app, the command, maybe its verb.
  const auto chain = xcommon::cli::parsed_subcommands(app);
  const std::string& where = chain.where;
  const CLI::App* last = chain.last();

  using xcommon::cli::missing_or_unknown;
  constexpr std::string_view k_commands = "status, enable, disable, set, process, stats";
  if (last == &app)
    return usage_error(missing_or_unknown(app, fmt::format("missing command ({})", k_commands),
                                          "command", k_commands),
                       where);
  if (last == set)
    return usage_error(
        missing_or_unknown(*set, "missing setting (mode or timeout)", "setting", "mode, timeout"),
        where);
  if (last == process)
    return usage_error(missing_or_unknown(*process, "missing verb (optin or optout)",
                                          "verb for 'process'", "optin, optout"),
                       where);
  // Anything CLI11 could not place (allow_extras) is an error too.
  if (auto p = xcommon::cli::leftover(chain)) return usage_error(*p, where);

  std::string problem;
  if (last == status) {
    cmd.action = verb::status;
  } else if (last == enable) {
    cmd.action = verb::set_mode;
    cmd.mode = enable_optin ? latr_mode::optin : latr_mode::all;
  } else if (last == disable) {
    cmd.action = verb::set_mode;
    cmd.mode = latr_mode::off;
  } else if (last == set_mode) {
    cmd.action = verb::set_mode;
    if (auto word = take_one(mode_words, "MODE (off, optin or all)", problem)) {
      if (auto m = parse_mode(*word))
        cmd.mode = *m;
      else
        problem = fmt::format("bad mode '{}' (known: off, optin, all)", *word);
    }
  } else if (last == set_timeout) {
    cmd.action = verb::set_timeout;
    if (auto word = take_one(timeout_words, "US (microseconds)", problem))
      if (auto why = check_timeout(*word, cmd.timeout_us)) problem = *why;
  } else if (last == optin || last == optout) {
    cmd.action = last == optin ? verb::optin : verb::optout;
    if (auto word = take_one(last == optin ? optin_words : optout_words, "PID", problem))
      if (auto why = check_pid(*word, cmd.pid)) problem = *why;
  } else {
    cmd.action = verb::stats;
  }
  if (!problem.empty()) return usage_error(problem, where);

  if (json_global) {
    if (cmd.action != verb::status && cmd.action != verb::stats)
      return usage_error(
          fmt::format("--json is not supported by '{}'", where.substr(where.find(' ') + 1)),
          where);
    cmd.json = true;
  }
  if (cmd.sysfs.empty()) return usage_error("--sysfs needs a directory", "latrctl");
  while (cmd.sysfs.size() > 1 && cmd.sysfs.back() == '/') cmd.sysfs.pop_back();

  return parse_result{std::move(cmd)};
}

}  // namespace xsel::latrctl
