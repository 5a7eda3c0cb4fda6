// SPDX-License-Identifier: GPL-2.0
//
// xlanectl: drive the xlane module (/dev/xlane, modules/xlane/include/uapi/xlane.h)
// through libxlane, and load the receive-side XDP program (bpf/xlane_rx.bpf.c).
// The command line is parsed by xlanectl_cli.cpp; this file does the verbs.
//
// Verb to ioctl:
//   attach        XLANE_IOC_INFO, XLANE_IOC_ATTACH, XLANE_IOC_INFO, then XDP
//                 (undone with XLANE_IOC_ATTACH of the old path or
//                 XLANE_IOC_DETACH if XDP fails)
//   detach        bpf_link_detach of the pinned link, XLANE_IOC_DETACH
//   show          XLANE_IOC_INFO (+ the pinned xlane_rx_stats map)
//   lanes         XLANE_IOC_LANES
//   bridges       XLANE_IOC_INFO, XLANE_IOC_LANES, mmap XLANE_MMAP_FD_TABLE
//   lane request  XLANE_IOC_LANE_REQUEST, poll/read (upcalls), XLANE_IOC_LANE_RELEASE
//   fd start      XLANE_IOC_FD_START, mmap of the area, XLANE_IOC_FD_STOP
//   fd status     mmap XLANE_MMAP_FD_TABLE (read-only)
//   send          XLANE_IOC_LANE_REQUEST, mmap of the area, XLANE_IOC_LANE_RELEASE
//   listen        XLANE_IOC_LISTEN, mmap of the area
//
// Pin layout: <bpffs>/xlane/<netns inode>/IFNAME/{link,stats}.
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xcommon/error.hpp"
#include "xcommon/libbpf_tool.hpp"
#include "xcommon/undo.hpp"
#include "xcommon/unique_fd.hpp"
#include "xlane/codec.h"
#include "xlane/format.hpp"
#include "xlane/xlane.hpp"
#include "xlane_rx.h"
#include "xlane_rx.skel.h"
#include "xlanectl_cli.hpp"

namespace xsel::xlanectl {
namespace {

using nlohmann::json;
using xcommon::unique_fd;
using namespace std::chrono_literals;

static_assert(sizeof(xlane_rx_counters) % 8 == 0,
              "per-CPU map values are laid out at 8-byte strides");

constexpr std::string_view k_link_pin = "link";
constexpr std::string_view k_stats_pin = "stats";

// --- signals -----------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// SIGINT and SIGTERM end the verbs that run until stopped; without
// SA_RESTART, so a blocking poll() returns at once.
void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stopped() { return g_stop != 0; }

// CLOCK_MONOTONIC in ns: the clock of the engine's timestamps.
std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Throws "WHAT: strerror(err)" with a hint fitting a BPF failure, after `first`.
[[noreturn]] void bpf_fail(int err, const std::string& what, std::string first = {}) {
  xcommon::libbpf::fail(err, what,
                        "XDP and pins need CAP_BPF and CAP_NET_ADMIN: run xlanectl as root",
                        std::move(first));
}

// --- RAII ----------------------------------------------------------------

struct skeleton_deleter {
  void operator()(xlane_rx* skel) const noexcept { xlane_rx__destroy(skel); }
};
using skeleton_ptr = std::unique_ptr<xlane_rx, skeleton_deleter>;

// --- namespaces, interfaces, bpffs ------------------------------------------

void enter_netns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  unique_fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!fd) xcommon::throw_errno("open network namespace {}", path);
  if (::setns(fd.get(), CLONE_NEWNET) != 0)
    xcommon::throw_errno("enter network namespace {}", name);
}

// The inode number of the current network namespace: names the pin directory.
unsigned long long netns_inode() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0 && ::stat("/proc/self/ns/net", &st) != 0)
    xcommon::throw_errno("stat /proc/self/ns/net");
  return static_cast<unsigned long long>(st.st_ino);
}

std::string join(std::string_view dir, std::string_view name) {
  return fmt::format("{}/{}", dir, name);
}

std::string pin_dir(const command& cmd) {
  return join(join(cmd.pin_root(), std::to_string(netns_inode())), cmd.ifname);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  xcommon::throw_errno("stat {}", path);
}

bool is_bpffs(const std::string& dir) {
  struct statfs st {};
  return ::statfs(dir.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC;
}

// The parent of process `pid` (/proc/PID/stat field 4), 0 if unknown.
pid_t parent_of(pid_t pid) {
  std::FILE* f = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "re");
  if (!f) return 0;
  char buf[512] = {};
  const std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
  const std::string_view line(buf, n);
  const auto close = line.rfind(')');
  if (close == std::string_view::npos) return 0;
  int ppid = 0;
  char state = 0;
  if (std::sscanf(buf + close + 1, " %c %d", &state, &ppid) != 2) return 0;
  return static_cast<pid_t>(ppid);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat x {
  }, y{};
  return ::stat(a.c_str(), &x) == 0 && ::stat(b.c_str(), &y) == 0 && x.st_ino == y.st_ino &&
         x.st_dev == y.st_dev;
}

