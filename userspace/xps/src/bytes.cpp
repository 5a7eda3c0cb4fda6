// SPDX-License-Identifier: GPL-2.0
#include "xps/bytes.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "xps/predicate.hpp"

namespace xps {
namespace {

// An unsigned integer of type T from decimal digits, as its bytes.
template <typename T>
bool integer(std::string_view digits, std::string& out, std::string* why, std::string_view what) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
      v > std::numeric_limits<T>::max()) {
    if (why)
      *why = fmt::format("{} '{}' is not a number of 0..{}", what, digits,
                         std::uint64_t{std::numeric_limits<T>::max()});
    return false;
  }
  const T t = static_cast<T>(v);
  out.assign(sizeof(T), '\0');
  std::memcpy(out.data(), &t, sizeof(T));
  return true;
}

}  // namespace

std::optional<std::string> encode(std::string_view text, std::size_t size, std::string_view what,
                                  std::string* why) {
  std::string raw;
  bool ok = true;
  if (text.starts_with("hex:") || text.starts_with("0x")) {
    const std::string_view hex = text.substr(text.front() == 'h' ? 4 : 2);
    auto b = from_hex(hex);
    ok = b && !hex.empty();
    if (!ok) {
      if (why) *why = fmt::format("{} '{}' is not hex (two digits a byte)", what, text);
    } else {
      raw = std::move(*b);
    }
  } else if (text.starts_with("u8:")) {
    ok = integer<std::uint8_t>(text.substr(3), raw, why, what);
  } else if (text.starts_with("u16:")) {
    ok = integer<std::uint16_t>(text.substr(4), raw, why, what);
  } else if (text.starts_with("u32:")) {
    ok = integer<std::uint32_t>(text.substr(4), raw, why, what);
  } else if (text.starts_with("u64:")) {
    ok = integer<std::uint64_t>(text.substr(4), raw, why, what);
  } else {
    raw = std::string(text.starts_with("str:") ? text.substr(4) : text);
  }
  if (!ok) return std::nullopt;
  if (raw.size() > size) {
    if (why)
      *why = fmt::format("{} '{}' has {} bytes, the map's {}s have {}", what, text, raw.size(),
                         what, size);
    return std::nullopt;
  }
  raw.resize(size, '\0');
  return raw;
}

std::string display(std::string_view bytes) {
  std::string_view s = bytes;
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  bool printable = !s.empty();
  for (char c : s)
    if (c < 0x20 || c >= 0x7f) printable = false;
  if (printable) {
    // Text that would read as another form gets the explicit prefix.
    for (std::string_view p : {"hex:", "0x", "str:", "u8:", "u16:", "u32:", "u64:"})
      if (s.starts_with(p)) return "str:" + std::string(s);
    return std::string(s);
  }
  return "hex:" + to_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace xps
