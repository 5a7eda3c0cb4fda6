// SPDX-License-Identifier: GPL-2.0
#include "xlanectl_cli.hpp"

#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "xlane/codec.h"
#include "xlane/format.hpp"
#include "xlane/model.h"
#include "xlane/ring.h"

namespace xsel::xlanectl {
namespace {

using xcommon::cli::looks_like_option;
using xcommon::cli::parse_decimal;

constexpr std::string_view k_description =
    "xlanectl - X-Lane, bounded periodic messages on an isolated core\n"
    "\n"
    "X-Lane (the xlane module) gives processes lanes: a granted lane carries at\n"
    "most LOADSIZE bytes every PERIOD microseconds to a receiver, sent by an engine\n"
    "on an isolated CPU, with a latency bound and a jitter bound the admission\n"
    "model promises (the paper's controller API: request, change, release; the\n"
    "module tells the owner when a grant changes or ends). Messages cross between\n"
    "a process and the engine through lock-free rings in shared memory (bridges:\n"
    "R-X towards the engine, X-R back); on the receiving host an XDP program,\n"
    "xlane_rx, timestamps lane packets at the earliest point and hands them to\n"
    "the module. X-FD, a failure detector, runs on the same lanes.\n"
    "\n"
    "Each network namespace has its own X-Lane instance, so several 'hosts' share\n"
    "one machine; xlanectl acts on the instance of its namespace (-n NAME).";

constexpr std::string_view k_footer =
    "Objects and verbs:\n"
    "  attach dev IFNAME [port N] [rate R] [share PCT] [links N] [hop-ns N]\n"
    "         [hop-jitter-ns N] [tx-ns N] [rx-ns N] [engine-pct N] [mtu N]\n"
    "         [node N] [src IP]\n"
    "                     attach the namespace's instance to IFNAME and load\n"
    "                     xlane_rx there (XDP); the path model's parameters\n"
    "  detach dev IFNAME  remove xlane_rx from IFNAME and detach the instance\n"
    "  show               the instance: device, addresses, path, counters\n"
    "  lanes              every lane of the namespace, its grant and counters\n"
    "  bridges            what the bridges (rings) carried and lost\n"
    "  lane request loadsize N period US to IP port P [prio N] [--hold S]\n"
    "                     ask for a lane, print the grant, hold it, release it\n"
    "  fd start group IP period US threshold US [--for S]\n"
    "                     join X-FD with a liveness thread, print its events\n"
    "  fd status          the alive table (any user)\n"
    "  send to IP port P period US [--count N] [--payload STR]\n"
    "                     request a lane and send N messages on it\n"
    "  listen port P [--count N] [--timeout S]\n"
    "                     print lane messages arriving for port P\n"
    "Every verb but attach and detach takes --json.\n"
    "\n"
    "Reading (show, lanes, bridges, fd status) needs no privilege. attach, detach,\n"
    "lane requests, listeners and X-FD need CAP_NET_ADMIN; attach and detach also\n"
    "CAP_BPF (in practice: root). The module must be loaded:\n"
    "insmod modules/xlane/xlane.ko.\n"
    "\n"
    "The XDP program calls into the module (kfunc bpf_xlane_rx), so while it is\n"
    "attached it holds a reference on the module: rmmod xlane fails with EBUSY\n"
    "until 'xlanectl detach dev IFNAME'. The attachment outlives xlanectl: the\n"
    "bpf_link is pinned at <bpffs>/xlane/<netns inode>/IFNAME/link; under\n"
    "'ip netns exec', whose private mount namespace hides /sys/fs/bpf, in the\n"
    "/sys/fs/bpf of the mount namespace it was started from (through\n"
    "/proc/PID/root), so that 'ip netns exec NS xlanectl ...' and\n"
    "'xlanectl -n NS ...' work alike.\n"
    "\n"
    "Examples:\n"
    "  insmod modules/xlane/xlane.ko\n"
    "  xlanectl -n h1 attach dev veth1 rate 1gbit share 50   # host h1\n"
    "  xlanectl -n h2 attach dev veth2                       # host h2, defaults\n"
    "  xlanectl -n h2 listen port 9000 --count 5 &\n"
    "  xlanectl -n h1 send to 10.0.0.2 port 9000 period 1000 --count 5\n"
    "  xlanectl -n h1 lane request loadsize 64 period 100 to 10.0.0.2 port 9000 --hold 10\n"
    "  xlanectl -n h1 lanes --json\n"
    "  xlanectl -n h1 fd start group 239.1.1.1 period 1000 threshold 500 --for 30\n"
    "  xlanectl -n h2 fd status\n"
    "  xlanectl -n h1 show\n"
    "  xlanectl -n h1 detach dev veth1; rmmod xlane\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 usage error.";

constexpr std::string_view k_see_main_help =
    "\nRun 'xlanectl --help' for the whole picture and examples.";

parse_result usage_error(std::string_view message, std::string_view help_cmd) {
  return xcommon::cli::usage_error("xlanectl", message, help_cmd);
}

using problem = std::optional<std::string>;

// A whole number in [lo, hi] named `what` ("port", "period"), in `unit`.
problem take_number(const std::string& word, std::uint64_t lo, std::uint64_t hi,
                    std::string_view what, std::string_view unit, std::uint64_t& out) {
  const auto v = parse_decimal(word);
  if (!v || *v < lo || *v > hi)
    return fmt::format("bad {} '{}': give {}..{}{}", what, word, lo, hi, unit);
  out = *v;
  return std::nullopt;
}

template <typename T>
std::function<problem(const std::string&)> number_into(T& dst, std::uint64_t lo, std::uint64_t hi,
                                                       std::string_view what,
                                                       std::string_view unit = {}) {
  return [&dst, lo, hi, what, unit](const std::string& w) -> problem {
    std::uint64_t v = 0;
    if (auto p = take_number(w, lo, hi, what, unit, v)) return p;
    dst = static_cast<T>(v);
    return std::nullopt;
  };
}

// A power of two of ring slots.
std::function<problem(const std::string&)> slots_into(std::uint32_t& dst) {
  return [&dst](const std::string& w) -> problem {
    const auto v = parse_decimal(w);
    if (!v || *v == 0 || *v > XLANE_RING_MAX_SLOTS || (*v & (*v - 1)) != 0)
      return fmt::format("bad slots '{}': a power of two, 1..{}", w, XLANE_RING_MAX_SLOTS);
    dst = static_cast<std::uint32_t>(*v);
    return std::nullopt;
  };
}

enum class ip_kind { unicast, multicast, any };

std::function<problem(const std::string&)> ip_into(xlane::Ipv4& dst, std::string_view what,
                                                   ip_kind kind) {
  return [&dst, what, kind](const std::string& w) -> problem {
    const auto ip = xlane::Ipv4::parse(w);
    if (!ip) return fmt::format("bad {} '{}': give an IPv4 address like 10.0.0.2", what, w);
    if (ip->any() || ip->be == 0xffffffffu)
      return fmt::format("bad {} '{}': not an address a lane can reach", what, w);
    if (kind == ip_kind::multicast && !ip->multicast())
      return fmt::format("bad {} '{}': X-FD heartbeats go to a multicast group (224.0.0.0/4)", what,
                         w);
    if (kind == ip_kind::unicast && ip->multicast())
      return fmt::format("bad {} '{}': give a unicast address", what, w);
    dst = *ip;
    return std::nullopt;
  };
}

// One keyword of a verb's words: "port 9000", or a bare flag word ("reclaim").
struct keyword {
  std::string_view name;
  std::string_view arg;  // "N", "US", "IP"; empty for a flag word
  bool required = false;
  std::function<problem(const std::string&)> set;
};

std::string known_list(const std::vector<keyword>& spec) {
  std::string out;
  for (const auto& k : spec) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

// Applies `words` (keyword value pairs, ip(8) style) to `spec`.
problem take_keywords(const std::vector<std::string>& words, const std::vector<keyword>& spec) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < words.size();) {
    const std::string& w = words[i];
    const auto it =
        std::find_if(spec.begin(), spec.end(), [&](const keyword& k) { return k.name == w; });
    if (it == spec.end()) {
      if (looks_like_option(w)) return fmt::format("unknown option '{}'", w);
      return fmt::format("unknown keyword '{}' (known: {})", w, known_list(spec));
    }
    if (!seen.insert(it->name).second) return fmt::format("'{}' given twice", it->name);
    if (it->arg.empty()) {
      if (auto p = it->set(w)) return p;
      ++i;
      continue;
    }
    if (i + 1 >= words.size())
      return fmt::format("'{}' needs a value ({} {})", it->name, it->name, it->arg);
    if (auto p = it->set(words[i + 1])) return p;
    i += 2;
  }
  for (const auto& k : spec)
    if (k.required && !seen.count(k.name)) return fmt::format("missing '{} {}'", k.name, k.arg);
  return std::nullopt;
}

problem seconds_into(const std::string& word, std::string_view option, double& out) {
  if (word.empty()) return std::nullopt;  // not given
  const auto v = parse_seconds(word);
  if (!v) return fmt::format("bad {} '{}': give seconds, e.g. 10 or 0.5", option, word);
  out = *v;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(verb v) noexcept {
  switch (v) {
    case verb::attach: return "attach";
    case verb::detach: return "detach";
    case verb::show: return "show";
    case verb::lanes: return "lanes";
    case verb::lane_request: return "lane request";
    case verb::bridges: return "bridges";
    case verb::fd_start: return "fd start";
    case verb::fd_status: return "fd status";
    case verb::send: return "send";
    case verb::listen: return "listen";
  }
  return "?";
}

std::string command::pin_root() const { return bpffs + "/xlane"; }

std::optional<std::string> invalid_ifname(std::string_view name) {
  if (name.empty()) return std::string("empty");
  if (name.size() >= IFNAMSIZ) return fmt::format("longer than {} characters", IFNAMSIZ - 1);
  if (name == "." || name == "..") return std::string("not an interface name");
  for (char c : name)
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
      return fmt::format("contains '{}'",
                         c == '/' || c == ':'
                             ? std::string(1, c)
                             : fmt::format("\\x{:02x}", static_cast<unsigned char>(c)));
  return std::nullopt;
}

std::optional<double> parse_seconds(std::string_view text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text.front()))))
    return std::nullopt;
  double v = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v) || v < 0 ||
      v > 1e7)
    return std::nullopt;
  return v;
}

