// SPDX-License-Identifier: GPL-2.0
//
// canaryctl: load, attach, read and detach the XDP canary (bpf/canary_xdp.bpf.c).
// The command line is parsed by canaryctl_cli.cpp; this file does the work.
//
// Pin layout, one directory per interface:
//   <bpffs>/canary/IFNAME/link    bpf_link of the XDP attachment
//   <bpffs>/canary/IFNAME/stats   per-CPU array of struct canary_stats
//   <bpffs>/canary/IFNAME/prog    only when generic mode had to fall back to a
//                                 netlink (non-link) attachment: the program,
//                                 so that detach can remove exactly it
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "canary_xdp.h"
#include "canary_xdp.skel.h"
#include "canaryctl_cli.hpp"
#include "xcommon/error.hpp"
#include "xcommon/libbpf_tool.hpp"
#include "xcommon/undo.hpp"
#include "xcommon/unique_fd.hpp"

namespace xsel::canaryctl {
namespace {

using xcommon::unique_fd;

static_assert(sizeof(canary_stats) % 8 == 0,
              "per-CPU map values are laid out at 8-byte strides");

constexpr std::string_view k_link_pin = "link";
constexpr std::string_view k_stats_pin = "stats";
constexpr std::string_view k_prog_pin = "prog";

// --- errors ----------------------------------------------------------------

// Throws "WHAT: strerror(err)" with a hint fitting the error.
[[noreturn]] void fail(int err, const std::string& what) {
  xcommon::libbpf::fail(err, what,
                        "BPF and XDP need CAP_BPF and CAP_NET_ADMIN (CAP_SYS_ADMIN on older "
                        "kernels): run canaryctl as root");
}

// --- RAII for libbpf objects -----------------------------------------------

struct skeleton_deleter {
  void operator()(canary_xdp* skel) const noexcept { canary_xdp__destroy(skel); }
};
using skeleton_ptr = std::unique_ptr<canary_xdp, skeleton_deleter>;

struct link_deleter {
  void operator()(bpf_link* link) const noexcept { bpf_link__destroy(link); }
};
using link_ptr = std::unique_ptr<bpf_link, link_deleter>;

// --- filesystem helpers ----------------------------------------------------

std::string join(std::string_view dir, std::string_view name) {
  return fmt::format("{}/{}", dir, name);
}

// True if path exists; privilege and other errors are reported.
bool path_exists(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  fail(errno, fmt::format("stat {}", path));
}

void require_bpffs(const std::string& dir) {
  struct statfs st{};
  if (::statfs(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT)
      throw xcommon::error(fmt::format("{} does not exist", dir), err)
          .with_hint(fmt::format("mount a bpf filesystem there: mount -t bpf bpf {}", dir));
    fail(err, fmt::format("statfs {}", dir));
  }
  if (static_cast<unsigned long>(st.f_type) != BPF_FS_MAGIC)
    throw xcommon::error(fmt::format("{} is not a bpf filesystem, so nothing can be pinned there",
                                     dir))
        .with_hint(fmt::format("mount one: mount -t bpf bpf {}", dir));
}

void make_dir(const std::string& path, bool exist_ok) {
  if (::mkdir(path.c_str(), 0700) == 0) return;
  if (errno == EEXIST && exist_ok) return;
  fail(errno, fmt::format("mkdir {}", path));
}

unique_fd pinned_object(const std::string& path) {
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) fail(-fd, fmt::format("open pinned object {}", path));
  return unique_fd{fd};
}

// Pins <dir> as a unit: created on construction, removed again with every
// pin added to it unless commit() is called. A failed attach leaves nothing.
class pin_dir_transaction {
 public:
  explicit pin_dir_transaction(std::string dir) : dir_{std::move(dir)} {
    try {
      make_dir(dir_, false);
    } catch (...) {
      remove_parent_if_empty();
      throw;
    }
  }
  pin_dir_transaction(const pin_dir_transaction&) = delete;
  pin_dir_transaction& operator=(const pin_dir_transaction&) = delete;
  ~pin_dir_transaction() {
    if (committed_) return;
    for (auto it = pins_.rbegin(); it != pins_.rend(); ++it) ::unlink(it->c_str());
    ::rmdir(dir_.c_str());
    remove_parent_if_empty();
  }
  // Path of a pin in the directory; it is removed on rollback.
  std::string track(std::string_view name) {
    pins_.push_back(join(dir_, name));
    return pins_.back();
  }
  void commit() noexcept { committed_ = true; }

