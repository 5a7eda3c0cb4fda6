// SPDX-License-Identifier: GPL-2.0
#include "canaryctl_cli.hpp"

#include <net/if.h>

#include <algorithm>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace xsel::canaryctl {
namespace {

constexpr std::string_view k_description =
    "canaryctl - the XDP canary\n"
    "\n"
    "Loads a tiny XDP program (bpf/canary_xdp.bpf.c) that counts packets, bytes\n"
    "and UDP packets on an interface and passes every packet on. If it attaches\n"
    "and its counters move, the BPF toolchain (clang, libbpf, bpftool skeleton,\n"
    "CO-RE against the kernel's BTF) and the kernel's XDP path work; the\n"
    "project's selftests use it as that canary before testing anything subtler.\n"
    "\n"
    "The attachment outlives canaryctl: the bpf_link and the stats map are\n"
    "pinned under <bpffs>/canary/IFNAME/{link,stats}.";

constexpr std::string_view k_footer =
    "Objects and verbs:\n"
    "  xdp attach dev IFNAME [--mode native|generic]\n"
    "                         load the canary and attach it to IFNAME\n"
    "  xdp stats dev IFNAME [--json]\n"
    "                         print the counters summed over all CPUs\n"
    "  xdp detach dev IFNAME  detach the canary and remove its pins\n"
    "  xdp list [--json]      list the interfaces the canary is attached to\n"
    "\n"
    "Needs CAP_BPF and CAP_NET_ADMIN (in practice: root) and a bpf filesystem\n"
    "mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf) or given by --bpffs.\n"
    "\n"
    "Examples:\n"
    "  canaryctl xdp attach dev eth0                 # native (driver) mode\n"
    "  canaryctl xdp attach dev veth0 --mode generic # skb mode, any device\n"
    "  ping -c 3 192.0.2.1; canaryctl xdp stats dev eth0\n"
    "  canaryctl xdp stats dev eth0 --json\n"
    "  canaryctl -n blue xdp attach dev veth1       # in netns 'blue'\n"
    "  canaryctl xdp list\n"
    "  canaryctl xdp detach dev eth0\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 usage error.";

constexpr std::string_view k_dev_grammar = "dev IFNAME";

// Words after a verb: exactly "dev IFNAME" (ip(8) style) or nothing for list.
std::optional<std::string> take_dev(const std::vector<std::string>& words, std::string& ifname) {
  if (words.empty()) return fmt::format("missing '{}'", k_dev_grammar);
  if (words[0] != "dev")
    return fmt::format("expected '{}', got '{}'", k_dev_grammar, words[0]);
  if (words.size() < 2) return std::string("'dev' needs an interface name");
  if (words.size() > 2) return fmt::format("unexpected argument '{}'", words[2]);
  if (auto why = invalid_ifname(words[1]))
    return fmt::format("invalid interface name '{}': {}", words[1], *why);
  ifname = words[1];
  return std::nullopt;
}

parse_result usage_error(std::string_view message, std::string_view help_cmd) {
  return xcommon::cli::usage_error("canaryctl", message, help_cmd);
}

}  // namespace

std::string_view to_string(verb v) noexcept {
  switch (v) {
    case verb::attach: return "attach";
    case verb::detach: return "detach";
    case verb::stats: return "stats";
    case verb::list: return "list";
  }
  return "?";
}

std::string_view to_string(attach_mode m) noexcept {
  return m == attach_mode::native ? "native" : "generic";
}

std::string command::pin_root() const { return bpffs + "/canary"; }
std::string command::pin_dir() const { return pin_root() + "/" + ifname; }

std::optional<std::string> invalid_ifname(std::string_view name) {
  if (name.empty()) return std::string("empty");
  if (name.size() >= IFNAMSIZ)
    return fmt::format("longer than {} characters", IFNAMSIZ - 1);
  if (name == "." || name == "..") return std::string("not an interface name");
  for (char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
      return fmt::format("contains '{}'", c == '/' || c == ':' ? std::string(1, c)
                                                                : fmt::format("\\x{:02x}", c));
  }
  return std::nullopt;
}

