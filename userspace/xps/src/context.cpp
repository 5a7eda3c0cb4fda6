// SPDX-License-Identifier: GPL-2.0
#include "xps/context.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "object.hpp"
#include "xcommon/error.hpp"
#include "xcommon/libbpf_tool.hpp"
#include "xcommon/undo.hpp"

namespace xps {

using xcommon::unique_fd;

namespace detail {

void fail(int err, const std::string& what, std::string first) {
  xcommon::libbpf::fail(err, what, k_privilege_hint, std::move(first));
}

namespace {

struct btf_deleter {
  void operator()(btf* b) const noexcept { btf__free(b); }
};
using btf_ptr = std::unique_ptr<btf, btf_deleter>;

// The BTF of `btf_obj_id` (a module's, split on vmlinux), or vmlinux's for 0.
struct kernel_btf {
  btf_ptr vmlinux;
  btf_ptr module;
  [[nodiscard]] const btf* get() const { return module ? module.get() : vmlinux.get(); }
};

kernel_btf load_kernel_btf(std::uint32_t btf_obj_id) {
  kernel_btf k;
  k.vmlinux.reset(btf__load_vmlinux_btf());
  if (!k.vmlinux) fail(errno, "load the kernel's BTF (/sys/kernel/btf/vmlinux)");
  if (btf_obj_id) {
    k.module.reset(btf__load_from_kernel_by_id_split(btf_obj_id, k.vmlinux.get()));
    if (!k.module) fail(errno, fmt::format("load kernel BTF object {}", btf_obj_id));
  }
  return k;
}

const btf_type* resolve(const btf* b, std::uint32_t id, std::uint32_t* out_id = nullptr) {
  const btf_type* t = btf__type_by_id(b, id);
  while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
    id = t->type;
    t = btf__type_by_id(b, id);
  }
  if (out_id) *out_id = id;
  return t;
}

const btf_member* find_member(const btf* b, const btf_type* t, std::string_view name) {
  if (!t || !btf_is_composite(t)) return nullptr;
  const btf_member* m = btf_members(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++m)
    if (name == btf__name_by_offset(b, m->name_off)) return m;
  return nullptr;
}

bool is_func_ptr(const btf* b, std::uint32_t type_id) {
  const btf_type* t = resolve(b, type_id);
  if (!t || !btf_is_ptr(t)) return false;
  const btf_type* target = resolve(b, t->type);
  return target && btf_is_func_proto(target);
}

}  // namespace

OpenedObject open_object(const HandlerObject& obj) {
  if (obj.is_builtin()) {
    auto o = open_builtin(obj.source());
    if (!o)
      throw xcommon::error(fmt::format("no shipped handler named '{}'", obj.source()), ENOENT);
    return std::move(*o);
  }
  auto opts = xcommon::libbpf::make_opts<bpf_object_open_opts>();
  bpf_object* o = bpf_object__open_file(obj.source().c_str(), &opts);
  if (!o) {
    const int err = errno;
    if (err == ENOENT)
      throw xcommon::error(fmt::format("open handler object {}: {}", obj.source(),
                                       std::strerror(err)),
                           err)
          .with_hint(fmt::format("give a BPF object (clang -target bpf ... -c x.bpf.c) or a "
                                 "shipped handler ({})",
                                 fmt::join(HandlerObject::builtins(), ", ")));
    fail(err, fmt::format("open handler object {}", obj.source()),
         "is it a BPF object file (clang -target bpf)?");
  }
  return OpenedObject(o, [](bpf_object* p) { bpf_object__close(p); }, obj.source());
}

bpf_map* handler_map(const OpenedObject& obj) {
  bpf_map* found = nullptr;
  unsigned n = 0;
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, obj.get()) {
    if (bpf_map__type(m) != BPF_MAP_TYPE_STRUCT_OPS) continue;
    ++n;
    found = m;
  }
  if (n != 1)
    throw xcommon::error(
        fmt::format("{} has {} struct_ops maps; a handler object has exactly one", obj.what(), n),
        EINVAL)
        .with_hint(
            "declare the handler as: SEC(\".struct_ops.link\") struct xps_handler NAME = "
            "{ .handle = (void *)PROG, .name = \"NAME\" };");
  const btf* b = bpf_object__btf(obj.get());
  const btf_type* t = b ? resolve(b, bpf_map__btf_value_type_id(found)) : nullptr;
  const char* tname = t ? btf__name_by_offset(b, t->name_off) : nullptr;
  if (!tname || std::string_view(tname) != "xps_handler")
    throw xcommon::error(fmt::format("the struct_ops map {} of {} is a struct {}, not struct "
                                     "xps_handler",
                                     bpf_map__name(found), obj.what(), tname ? tname : "?"),
                         EINVAL);
  return found;
}