 private:
  // <bpffs>/canary, if this attach created it: rmdir only succeeds when empty.
  void remove_parent_if_empty() const noexcept {
    if (auto slash = dir_.rfind('/'); slash != std::string::npos && slash > 0)
      ::rmdir(dir_.substr(0, slash).c_str());
  }

  std::string dir_;
  std::vector<std::string> pins_;
  bool committed_ = false;
};

// --- interface and XDP state -----------------------------------------------

unsigned interface_index(const std::string& ifname) {
  const unsigned ifindex = ::if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    const int err = errno;
    if (err == ENODEV || err == ENXIO || err == 0)
      throw xcommon::error(fmt::format("no interface named '{}'", ifname), ENODEV)
          .with_hint("list interfaces with `ip link show`");
    xcommon::throw_errno(err, "look up interface {}", ifname);
  }
  return ifindex;
}

__u32 prog_id_of(int prog_fd) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (bpf_prog_get_info_by_fd(prog_fd, &info, &len) < 0) return 0;
  return info.id;
}

// The mode our program (prog_id) is attached in on ifindex, as text.
std::string attached_mode(unsigned ifindex, __u32 prog_id) {
  auto q = xcommon::libbpf::make_opts<bpf_xdp_query_opts>();
  if (bpf_xdp_query(static_cast<int>(ifindex), 0, &q) < 0) return "unknown";
  if (prog_id != 0) {
    if (q.drv_prog_id == prog_id) return "native";
    if (q.skb_prog_id == prog_id) return "generic";
    if (q.hw_prog_id == prog_id) return "offload";
    if (q.attach_mode != XDP_ATTACHED_MULTI && q.prog_id != prog_id) return "detached";
  }
  switch (q.attach_mode) {
    case XDP_ATTACHED_DRV: return "native";
    case XDP_ATTACHED_SKB: return "generic";
    case XDP_ATTACHED_HW: return "offload";
    case XDP_ATTACHED_NONE: return "detached";
    default: return "unknown";
  }
}

// --- verbs -----------------------------------------------------------------

// Joins /run/netns/NAME for interface lookups and attachment; the mount
// namespace (and so the bpffs with the pins) stays the caller's.
void enter_netns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  xcommon::unique_fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!fd) xcommon::throw_errno("open network namespace {}", path);
  if (::setns(fd.get(), CLONE_NEWNET) != 0)
    xcommon::throw_errno("enter network namespace {}", name);
}

