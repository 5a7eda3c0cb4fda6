// SPDX-License-Identifier: GPL-2.0
#include "xlane/bridge.hpp"

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "xcommon/error.hpp"

namespace xlane {

RingGeometry check_ring(std::span<std::byte> region, std::uint64_t offset,
                        const std::string& what) {
  if (offset % 8 != 0 || offset > region.size() || region.size() - offset < XLANE_RING_HDR)
    throw xcommon::error(
        fmt::format("{}: offset {:#x} does not leave room for a ring header in the {}-byte area",
                    what, offset, region.size()),
        EPROTO);
  const auto* r = reinterpret_cast<const xlane_ring*>(region.data() + offset);
  const std::uint32_t magic = __atomic_load_n(&r->magic, __ATOMIC_ACQUIRE);
  const std::uint32_t slots = __atomic_load_n(&r->slots, __ATOMIC_RELAXED);
  const std::uint32_t slot_size = __atomic_load_n(&r->slot_size, __ATOMIC_RELAXED);
  if (magic != XLANE_RING_MAGIC)
    throw xcommon::error(fmt::format("{} at offset {:#x}: bad magic {:#x} (want {:#x})", what,
                                     offset, magic, XLANE_RING_MAGIC),
                         EPROTO);
  if (slots == 0 || (slots & (slots - 1)) != 0 || slots > XLANE_RING_MAX_SLOTS ||
      slot_size < XLANE_SLOT_HDR || slot_size % 8 != 0)
    throw xcommon::error(fmt::format("{} at offset {:#x}: bad geometry ({} slots of {} bytes)",
                                     what, offset, slots, slot_size),
                         EPROTO);
  if (xlane_ring_bytes(slots, slot_size) > region.size() - offset)
    throw xcommon::error(
        fmt::format("{} at offset {:#x}: {} slots of {} bytes run past the {}-byte area", what,
                    offset, slots, slot_size, region.size()),
        EPROTO);
  return {slots, slot_size};
}

namespace {
xlane_ring* ring_at(std::span<std::byte> region, std::uint64_t offset) {
  return reinterpret_cast<xlane_ring*>(region.data() + offset);
}
}  // namespace

Producer Producer::attach(std::span<std::byte> region, std::uint64_t offset,
                          const std::string& what) {
  const RingGeometry g = check_ring(region, offset, what);
  Producer p;
  xlane_prod_init(&p.p_, ring_at(region, offset), g.slots, g.slot_size);
  p.what_ = what;
  return p;
}

Producer::Producer(Producer&& other) noexcept
    : p_{std::exchange(other.p_, xlane_prod{})}, what_{std::move(other.what_)} {}

Producer& Producer::operator=(Producer&& other) noexcept {
  if (this != &other) {
    p_ = std::exchange(other.p_, xlane_prod{});
    what_ = std::move(other.what_);
  }
  return *this;
}

bool Producer::push(std::span<const std::byte> msg, std::uint32_t type) {
  if (!p_.r) throw xcommon::error(fmt::format("{}: not attached", what_), EBADF);
  if (msg.size() > xlane_ring_max_len(p_.slot_size)) {
    throw xcommon::error(fmt::format("{}: a message of {} bytes does not fit its {}-byte slots",
                                     what_, msg.size(), xlane_ring_max_len(p_.slot_size)),
                         EMSGSIZE);
  }
  return xlane_prod_push(&p_, msg.data(), static_cast<__u32>(msg.size()), type) == 0;
}

RingStats Producer::stats() const noexcept {
  RingStats s;
  if (!p_.r) return s;
  s.slots = p_.slots;
  s.max_len = xlane_ring_max_len(p_.slot_size);
  s.used = xlane_prod_used(&p_);
  s.dropped = p_.dropped;
  s.bad = __atomic_load_n(&p_.r->bad, __ATOMIC_RELAXED);
  return s;
}

std::uint32_t Producer::max_len() const noexcept {
  return p_.r ? xlane_ring_max_len(p_.slot_size) : 0;
}

Consumer Consumer::attach(std::span<std::byte> region, std::uint64_t offset,
                          const std::string& what) {
  const RingGeometry g = check_ring(region, offset, what);
  Consumer c;
  xlane_cons_init(&c.c_, ring_at(region, offset), g.slots, g.slot_size);
  return c;
}

Consumer::Consumer(Consumer&& other) noexcept : c_{std::exchange(other.c_, xlane_cons{})} {}

Consumer& Consumer::operator=(Consumer&& other) noexcept {
  if (this != &other) c_ = std::exchange(other.c_, xlane_cons{});
  return *this;
}

std::optional<Consumer::View> Consumer::peek() noexcept {
  if (!c_.r) return std::nullopt;
  __u32 len = 0, type = 0;
  const void* p = xlane_cons_peek(&c_, &len, &type);
  if (!p) return std::nullopt;
  return View{{static_cast<const std::byte*>(p), len}, type};
}

void Consumer::release() noexcept {
  if (c_.r) xlane_cons_release(&c_);
}

RingStats Consumer::stats() const noexcept {
  RingStats s;
  if (!c_.r) return s;
  s.slots = c_.slots;
  s.max_len = xlane_ring_max_len(c_.slot_size);
  const std::uint64_t head = __atomic_load_n(&c_.r->head, __ATOMIC_ACQUIRE);
  s.used = head >= c_.tail && head - c_.tail <= c_.slots ? head - c_.tail : 0;
  s.dropped = __atomic_load_n(&c_.r->dropped, __ATOMIC_RELAXED);
  s.bad = c_.bad;
  return s;
}

}  // namespace xlane