std::span<std::byte> handler_value(bpf_map* map) {
  std::size_t size = 0;
  void* data = bpf_map__initial_value(map, &size);
  if (!data) fail(errno ? errno : EINVAL, fmt::format("initial value of {}", bpf_map__name(map)));
  if (size != k_handler_size)
    throw xcommon::error(fmt::format("struct xps_handler in {} has {} bytes, xps.h says {}: the "
                                     "object was built against another xps.h",
                                     bpf_map__name(map), size, k_handler_size),
                         EINVAL);
  return {static_cast<std::byte*>(data), size};
}

bool pinned_kind(const bpf_map* map) {
  return !bpf_map__is_internal(map) && bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS;
}

KernelLayout kernel_layout(int map_fd) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (int err = bpf_map_get_info_by_fd(map_fd, &info, &len); err < 0)
    fail(-err, "read the struct_ops map's info");
  if (info.type != BPF_MAP_TYPE_STRUCT_OPS || !info.btf_vmlinux_value_type_id)
    throw xcommon::error("not a struct_ops map of the kernel", EINVAL);
  const kernel_btf k = load_kernel_btf(info.btf_vmlinux_id);
  const btf* b = k.get();
  const btf_type* vt = resolve(b, info.btf_vmlinux_value_type_id);
  const btf_member* data = find_member(b, vt, "data");
  if (!data)
    throw xcommon::error("the kernel's struct_ops value type has no member 'data'", EINVAL);
  KernelLayout l;
  l.value_size = info.value_size;
  l.data_off = btf_member_bit_offset(vt, static_cast<std::uint32_t>(data - btf_members(vt))) / 8;
  const btf_type* ht = resolve(b, data->type);
  if (!ht || !btf_is_struct(ht)) throw xcommon::error("kernel struct xps_handler not found", EINVAL);
  const btf_member* m = btf_members(ht);
  for (unsigned i = 0; i < btf_vlen(ht); ++i, ++m) {
    KernelLayout::Member mem;
    mem.name = btf__name_by_offset(b, m->name_off);
    mem.off = btf_member_bit_offset(ht, i) / 8;
    const __s64 size = btf__resolve_size(b, m->type);
    if (size < 0) fail(static_cast<int>(-size), fmt::format("size of xps_handler.{}", mem.name));
    mem.size = static_cast<std::size_t>(size);
    mem.func = is_func_ptr(b, m->type);
    l.members.push_back(std::move(mem));
  }
  if (l.data_off + k_handler_size > l.value_size)
    throw xcommon::error(
        fmt::format("the module's struct xps_handler does not fit the map value ({} + {} > {}): "
                    "is the module built from another xps.h?",
                    l.data_off, k_handler_size, l.value_size),
        EINVAL);
  return l;
}

LinkTarget link_target(int link_fd, const std::string& what) {
  bpf_link_info info{};
  __u32 len = sizeof(info);
  if (int err = bpf_link_get_info_by_fd(link_fd, &info, &len); err < 0)
    fail(-err, fmt::format("read link info of {}", what));
  if (info.type != BPF_LINK_TYPE_STRUCT_OPS)
    throw xcommon::error(fmt::format("{} is not a struct_ops link", what), EINVAL);
  LinkTarget t;
  t.map_id = info.struct_ops.map_id;
  if (t.map_id == 0)
    throw xcommon::error(fmt::format("{} is detached (its handler is gone)", what), ENOLINK);
  const int fd = bpf_map_get_fd_by_id(t.map_id);
  if (fd < 0) fail(-fd, fmt::format("open the struct_ops map {} of {}", t.map_id, what));
  t.map = unique_fd{fd};
  const KernelLayout l = kernel_layout(t.map.get());
  std::vector<std::byte> value(l.value_size);
  const __u32 zero = 0;
  if (int err = bpf_map_lookup_elem(t.map.get(), &zero, value.data()); err < 0)
    fail(-err, fmt::format("read the struct_ops map {} of {}", t.map_id, what));
  t.predicate = read_predicate(std::span<const std::byte>(value).subspan(l.data_off));
  return t;
}

}  // namespace detail

using namespace detail;