int do_attach(const command& cmd) {
  const unsigned ifindex = interface_index(cmd.ifname);
  require_bpffs(cmd.bpffs);
  const std::string dir = cmd.pin_dir();
  if (path_exists(dir))
    throw xcommon::error(fmt::format("the canary is already attached to {} ({} exists)",
                                     cmd.ifname, dir),
                         EEXIST)
        .with_hint(fmt::format("detach it first: canaryctl xdp detach dev {}", cmd.ifname));

  skeleton_ptr skel{canary_xdp__open_and_load()};
  if (!skel) fail(errno, "load the canary BPF object");
  const int prog_fd = bpf_program__fd(skel->progs.canary_count);

  make_dir(cmd.pin_root(), true);
  pin_dir_transaction pins(dir);

  const std::string stats_path = pins.track(k_stats_pin);
  if (int err = bpf_map__pin(skel->maps.canary_stats, stats_path.c_str()); err < 0)
    fail(-err, fmt::format("pin stats map at {}", stats_path));

  auto busy_hint = [&](int err) -> std::string {
    if (err == EBUSY || err == EEXIST)
      return fmt::format("another XDP program is attached to {}; see `ip link show dev {}`",
                         cmd.ifname, cmd.ifname);
    return {};
  };

  std::string how;
  if (cmd.mode == attach_mode::native) {
    link_ptr link{bpf_program__attach_xdp(skel->progs.canary_count, static_cast<int>(ifindex))};
    if (!link) {
      const int err = errno;
      if (auto hint = busy_hint(err); !hint.empty())
        throw xcommon::error(fmt::format("attach XDP to {}: {}", cmd.ifname, std::strerror(err)),
                             err, hint);
      fail(err, fmt::format("attach XDP to {}", cmd.ifname));
    }
    const std::string link_path = pins.track(k_link_pin);
    if (int err = bpf_link__pin(link.get(), link_path.c_str()); err < 0)
      fail(-err, fmt::format("pin link at {}", link_path));
    how = "bpf_link";
  } else {
    // Generic (skb) mode through a bpf_link; XDP links accept the mode flags.
    auto opts = xcommon::libbpf::make_opts<bpf_link_create_opts>();
    opts.flags = XDP_FLAGS_SKB_MODE;
    const int link_fd = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
    if (link_fd >= 0) {
      unique_fd link{link_fd};
      const std::string link_path = pins.track(k_link_pin);
      if (int err = bpf_obj_pin(link.get(), link_path.c_str()); err < 0)
        fail(-err, fmt::format("pin link at {}", link_path));
      how = "bpf_link";
    } else if (-link_fd == EINVAL || -link_fd == EOPNOTSUPP) {
      // No link support for this combination: attach through netlink and
      // pin the program so that detach removes exactly it.
      const __u32 flags = XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;
      if (int err = bpf_xdp_attach(static_cast<int>(ifindex), prog_fd, flags, nullptr); err < 0) {
        if (auto hint = busy_hint(-err); !hint.empty())
          throw xcommon::error(
              fmt::format("attach XDP to {}: {}", cmd.ifname, std::strerror(-err)), -err, hint);
        fail(-err, fmt::format("attach XDP (generic, netlink) to {}", cmd.ifname));
      }
      xcommon::undo detach_on_failure([&] {
        auto o = xcommon::libbpf::make_opts<bpf_xdp_attach_opts>();
        o.old_prog_fd = prog_fd;
        bpf_xdp_detach(static_cast<int>(ifindex), XDP_FLAGS_SKB_MODE, &o);
      });
      const std::string prog_path = pins.track(k_prog_pin);
      if (int err = bpf_obj_pin(prog_fd, prog_path.c_str()); err < 0)
        fail(-err, fmt::format("pin program at {}", prog_path));
      detach_on_failure.dismiss();
      how = "netlink (no bpf_link support for generic mode)";
    } else {
      const int err = -link_fd;
      if (auto hint = busy_hint(err); !hint.empty())
        throw xcommon::error(fmt::format("attach XDP to {}: {}", cmd.ifname, std::strerror(err)),
                             err, hint);
      fail(err, fmt::format("attach XDP (generic) to {}", cmd.ifname));
    }
  }
  pins.commit();

  const std::string mode = attached_mode(ifindex, prog_id_of(prog_fd));
  fmt::print("canary attached to {} (ifindex {}) in {} mode via {}\npinned under {}\n",
             cmd.ifname, ifindex, mode, how, dir);
  if (cmd.mode == attach_mode::native && mode == "generic") {
    std::fflush(stdout);
    fmt::print(stderr,
               "canaryctl: warning: the driver of {} has no native XDP support; the kernel "
               "attached in generic mode\n",
               cmd.ifname);
  }
  return 0;
}

[[noreturn]] void not_attached(const command& cmd, const std::string& dir) {
  throw xcommon::error(fmt::format("the canary is not attached to {} (no {})", cmd.ifname, dir),
                       ENOENT)
      .with_hint("see `canaryctl xdp list`; attach with `canaryctl xdp attach dev IFNAME`");
}

int do_detach(const command& cmd) {
  require_bpffs(cmd.bpffs);
  const std::string dir = cmd.pin_dir();
  if (!path_exists(dir)) not_attached(cmd, dir);

  const std::string link_path = join(dir, k_link_pin);
  const std::string prog_path = join(dir, k_prog_pin);
  if (path_exists(link_path)) {
    unique_fd link = pinned_object(link_path);
    if (int err = bpf_link_detach(link.get()); err < 0)
      fail(-err, fmt::format("detach link {}", link_path));
  } else if (path_exists(prog_path)) {
    unique_fd prog = pinned_object(prog_path);
    // The interface may be gone, and with it the attachment.
    if (const unsigned ifindex = ::if_nametoindex(cmd.ifname.c_str()); ifindex != 0) {
      auto o = xcommon::libbpf::make_opts<bpf_xdp_attach_opts>();
      o.old_prog_fd = prog.get();
      if (int err = bpf_xdp_detach(static_cast<int>(ifindex), XDP_FLAGS_SKB_MODE, &o);
          err < 0 && -err != EEXIST && -err != ENOENT)
        fail(-err, fmt::format("detach XDP program from {}", cmd.ifname));
    }
  }

  for (std::string_view pin : {k_link_pin, k_stats_pin, k_prog_pin}) {
    const std::string path = join(dir, pin);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      fail(errno, fmt::format("remove pin {}", path));
  }
  if (::rmdir(dir.c_str()) != 0) fail(errno, fmt::format("remove {}", dir));
  ::rmdir(cmd.pin_root().c_str());  // only succeeds once empty
  fmt::print("canary detached from {}\n", cmd.ifname);
  return 0;
}