// Where the pins go. `ip netns exec` runs its command in a private mount
// namespace whose /sys has no bpffs and which ends with the command: pins
// made there would vanish and take the attachment with them. So when there
// is no bpffs at the default place and this process's mount namespace is
// not its nearest ancestor's, the default location is the one that
// ancestor sees, through /proc/PID/root: the attachment outlives the
// command and is found again by -n NAME.
std::string effective_bpffs(const command& cmd) {
  if (cmd.bpffs != k_default_bpffs || is_bpffs(cmd.bpffs)) return cmd.bpffs;
  for (pid_t pid = ::getppid(); pid > 0;) {
    const std::string ns = fmt::format("/proc/{}/ns/mnt", pid);
    struct stat st {};
    if (::stat(ns.c_str(), &st) != 0) break;  // not ours to look at (not root)
    if (!same_file(ns, "/proc/self/ns/mnt")) return fmt::format("/proc/{}/root{}", pid, cmd.bpffs);
    if (pid == 1) break;
    pid = parent_of(pid);
  }
  return cmd.bpffs;
}

// The bpf filesystem to pin under; mounted at the default place if missing.
void require_bpffs(const command& cmd, bool may_mount) {
  if (is_bpffs(cmd.bpffs)) return;
  if (cmd.bpffs.starts_with("/proc/"))
    throw xcommon::error(
        fmt::format("{} is not a bpf filesystem: this command runs in a private mount namespace "
                    "(ip netns exec?) and the one it came from has no bpffs to pin in",
                    cmd.bpffs),
        EINVAL)
        .with_hint(
            "mount -t bpf bpf /sys/fs/bpf (outside ip netns exec), or use "
            "xlanectl -n NAME instead of ip netns exec");
  if (may_mount && cmd.bpffs == k_default_bpffs) {
    if (::mount("bpf", cmd.bpffs.c_str(), "bpf", 0, "mode=0700") == 0) return;
    const int err = errno;
    throw xcommon::error(
        fmt::format("mount a bpf filesystem at {}: {}", cmd.bpffs, std::strerror(err)), err)
        .with_hint(fmt::format("mount one yourself: mount -t bpf bpf {}", cmd.bpffs));
  }
  if (!path_exists(cmd.bpffs))
    throw xcommon::error(fmt::format("{} does not exist", cmd.bpffs), ENOENT)
        .with_hint(fmt::format("mount a bpf filesystem there: mount -t bpf bpf {}", cmd.bpffs));
  throw xcommon::error(
      fmt::format("{} is not a bpf filesystem, so nothing can be pinned there", cmd.bpffs), EINVAL)
      .with_hint(fmt::format("mount one: mount -t bpf bpf {}", cmd.bpffs));
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return;
  xcommon::throw_errno("mkdir {}", path);
}

unsigned interface_index(const std::string& ifname) {
  const unsigned ifindex = ::if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    const int err = errno;
    if (err == ENODEV || err == ENXIO || err == 0)
      throw xcommon::error(fmt::format("no interface named '{}'", ifname), ENODEV)
          .with_hint("list interfaces with `ip link show` (in the namespace given by -n)");
    xcommon::throw_errno(err, "look up interface {}", ifname);
  }
  return ifindex;
}

std::string interface_name(unsigned ifindex) {
  char buf[IF_NAMESIZE] = {};
  if (ifindex != 0 && ::if_indextoname(ifindex, buf)) return buf;
  return fmt::format("ifindex {}", ifindex);
}

// Removes the pins and the directories that become empty.
void remove_pins(const command& cmd, const std::string& dir) {
  for (std::string_view pin : {k_link_pin, k_stats_pin}) {
    const std::string path = join(dir, pin);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) xcommon::throw_errno("remove pin {}", path);
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) xcommon::throw_errno("remove {}", dir);
  ::rmdir(dir.substr(0, dir.rfind('/')).c_str());  // the namespace's, once empty
  ::rmdir(cmd.pin_root().c_str());                 // <bpffs>/xlane, once empty
}

// xlane_rx's counters summed over the CPUs, if it is pinned for ifname.
std::optional<xlane_rx_counters> xdp_counters(const command& cmd, const std::string& ifname) {
  command c = cmd;
  c.ifname = ifname;
  const int fd = bpf_obj_get(join(pin_dir(c), k_stats_pin).c_str());
  if (fd < 0) return std::nullopt;
  unique_fd map{fd};
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return std::nullopt;
  std::vector<xlane_rx_counters> per_cpu(static_cast<std::size_t>(ncpus));
  const __u32 key = 0;
  if (bpf_map_lookup_elem(map.get(), &key, per_cpu.data()) != 0) return std::nullopt;
  xlane_rx_counters total{};
  for (const auto& v : per_cpu) {
    total.seen += v.seen;
    total.lane += v.lane;
    total.passed += v.passed;
  }
  return total;
}

