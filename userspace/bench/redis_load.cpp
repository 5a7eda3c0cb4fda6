// SPDX-License-Identifier: GPL-2.0
#include "redis_load.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace xsel::bench::redis {

keyspace::keyspace(std::string prefix, std::size_t key_size, std::size_t value_size)
    : prefix_{std::move(prefix)}, key_size_{key_size}, value_size_{value_size} {
  if (prefix_.size() + 8 > key_size_)
    throw std::invalid_argument(fmt::format(
        "key prefix '{}' leaves fewer than 8 of {} bytes for the index", prefix_, key_size_));
  if (value_size_ < key_size_ + 1)
    throw std::invalid_argument(
        fmt::format("values of {} bytes cannot hold a {}-byte key", value_size_, key_size_));
}

std::string keyspace::key(std::uint64_t index) const {
  return fmt::format("{}{:0{}}", prefix_, index, key_size_ - prefix_.size());
}

std::string keyspace::value(std::uint64_t index, std::uint64_t version) const {
  std::string v = key(index);
  v += fmt::format("=v{}:", version);
  // A filler that is not all one byte, so a truncated copy shows.
  while (v.size() < value_size_) v.push_back(static_cast<char>('a' + v.size() % 26));
  v.resize(value_size_);
  return v;
}

void keyspace::append_get(std::string& out, std::uint64_t index) const {
  fmt::format_to(std::back_inserter(out), "*2\r\n$3\r\nGET\r\n${}\r\n{}\r\n", key_size_,
                 key(index));
}

void keyspace::append_set(std::string& out, std::uint64_t index, std::uint64_t version) const {
  fmt::format_to(std::back_inserter(out), "*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n${}\r\n{}\r\n",
                 key_size_, key(index), value_size_, value(index, version));
}

bool keyspace::value_matches(std::uint64_t index, std::string_view v) const {
  if (v.size() != value_size_) return false;
  return v.substr(0, key_size_) == key(index);
}

std::optional<reply> parse_reply(std::string_view buf) {
  if (buf.empty()) return std::nullopt;
  const auto eol = buf.find("\r\n");
  if (eol == std::string_view::npos) {
    // A header line is short; a long one without CRLF is not RESP.
    if (buf.size() > 64) throw std::runtime_error("RESP: no CRLF in the first 64 bytes");
    return std::nullopt;
  }
  const std::string_view line = buf.substr(1, eol - 1);
  const std::size_t after = eol + 2;
  switch (buf[0]) {
    case '+':
      return reply{reply_kind::status, after, line};
    case '-':
      return reply{reply_kind::error, after, line};
    case ':':
      return reply{reply_kind::integer, after, line};
    case '$': {
      long long len = 0;
      const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), len);
      if (ec != std::errc{} || p != line.data() + line.size() || len < -1)
        throw std::runtime_error(fmt::format("RESP: bad bulk length '{}'", line));
      if (len == -1) return reply{reply_kind::nil, after, {}};
      const auto n = static_cast<std::size_t>(len);
      if (buf.size() < after + n + 2) return std::nullopt;
      if (buf.substr(after + n, 2) != "\r\n")
        throw std::runtime_error("RESP: bulk string not followed by CRLF");
      return reply{reply_kind::bulk, after + n + 2, buf.substr(after, n)};
    }
    case '*':
      throw std::runtime_error("RESP: an array reply (not an answer to GET or SET)");
    default:
      throw std::runtime_error(
          fmt::format("RESP: reply starts with byte 0x{:02x}", static_cast<unsigned char>(buf[0])));
  }
}

}  // namespace xsel::bench::redis
