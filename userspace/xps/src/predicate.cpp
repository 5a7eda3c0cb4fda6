// SPDX-License-Identifier: GPL-2.0
#include "xps/predicate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xcommon/cli.hpp"
#include "xcommon/error.hpp"

namespace xps {
namespace {

using xcommon::cli::parse_decimal;

// The predicate's offsets, as xps.h lays them out: write_predicate() and
// read_predicate() use nothing else.
template <typename T>
void put(std::span<std::byte> h, std::size_t off, const T& v) {
  std::memcpy(h.data() + off, &v, sizeof(T));
}

template <typename T>
T get(std::span<const std::byte> h, std::size_t off) {
  T v{};
  std::memcpy(&v, h.data() + off, sizeof(T));
  return v;
}

}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s{text};
  Address a;
  in_addr v4{};
  if (s.find(':') == std::string::npos) {
    if (::inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    return from_ipv4(v4.s_addr);
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  return a;
}

Address Address::from_ipv4(std::uint32_t be) noexcept {
  Address a;
  if (be == 0) return a;  // INADDR_ANY is the wildcard, not ::ffff:0.0.0.0
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::memcpy(&a.bytes[12], &be, 4);
  return a;
}

bool Address::any() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

bool Address::v4_mapped() const noexcept {
  return std::all_of(bytes.begin(), bytes.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
         bytes[10] == 0xff && bytes[11] == 0xff;
}

std::string Address::str() const {
  if (any()) return "*";
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4_mapped()) {
    ::inet_ntop(AF_INET, &bytes[12], buf, sizeof(buf));
    return buf;
  }
  ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

std::optional<L7Match> L7Match::of(std::uint16_t off, std::span<const std::uint8_t> value,
                                   std::string* why) {
  if (value.empty() || value.size() > k_l7_max) {
    if (why) *why = fmt::format("an L7 value has 1..{} bytes, not {}", k_l7_max, value.size());
    return std::nullopt;
  }
  L7Match m;
  m.off = off;
  m.len = static_cast<std::uint16_t>(value.size());
  std::copy(value.begin(), value.end(), m.value.begin());
  return m;
}

std::optional<L7Match> L7Match::parse(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<L7Match> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  const auto c1 = text.find(':');
  const auto c2 = c1 == std::string_view::npos ? c1 : text.find(':', c1 + 1);
  if (c2 == std::string_view::npos)
    return fail("give OFF:LEN:HEX, e.g. 0:4:50494e47 (4 bytes 'PING' at offset 0)");
  const auto off = parse_decimal(text.substr(0, c1));
  const auto len = parse_decimal(text.substr(c1 + 1, c2 - c1 - 1));
  const std::string_view hex = text.substr(c2 + 1);
  if (!off || *off > 0xffff) return fail("OFF is a byte offset, 0..65535");
  if (!len || *len == 0 || *len > k_l7_max)
    return fail(fmt::format("LEN is 1..{} bytes (XPS_L7_MAX)", k_l7_max));
  const auto bytes = from_hex(hex);
  if (!bytes) return fail(fmt::format("'{}' is not hex (two digits a byte)", hex));
  if (bytes->size() != *len)
    return fail(fmt::format("HEX has {} bytes but LEN is {}", bytes->size(), *len));
  return of(static_cast<std::uint16_t>(*off),
            {reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()}, why);
}

std::string L7Match::str() const {
  if (len == 0) return {};
  return fmt::format("{}:{}:{}", off, len,
                     to_hex({value.data(), std::min<std::size_t>(len, value.size())}));
}

bool Predicate::same_l4(const Predicate& o) const noexcept {
  return laddr == o.laddr && raddr == o.raddr && lport == o.lport && rport == o.rport &&
         (flags & (XPS_F_IPV4 | XPS_F_IPV6)) == (o.flags & (XPS_F_IPV4 | XPS_F_IPV6));
}

std::string flags_str(std::uint32_t flags) {
  std::string out;
  auto add = [&](std::string_view w) { out += (out.empty() ? "" : " ") + std::string(w); };
  if (flags & XPS_F_STRICT) add("strict");
  if (flags & XPS_F_IPV4) add("ipv4");
  if (flags & XPS_F_IPV6) add("ipv6");
  if (const std::uint32_t rest = flags & ~(XPS_F_STRICT | XPS_F_IPV4 | XPS_F_IPV6))
    add(fmt::format("0x{:x}", rest));
  return out;
}

std::string Predicate::str() const {
  std::string out;
  auto add = [&](const std::string& w) { out += (out.empty() ? "" : " ") + w; };
  if (lport) add(fmt::format("lport {}", lport));
  if (!laddr.any()) add("laddr " + laddr.str());
  if (rport) add(fmt::format("rport {}", rport));
  if (!raddr.any()) add("raddr " + raddr.str());
  if (flags) add(flags_str(flags));
  if (l7.len) add("l7 " + l7.str());
  if (owner_pid) add(fmt::format("owner {}", owner_pid));
  return out.empty() ? "any" : out;
}

nlohmann::json to_json(const Predicate& p) {
  nlohmann::json flags = nlohmann::json::array();
  for (std::uint32_t bit = 1; bit; bit <<= 1)
    if (p.flags & bit) flags.push_back(flags_str(bit));
  return {{"name", p.name},
          {"laddr", p.laddr.any() ? nlohmann::json(nullptr) : nlohmann::json(p.laddr.str())},
          {"raddr", p.raddr.any() ? nlohmann::json(nullptr) : nlohmann::json(p.raddr.str())},
          {"lport", p.lport},
          {"rport", p.rport},
          {"flags", flags},
          {"l7", p.l7.len ? nlohmann::json{{"off", p.l7.off},
                                           {"len", p.l7.len},
                                           {"value", to_hex({p.l7.value.data(), p.l7.len})}}
                          : nlohmann::json(nullptr)},
          {"owner_pid", p.owner_pid}};
}

Predicate merge(const Predicate& object, const PredicateSpec& spec) {
  using f = PredicateSpec;
  const Predicate& v = spec.value;
  Predicate p = object;
  if (spec.has(f::name)) p.name = v.name;
  if (spec.has(f::laddr)) p.laddr = v.laddr;
  if (spec.has(f::raddr)) p.raddr = v.raddr;
  if (spec.has(f::lport)) p.lport = v.lport;
  if (spec.has(f::rport)) p.rport = v.rport;
  constexpr std::uint32_t k_family = XPS_F_IPV4 | XPS_F_IPV6;
  if (spec.has(f::family)) p.flags = (p.flags & ~k_family) | (v.flags & k_family);
  if (spec.has(f::strict)) p.flags = (p.flags & ~XPS_F_STRICT) | (v.flags & XPS_F_STRICT);
  if (spec.has(f::l7)) p.l7 = v.l7;
  if (spec.has(f::owner)) p.owner_pid = v.owner_pid;
  return p;
}

PredicateSpec socket_predicate(int fd) {
  int type = 0, listening = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    xcommon::throw_errno("server socket {}: SO_TYPE", fd);
  len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
    xcommon::throw_errno("server socket {}: SO_ACCEPTCONN", fd);
  if (type != SOCK_STREAM || !listening)
    throw xcommon::error(
        fmt::format("socket {} is not a listening TCP socket: a handler's predicate is taken "
                    "from the server's listening socket (after listen())",
                    fd),
        EINVAL);
  sockaddr_storage ss{};
  len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    xcommon::throw_errno("getsockname of server socket {}", fd);
  PredicateSpec spec;
  spec.set = PredicateSpec::laddr | PredicateSpec::lport | PredicateSpec::family;
  Predicate& p = spec.value;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    p.laddr = Address::from_ipv4(sin->sin_addr.s_addr);
    p.lport = ntohs(sin->sin_port);
    p.flags = XPS_F_IPV4;
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::memcpy(p.laddr.bytes.data(), &sin6->sin6_addr, 16);
    p.lport = ntohs(sin6->sin6_port);
    // The module matches a v4-mapped connection of an AF_INET6 socket as
    // IPv4: a dual-stack listener gets no family flag, a v6-only one IPv6.
    int v6only = 0;
    len = sizeof(v6only);
    if (::getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) != 0)
      xcommon::throw_errno("server socket {}: IPV6_V6ONLY", fd);
    p.flags = v6only ? XPS_F_IPV6 : 0;
  } else {
    throw xcommon::error(
        fmt::format("socket {} is neither IPv4 nor IPv6 (family {})", fd, ss.ss_family), EINVAL);
  }
  return spec;
}

std::optional<std::string> invalid_name(std::string_view name) {
  if (name.empty()) return std::string("a handler name is not empty");
  if (name.size() > k_name_max)
    return fmt::format("'{}' is longer than {} characters", name, k_name_max);
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return fmt::format("'{}' has '{}': a handler name is made of a-z, 0-9, '_' and '-'", name,
                         c >= ' ' && c < 0x7f ? std::string(1, c)
                                              : fmt::format("\\x{:02x}", std::uint8_t(c)));
  return std::nullopt;
}

void write_predicate(std::span<std::byte> h, const Predicate& p) {
  if (h.size() < k_handler_size)
    throw std::invalid_argument(fmt::format(
        "a struct xps_handler has {} bytes, this buffer {}: is the object built against "
        "another xps.h?",
        k_handler_size, h.size()));
  if (auto why = invalid_name(p.name)) throw std::invalid_argument(*why);
  if (p.l7.len > k_l7_max)
    throw std::invalid_argument(
        fmt::format("L7 length {} exceeds XPS_L7_MAX ({})", p.l7.len, k_l7_max));

  char name[XPS_NAME_LEN] = {};
  std::memcpy(name, p.name.data(), p.name.size());
  std::memcpy(h.data() + offsetof(xps_handler, name), name, sizeof(name));
  std::memcpy(h.data() + offsetof(xps_handler, laddr), p.laddr.bytes.data(), 16);
  std::memcpy(h.data() + offsetof(xps_handler, raddr), p.raddr.bytes.data(), 16);
  put<__u16>(h, offsetof(xps_handler, lport), p.lport);
  put<__u16>(h, offsetof(xps_handler, rport), p.rport);
  put<__u32>(h, offsetof(xps_handler, flags), p.flags);
  put<__u16>(h, offsetof(xps_handler, l7_off), p.l7.off);
  put<__u16>(h, offsetof(xps_handler, l7_len), p.l7.len);
  std::array<std::uint8_t, k_l7_max> value{};
  std::copy(p.l7.value.begin(), p.l7.value.begin() + p.l7.len, value.begin());
  std::memcpy(h.data() + offsetof(xps_handler, l7_value), value.data(), value.size());
  put<__u32>(h, offsetof(xps_handler, owner_pid), p.owner_pid);
}

Predicate read_predicate(std::span<const std::byte> h) {
  if (h.size() < k_handler_size)
    throw std::invalid_argument(
        fmt::format("a struct xps_handler has {} bytes, not {}", k_handler_size, h.size()));
  Predicate p;
  const char* name = reinterpret_cast<const char*>(h.data() + offsetof(xps_handler, name));
  p.name.assign(name, strnlen(name, XPS_NAME_LEN));
  std::memcpy(p.laddr.bytes.data(), h.data() + offsetof(xps_handler, laddr), 16);
  std::memcpy(p.raddr.bytes.data(), h.data() + offsetof(xps_handler, raddr), 16);
  p.lport = get<__u16>(h, offsetof(xps_handler, lport));
  p.rport = get<__u16>(h, offsetof(xps_handler, rport));
  p.flags = get<__u32>(h, offsetof(xps_handler, flags));
  p.l7.off = get<__u16>(h, offsetof(xps_handler, l7_off));
  p.l7.len = std::min<__u16>(get<__u16>(h, offsetof(xps_handler, l7_len)), k_l7_max);
  std::memcpy(p.l7.value.data(), h.data() + offsetof(xps_handler, l7_value), k_l7_max);
  p.owner_pid = get<__u32>(h, offsetof(xps_handler, owner_pid));
  return p;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace xps