// --- output ------------------------------------------------------------------

void print_json(const json& j) {
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
}

std::string percent_ppm(std::uint64_t ppm) {
  return fmt::format("{}.{:04}%", ppm / 10000, ppm % 10000);
}

// --- verbs -------------------------------------------------------------------

int do_attach(const command& cmd) {
  xlane::Session session({.device = cmd.device, .area_size = 0});
  const unsigned ifindex = interface_index(cmd.ifname);
  require_bpffs(cmd, true);
  const std::string dir = pin_dir(cmd);
  if (path_exists(dir))
    throw xcommon::error(
        fmt::format("xlane_rx is already attached to {} ({} exists)", cmd.ifname, dir), EEXIST)
        .with_hint(fmt::format("detach first: xlanectl detach dev {}", cmd.ifname));
  const xlane_info before = session.info();

  xlane_attach a = cmd.attach;
  a.ifindex = ifindex;
  session.attach(a);
  // If anything below fails, put the instance back as it was.
  xcommon::undo restore([&] {
    try {
      if (before.attached) {
        xlane_attach old = before.path;
        old.ifindex = before.ifindex;
        old.src_ip = before.src_ip;
        old.node_id = before.node_id;
        old.port = before.port;
        session.attach(old);
      } else {
        session.detach();
      }
    } catch (const std::exception& e) {
      std::fflush(stdout);
      fmt::print(stderr, "xlanectl: warning: could not undo the attach: {}\n",
                 xcommon::describe(e));
    }
  });
  const xlane_info now = session.info();
  const std::uint16_t port = now.port ? now.port : XLANE_DEFAULT_PORT;

  skeleton_ptr skel{xlane_rx__open()};
  if (!skel) bpf_fail(errno, "open the xlane_rx BPF object");
  skel->rodata->lane_port = port;
  if (int err = xlane_rx__load(skel.get()); err < 0)
    // Most often the kfunc: it exists only while the module is loaded.
    bpf_fail(-err, "load xlane_rx",
             "xlane_rx calls the module's kfunc bpf_xlane_rx, resolved in the module's BTF: "
             "is the xlane module loaded (lsmod)?");
  const int prog_fd = bpf_program__fd(skel->progs.xlane_rx);

  // Native first; the generic (skb) path works on every device.
  std::string mode = "native";
  auto opts = xcommon::libbpf::make_opts<bpf_link_create_opts>();
  opts.flags = XDP_FLAGS_DRV_MODE;
  int link_fd = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
  if (link_fd < 0 && (-link_fd == EOPNOTSUPP || -link_fd == EINVAL)) {
    opts.flags = XDP_FLAGS_SKB_MODE;
    link_fd = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
    mode = "generic";
  }
  if (link_fd < 0) {
    const int err = -link_fd;
    if (err == EBUSY || err == EEXIST)
      throw xcommon::error(
          fmt::format("attach XDP to {}: {}", cmd.ifname, std::strerror(err)), err,
          fmt::format("another XDP program is attached to {}; see `ip link show dev {}`",
                      cmd.ifname, cmd.ifname));
    bpf_fail(err, fmt::format("attach XDP to {}", cmd.ifname));
  }
  unique_fd link{link_fd};

  make_dir(cmd.pin_root());
  make_dir(dir.substr(0, dir.rfind('/')));
  make_dir(dir);
  xcommon::undo unpin([&] {
    try {
      remove_pins(cmd, dir);
    } catch (...) {
    }
  });
  const std::string link_path = join(dir, k_link_pin);
  if (int err = bpf_obj_pin(link.get(), link_path.c_str()); err < 0)
    bpf_fail(-err, fmt::format("pin link at {}", link_path));
  const std::string stats_path = join(dir, k_stats_pin);
  if (int err = bpf_map__pin(skel->maps.xlane_rx_stats, stats_path.c_str()); err < 0)
    bpf_fail(-err, fmt::format("pin stats map at {}", stats_path));
  unpin.dismiss();
  restore.dismiss();

  fmt::print(
      "xlane attached to {} (ifindex {}): src {} node {} port {}, engine on CPU {}\n"
      "xlane_rx attached in {} mode, pinned under {}\n"
      "note: xlane_rx holds a reference on the xlane module: rmmod fails (EBUSY) until "
      "'xlanectl detach dev {}'\n",
      cmd.ifname, ifindex, xlane::Ipv4{now.src_ip}.str(), now.node_id, port, now.engine_cpu, mode,
      dir, cmd.ifname);
  return 0;
}