namespace {

std::string join(std::string_view dir, std::string_view name) {
  return fmt::format("{}/{}", dir, name);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  fail(errno, fmt::format("stat {}", path));
}

bool is_bpffs(const std::string& dir) {
  struct statfs st {};
  return ::statfs(dir.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC;
}

// The bpf filesystem to pin in; mounted if missing at the default place.
void require_bpffs(const Paths& paths) {
  const std::string& dir = paths.bpffs;
  if (is_bpffs(dir)) return;
  if (dir == k_bpffs && path_exists(dir)) {
    if (::mount("bpf", dir.c_str(), "bpf", 0, "mode=0700") == 0) return;
    const int err = errno;
    if (err == EPERM)
      fail(err, fmt::format("mount a bpf filesystem at {}", dir));
    throw xcommon::error(fmt::format("mount a bpf filesystem at {}: {}", dir, std::strerror(err)),
                         err)
        .with_hint(fmt::format("mount one yourself: mount -t bpf bpf {}", dir));
  }
  if (!path_exists(dir))
    throw xcommon::error(fmt::format("{} does not exist", dir), ENOENT)
        .with_hint(fmt::format("mount a bpf filesystem there: mount -t bpf bpf {}", dir));
  throw xcommon::error(
      fmt::format("{} is not a bpf filesystem, so nothing can be pinned there", dir), EINVAL)
      .with_hint(fmt::format("mount one: mount -t bpf bpf {}", dir));
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return;
  fail(errno, fmt::format("mkdir {}", path));
}

// Every pin in dir, then dir, then <bpffs>/xps if that is empty now.
void remove_pins(const Paths& paths, const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (::unlink(it->path().c_str()) != 0 && errno != ENOENT)
      fail(errno, fmt::format("remove pin {}", it->path().string()));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) fail(errno, fmt::format("remove {}", dir));
  ::rmdir(paths.root().c_str());  // only when empty
}

struct link_deleter {
  void operator()(bpf_link* l) const noexcept { bpf_link__destroy(l); }
};
using link_ptr = std::unique_ptr<bpf_link, link_deleter>;

// The errors of attaching, in the module's terms.
[[noreturn]] void attach_failed(int err, const Predicate& p) {
  const std::string what = fmt::format("attach handler {} ({})", p.name, p.str());
  if (err == EEXIST)
    throw xcommon::error(fmt::format("{}: {}", what, std::strerror(err)), err)
        .with_hint(fmt::format(
            "a handler named {} is attached already, or one with the same L4 predicate and L7 "
            "value; see `xpsctl handler list`",
            p.name));
  if (err == EINVAL)
    throw xcommon::error(fmt::format("{}: {}", what, std::strerror(err)), err)
        .with_hint(
            "the module refused the predicate: a bad name or flags, l7 length over 8, or a "
            "sub-handler whose L7 offset/length differs from the others of the same L4 "
            "predicate");
  fail(err, what);
}

[[noreturn]] void load_failed(int err, const std::string& what) {
  if (err == EPERM || err == EACCES) fail(err, fmt::format("load {}", what));
  fail(err, fmt::format("load {}", what),
       "the verifier or the module's BTF refused it (struct_ops type xps_handler and the "
       "bpf_xps_* kfuncs exist only while the xps module is loaded)");
}

unique_fd open_link(const Paths& paths, std::string_view name) {
  const std::string path = join(paths.dir(name), "link");
  const int fd = bpf_obj_get(path.c_str());
  if (fd >= 0) return unique_fd{fd};
  const int err = -fd;
  if (err == ENOENT) {
    const Sysfs sys(paths.sysfs);
    if (sys.has_handler(name))
      throw xcommon::error(
          fmt::format("handler '{}' is attached but not pinned at {}", name, path), ENOENT)
          .with_hint(
              "it belongs to the process that attached it (create_context without pins, or "
              "another --bpffs); stop that process to detach it");
    throw xcommon::error(fmt::format("unknown handler '{}'", name), ENOENT)
        .with_hint("see the attached handlers with `xpsctl handler list`");
  }
  fail(err, fmt::format("open pinned link {}", path));
}

// The kernel value of a loaded struct_ops map: the object's struct
// xps_handler (already patched) with the programs' fds in the function
// pointers, at the kernel's offsets. What libbpf's attach writes, for a
// map that updates an existing link instead of making a new one.
std::vector<std::byte> kernel_value(const OpenedObject& obj, bpf_map* map,
                                    std::span<const std::byte> data) {
  const KernelLayout l = kernel_layout(bpf_map__fd(map));
  const btf* b = bpf_object__btf(obj.get());
  const btf_type* t = resolve(b, bpf_map__btf_value_type_id(map));
  std::vector<std::byte> value(l.value_size);
  for (const auto& km : l.members) {
    const btf_member* m = find_member(b, t, km.name);
    if (!m) continue;  // the kernel's member stays zero
    const std::size_t off = btf_member_bit_offset(t, static_cast<std::uint32_t>(m - btf_members(t))) / 8;
    std::byte* dst = value.data() + l.data_off + km.off;
    if (km.func) {
      bpf_program* prog = nullptr;
      std::memcpy(&prog, data.data() + off, sizeof(prog));
      if (!prog) continue;
      const unsigned long fd = static_cast<unsigned long>(bpf_program__fd(prog));
      std::memcpy(dst, &fd, std::min(sizeof(fd), km.size));
      continue;
    }
    if (off + km.size > data.size())
      throw xcommon::error(fmt::format("xps_handler.{} of {} does not match the module's",
                                       km.name, obj.what()),
                           EINVAL);
    std::memcpy(dst, data.data() + off, km.size);
  }
  return value;
}

// Refuses to let a new object's map reuse a pinned one of another shape.
void check_reusable(bpf_map* map, int pinned_fd, const std::string& path) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (int err = bpf_map_get_info_by_fd(pinned_fd, &info, &len); err < 0)
    fail(-err, fmt::format("read map info of {}", path));
  if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
      info.value_size != bpf_map__value_size(map) ||
      (info.max_entries != bpf_map__max_entries(map) && info.type != BPF_MAP_TYPE_RINGBUF &&
       info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY))
    throw xcommon::error(
        fmt::format("map {} of the new object (type {}, key {} B, value {} B, {} entries) is not "
                    "the pinned one's shape (type {}, key {} B, value {} B, {} entries)",
                    bpf_map__name(map), static_cast<int>(bpf_map__type(map)),
                    bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map),
                    info.type, info.key_size, info.value_size, info.max_entries),
        EINVAL)
        .with_hint("the handler keeps its data across an update: detach and attach instead");
}

}  // namespace