parse_result parse_args(const std::vector<std::string>& args) {
  command cmd;
  bool json_global = false;
  std::string mode = "native";
  std::vector<std::string> attach_words, detach_words, stats_words;

  CLI::App app{std::string(k_description), "canaryctl"};
  xcommon::cli::use_formatter(app, 26);  // inherited by subcommands
  app.footer(std::string(k_footer));
  app.allow_extras();  // reported below with a clearer message
  app.add_flag("-v,--verbose", cmd.verbose, "show libbpf's log");
  app.add_flag("-j,--json", json_global, "JSON output (stats, list)");
  app.add_option("-n,--netns", cmd.netns,
                 "work on interfaces of the network namespace /run/netns/NAME "
                 "(like ip -n; unlike 'ip netns exec' it keeps /sys/fs/bpf)")
      ->type_name("NAME");
  app.add_option("--bpffs", cmd.bpffs, "bpf filesystem to pin under")
      ->type_name("DIR")
      ->capture_default_str();

  CLI::App* xdp = app.add_subcommand("xdp", "the XDP canary (verbs: attach, detach, stats, list)");
  xdp->allow_extras();
  xdp->footer("Run 'canaryctl --help' for the whole picture and examples.");

  CLI::App* attach = xdp->add_subcommand("attach", "load the canary and attach it to an interface");
  attach->footer(
      "Load the canary and attach it to IFNAME. Refuses if the canary is already\n"
      "attached there; a failed attach leaves no pins behind.\n"
      "  --mode native   driver mode; if the driver has no XDP support the kernel\n"
      "                  falls back to generic, and canaryctl says so\n"
      "  --mode generic  skb mode: slower, works on every device\n");
  attach->add_option("dev IFNAME", attach_words, "the interface, as 'dev IFNAME'");
  attach->add_option("--mode", mode, "native (driver) or generic (skb) XDP")
      ->check(CLI::IsMember({"native", "generic"}))
      ->capture_default_str();

  CLI::App* detach = xdp->add_subcommand("detach", "detach the canary and remove its pins");
  detach->footer(
      "Detach the canary from IFNAME and remove its pins. Fails if the canary is\n"
      "not attached there. Works even if the interface has since disappeared.\n");
  detach->add_option("dev IFNAME", detach_words, "the interface, as 'dev IFNAME'");

  CLI::App* stats = xdp->add_subcommand("stats", "print packets, bytes and UDP packets seen");
  stats->footer(
      "Print the canary's counters for IFNAME, summed over all CPUs:\n"
      "  packets N bytes N udp N\n"
      "udp counts IPv4/IPv6 packets (VLAN-tagged too) carrying a UDP header.\n"
      "--json prints {\"ifname\",\"packets\",\"bytes\",\"udp_packets\"}.\n");
  stats->add_option("dev IFNAME", stats_words, "the interface, as 'dev IFNAME'");
  stats->add_flag("-j,--json", cmd.json, "print a JSON object");

  CLI::App* list = xdp->add_subcommand("list", "list interfaces the canary is attached to");
  list->footer(
      "List the interfaces the canary is attached to (from <bpffs>/canary/):\n"
      "  IFNAME: ifindex N mode native|generic attach link|netlink prog_id N\n");
  list->add_flag("-j,--json", cmd.json, "print a JSON array");

  for (CLI::App* sub : {attach, detach, stats, list})
    sub->footer(sub->get_footer() + "\nRun 'canaryctl --help' for the whole picture and examples.");

  if (auto stop = xcommon::cli::parse(app, args)) return *stop;

  if (!xdp->parsed()) {
    auto rest = app.remaining();
    if (rest.empty()) return usage_error("missing object (try 'xdp')", "canaryctl");
    if (!rest.front().empty() && rest.front().front() == '-')
      return usage_error(fmt::format("unknown option '{}'", rest.front()), "canaryctl");
    return usage_error(fmt::format("unknown object '{}' (known: xdp)", rest.front()),
                       "canaryctl");
  }
  const CLI::App* chosen = nullptr;
  for (CLI::App* sub : {attach, detach, stats, list})
    if (sub->parsed()) chosen = sub;
  if (!chosen) {
    auto rest = xdp->remaining();
    if (rest.empty())
      return usage_error("missing verb (attach, detach, stats or list)", "canaryctl xdp");
    if (!rest.front().empty() && rest.front().front() == '-')
      return usage_error(fmt::format("unknown option '{}'", rest.front()), "canaryctl xdp");
    return usage_error(
        fmt::format("unknown verb '{}' for 'xdp' (known: attach, detach, stats, list)",
                    rest.front()),
        "canaryctl xdp");
  }
  // Anything CLI11 could not place (allow_extras) is an error too.
  // (Subcommands inherit allow_extras from their parent.)
  for (const CLI::App* a : {static_cast<const CLI::App*>(&app), static_cast<const CLI::App*>(xdp),
                            chosen}) {
    auto rest = a->remaining();
    if (!rest.empty())
      return usage_error(fmt::format("unexpected argument '{}'", rest.front()),
                         fmt::format("canaryctl xdp {}", chosen->get_name()));
  }

  const std::string help_cmd = fmt::format("canaryctl xdp {}", chosen->get_name());
  std::optional<std::string> problem;
  if (chosen == attach) {
    cmd.action = verb::attach;
    problem = take_dev(attach_words, cmd.ifname);
    cmd.mode = mode == "generic" ? attach_mode::generic : attach_mode::native;
  } else if (chosen == detach) {
    cmd.action = verb::detach;
    problem = take_dev(detach_words, cmd.ifname);
  } else if (chosen == stats) {
    cmd.action = verb::stats;
    problem = take_dev(stats_words, cmd.ifname);
  } else {
    cmd.action = verb::list;
  }
  if (problem) return usage_error(*problem, help_cmd);

  if (json_global) {
    if (cmd.action != verb::stats && cmd.action != verb::list)
      return usage_error(fmt::format("--json is not supported by '{}'", to_string(cmd.action)),
                         help_cmd);
    cmd.json = true;
  }
  if (!cmd.netns.empty() &&
      (cmd.netns.find('/') != std::string::npos || cmd.netns == "." || cmd.netns == ".."))
    return usage_error(fmt::format("bad namespace name '{}'", cmd.netns), "canaryctl");
  if (cmd.bpffs.empty()) return usage_error("--bpffs needs a directory", "canaryctl");
  while (cmd.bpffs.size() > 1 && cmd.bpffs.back() == '/') cmd.bpffs.pop_back();

  return parse_result{std::move(cmd)};
}

}  // namespace xsel::canaryctl