int do_detach(const command& cmd) {
  xlane::Session session({.device = cmd.device, .area_size = 0});
  const xlane_info info = session.info();
  std::string dir;
  bool pinned = false;
  if (is_bpffs(cmd.bpffs)) {
    dir = pin_dir(cmd);
    pinned = path_exists(dir);
  }
  if (!pinned && !info.attached)
    throw xcommon::error(fmt::format("xlane is not attached to {}", cmd.ifname), ENOENT)
        .with_hint("see `xlanectl show`");
  if (!pinned && info.attached && ::if_nametoindex(cmd.ifname.c_str()) != info.ifindex)
    throw xcommon::error(
        fmt::format("xlane is attached to {}, not to {}", interface_name(info.ifindex), cmd.ifname),
        ENOENT);

  // The receive path first, so nothing reaches an instance going away.
  if (pinned) {
    const std::string link_path = join(dir, k_link_pin);
    const int fd = bpf_obj_get(link_path.c_str());
    if (fd >= 0) {
      unique_fd link{fd};
      // The interface may be gone, and the attachment with it.
      if (int err = bpf_link_detach(link.get()); err < 0 && -err != ENOLINK && -err != EINVAL)
        bpf_fail(-err, fmt::format("detach link {}", link_path));
    } else if (-fd != ENOENT) {
      bpf_fail(-fd, fmt::format("open pinned link {}", link_path));
    }
    remove_pins(cmd, dir);
    fmt::print("xlane_rx detached from {}\n", cmd.ifname);
  } else {
    std::fflush(stdout);
    fmt::print(stderr, "xlanectl: warning: no pinned xlane_rx for {} under {}\n", cmd.ifname,
               cmd.pin_root());
  }
  if (info.attached) {
    session.detach();
    fmt::print("instance detached from {}\n", interface_name(info.ifindex));
  }
  return 0;
}

int do_show(const command& cmd) {
  xlane::Session session({.device = cmd.device, .area_size = 0});
  const xlane_info i = session.info();
  const std::string ifname = i.attached ? interface_name(i.ifindex) : std::string{};
  std::optional<xlane_rx_counters> xdp;
  if (i.attached && is_bpffs(cmd.bpffs)) xdp = xdp_counters(cmd, ifname);

  if (cmd.json) {
    json j = xlane::to_json(i);
    j["ifname"] = ifname;
    j["xdp"] = xdp ? json{{"seen", xdp->seen}, {"lane", xdp->lane}, {"passed", xdp->passed}}
                   : json(nullptr);
    print_json(j);
    return 0;
  }
  if (!i.attached) {
    fmt::print("instance: not attached (lanes {}, listeners {})\n", i.lanes, i.listeners);
    fmt::print("attach it with: xlanectl attach dev IFNAME\n");
    return 0;
  }
  const auto& p = i.path;
  fmt::print("instance: attached to {} (ifindex {}), src {}, node {}, port {}, engine on CPU {} ({})\n",
             ifname, i.ifindex, xlane::Ipv4{i.src_ip}.str(), i.node_id, i.port, i.engine_cpu,
             (i.engine_flags & XLANE_ENGINE_POLL) ? "polling" : "sleeping between rounds");
  fmt::print("lanes {} listeners {}, granted {} of the link\n", i.lanes, i.listeners,
             percent_ppm(i.bw_used_ppm));
  fmt::print(
      "path: rate {} share {}% links {} hop {} hop-jitter {} tx {} rx {} engine {}% mtu {}\n",
      xlane::format_rate(p.link_bps), p.share_pct, p.links, xlane::format_ns(p.hop_ns),
      xlane::format_ns(p.hop_jitter_ns), xlane::format_ns(p.tx_ns), xlane::format_ns(p.rx_ns),
      p.engine_pct, p.mtu);
  fmt::print("engine: loops {} late {}; send cost max {} avg {}\n", i.engine_loops, i.engine_late,
             xlane::format_ns(static_cast<std::int64_t>(i.tx_cost_max_ns)),
             xlane::format_ns(static_cast<std::int64_t>(i.tx_cost_avg_ns)));
  fmt::print("engine stalls: {} (lost {}, longest {}); longest gap with IRQs masked {}\n",
             i.engine_stalls, xlane::format_ns(static_cast<std::int64_t>(i.engine_stolen_ns)),
             xlane::format_ns(static_cast<std::int64_t>(i.engine_max_stall_ns)),
             xlane::format_ns(static_cast<std::int64_t>(i.engine_masked_gap_max_ns)));
  fmt::print("tx: packets {} errors {}\n", i.tx_packets, i.tx_errors);
  fmt::print("rx: packets {} chunks {} bad {} foreign {} ring_full {}\n", i.rx_packets, i.rx_chunks,
             i.rx_bad, i.rx_foreign, i.rx_ring_full);
  if (xdp)
    fmt::print("xdp xlane_rx: seen {} lane {} passed {}\n", xdp->seen, xdp->lane, xdp->passed);
  return 0;
}

