// SPDX-License-Identifier: GPL-2.0
//
// Keys and values of a handler's data maps as text, for xpsctl and tests.
//
//   hex:0a0b0c   or 0x0a0b0c   raw bytes
//   u8:N u16:N u32:N u64:N     an unsigned integer, host byte order (as a
//                              BPF program reads it)
//   str:TEXT     or TEXT       the characters of TEXT
//
// encode() makes exactly `size` bytes (a map's key or value size): shorter
// input is padded with zero bytes (so a string is NUL-terminated, as C
// code in the handler reads it), longer input is an error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace xps {

// The bytes `text` stands for, padded to `size`; the reason in *why if
// it cannot be encoded (`what` names it: "key", "value").
[[nodiscard]] std::optional<std::string> encode(std::string_view text, std::size_t size,
                                                std::string_view what, std::string* why = nullptr);

// Text of bytes for display: the characters if they are printable (trailing
// NULs dropped), else "hex:..." (so that decode(display) == bytes, padded).
[[nodiscard]] std::string display(std::string_view bytes);

}  // namespace xps