parse_result parse_args(const std::vector<std::string>& args) {
  command cmd;
  bool json_global = false, json_local = false;
  std::vector<std::string> attach_words, detach_words, request_words, start_words, send_words,
      listen_words;
  std::string hold, for_s, stall_after, stall_for, fifo, count, timeout, payload;
  bool payload_given = false;

  CLI::App app{std::string(k_description), "xlanectl"};
  xcommon::cli::use_formatter(app, 26);  // inherited by subcommands
  app.footer(std::string(k_footer));
  app.allow_extras();            // reported below with clearer messages
  app.require_subcommand(0, 1);  // "show lanes" is an error, not two commands
  app.add_flag("-j,--json", json_global, "JSON output (every verb but attach and detach)");
  app.add_flag("-v,--verbose", cmd.verbose, "show libbpf's log (attach, detach)");
  app.add_option("-n,--netns", cmd.netns,
                 "act on the instance of network namespace /run/netns/NAME (like ip -n; "
                 "unlike 'ip netns exec' it keeps the caller's /sys/fs/bpf)")
      ->type_name("NAME");
  app.add_option("--device", cmd.device, "the X-Lane device")
      ->type_name("PATH")
      ->capture_default_str();
  app.add_option("--bpffs", cmd.bpffs, "bpf filesystem to pin under")
      ->type_name("DIR")
      ->capture_default_str();

  auto json_flag = [&](CLI::App* sub) { sub->add_flag("-j,--json", json_local, "JSON output"); };

  CLI::App* attach = app.add_subcommand("attach", "attach the instance to a device, load xlane_rx");
  attach->footer(
      "Attach the namespace's X-Lane instance to IFNAME (XLANE_IOC_ATTACH): lane\n"
      "packets leave and arrive there. Then load xlane_rx with the instance's UDP\n"
      "port and attach it to IFNAME as XDP (native mode, or generic if the driver\n"
      "cannot), pinned at <bpffs>/xlane/<netns inode>/IFNAME/link. If the XDP\n"
      "attach fails the instance is put back as it was.\n"
      "  port N           UDP port of lane traffic (default 7400)\n"
      "  src IP           source address (default: IFNAME's first IPv4 address)\n"
      "  node N           node id (default: derived from the source address)\n"
      "The path model, what admission promises are computed from (0 or absent:\n"
      "the module's default):\n"
      "  rate R           link rate, e.g. 1gbit, 100mbit (default 1gbit)\n"
      "  share PCT        share of the links X-Lane may grant (default 50)\n"
      "  links N          store-and-forward links on the path (default 2)\n"
      "  hop-ns N         latency per link (default 5000)\n"
      "  hop-jitter-ns N  jitter per link (default 2000)\n"
      "  tx-ns N          engine cost of one packet (default: calibrated at load)\n"
      "  rx-ns N          receive cost up to the timestamp (default 2000)\n"
      "  engine-pct N     share of the engine core lanes may use (default 50)\n"
      "  mtu N            largest best-effort frame a lane packet may wait for\n"
      "                   (default 1514)\n"
      "Attaching again changes the path. While xlane_rx is attached the module\n"
      "cannot be unloaded (rmmod: EBUSY); 'xlanectl detach' releases it.\n"
      "Needs CAP_NET_ADMIN and CAP_BPF.\n");
  attach->add_option("dev IFNAME [KEYWORD VALUE]...", attach_words,
                     "the device and the path model");

  CLI::App* detach = app.add_subcommand("detach", "remove xlane_rx and detach the instance");
  detach->footer(
      "Remove xlane_rx from IFNAME (its pinned bpf_link) and detach the\n"
      "namespace's instance (XLANE_IOC_DETACH): every lane ends, their owners get\n"
      "bandwidth_terminated with reason 'detached'. Afterwards the module can be\n"
      "unloaded. Needs CAP_NET_ADMIN and CAP_BPF.\n");
  detach->add_option("dev IFNAME", detach_words, "the device");

  CLI::App* show = app.add_subcommand("show", "the instance: device, path model, counters");
  show->footer(
      "Print the namespace's instance (XLANE_IOC_INFO): whether and where it is\n"
      "attached, source address, node, port, engine CPU, the path model in use,\n"
      "and the counters of the engine, the sender and the receiver; with the\n"
      "counters of xlane_rx if it is pinned. Any user.\n");
  json_flag(show);

  CLI::App* lanes = app.add_subcommand("lanes", "every lane of the namespace");
  lanes->footer(
      "Print every lane of the namespace (XLANE_IOC_LANES): owner, request, grant\n"
      "(latency and jitter bound), packets and messages sent, messages policed\n"
      "(over the grant), late sends and idle periods. Any user.\n");
  json_flag(lanes);

  CLI::App* bridges = app.add_subcommand("bridges", "what the bridges carried and lost");
  bridges->footer(
      "Print what the bridges carried and lost, from what the instance reports\n"
      "(XLANE_IOC_INFO, XLANE_IOC_LANES and the alive table): per lane the R-X\n"
      "messages taken and policed; for the X-R side the chunks delivered, those\n"
      "lost on a full listener ring and the bad ones; X-FD's beats. The rings\n"
      "themselves live in each owner's session memory; their fill levels are\n"
      "visible to their owner (the library's ring_stats()). Any user.\n");
  json_flag(bridges);

  CLI::App* lane = app.add_subcommand("lane", "a lane of the controller API (request)");
  lane->require_subcommand(0, 1);
  lane->footer("Verbs:\n  lane request loadsize N period US to IP port P [prio N] [--hold S]\n");
  CLI::App* request = lane->add_subcommand("request", "ask for a lane, print the grant, release");
  request->footer(fmt::format(
      "Ask the controller for a lane (XLANE_IOC_LANE_REQUEST) and print the grant:\n"
      "period, minimum latency and jitter bound. With --hold S keep it S seconds\n"
      "(or until SIGINT), sending nothing and printing the upcalls that arrive\n"
      "(bandwidth changed / terminated), then release it (XLANE_IOC_LANE_RELEASE).\n"
      "A refusal says why (bandwidth, engine time or jitter) and exits 1.\n"
      "  loadsize N   bytes per period, chunk overhead included ({}..{})\n"
      "  period US    microseconds ({}..{})\n"
      "  to IP        the receiver, unicast or multicast\n"
      "  port P       the receiver's listener port\n"
      "  prio N       sub-lane, 0 (highest) .. {} (default 0)\n"
      "  slots N      R-X ring slots, a power of two (default 64)\n"
      "  reclaim      the lane may be slowed down while unused\n"
      "Needs CAP_NET_ADMIN.\n",
      1, XLANE_MAX_LOADSIZE, XLANE_MIN_PERIOD_US, XLANE_MAX_PERIOD_US, XLANE_PRIO_LEVELS - 1));
  request->add_option("loadsize N period US to IP port P [prio N] [slots N] [reclaim]",
                      request_words, "the request");
  request->add_option("--hold", hold, "keep the lane this long before releasing it")
      ->type_name("SECONDS");
  json_flag(request);

  CLI::App* fd = app.add_subcommand("fd", "X-FD, the failure detector (start, status)");
  fd->require_subcommand(0, 1);
  fd->footer(
      "Verbs:\n"
      "  fd start group IP period US threshold US [--for S]\n"
      "  fd status [--json]\n");
  CLI::App* start = fd->add_subcommand("start", "join X-FD, run a liveness thread, print events");
  start->footer(
      "Join the namespace's X-FD group (XLANE_IOC_FD_START): the engine multicasts\n"
      "a heartbeat to IP every period T on a lane of its own, carrying this\n"
      "process's liveness counter, which a thread increments every T/3. A peer\n"
      "silent for T + threshold is suspected. Prints the events (joined,\n"
      "suspected, recovered) as they come, until --for S or SIGINT, then stops\n"
      "X-FD (XLANE_IOC_FD_STOP).\n"
      "  group IP      multicast group (224.0.0.0/4)\n"
      "  period US     heartbeat period T\n"
      "  threshold US  L: suspect a peer after T + L without a heartbeat\n"
      "  slots N       event ring slots, a power of two (default 256)\n"
      "  --fifo PRIO   SCHED_FIFO priority of the liveness thread (default 10,\n"
      "                0: normal; without the privilege it runs normally)\n"
      "  --stall-after S [--stall-for S]\n"
      "                stop the liveness counter after S seconds (for S seconds):\n"
      "                the heartbeats go on and say the application is stuck\n"
      "Needs CAP_NET_ADMIN. With --json, one JSON object per line.\n");
  start->add_option("group IP period US threshold US [slots N]", start_words, "the membership");
  start->add_option("--for", for_s, "run this long (default: until SIGINT)")->type_name("SECONDS");
  start->add_option("--fifo", fifo, "SCHED_FIFO priority of the liveness thread")
      ->type_name("PRIO");
  start->add_option("--stall-after", stall_after, "stop the liveness counter after")
      ->type_name("SECONDS");
  start->add_option("--stall-for", stall_for, "resume it after")->type_name("SECONDS");
  json_flag(start);
  CLI::App* status = fd->add_subcommand("status", "the alive table (any user)");
  status->footer(
      "Print the namespace's X-FD alive table (mmap of the device at\n"
      "XLANE_MMAP_FD_TABLE, read-only): period, threshold, beats sent, skipped\n"
      "(no application progress) and received, and per peer its state, last\n"
      "heartbeat, liveness counter and latency. Any user.\n");
  json_flag(status);

  CLI::App* send = app.add_subcommand("send", "request a lane and send N messages on it");
  send->footer(
      fmt::format("Request a lane to IP port P every US microseconds and push N messages into\n"
                  "its R-X ring, one per period, then wait for the engine to take them and\n"
                  "release the lane. Prints the grant and how many messages were refused by\n"
                  "a full ring.\n"
                  "  loadsize N     bytes per period (default: what one message needs,\n"
                  "                 {} bytes of chunk overhead included)\n"
                  "  prio N, slots N  as for 'lane request'\n"
                  "  --count N      messages (default 10)\n"
                  "  --payload STR  the message (default: 'xlanectl N', N counting from 0)\n"
                  "Needs CAP_NET_ADMIN.\n",
                  xlane_chunk_wire_len(0)));
  send->add_option("to IP port P period US [loadsize N] [prio N] [slots N]", send_words,
                   "the lane");
  send->add_option("--count", count, "messages to send")->type_name("N");
  send->add_option("--payload", payload, "message text")->type_name("STR");
  json_flag(send);

  CLI::App* listen = app.add_subcommand("listen", "print lane messages for a port");
  listen->footer(
      "Listen for lane messages to port P (XLANE_IOC_LISTEN) and print each:\n"
      "sender's engine timestamp tx_ns, receiver's XDP timestamp rx_ns, their\n"
      "difference (one-way latency on one machine), the packet sequence number,\n"
      "the sender's address, node and lane, and the payload. Until --count\n"
      "messages, --timeout S or SIGINT.\n"
      "  slots N      X-R ring slots, a power of two (default 1024)\n"
      "  max-len N    payload bytes per message (default 256)\n"
      "Needs CAP_NET_ADMIN. With --json, one JSON object per line.\n");
  listen->add_option("port P [slots N] [max-len N]", listen_words, "the listener");
  listen->add_option("--count", count, "stop after N messages")->type_name("N");
  listen->add_option("--timeout", timeout, "stop after S seconds")->type_name("SECONDS");
  json_flag(listen);

  for (CLI::App* sub :
       {attach, detach, show, lanes, bridges, lane, request, fd, start, status, send, listen})
    sub->footer(sub->get_footer() + std::string(k_see_main_help));

  if (auto stop = xcommon::cli::parse(app, args)) return *stop;
  payload_given = send->count("--payload") > 0;

  // The chain of parsed (sub)commands: app, the object/verb, maybe its verb.
  const auto chain = xcommon::cli::parsed_subcommands(app);
  const std::string& where = chain.where;
  const CLI::App* last = chain.last();

  using xcommon::cli::missing_or_unknown;
  constexpr std::string_view k_commands =
      "attach, detach, show, lanes, bridges, lane, fd, send, listen";
  if (last == &app)
    return usage_error(missing_or_unknown(app, fmt::format("missing command ({})", k_commands),
                                          "command", k_commands),
                       where);
  if (last == lane)
    return usage_error(
        missing_or_unknown(*lane, "missing verb (request)", "verb for 'lane'", "request"), where);
  if (last == fd)
    return usage_error(missing_or_unknown(*fd, "missing verb (start or status)", "verb for 'fd'",
                                          "start, status"),
                       where);
  // Anything CLI11 could not place (allow_extras) is an error too.
  if (auto q = xcommon::cli::leftover(chain)) return usage_error(*q, where);

  problem p;
  auto dev_keyword = [&](bool required) {
    return keyword{"dev", "IFNAME", required, [&](const std::string& w) -> problem {
                     if (auto why = invalid_ifname(w))
                       return fmt::format("invalid interface name '{}': {}", w, *why);
                     cmd.ifname = w;
                     return std::nullopt;
                   }};
  };
  constexpr std::uint64_t k_u32 = std::numeric_limits<std::uint32_t>::max();
  xlane::Ipv4 src;

  if (last == attach) {
    cmd.action = verb::attach;
    auto& a = cmd.attach;
    p = take_keywords(
        attach_words,
        {dev_keyword(true),
         {"port", "N", false, number_into(a.port, 1, 65535, "port")},
         {"rate", "R", false,
          [&](const std::string& w) -> problem {
            const auto r = xlane::parse_rate(w);
            if (!r || *r < 1000000)
              return fmt::format(
                  "bad rate '{}': give bits per second of at least 1mbit, "
                  "e.g. 1gbit, 100mbit, 2.5gbit",
                  w);
            a.link_bps = *r;
            return std::nullopt;
          }},
         {"share", "PCT", false, number_into(a.share_pct, 1, 100, "share", " percent")},
         {"links", "N", false, number_into(a.links, 1, 16, "links")},
         {"hop-ns", "N", false, number_into(a.hop_ns, 1, k_u32, "hop-ns", " ns")},
         {"hop-jitter-ns", "N", false,
          number_into(a.hop_jitter_ns, 1, k_u32, "hop-jitter-ns", " ns")},
         {"tx-ns", "N", false, number_into(a.tx_ns, 1, k_u32, "tx-ns", " ns")},
         {"rx-ns", "N", false, number_into(a.rx_ns, 1, k_u32, "rx-ns", " ns")},
         {"engine-pct", "N", false, number_into(a.engine_pct, 1, 100, "engine-pct", " percent")},
         {"mtu", "N", false, number_into(a.mtu, 64, 65536, "mtu", " bytes")},
         {"node", "N", false, number_into(a.node_id, 1, k_u32, "node")},
         {"src", "IP", false, ip_into(src, "src", ip_kind::unicast)}});
    a.src_ip = src.be;
  } else if (last == detach) {
    cmd.action = verb::detach;
    p = take_keywords(detach_words, {dev_keyword(true)});
  } else if (last == show) {
    cmd.action = verb::show;
  } else if (last == lanes) {
    cmd.action = verb::lanes;
  } else if (last == bridges) {
    cmd.action = verb::bridges;
  } else if (last == request || last == send) {
    const bool is_send = last == send;
    cmd.action = is_send ? verb::send : verb::lane_request;
    auto& r = cmd.request;
    p = take_keywords(is_send ? send_words : request_words,
                      {{"loadsize", "N", !is_send,
                        number_into(r.loadsize, 1, XLANE_MAX_LOADSIZE, "loadsize", " bytes")},
                       {"period", "US", true,
                        number_into(r.period_us, XLANE_MIN_PERIOD_US, XLANE_MAX_PERIOD_US, "period",
                                    " microseconds")},
                       {"to", "IP", true, ip_into(r.ip, "receiver", ip_kind::any)},
                       {"port", "P", true, number_into(r.port, 1, 65535, "port")},
                       {"prio", "N", false, number_into(r.prio, 0, XLANE_PRIO_LEVELS - 1, "prio")},
                       {"slots", "N", false, slots_into(r.slots)},
                       {"reclaim", "", false, [&](const std::string&) -> problem {
                          r.reclaim = true;
                          return std::nullopt;
                        }}});
    if (!p && !is_send) p = seconds_into(hold, "--hold", cmd.hold_s);
    if (!p && is_send) {
      cmd.count = 10;
      if (!count.empty()) {
        if (auto q = take_number(count, 1, 1000000000, "--count", {}, cmd.count)) p = q;
      }
      if (!p && payload_given) {
        constexpr std::uint32_t k_max = XLANE_MAX_LOADSIZE - XLANE_WIRE_CHUNK - 4;
        if (payload.size() > k_max)
          p = fmt::format("--payload of {} bytes is too long: a lane message carries at most {}",
                          payload.size(), k_max);
        cmd.payload = payload;
      }
    }
  } else if (last == start) {
    cmd.action = verb::fd_start;
    p = take_keywords(
        start_words,
        {{"group", "IP", true, ip_into(cmd.group, "group", ip_kind::multicast)},
         {"period", "US", true,
          number_into(cmd.fd_period_us, XLANE_MIN_PERIOD_US, XLANE_MAX_PERIOD_US, "period",
                      " microseconds")},
         {"threshold", "US", true,
          number_into(cmd.fd_threshold_us, 1, XLANE_MAX_PERIOD_US, "threshold", " microseconds")},
         {"slots", "N", false, slots_into(cmd.fd_slots)}});
    if (!p) p = seconds_into(for_s, "--for", cmd.for_s);
    if (!p) p = seconds_into(stall_after, "--stall-after", cmd.stall_after_s);
    if (!p) p = seconds_into(stall_for, "--stall-for", cmd.stall_for_s);
    if (!p && stall_after.empty()) {
      cmd.stall_after_s = -1;
      if (!stall_for.empty()) p = "--stall-for needs --stall-after";
    }
    if (!p && !fifo.empty()) {
      std::uint64_t prio = 0;
      if (auto q = take_number(fifo, 0, 99, "--fifo", " (0: normal scheduling)", prio))
        p = q;
      else
        cmd.fifo_priority = static_cast<int>(prio);
    }
  } else if (last == status) {
    cmd.action = verb::fd_status;
  } else {
    cmd.action = verb::listen;
    p = take_keywords(listen_words, {{"port", "P", true, number_into(cmd.port, 1, 65535, "port")},
                                     {"slots", "N", false, slots_into(cmd.slots)},
                                     {"max-len", "N", false,
                                      number_into(cmd.max_len, 1, 65535, "max-len", " bytes")}});
    if (!p && !count.empty())
      if (auto q = take_number(count, 1, std::numeric_limits<std::uint64_t>::max(), "--count", {},
                               cmd.count))
        p = q;
    if (!p) p = seconds_into(timeout, "--timeout", cmd.timeout_s);
  }
  if (p) return usage_error(*p, where);

  if (json_global || json_local) {
    if (cmd.action == verb::attach || cmd.action == verb::detach)
      return usage_error(fmt::format("--json is not supported by '{}'", to_string(cmd.action)),
                         where);
    cmd.json = true;
  }
  if (!cmd.netns.empty() &&
      (cmd.netns.find('/') != std::string::npos || cmd.netns == "." || cmd.netns == ".."))
    return usage_error(fmt::format("bad namespace name '{}'", cmd.netns), "xlanectl");
  if (cmd.device.empty()) return usage_error("--device needs a path", "xlanectl");
  if (cmd.bpffs.empty()) return usage_error("--bpffs needs a directory", "xlanectl");
  while (cmd.bpffs.size() > 1 && cmd.bpffs.back() == '/') cmd.bpffs.pop_back();

  return parse_result{std::move(cmd)};
}

}  // namespace xsel::xlanectl