int do_lanes(const command& cmd) {
  xlane::Session session({.device = cmd.device, .area_size = 0});
  const auto lanes = session.lanes();
  if (cmd.json) {
    json arr = json::array();
    for (const auto& l : lanes) arr.push_back(xlane::to_json(l));
    print_json(arr);
    return 0;
  }
  if (lanes.empty()) {
    fmt::print("no lanes\n");
    return 0;
  }
  fmt::print("{:>5} {:>7} {:>4} {:>21} {:>8} {:>9} {:>12} {:>12} {:>10} {:>10} {:>8} {:>6} {:>8}\n",
             "LANE", "PID", "PRIO", "TO", "LOADSIZE", "PERIOD", "MIN_LAT", "JITTER", "SENT", "MSGS",
             "POLICED", "LATE", "IDLE");
  for (const auto& l : lanes) {
    const auto res = xlane::Resources::from(l.res);
    fmt::print(
        "{:>5} {:>7} {:>4} {:>21} {:>8} {:>9} {:>12} {:>12} {:>10} {:>10} {:>8} {:>6} {:>8}\n",
        l.lane, l.owner_pid, l.req.prio,
        fmt::format("{}:{}", xlane::Ipv4{l.req.ip}.str(), l.req.port), res.loadsize,
        fmt::format("{}us", res.period_us), xlane::format_ns(res.min_latency_ns),
        xlane::format_ns(res.max_jitter_ns), l.sent, l.msgs, l.policed, l.late, l.idle_periods);
  }
  return 0;
}

int do_bridges(const command& cmd) {
  xlane::Session session({.device = cmd.device, .area_size = 0});
  const xlane_info i = session.info();
  const auto lanes = session.lanes();
  std::optional<xlane::AliveSnapshot> fd;
  try {
    fd = session.alive_table().snapshot();
  } catch (const std::exception&) {
    // No alive table (or not mappable): nothing to say about X-FD.
  }
  if (cmd.json) {
    json rx_lanes = json::array();
    for (const auto& l : lanes)
      rx_lanes.push_back({{"lane", l.lane},
                          {"owner_pid", l.owner_pid},
                          {"msgs", l.msgs},
                          {"policed", l.policed},
                          {"sent", l.sent},
                          {"late", l.late}});
    json j = {{"rx", rx_lanes},
              {"xr",
               {{"listeners", i.listeners},
                {"chunks", i.rx_chunks},
                {"ring_full", i.rx_ring_full},
                {"bad", i.rx_bad},
                {"foreign", i.rx_foreign}}}};
    j["fd"] = fd ? json{{"active", fd->active},
                        {"beats_tx", fd->beats_tx},
                        {"beats_skipped", fd->beats_skipped},
                        {"beats_rx", fd->beats_rx},
                        {"peers", fd->peers.size()}}
                 : json(nullptr);
    print_json(j);
    return 0;
  }
  fmt::print("R-X (process -> engine), per lane:\n");
  if (lanes.empty()) fmt::print("  no lanes\n");
  for (const auto& l : lanes)
    fmt::print("  lane {} (pid {}): messages taken {} policed {}; packets sent {} late {}\n",
               l.lane, l.owner_pid, l.msgs, l.policed, l.sent, l.late);
  fmt::print("X-R (engine -> process): listeners {}\n", i.listeners);
  fmt::print("  chunks delivered {}, lost on a full ring {}, bad {}, foreign {}\n", i.rx_chunks,
             i.rx_ring_full, i.rx_bad, i.rx_foreign);
  if (fd)
    fmt::print("X-FD: {}; beats sent {} skipped {} received {}; peers {}\n",
               fd->active ? "active" : "inactive", fd->beats_tx, fd->beats_skipped, fd->beats_rx,
               fd->peers.size());
  return 0;
}

void print_event(const command& cmd, const xlane::Event& e) {
  if (cmd.json) {
    print_json(xlane::to_json(e));
    return;
  }
  if (e.type == xlane::Event::Type::changed)
    fmt::print("lane {}: bandwidth changed ({}): {}\n", e.lane,
               xlane::reason_name(static_cast<std::uint32_t>(e.reason)), e.res.str());
  else
    fmt::print("lane {}: bandwidth terminated ({})\n", e.lane,
               xlane::reason_name(static_cast<std::uint32_t>(e.reason)));
  std::fflush(stdout);
}

