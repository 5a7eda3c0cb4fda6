// SPDX-License-Identifier: GPL-2.0
//
// libxps internals: an opened BPF object (from a file or a shipped
// handler's skeleton) and the helpers around libbpf the parts share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xps/context.hpp"

struct bpf_object;
struct bpf_map;
struct btf;

namespace xps::detail {

// Throws "WHAT: strerror(err)" with k_privilege_hint for EPERM/EACCES and
// libbpf's warnings (or `first`) otherwise.
[[noreturn]] void fail(int err, const std::string& what, std::string first = {});

// An opened (maybe loaded) bpf_object, closed with the skeleton's destroy
// function or bpf_object__close.
class OpenedObject {
 public:
  OpenedObject(bpf_object* obj, std::function<void(bpf_object*)> close, std::string what)
      : obj_{obj}, close_{std::move(close)}, what_{std::move(what)} {}
  OpenedObject(const OpenedObject&) = delete;
  OpenedObject& operator=(const OpenedObject&) = delete;
  OpenedObject(OpenedObject&& o) noexcept
      : obj_{std::exchange(o.obj_, nullptr)}, close_{std::move(o.close_)}, what_{std::move(o.what_)} {}
  ~OpenedObject() {
    if (obj_ && close_) close_(obj_);
  }
  [[nodiscard]] bpf_object* get() const noexcept { return obj_; }
  [[nodiscard]] const std::string& what() const noexcept { return what_; }

 private:
  bpf_object* obj_;
  std::function<void(bpf_object*)> close_;
  std::string what_;
};

// Opens (does not load) a handler object.
[[nodiscard]] OpenedObject open_object(const HandlerObject& obj);
// The skeleton of a shipped handler; nullopt for an unknown name.
[[nodiscard]] std::optional<OpenedObject> open_builtin(std::string_view name);

// The object's one struct_ops map of type xps_handler; throws otherwise.
[[nodiscard]] bpf_map* handler_map(const OpenedObject& obj);
// Its initial value (struct xps_handler), before load.
[[nodiscard]] std::span<std::byte> handler_value(bpf_map* map);

// Maps that get pinned: not .rodata/.bss/.data/.kconfig, not struct_ops.
[[nodiscard]] bool pinned_kind(const bpf_map* map);

// Where the kernel keeps the struct xps_handler inside a struct_ops map's
// value (struct bpf_struct_ops_xps_handler), from the kernel's BTF.
struct KernelLayout {
  std::size_t value_size = 0;
  std::size_t data_off = 0;  // offset of `data`, the struct xps_handler
  struct Member {
    std::string name;
    std::size_t off = 0;  // within data
    std::size_t size = 0;
    bool func = false;    // a function pointer: a program fd goes there
  };
  std::vector<Member> members;
};
[[nodiscard]] KernelLayout kernel_layout(int struct_ops_map_fd);

// The struct_ops map and predicate behind an attached link.
struct LinkTarget {
  xcommon::unique_fd map;
  std::uint32_t map_id = 0;
  Predicate predicate;
};
[[nodiscard]] LinkTarget link_target(int link_fd, const std::string& what);

}  // namespace xps::detail