// ---- paths and objects ------------------------------------------------------

std::string Paths::root() const { return join(bpffs, "xps"); }
std::string Paths::dir(std::string_view name) const { return join(root(), name); }

const std::vector<std::string_view>& HandlerObject::builtins() {
  static const std::vector<std::string_view> names = {"redis", "http"};
  return names;
}

HandlerObject HandlerObject::file(std::string path) { return {std::move(path), false}; }

HandlerObject HandlerObject::builtin(std::string_view name) {
  const auto& b = builtins();
  if (std::find(b.begin(), b.end(), name) == b.end())
    throw xcommon::error(fmt::format("no shipped handler named '{}' (shipped: {})", name,
                                     fmt::join(b, ", ")),
                         ENOENT);
  return {std::string(name), true};
}

HandlerObject HandlerObject::parse(std::string_view what) {
  const auto& b = builtins();
  if (std::find(b.begin(), b.end(), what) != b.end()) return builtin(what);
  return file(std::string(what));
}

std::string HandlerObject::describe() const {
  return builtin_ ? fmt::format("the shipped {} handler", source_) : source_;
}

Predicate object_predicate(const HandlerObject& obj) {
  const OpenedObject o = open_object(obj);
  return read_predicate(handler_value(handler_map(o)));
}

// ---- Context ----------------------------------------------------------------