int do_lane_request(const command& cmd) {
  catch_stop_signals();
  xlane::Session session({.device = cmd.device, .area_size = 0});
  xlane::Lane lane = session.request_bandwidth(cmd.request);
  if (cmd.json)
    print_json({{"event", "granted"},
                {"lane", lane.id()},
                {"request", xlane::to_json(cmd.request)},
                {"resources", xlane::to_json(lane.resources())}});
  else
    fmt::print("lane {} granted: {}\n", lane.id(), lane.resources().str());
  std::fflush(stdout);

  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                           std::chrono::duration<double>(cmd.hold_s));
  while (!stopped() && lane.active() && clock::now() < deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (auto e = session.next_event(std::min<std::chrono::milliseconds>(left, 1000ms)))
      print_event(cmd, *e);
  }
  const bool ended = !lane.active();
  const std::uint32_t id = lane.id();
  lane.release();
  if (cmd.json)
    print_json({{"event", ended ? "ended" : "released"}, {"lane", id}});
  else if (!ended)
    fmt::print("lane {} released\n", id);
  return 0;
}

// Prints the X-FD events waiting in the ring, at most `max`, and flushes once.
// The engine keeps adding events while they are printed: with hundreds of
// suspicions a second (a stressed CPU 0) and stdout on a slow file, a drain
// until the ring is empty never ends, and SIGTERM is never looked at. What
// is not read in time is counted by the ring ("events lost").
void drain_fd_events(const command& cmd, xlane::Xfd& xfd, std::size_t max) {
  std::size_t n = 0;
  for (; n < max; ++n) {
    const auto e = xfd.poll_event();
    if (!e) break;
    if (cmd.json)
      fmt::print("{}\n", xlane::to_json(*e).dump());
    else
      fmt::print("{} node {} ({}) at {} ns, last heartbeat {} ns\n",
                 xlane::fd_event_name(static_cast<std::uint32_t>(e->type)), e->node, e->ip.str(),
                 e->ns, e->last_alive_ns);
  }
  if (n != 0) std::fflush(stdout);
}

// Events printed per tick of `fd start` and after it stops.
constexpr std::size_t k_fd_events_per_tick = 256;

int do_fd_start(const command& cmd) {
  catch_stop_signals();
  xlane::Session session({.device = cmd.device, .area_size = 0});
  xlane::XfdOptions opts;
  opts.slots = cmd.fd_slots;
  opts.fifo_priority = cmd.fifo_priority;
  xlane::Xfd xfd = session.fd_start(cmd.group, cmd.fd_period_us, cmd.fd_threshold_us, opts);
  const std::string sched = cmd.fifo_priority == 0 ? "normal"
                            : xfd.realtime()       ? fmt::format("SCHED_FIFO {}", cmd.fifo_priority)
                                                   : fmt::format("normal (SCHED_FIFO refused: {})",
                                                                 std::strerror(xfd.realtime_error()));
  if (cmd.json)
    print_json({{"event", "started"},
                {"group", cmd.group.str()},
                {"period_us", cmd.fd_period_us},
                {"threshold_us", cmd.fd_threshold_us},
                {"lane", xfd.lane()},
                {"heartbeat", xlane::to_json(xfd.heartbeat())},
                {"liveness_realtime", xfd.realtime()}});
  else
    fmt::print(
        "X-FD started: group {} period {} us threshold {} us; heartbeat lane {}: {}\n"
        "liveness thread: {}\n",
        cmd.group.str(), cmd.fd_period_us, cmd.fd_threshold_us, xfd.lane(), xfd.heartbeat().str(),
        sched);
  std::fflush(stdout);

  using clock = std::chrono::steady_clock;
  using dsec = std::chrono::duration<double>;
  const auto start = clock::now();
  auto at = [&](double s) { return start + std::chrono::duration_cast<clock::duration>(dsec(s)); };
  const bool forever = cmd.for_s <= 0;
  const auto stall_at = at(cmd.stall_after_s);
  const auto resume_at = at(cmd.stall_after_s + cmd.stall_for_s);
  bool stalled = false, resumed = false;
  const auto tick = std::clamp<std::chrono::microseconds>(
      std::chrono::microseconds(cmd.fd_period_us / 2), 100us, 10ms);

  while (!stopped() && (forever || clock::now() < at(cmd.for_s))) {
    const auto now = clock::now();
    // "ns": CLOCK_MONOTONIC right after the counter stopped / moved again,
    // the clock of the engine's events (a failure time to measure against).
    if (cmd.stall_after_s >= 0 && !stalled && now >= stall_at) {
      xfd.pause_liveness();
      const std::uint64_t t = monotonic_ns();
      stalled = true;
      if (cmd.json)
        print_json({{"event", "liveness_stalled"}, {"counter", xfd.counter()}, {"ns", t}});
      else
        fmt::print("liveness counter stalled at {} ({} ns)\n", xfd.counter(), t);
    }
    if (stalled && !resumed && cmd.stall_for_s > 0 && now >= resume_at) {
      xfd.resume_liveness();
      const std::uint64_t t = monotonic_ns();
      resumed = true;
      if (cmd.json)
        print_json({{"event", "liveness_resumed"}, {"ns", t}});
      else
        fmt::print("liveness counter resumed ({} ns)\n", t);
    }
    drain_fd_events(cmd, xfd, k_fd_events_per_tick);
    std::this_thread::sleep_for(tick);
  }
  drain_fd_events(cmd, xfd, k_fd_events_per_tick);
  // The namespace's counters as X-FD leaves them.
  std::optional<xlane::AliveSnapshot> table;
  try {
    table = session.alive_table().snapshot();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "xlanectl: warning: cannot read the alive table: {}\n", e.what());
  }
  const auto events = xfd.event_ring_stats();
  xfd.stop();
  if (cmd.json) {
    json j = {
        {"event", "stopped"}, {"counter", xfd.counter()}, {"event_ring", xlane::to_json(events)}};
    if (table) j["table"] = xlane::to_json(*table);
    print_json(j);
  } else {
    fmt::print("X-FD stopped (liveness counter {}, events lost {})\n", xfd.counter(),
               events.dropped);
    if (table)
      fmt::print("beats sent {} skipped {} received {}; suspicions {} recoveries {}\n",
                 table->beats_tx, table->beats_skipped, table->beats_rx, table->suspicions,
                 table->recoveries);
  }
  return 0;
}

