// SPDX-License-Identifier: GPL-2.0
//
// The protocol side of redis-mixload (make bench-xps), without sockets:
// fixed-size keys and values, the RESP requests for GET and SET, and an
// incremental parser of the replies, so the host tests check it byte by byte.
//
//   xsel::bench::redis::keyspace ks{"xps-bench-key:", 32, 128};
//   std::string req;
//   ks.append_get(req, 17);              // *2 $3 GET $32 xps-bench-key:00..17
//   ks.append_set(req, 17, 5);           // *3 $3 SET $32 <key> $128 <value>
//   reply_parser p;                      // feed what the socket gave
//   if (auto r = p.parse(buf)) ...       // one whole reply: kind, bytes used
//
// Every value starts with its key, so a reply that carries another key's
// value is recognised (value_matches()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xsel::bench::redis {

// Keys "<prefix><index, zero-padded>" of exactly key_size bytes and values
// of exactly value_size bytes: the key, then a filler that carries a
// version (0 for the preloaded value).
class keyspace {
 public:
  // Throws std::invalid_argument when the prefix leaves fewer than 8 digits
  // for the index or value_size < key_size.
  keyspace(std::string prefix, std::size_t key_size, std::size_t value_size);

  [[nodiscard]] std::string key(std::uint64_t index) const;
  [[nodiscard]] std::string value(std::uint64_t index, std::uint64_t version) const;
  [[nodiscard]] std::size_t key_size() const noexcept { return key_size_; }
  [[nodiscard]] std::size_t value_size() const noexcept { return value_size_; }

  // Append "*2\r\n$3\r\nGET\r\n$K\r\n<key>\r\n".
  void append_get(std::string& out, std::uint64_t index) const;
  // Append "*3\r\n$3\r\nSET\r\n$K\r\n<key>\r\n$V\r\n<value>\r\n".
  void append_set(std::string& out, std::uint64_t index, std::uint64_t version) const;

  // A GET's bulk reply is this key's value: value_size bytes starting with the key.
  [[nodiscard]] bool value_matches(std::uint64_t index, std::string_view v) const;

 private:
  std::string prefix_;
  std::size_t key_size_, value_size_;
};

enum class reply_kind { status, error, integer, bulk, nil, array };

struct reply {
  reply_kind kind;
  std::size_t consumed;    // bytes of the buffer this reply took
  std::string_view text;   // status/error/integer line, or the bulk's bytes
};

// Parses one reply from the front of `buf`: nullopt while it is incomplete.
// Throws std::runtime_error on bytes that are not RESP (or an array, which
// GET and SET never answer). `text` points into buf.
[[nodiscard]] std::optional<reply> parse_reply(std::string_view buf);

}  // namespace xsel::bench::redis