Context Context::create(const HandlerObject& obj, const PredicateSpec& spec, ContextOptions opts) {
  const Sysfs sys(opts.paths.sysfs);
  sys.require_loaded();
  OpenedObject o = open_object(obj);
  bpf_map* map = handler_map(o);
  const std::span<std::byte> data = handler_value(map);

  Predicate p = merge(read_predicate(data), spec);
  if (p.name.empty() && !invalid_name(bpf_map__name(map))) p.name = bpf_map__name(map);
  if (auto why = invalid_name(p.name))
    throw xcommon::error(fmt::format("bad handler name: {}", *why), EINVAL)
        .with_hint("give one with --name (ContextOptions: PredicateSpec::name)");
  if ((p.flags & XPS_F_IPV4) && (p.flags & XPS_F_IPV6))
    throw xcommon::error("a handler is for IPv4 or for IPv6 connections, not only both", EINVAL);
  write_predicate(data, p);

  const std::string dir = opts.paths.dir(p.name);
  if (sys.has_handler(p.name))
    throw xcommon::error(fmt::format("a handler named '{}' is attached already", p.name), EEXIST)
        .with_hint(fmt::format("detach it first (xpsctl handler detach {}), replace its program "
                               "(xpsctl handler update {} FILE) or choose another --name",
                               p.name, p.name));
  require_bpffs(opts.paths);
  if (path_exists(dir))
    throw xcommon::error(fmt::format("{} exists: handler '{}' is pinned already", dir, p.name),
                         EEXIST)
        .with_hint(fmt::format("xpsctl handler detach {} removes it", p.name));

  if (int err = bpf_object__load(o.get()); err < 0) load_failed(-err, obj.describe());
  link_ptr link{bpf_map__attach_struct_ops(map)};
  if (!link) attach_failed(errno, p);

  // From here on a failure removes what was pinned; the link goes with
  // `link` (closing its only fd detaches the handler).
  make_dir(opts.paths.root());
  if (::mkdir(dir.c_str(), 0700) != 0) fail(errno, fmt::format("mkdir {}", dir));
  xcommon::undo unpin([&] {
    try {
      remove_pins(opts.paths, dir);
    } catch (...) {
    }
  });
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, o.get()) {
    if (!pinned_kind(m)) continue;
    const std::string path = join(dir, bpf_map__name(m));
    if (int err = bpf_map__pin(m, path.c_str()); err < 0)
      fail(-err, fmt::format("pin map {} at {}", bpf_map__name(m), path));
  }
  const std::string link_path = join(dir, "link");
  if (int err = bpf_link__pin(link.get(), link_path.c_str()); err < 0)
    fail(-err, fmt::format("pin link at {}", link_path));
  const int fd = ::fcntl(bpf_link__fd(link.get()), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) xcommon::throw_errno("dup link fd");
  unpin.dismiss();
  // ~link closes libbpf's fd only: the pin keeps the handler attached.
  return Context(std::move(p), std::move(opts), unique_fd{fd});
}

Context Context::open(std::string_view name, ContextOptions opts) {
  Sysfs(opts.paths.sysfs).require_loaded();
  if (auto why = invalid_name(name))
    throw xcommon::error(fmt::format("bad handler name: {}", *why), EINVAL);
  unique_fd link = open_link(opts.paths, name);
  Predicate p;
  try {
    p = link_target(link.get(), fmt::format("handler {}", name)).predicate;
  } catch (const xcommon::error& e) {
    // Detached behind our back (bpftool link detach): only the pins are
    // left, and detach() removes them.
    if (e.code() != ENOLINK) throw;
    p.name = std::string(name);
  }
  if (p.name != name)
    throw xcommon::error(fmt::format("{}/link is handler '{}', not '{}'", opts.paths.dir(name),
                                     p.name, name),
                         EINVAL);
  return Context(std::move(p), std::move(opts), std::move(link));
}

Context& Context::operator=(Context&& o) noexcept {
  if (this != &o) {
    if (opts_.detach_on_destroy && link_) {
      try {
        detach();
      } catch (...) {
      }
    }
    pred_ = std::move(o.pred_);
    opts_ = std::move(o.opts_);
    link_ = std::move(o.link_);
  }
  return *this;
}

Context::~Context() {
  if (opts_.detach_on_destroy && link_) {
    try {
      detach();
    } catch (...) {
    }
  }
}