int do_fd_status(const command& cmd) {
  const auto s = xlane::AliveTable::open(cmd.device).snapshot();
  if (cmd.json) {
    print_json(xlane::to_json(s));
    return 0;
  }
  fmt::print("X-FD: {}, self node {}, period {}, threshold {}\n", s.active ? "active" : "inactive",
             s.self_node, xlane::format_ns(static_cast<std::int64_t>(s.period_ns)),
             xlane::format_ns(static_cast<std::int64_t>(s.threshold_ns)));
  fmt::print("beats sent {} skipped {} received {}; suspicions {} recoveries {}\n", s.beats_tx,
             s.beats_skipped, s.beats_rx, s.suspicions, s.recoveries);
  if (s.peers.empty()) {
    fmt::print("no peers\n");
    return 0;
  }
  const std::uint64_t now = monotonic_ns();
  fmt::print("{:>6} {:>15} {:>10} {:>12} {:>10} {:>10} {:>6} {:>12} {:>12}\n", "NODE", "IP",
             "STATE", "SILENT", "COUNTER", "BEATS", "SUSP", "LATENCY", "MAX_LAT");
  for (const auto& p : s.peers)
    fmt::print("{:>6} {:>15} {:>10} {:>12} {:>10} {:>10} {:>6} {:>12} {:>12}\n", p.node,
               xlane::Ipv4{p.ip}.str(), xlane::fd_event_name(p.state),
               p.last_alive_ns && now > p.last_alive_ns
                   ? xlane::format_ns(static_cast<std::int64_t>(now - p.last_alive_ns))
                   : std::string("-"),
               p.counter, p.beats, p.suspicions,
               xlane::format_ns(static_cast<std::int64_t>(p.last_latency_ns)),
               xlane::format_ns(static_cast<std::int64_t>(p.max_latency_ns)));
  return 0;
}