int do_stats(const command& cmd) {
  require_bpffs(cmd.bpffs);
  const std::string dir = cmd.pin_dir();
  const std::string path = join(dir, k_stats_pin);
  if (!path_exists(path)) not_attached(cmd, path);
  unique_fd map = pinned_object(path);

  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (int err = bpf_map_get_info_by_fd(map.get(), &info, &len); err < 0)
    fail(-err, fmt::format("query map {}", path));
  if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.value_size != sizeof(canary_stats) ||
      info.key_size != sizeof(__u32))
    throw xcommon::error(fmt::format(
        "{} is not a canary stats map (type {}, key size {}, value size {}); "
        "was it pinned by another tool or version?",
        path, info.type, info.key_size, info.value_size));

  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) fail(-ncpus, "count possible CPUs");
  std::vector<canary_stats> per_cpu(static_cast<std::size_t>(ncpus));
  const __u32 key = 0;
  if (int err = bpf_map_lookup_elem(map.get(), &key, per_cpu.data()); err < 0)
    fail(-err, fmt::format("read map {}", path));

  canary_stats total{};
  for (const auto& v : per_cpu) {
    total.packets += v.packets;
    total.bytes += v.bytes;
    total.udp_packets += v.udp_packets;
  }
  if (cmd.json) {
    nlohmann::json j = {{"ifname", cmd.ifname},
                        {"packets", total.packets},
                        {"bytes", total.bytes},
                        {"udp_packets", total.udp_packets}};
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("packets {} bytes {} udp {}\n", total.packets, total.bytes, total.udp_packets);
  }
  return 0;
}

int do_list(const command& cmd) {
  require_bpffs(cmd.bpffs);
  const std::string root = cmd.pin_root();
  nlohmann::json entries = nlohmann::json::array();

  std::error_code ec;
  if (path_exists(root)) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      std::error_code type_ec;
      if (entry.is_directory(type_ec)) names.push_back(entry.path().filename().string());
    }
    if (ec) xcommon::throw_errno(ec.value(), "list {}", root);
    std::sort(names.begin(), names.end());

    for (const auto& name : names) {
      const std::string dir = join(root, name);
      const unsigned ifindex = ::if_nametoindex(name.c_str());
      nlohmann::json e = {{"ifname", name}, {"ifindex", ifindex}};
      std::string attach = "none";
      __u32 prog_id = 0;
      if (path_exists(join(dir, k_link_pin))) {
        attach = "link";
        const int fd = bpf_obj_get(join(dir, k_link_pin).c_str());
        if (fd >= 0) {
          unique_fd link{fd};
          bpf_link_info info{};
          __u32 len = sizeof(info);
          if (bpf_link_get_info_by_fd(link.get(), &info, &len) == 0) prog_id = info.prog_id;
        }
      } else if (path_exists(join(dir, k_prog_pin))) {
        attach = "netlink";
        const int fd = bpf_obj_get(join(dir, k_prog_pin).c_str());
        if (fd >= 0) {
          unique_fd prog{fd};
          prog_id = prog_id_of(prog.get());
        }
      }
      e["attach"] = attach;
      e["prog_id"] = prog_id;
      e["mode"] = ifindex != 0 ? attached_mode(ifindex, prog_id) : "gone";
      entries.push_back(std::move(e));
    }
  }

  if (cmd.json) {
    fmt::print("{}\n", entries.dump());
    return 0;
  }
  for (const auto& e : entries)
    fmt::print("{}: ifindex {} mode {} attach {} prog_id {}\n", e["ifname"].get<std::string>(),
               e["ifindex"].get<unsigned>(), e["mode"].get<std::string>(),
               e["attach"].get<std::string>(), e["prog_id"].get<__u32>());
  return 0;
}

int execute(const command& cmd) {
  if (!cmd.netns.empty()) enter_netns(cmd.netns);
  xcommon::libbpf::capture_log(cmd.verbose);
  switch (cmd.action) {
    case verb::attach: return do_attach(cmd);
    case verb::detach: return do_detach(cmd);
    case verb::stats: return do_stats(cmd);
    case verb::list: return do_list(cmd);
  }
  return 2;
}

}  // namespace
}  // namespace xsel::canaryctl

int main(int argc, char** argv) {
  using namespace xsel::canaryctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  return xcommon::cli::run_main("canaryctl", parse_args(args), execute);
}