void Context::update(const HandlerObject& obj) {
  if (!link_) throw xcommon::error(fmt::format("handler {} is detached", pred_.name), ENOENT);
  const std::string dir = pin_dir();
  // The predicate as attached now: the module wants it unchanged.
  const LinkTarget now = link_target(link_.get(), fmt::format("handler {}", pred_.name));

  OpenedObject o = open_object(obj);
  bpf_map* map = handler_map(o);
  const std::span<std::byte> data = handler_value(map);
  write_predicate(data, now.predicate);

  // The new program works on the data of the old one.
  std::vector<std::string> fresh;  // maps the handler did not have: pinned below
  std::set<std::string> names;
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, o.get()) {
    if (!pinned_kind(m)) continue;
    names.insert(bpf_map__name(m));
    const std::string path = join(dir, bpf_map__name(m));
    const int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
      if (-fd != ENOENT) fail(-fd, fmt::format("open pinned map {}", path));
      fresh.push_back(bpf_map__name(m));
      continue;
    }
    unique_fd pinned{fd};
    check_reusable(m, pinned.get(), path);
    if (int err = bpf_map__reuse_fd(m, pinned.get()); err < 0)
      fail(-err, fmt::format("reuse map {}", path));
  }
  if (int err = bpf_object__load(o.get()); err < 0) load_failed(-err, obj.describe());

  std::vector<std::string> pinned_now;
  xcommon::undo unpin([&] {
    for (const auto& p : pinned_now) ::unlink(p.c_str());
  });
  for (const auto& name : fresh) {
    bpf_map* fm = bpf_object__find_map_by_name(o.get(), name.c_str());
    const std::string path = join(dir, name);
    if (int err = bpf_map__pin(fm, path.c_str()); err < 0)
      fail(-err, fmt::format("pin map {} at {}", name, path));
    pinned_now.push_back(path);
  }

  const std::vector<std::byte> value = kernel_value(o, map, data);
  const __u32 zero = 0;
  if (int err = bpf_map_update_elem(bpf_map__fd(map), &zero, value.data(), 0); err < 0)
    fail(-err, fmt::format("set up the new struct_ops map of {}", pred_.name));
  if (int err = bpf_link_update(link_.get(), bpf_map__fd(map), nullptr); err < 0) {
    if (-err == EINVAL)
      throw xcommon::error(fmt::format("update handler {}: {}", pred_.name, std::strerror(-err)),
                           -err)
          .with_hint("the module replaces only the program: name and predicate stay as attached");
    fail(-err, fmt::format("update handler {}", pred_.name));
  }
  unpin.dismiss();
  pred_ = now.predicate;

  // Pins of maps the new program does not have would only mislead.
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n != "link" && !names.count(n)) ::unlink(it->path().c_str());
  }
}

void Context::detach() {
  if (!link_) throw xcommon::error(fmt::format("handler {} is detached", pred_.name), ENOENT);
  const std::string dir = pin_dir();
  // Detach first: with the handler gone, the pins are only names.
  if (int err = bpf_link_detach(link_.get()); err < 0 && -err != ENOLINK)
    fail(-err, fmt::format("detach handler {}", pred_.name));
  link_.reset();
  remove_pins(opts_.paths, dir);
}

std::vector<std::string> Context::maps() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(pin_dir(), ec), end; !ec && it != end;
       it.increment(ec))
    if (auto n = it->path().filename().string(); n != "link") names.push_back(std::move(n));
  std::sort(names.begin(), names.end());
  return names;
}

DataMap Context::map(std::string_view name) const {
  if (name.empty()) {
    const auto all = maps();
    if (all.size() != 1)
      throw xcommon::error(
          all.empty() ? fmt::format("handler {} has no maps", pred_.name)
                      : fmt::format("handler {} has {} maps ({}): name one", pred_.name,
                                    all.size(), fmt::join(all, ", ")),
          EINVAL);
    name = all.front();
  }
  if (name == "link" || name.find('/') != std::string_view::npos)
    throw xcommon::error(fmt::format("'{}' is not a map name", name), EINVAL);
  const std::string path = join(pin_dir(), name);
  if (!path_exists(path))
    throw xcommon::error(fmt::format("handler {} has no map '{}'", pred_.name, name), ENOENT)
        .with_hint(fmt::format("its maps: {}", fmt::join(maps(), ", ")));
  return DataMap::open_pinned(path);
}

std::optional<DataMap> Context::stats_map() const {
  for (const auto& name : maps()) {
    DataMap m = map(name);
    if (m.value_member("hits")) return m;
  }
  return std::nullopt;
}

// ---- DataMap ----------------------------------------------------------------

DataMap DataMap::open_pinned(const std::string& path) {
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) fail(-fd, fmt::format("open pinned map {}", path));
  DataMap m;
  m.fd_ = unique_fd{fd};
  m.path_ = path;
  m.name_ = path.substr(path.rfind('/') + 1);
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (int err = bpf_map_get_info_by_fd(fd, &info, &len); err < 0)
    fail(-err, fmt::format("read map info of {}", path));
  m.type_ = info.type;
  m.key_size_ = info.key_size;
  m.value_size_ = info.value_size;
  m.max_entries_ = info.max_entries;
  m.btf_id_ = info.btf_id;
  m.btf_value_type_id_ = info.btf_value_type_id;
  return m;
}

std::string DataMap::type_name() const {
  const char* n = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type_));
  return n ? n : fmt::format("type {}", type_);
}