int do_send(const command& cmd) {
  catch_stop_signals();
  auto message = [&](std::uint64_t i) {
    return cmd.payload ? *cmd.payload : fmt::format("xlanectl {}", i);
  };
  xlane::Request req = cmd.request;
  if (req.loadsize == 0) {
    // What the longest message needs on the wire: data, padding, chunk header, check.
    const std::size_t longest = message(cmd.count - 1).size();
    req.loadsize = xlane_chunk_wire_len(static_cast<std::uint32_t>(longest));
  }
  xlane::Session session({.device = cmd.device, .area_size = 0});
  xlane::Lane lane = session.request_bandwidth(req);
  if (!cmd.json) {
    fmt::print("lane {} granted: {}\n", lane.id(), lane.resources().str());
    std::fflush(stdout);
  }

  // One message per granted period, at absolute CLOCK_MONOTONIC times.
  const std::uint64_t period_ns = std::uint64_t{lane.resources().period_us} * 1000;
  timespec next{};
  ::clock_gettime(CLOCK_MONOTONIC, &next);
  std::uint64_t sent = 0, full = 0;
  for (std::uint64_t i = 0; i < cmd.count && !stopped() && lane.active(); ++i) {
    const std::string m = message(i);
    // Never two queued at once: the engine would police the second. If it
    // runs late, wait for it (a while).
    for (const auto give_up =
             std::chrono::steady_clock::now() +
             std::max<std::chrono::nanoseconds>(1s, 100 * std::chrono::nanoseconds(period_ns));
         lane.active() && lane.ring_stats().used > 0 &&
         std::chrono::steady_clock::now() < give_up && !stopped();)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    if (lane.send(std::as_bytes(std::span{m})))
      ++sent;
    else
      ++full;
    while (auto e = session.next_event(0ms)) print_event(cmd, *e);
    const std::uint64_t t = static_cast<std::uint64_t>(next.tv_nsec) + period_ns;
    next.tv_sec += static_cast<time_t>(t / 1000000000);
    next.tv_nsec = static_cast<long>(t % 1000000000);
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR &&
           !stopped()) {
    }
  }
  // Give the engine time to take what is queued before the lane goes away.
  using clock = std::chrono::steady_clock;
  const auto drain_until =
      clock::now() + std::max<clock::duration>(1s, std::chrono::nanoseconds(period_ns * 100));
  while (lane.active() && lane.ring_stats().used > 0 && clock::now() < drain_until && !stopped())
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  const auto stats = lane.active() ? lane.ring_stats() : xlane::RingStats{};
  const bool ended = !lane.active();
  const std::uint32_t id = lane.id();
  // What the engine made of them, before the lane and its counters go.
  std::optional<xlane_lane_info> counters;
  if (!ended)
    for (const auto& l : session.lanes())
      if (l.lane == id) counters = l;
  lane.release();
  if (cmd.json) {
    json j = {{"lane", id},   {"request", xlane::to_json(req)}, {"sent", sent},
              {"full", full}, {"left_in_ring", stats.used},     {"terminated", ended}};
    if (counters)
      j["engine"] = {{"packets", counters->sent},
                     {"msgs", counters->msgs},
                     {"policed", counters->policed},
                     {"late", counters->late}};
    print_json(j);
  } else {
    fmt::print("lane {}: {} messages pushed, {} refused by a full ring{}", id, sent, full,
               stats.used ? fmt::format(", {} still queued", stats.used) : std::string{});
    if (counters)
      fmt::print("; engine sent {} in {} packets, policed {}, late {}", counters->msgs,
                 counters->sent, counters->policed, counters->late);
    fmt::print("; released\n");
  }
  return 0;
}

int do_listen(const command& cmd) {
  catch_stop_signals();
  xlane::Session session({.device = cmd.device, .area_size = 0});
  xlane::Listener l = session.listen(cmd.port, cmd.slots, cmd.max_len);
  if (!cmd.json) {
    fmt::print("listening on port {} ({} slots of {} bytes)\n", cmd.port, l.stats().slots,
               l.stats().max_len);
    std::fflush(stdout);
  }
  using clock = std::chrono::steady_clock;
  const auto deadline = cmd.timeout_s > 0
                            ? clock::now() + std::chrono::duration_cast<clock::duration>(
                                                 std::chrono::duration<double>(cmd.timeout_s))
                            : clock::time_point::max();
  std::uint64_t got = 0;
  while (!stopped() && (cmd.count == 0 || got < cmd.count) && clock::now() < deadline) {
    auto m = l.receive(10ms);
    if (!m) continue;
    ++got;
    if (cmd.json) {
      print_json(xlane::to_json(*m));
    } else {
      fmt::print("seq {} from {} node {} lane {}: tx_ns {} rx_ns {} latency {} len {}: {}\n",
                 m->seq, m->src.str(), m->node, m->lane, m->tx_ns, m->rx_ns,
                 xlane::format_ns(m->latency_ns()), m->payload.size(),
                 xlane::payload_text(m->payload));
      std::fflush(stdout);
    }
  }
  if (!cmd.json)
    fmt::print("{} messages; ring lost {} (bad {}), malformed {}\n", got, l.stats().dropped,
               l.stats().bad, l.malformed());
  if (cmd.count != 0 && got < cmd.count && !stopped())
    throw xcommon::error(fmt::format("listen on port {}: {} of {} messages after {} s", cmd.port,
                                     got, cmd.count, cmd.timeout_s),
                         ETIMEDOUT);
  return 0;
}

int execute(const command& given) {
  if (!given.netns.empty()) enter_netns(given.netns);
  xcommon::libbpf::capture_log(given.verbose);
  command cmd = given;
  cmd.bpffs = effective_bpffs(given);
  switch (cmd.action) {
    case verb::attach: return do_attach(cmd);
    case verb::detach: return do_detach(cmd);
    case verb::show: return do_show(cmd);
    case verb::lanes: return do_lanes(cmd);
    case verb::lane_request: return do_lane_request(cmd);
    case verb::bridges: return do_bridges(cmd);
    case verb::fd_start: return do_fd_start(cmd);
    case verb::fd_status: return do_fd_status(cmd);
    case verb::send: return do_send(cmd);
    case verb::listen: return do_listen(cmd);
  }
  return 2;
}

}  // namespace
}  // namespace xsel::xlanectl

int main(int argc, char** argv) {
  using namespace xsel::xlanectl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  return xcommon::cli::run_main("xlanectl", parse_args(args), execute);
}
