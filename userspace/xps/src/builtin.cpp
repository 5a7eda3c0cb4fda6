// SPDX-License-Identifier: GPL-2.0
//
// The handlers shipped with XPS, from the skeletons `make bpf` generates
// (build/bpf/xps_*.skel.h): their objects are built into libxps, so
// `xpsctl handler attach redis` needs no .bpf.o at run time.
#include <bpf/libbpf.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "object.hpp"
#include "xps_http.skel.h"
#include "xps_redis.skel.h"

namespace xps::detail {
namespace {

// Opens skeleton S (not loaded); the OpenedObject destroys it.
template <typename S, S* (*Open)(const bpf_object_open_opts*), void (*Destroy)(S*)>
OpenedObject open_skeleton(std::string_view name) {
  S* skel = Open(nullptr);
  if (!skel) fail(errno, fmt::format("open the shipped {} handler", name));
  // The object belongs to the skeleton: destroying it frees both.
  return OpenedObject(
      skel->obj, [skel](bpf_object*) { Destroy(skel); },
      fmt::format("the shipped {} handler", name));
}

}  // namespace

std::optional<OpenedObject> open_builtin(std::string_view name) {
  if (name == "redis")
    return open_skeleton<xps_redis, xps_redis__open_opts, xps_redis__destroy>(name);
  if (name == "http")
    return open_skeleton<xps_http, xps_http__open_opts, xps_http__destroy>(name);
  return std::nullopt;
}

}  // namespace xps::detail
