// SPDX-License-Identifier: GPL-2.0
//
// redis-mixload's protocol side (userspace/bench/redis_load.cpp): keys and
// values of exact sizes, the requests' bytes, and the incremental parser of
// replies fed in pieces.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "redis_load.hpp"

namespace {

using namespace xsel::bench::redis;

TEST(RedisLoad, KeysAndValuesHaveExactSizes) {
  const keyspace ks{"bench-xps-key-32byte", 32, 128};
  EXPECT_EQ(ks.key(0), "bench-xps-key-32byte000000000000");
  EXPECT_EQ(ks.key(49999), "bench-xps-key-32byte000000049999");
  for (std::uint64_t v : {0ull, 7ull, 123456789012345ull}) {
    const auto val = ks.value(42, v);
    EXPECT_EQ(val.size(), 128u);
    EXPECT_TRUE(ks.value_matches(42, val));
    EXPECT_FALSE(ks.value_matches(43, val));
  }
  EXPECT_NE(ks.value(1, 0), ks.value(1, 1));
  EXPECT_FALSE(ks.value_matches(42, ks.value(42, 0).substr(0, 127)));
  EXPECT_THROW(keyspace("a-very-long-prefix-of-too-many-bytes", 32, 128), std::invalid_argument);
  EXPECT_THROW(keyspace("k", 32, 16), std::invalid_argument);
}

TEST(RedisLoad, RequestBytes) {
  const keyspace ks{"key:", 12, 16};
  std::string out;
  ks.append_get(out, 5);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$12\r\nkey:00000005\r\n");
  out.clear();
  ks.append_set(out, 5, 1);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$12\r\nkey:00000005\r\n$16\r\nkey:00000005=v1:\r\n");
}

TEST(RedisLoad, RepliesWholeAndInPieces) {
  const std::string bulk = "$5\r\nhello\r\n";
  for (std::size_t n = 0; n < bulk.size(); ++n)
    EXPECT_FALSE(parse_reply(std::string_view{bulk}.substr(0, n))) << n;
  const std::string two = bulk + "+OK\r\n";  // text points into it
  auto r = parse_reply(two);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply_kind::bulk);
  EXPECT_EQ(r->text, "hello");
  EXPECT_EQ(r->consumed, bulk.size());

  r = parse_reply("$-1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply_kind::nil);
  r = parse_reply("$0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply_kind::bulk);
  EXPECT_EQ(r->text, "");
  r = parse_reply("+OK\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply_kind::status);
  EXPECT_EQ(r->text, "OK");
  r = parse_reply("-ERR wrong\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply_kind::error);
  r = parse_reply(":12\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, reply_kind::integer);
  EXPECT_EQ(r->text, "12");
}

TEST(RedisLoad, BadRepliesThrow) {
  EXPECT_THROW((void)parse_reply("$x\r\n"), std::runtime_error);
  EXPECT_THROW((void)parse_reply("$-2\r\n"), std::runtime_error);
  EXPECT_THROW((void)parse_reply("$2\r\nabcd"), std::runtime_error);
  EXPECT_THROW((void)parse_reply("*1\r\n$1\r\na\r\n"), std::runtime_error);
  EXPECT_THROW((void)parse_reply("HTTP/1.1 200 OK\r\n"), std::runtime_error);
  EXPECT_THROW((void)parse_reply(std::string(100, '+')), std::runtime_error);
}

}  // namespace
