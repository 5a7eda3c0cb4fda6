// SPDX-License-Identifier: GPL-2.0
//
// The predicate of an XPS handler: the data members of the struct_ops type
// `struct xps_handler` (modules/xps/include/xps/xps.h), what selects the
// connections and payloads the module runs the handler for.
//
//   xps::Predicate p;
//   p.name = "redis";
//   p.lport = 6379;                        // host order, 0 = any
//   p.laddr = *xps::Address::parse("127.0.0.1");  // stored ::ffff:127.0.0.1
//   xps::write_predicate(handler_bytes, p);   // into a struct xps_handler
//
// write_predicate()/read_predicate() work on the bytes of one struct
// xps_handler (a struct_ops map's initial value, or the `data` member of
// the kernel's value), at the offsets of xps.h: no libbpf needed, so the
// layout is unit-tested on the host.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "xps/xps.h"

namespace xps {

inline constexpr std::size_t k_name_max = XPS_NAME_LEN - 1;  // without the NUL
inline constexpr std::size_t k_l7_max = XPS_L7_MAX;

// An address of the predicate: IPv6, or IPv4 as ::ffff:a.b.c.d; network
// order. All zero is the wildcard.
struct Address {
  std::array<std::uint8_t, 16> bytes{};

  // "10.0.0.1", "::1", "[::1]", "::ffff:10.0.0.1"; nullopt for anything else.
  [[nodiscard]] static std::optional<Address> parse(std::string_view text);
  [[nodiscard]] static Address from_ipv4(std::uint32_t be) noexcept;
  [[nodiscard]] bool any() const noexcept;
  [[nodiscard]] bool v4_mapped() const noexcept;
  // "*" for the wildcard, dotted quad for IPv4-mapped, else RFC 5952 text.
  [[nodiscard]] std::string str() const;
  friend bool operator==(const Address&, const Address&) = default;
};

// L7 composability: the handler runs for payloads whose `len` bytes at `off`
// are `value` (len 0: no L7 condition).
struct L7Match {
  std::uint16_t off = 0;
  std::uint16_t len = 0;
  std::array<std::uint8_t, k_l7_max> value{};

  // "OFF:LEN:HEX" as xpsctl takes it ("0:4:50494e47"); a reason if it is bad.
  [[nodiscard]] static std::optional<L7Match> parse(std::string_view text,
                                                    std::string* why = nullptr);
  // From bytes: len = value.size(), which must be 1..k_l7_max.
  [[nodiscard]] static std::optional<L7Match> of(std::uint16_t off,
                                                 std::span<const std::uint8_t> value,
                                                 std::string* why = nullptr);
  [[nodiscard]] bool any() const noexcept { return len == 0; }
  // "OFF:LEN:HEX", "" when len is 0.
  [[nodiscard]] std::string str() const;
  friend bool operator==(const L7Match&, const L7Match&) = default;
};

struct Predicate {
  std::string name;  // unique, 1..15 of [a-z0-9_-]
  Address laddr;
  Address raddr;
  std::uint16_t lport = 0;  // host order; 0 = any
  std::uint16_t rport = 0;
  std::uint32_t flags = 0;  // XPS_F_*
  L7Match l7;
  std::uint32_t owner_pid = 0;  // 0: the module charges nobody

  // The L4 part (addresses, ports, family flags): what sub-handlers share.
  [[nodiscard]] bool same_l4(const Predicate& o) const noexcept;
  // "lport 6379 laddr 127.0.0.1 ipv4 l7 0:4:50494e47 owner 42"; "any" if nothing is set.
  [[nodiscard]] std::string str() const;
  friend bool operator==(const Predicate&, const Predicate&) = default;
};

[[nodiscard]] nlohmann::json to_json(const Predicate& p);

// The fields of a Predicate a caller sets; the others keep the values the
// handler's object declares (its struct_ops map's initial value).
struct PredicateSpec {
  enum field : unsigned {
    name = 1u << 0,
    laddr = 1u << 1,
    raddr = 1u << 2,
    lport = 1u << 3,
    rport = 1u << 4,
    family = 1u << 5,  // XPS_F_IPV4 / XPS_F_IPV6 of value.flags
    strict = 1u << 6,  // XPS_F_STRICT of value.flags
    l7 = 1u << 7,
    owner = 1u << 8,
  };
  Predicate value;
  unsigned set = 0;  // field bits

  [[nodiscard]] bool has(field f) const noexcept { return (set & f) != 0; }
};

// `object` with the fields `spec` sets taken from spec.value.
[[nodiscard]] Predicate merge(const Predicate& object, const PredicateSpec& spec);

// The L4 predicate of a listening TCP socket: laddr and lport from
// getsockname() (a wildcard address stays a wildcard) and the family flag
// (XPS_F_IPV4 for AF_INET, XPS_F_IPV6 for AF_INET6). Throws if fd is not a
// listening TCP socket.
[[nodiscard]] PredicateSpec socket_predicate(int server_sock);

// Why `name` cannot name a handler, or nullopt if it can (the module's
// rule: 1..15 characters of [a-z0-9_-]).
[[nodiscard]] std::optional<std::string> invalid_name(std::string_view name);

// Byte layout of struct xps_handler, as xps.h declares it.
inline constexpr std::size_t k_handler_size = sizeof(struct xps_handler);

// Writes every predicate field of `p` into `handler` (the bytes of a struct
// xps_handler); the function pointer stays as it is. Throws
// std::invalid_argument if the buffer is smaller than struct xps_handler,
// the name is invalid or the L7 length exceeds XPS_L7_MAX.
void write_predicate(std::span<std::byte> handler, const Predicate& p);

// Reads the predicate fields of a struct xps_handler's bytes.
[[nodiscard]] Predicate read_predicate(std::span<const std::byte> handler);

// The flags' names ("strict", "ipv4", "ipv6"), space separated.
[[nodiscard]] std::string flags_str(std::uint32_t flags);

// Lower-case hex of bytes, and back (nullopt for odd length or non-hex).
[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> bytes);
[[nodiscard]] std::optional<std::string> from_hex(std::string_view hex);

}  // namespace xps