void DataMap::check_sizes(std::span<const std::byte> key,
                          const std::span<const std::byte>* value) const {
  if (key.size() != key_size_)
    throw xcommon::error(
        fmt::format("map {}: a key has {} bytes, not {}", name_, key_size_, key.size()), EINVAL);
  if (value && value->size() != value_size_)
    throw xcommon::error(fmt::format("map {}: a value has {} bytes, not {}", name_, value_size_,
                                     value->size()),
                         EINVAL);
  if (type_ == BPF_MAP_TYPE_RINGBUF || type_ == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
    throw xcommon::error(fmt::format("map {} is a {}, not a key/value map", name_, type_name()),
                         EINVAL);
}

bool DataMap::write(std::span<const std::byte> key, std::span<const std::byte> value,
                    std::uint64_t flags, std::string_view verb) const {
  check_sizes(key, &value);
  const int err = bpf_map_update_elem(fd_.get(), key.data(), value.data(), flags);
  if (err == 0) return true;
  if ((flags == BPF_NOEXIST && -err == EEXIST) || (flags == BPF_EXIST && -err == ENOENT))
    return false;
  if (-err == E2BIG)
    throw xcommon::error(fmt::format("{} in map {}: full ({} entries)", verb, name_, max_entries_),
                         E2BIG);
  fail(-err, fmt::format("{} in map {}", verb, name_));
}

bool DataMap::put(std::span<const std::byte> key, std::span<const std::byte> value) const {
  // Arrays have every key: put means "set" there.
  const bool array = type_ == BPF_MAP_TYPE_ARRAY || type_ == BPF_MAP_TYPE_PERCPU_ARRAY;
  return write(key, value, array ? BPF_ANY : BPF_NOEXIST, "put");
}

void DataMap::set(std::span<const std::byte> key, std::span<const std::byte> value) const {
  write(key, value, BPF_ANY, "set");
}

bool DataMap::update(std::span<const std::byte> key, std::span<const std::byte> value) const {
  return write(key, value, BPF_EXIST, "update");
}

bool DataMap::erase(std::span<const std::byte> key) const {
  check_sizes(key, nullptr);
  const int err = bpf_map_delete_elem(fd_.get(), key.data());
  if (err == 0) return true;
  if (-err == ENOENT) return false;
  if (-err == EINVAL && (type_ == BPF_MAP_TYPE_ARRAY || type_ == BPF_MAP_TYPE_PERCPU_ARRAY))
    throw xcommon::error(
        fmt::format("delete in map {}: an array's entries cannot be deleted, only set", name_),
        EINVAL);
  fail(-err, fmt::format("delete in map {}", name_));
}

std::optional<std::string> DataMap::get(std::span<const std::byte> key) const {
  check_sizes(key, nullptr);
  std::string value(value_size_, '\0');
  const int err = bpf_map_lookup_elem(fd_.get(), key.data(), value.data());
  if (err == 0) return value;
  if (-err == ENOENT) return std::nullopt;
  fail(-err, fmt::format("look up in map {}", name_));
}

std::vector<std::string> DataMap::keys(std::size_t limit) const {
  std::vector<std::string> out;
  std::string key(key_size_, '\0'), next(key_size_, '\0');
  const void* prev = nullptr;
  while (out.size() < limit) {
    const int err = bpf_map_get_next_key(fd_.get(), prev, next.data());
    if (err < 0) {
      if (-err == ENOENT) break;
      fail(-err, fmt::format("walk map {}", name_));
    }
    out.push_back(next);
    key = next;
    prev = key.data();
  }
  return out;
}

std::optional<std::pair<std::size_t, std::size_t>> DataMap::value_member(
    std::string_view name) const {
  if (!btf_id_ || !btf_value_type_id_) return std::nullopt;
  btf_ptr b{btf__load_from_kernel_by_id(btf_id_)};
  if (!b) return std::nullopt;
  const btf_type* t = resolve(b.get(), btf_value_type_id_);
  const btf_member* m = find_member(b.get(), t, name);
  if (!m) return std::nullopt;
  const __s64 size = btf__resolve_size(b.get(), m->type);
  if (size <= 0) return std::nullopt;
  return std::pair{
      static_cast<std::size_t>(btf_member_bit_offset(t, static_cast<std::uint32_t>(m - btf_members(t))) / 8),
      static_cast<std::size_t>(size)};
}

// ---- list -------------------------------------------------------------------

std::vector<HandlerInfo> list_handlers(const Paths& paths) {
  const Sysfs sys(paths.sysfs);
  std::set<std::string> names;
  for (auto& n : sys.handlers()) names.insert(std::move(n));
  std::error_code ec;
  for (std::filesystem::directory_iterator it(paths.root(), ec), end; !ec && it != end;
       it.increment(ec))
    names.insert(it->path().filename().string());

  std::vector<HandlerInfo> out;
  for (const auto& name : names) {
    HandlerInfo h;
    h.name = name;
    if (sys.has_handler(name)) {
      try {
        h.stats = sys.handler(name);
      } catch (const std::exception&) {
        // Detached while we looked.
      }
    }
    const std::string link_path = join(paths.dir(name), "link");
    const int fd = bpf_obj_get(link_path.c_str());
    if (fd >= 0) {
      unique_fd link{fd};
      h.pinned = true;
      try {
        h.predicate = link_target(link.get(), link_path).predicate;
      } catch (const std::exception&) {
        // Shown without its predicate.
      }
      ContextOptions o;
      o.paths = paths;
      for (std::filesystem::directory_iterator it(paths.dir(name), ec), end; !ec && it != end;
           it.increment(ec))
        if (auto n = it->path().filename().string(); n != "link") h.maps.push_back(n);
      std::sort(h.maps.begin(), h.maps.end());
    }
    out.push_back(std::move(h));
  }
  return out;
}

nlohmann::json to_json(const HandlerInfo& h) {
  nlohmann::json j = {{"name", h.name}, {"pinned", h.pinned}, {"attached", h.stats.has_value()}};
  j["predicate"] = h.predicate ? to_json(*h.predicate) : nlohmann::json(nullptr);
  j["counters"] = h.stats ? to_json(h.stats->counters) : nlohmann::json(nullptr);
  j["maps"] = h.maps;
  return j;
}

// ---- the paper's API --------------------------------------------------------

Context create_context(const HandlerObject& obj, int server_sock, ContextOptions opts) {
  return Context::create(obj, socket_predicate(server_sock), std::move(opts));
}

Context create_context(const std::string& file, int server_sock, ContextOptions opts) {
  return create_context(HandlerObject::file(file), server_sock, std::move(opts));
}

void update_context(Context& ctx, const HandlerObject& obj) { ctx.update(obj); }
void update_context(Context& ctx, const std::string& file) {
  ctx.update(HandlerObject::file(file));
}
void delete_context(Context& ctx) { ctx.detach(); }

bool put_data(const Context& ctx, std::span<const std::byte> key, std::span<const std::byte> value,
              std::string_view map) {
  return ctx.map(map).put(key, value);
}

bool update_data(const Context& ctx, std::span<const std::byte> key,
                 std::span<const std::byte> value, std::string_view map) {
  return ctx.map(map).update(key, value);
}

bool delete_data(const Context& ctx, std::span<const std::byte> key, std::string_view map) {
  return ctx.map(map).erase(key);
}

std::optional<std::uint64_t> get_stats(const Context& ctx, std::span<const std::byte> key) {
  const auto m = ctx.stats_map();
  if (!m)
    throw xcommon::error(
        fmt::format("handler {} keeps no per-key hits (no map value with a 'hits' member)",
                    ctx.name()),
        ENOENT);
  const auto value = m->get(key);
  if (!value) return std::nullopt;
  const auto [off, size] = *m->value_member("hits");
  std::uint64_t hits = 0;
  std::memcpy(&hits, value->data() + off, std::min<std::size_t>(size, sizeof(hits)));
  return hits;
}

HandlerStats get_allstats(const Context& ctx) {
  return Sysfs(ctx.paths().sysfs).handler(ctx.name());
}

CompContext create_compcontext(int server_sock, std::uint16_t offset, std::uint16_t len,
                               ContextOptions opts) {
  if (len == 0 || len > k_l7_max)
    throw xcommon::error(
        fmt::format("a composability value has 1..{} bytes, not {}", k_l7_max, len), EINVAL);
  return CompContext(socket_predicate(server_sock), offset, len, std::move(opts));
}

Context& create_subcontext(CompContext& comp, const HandlerObject& obj,
                           std::span<const std::uint8_t> value, std::string name) {
  if (value.size() != comp.len())
    throw xcommon::error(fmt::format("the value has {} bytes; this composability context "
                                     "matches {} bytes at offset {}",
                                     value.size(), comp.len(), comp.offset()),
                         EINVAL);
  PredicateSpec spec = comp.l4();
  std::string why;
  auto l7 = L7Match::of(comp.offset(), value, &why);
  if (!l7) throw xcommon::error(why, EINVAL);
  spec.value.l7 = *l7;
  spec.set |= PredicateSpec::l7;
  if (!name.empty()) {
    spec.value.name = std::move(name);
    spec.set |= PredicateSpec::name;
  }
  comp.subcontexts().push_back(Context::create(obj, spec, comp.options()));
  return comp.subcontexts().back();
}

}  // namespace xps
