// SPDX-License-Identifier: GPL-2.0
//
// The bridges of <xlane/ring.h> (SPSC rings in memory shared with the
// module) seen from C++: a producer (R-X: the process writes, the engine
// sends) and a consumer (X-R: the module delivers, the process reads).
//
// Both attach to a ring somebody else initialised, inside a region the caller
// owns (the session's area, or anonymous memory in tests). attach() reads the
// geometry from the shared header once, checks it (magic, power-of-two slot
// count, slot size, that the whole ring lies inside the region) and from then
// on trusts only its private copy, as ring.h requires: the other side may be
// buggy or hostile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "xlane/ring.h"

namespace xlane {

// Occupancy and loss counters of one ring.
struct RingStats {
  std::uint32_t slots = 0;
  std::uint32_t max_len = 0;  // payload bytes per slot
  std::uint64_t used = 0;     // published, not yet consumed
  std::uint64_t dropped = 0;  // producer: messages refused (full or too long)
  std::uint64_t bad = 0;      // consumer: inconsistent indexes or lengths
};

// Checks the ring header at region[offset] and returns its geometry
// {slots, slot_size}; throws xcommon::error naming `what` if it is not a ring
// that fits in the region.
struct RingGeometry {
  std::uint32_t slots = 0;
  std::uint32_t slot_size = 0;
};
[[nodiscard]] RingGeometry check_ring(std::span<std::byte> region, std::uint64_t offset,
                                      const std::string& what);

class Producer {
 public:
  Producer() = default;
  Producer(Producer&& other) noexcept;
  Producer& operator=(Producer&& other) noexcept;
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  // The ring at region[offset]; `what` names it in errors ("lane 3 R-X ring").
  [[nodiscard]] static Producer attach(std::span<std::byte> region, std::uint64_t offset,
                                       const std::string& what);

  // Copies one message in. false when the ring is full (counted as a drop);
  // throws xcommon::error (EMSGSIZE) when it can never fit a slot.
  bool push(std::span<const std::byte> msg, std::uint32_t type);

  [[nodiscard]] RingStats stats() const noexcept;
  [[nodiscard]] std::uint32_t max_len() const noexcept;
  [[nodiscard]] bool attached() const noexcept { return p_.r != nullptr; }

 private:
  xlane_prod p_{};
  std::string what_;
};

class Consumer {
 public:
  // A message still in the ring: valid until release().
  struct View {
    std::span<const std::byte> payload;
    std::uint32_t type = 0;
  };

  Consumer() = default;
  Consumer(Consumer&& other) noexcept;
  Consumer& operator=(Consumer&& other) noexcept;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  [[nodiscard]] static Consumer attach(std::span<std::byte> region, std::uint64_t offset,
                                       const std::string& what);

  // The oldest message, or nullopt when the ring is empty.
  [[nodiscard]] std::optional<View> peek() noexcept;
  // Hands the message of the last peek() back to the producer.
  void release() noexcept;

  [[nodiscard]] RingStats stats() const noexcept;
  [[nodiscard]] bool attached() const noexcept { return c_.r != nullptr; }

 private:
  xlane_cons c_{};
};

}  // namespace xlane
