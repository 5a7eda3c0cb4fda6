// SPDX-License-Identifier: GPL-2.0
//
// libxps without the module: key/value encoding, the shipped handlers' map
// layouts (bpf/xps_redis.h, bpf/xps_http.h) and the module's sysfs counters
// read from a fake tree.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "xcommon/error.hpp"
#include "xps/bytes.hpp"
#include "xps/http.hpp"
#include "xps/redis.hpp"
#include "xps/sysfs.hpp"

extern "C" {
#include "xps_http.h"
#include "xps_redis.h"
}

namespace {

namespace fs = std::filesystem;

std::string enc(std::string_view text, std::size_t size) {
  std::string why;
  auto b = xps::encode(text, size, "key", &why);
  EXPECT_TRUE(b) << text << ": " << why;
  return b.value_or("");
}

std::string why_not(std::string_view text, std::size_t size) {
  std::string why;
  EXPECT_FALSE(xps::encode(text, size, "value", &why)) << text;
  return why;
}

TEST(XpsBytes, Encode) {
  EXPECT_EQ(enc("POST", 8), std::string("POST\0\0\0\0", 8)) << "zero-padded";
  EXPECT_EQ(enc("str:hex:x", 5), "hex:x");
  EXPECT_EQ(enc("hex:0a0B", 2), "\x0a\x0b");
  EXPECT_EQ(enc("0x0a", 4), std::string("\x0a\0\0\0", 4));
  const std::uint32_t n = 258;
  EXPECT_EQ(enc("u32:258", 4), std::string(reinterpret_cast<const char*>(&n), 4));
  EXPECT_EQ(enc("u8:255", 1), "\xff");
  EXPECT_EQ(enc("u64:1", 8).size(), 8u);
  EXPECT_EQ(enc("", 2), std::string(2, '\0'));

  EXPECT_NE(why_not("toolong", 4).find("has 7 bytes, the map's values have 4"),
            std::string::npos);
  EXPECT_NE(why_not("hex:0", 4).find("not hex"), std::string::npos);
  EXPECT_NE(why_not("hex:", 4).find("not hex"), std::string::npos);
  EXPECT_NE(why_not("u8:256", 4).find("0..255"), std::string::npos);
  EXPECT_NE(why_not("u16:-1", 4).find("not a number"), std::string::npos);
  EXPECT_NE(why_not("u32:1", 2).find("has 4 bytes"), std::string::npos);
}

TEST(XpsBytes, DisplayRoundTrips) {
  for (std::string s : {std::string("user:1\0\0", 8), std::string("\x01\x02", 2),
                        std::string("hex:ab"), std::string("u32:5")}) {
    const std::string shown = xps::display(s);
    EXPECT_EQ(enc(shown, s.size()), s) << shown;
  }
  EXPECT_EQ(xps::display(std::string("GET\0", 4)), "GET");
  EXPECT_EQ(xps::display("\x01"), "hex:01");
  EXPECT_EQ(xps::display("u32:5"), "str:u32:5");
}

// --- the Redis handler's maps ------------------------------------------------

TEST(XpsRedisLayout, CacheKeyAndValue) {
  const auto k = xps::redis::cache_key("user:1");
  ASSERT_TRUE(k);
  ASSERT_EQ(k->size(), sizeof(xps_redis_key));
  xps_redis_key key{};
  std::memcpy(&key, k->data(), sizeof(key));
  EXPECT_EQ(key.len, 6u);
  EXPECT_EQ(std::string(key.key, 6), "user:1");
  for (std::size_t i = 6; i < sizeof(key.key); ++i) EXPECT_EQ(key.key[i], 0);
  EXPECT_TRUE(xps::redis::cache_key(std::string(sizeof(key.key), 'k')));
  EXPECT_FALSE(xps::redis::cache_key(std::string(sizeof(key.key) + 1, 'k')));
  EXPECT_FALSE(xps::redis::cache_key(""));

  xps::redis::Entry e{0x1122334455667788ull, 1700000000000ull, "hello"};
  const std::string v = xps::redis::cache_value(e);
  ASSERT_EQ(v.size(), sizeof(xps_redis_val));
  xps_redis_val val{};
  std::memcpy(&val, v.data(), sizeof(val));
  EXPECT_EQ(val.token, e.token);
  EXPECT_EQ(val.expire_ms, e.expire_ms);
  EXPECT_EQ(val.len, 5u);
  EXPECT_EQ(val.hits, 0u) << "a fresh entry has no hits";
  EXPECT_EQ(std::string(val.data, 5), "hello");

  val.hits = 42;
  std::string hit(reinterpret_cast<const char*>(&val), sizeof(val));
  const auto back = xps::redis::parse_cache_value(hit);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->hits, 42u);
  EXPECT_EQ(back->entry.data, "hello");
  EXPECT_FALSE(xps::redis::parse_cache_value("short"));
}

TEST(XpsRedisLayout, MissRecords) {
  xps_redis_miss m{};
  m.len = 3;
  std::memcpy(m.key, "abc", 3);
  std::string rec(reinterpret_cast<const char*>(&m), sizeof(m));
  EXPECT_EQ(xps::redis::parse_miss(rec), "abc");
  m.len = sizeof(m.key) + 1;
  rec.assign(reinterpret_cast<const char*>(&m), sizeof(m));
  EXPECT_FALSE(xps::redis::parse_miss(rec)) << "length past the key";
  m.len = 0;
  rec.assign(reinterpret_cast<const char*>(&m), sizeof(m));
  EXPECT_FALSE(xps::redis::parse_miss(rec));
  EXPECT_FALSE(xps::redis::parse_miss("tiny"));
}

TEST(XpsRedisLayout, Eviction) {
  EXPECT_FALSE((xps::redis::Eviction{"noeviction", 1 << 20}.possible()));
  EXPECT_FALSE((xps::redis::Eviction{"allkeys-lru", 0}.possible())) << "no maxmemory";
  EXPECT_TRUE((xps::redis::Eviction{"allkeys-lru", 1 << 20}.possible()));
  EXPECT_TRUE((xps::redis::Eviction{"volatile-ttl", 1}.possible()));
}

TEST(XpsHttpLayout, MethodTable) {
  const auto k = xps::http::method_key("POST");
  ASSERT_TRUE(k);
  ASSERT_EQ(k->size(), sizeof(xps_http_method));
  EXPECT_EQ(std::string(k->c_str()), "POST");
  EXPECT_FALSE(xps::http::method_key(std::string(sizeof(xps_http_method), 'A')));

  const std::string v = xps::http::action_value(xps::http::Action::reply, 405);
  ASSERT_EQ(v.size(), sizeof(xps_http_action));
  const auto back = xps::http::parse_action(v);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->first, xps::http::Action::reply);
  EXPECT_EQ(back->second, 405);
  EXPECT_EQ(xps::http::parse_action(xps::http::action_value(xps::http::Action::reset))->first,
            xps::http::Action::reset);
  EXPECT_EQ(xps::http::parse_action(xps::http::action_value(xps::http::Action::drop))->first,
            xps::http::Action::drop);
}

// --- sysfs -------------------------------------------------------------------

class XpsSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "xps-sysfs.XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    tmp_ = templ;
    root_ = tmp_ / "xps";
    fs::create_directories(root_ / "handlers" / "redis");
    fs::create_directories(root_ / "handlers" / "http");
    put("fences_pending", "3\n");
    put("conns", "12\n");
    int i = 0;
    for (auto c : xps::k_handler_counters) put(fmt::format("handlers/redis/{}", c), fmt::format("{}\n", ++i));
    put("handlers/redis/newer", "99\n");
    put("handlers/http/calls", "5\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  void put(const std::string& rel, const std::string& text) {
    std::ofstream f(root_ / rel);
    f << text;
  }
  fs::path tmp_, root_;
};

TEST_F(XpsSysfs, HandlersAndCounters) {
  const xps::Sysfs s(root_.string());
  EXPECT_TRUE(s.loaded());
  EXPECT_EQ(s.handlers(), (std::vector<std::string>{"http", "redis"}));
  const auto h = s.handler("redis");
  ASSERT_EQ(h.counters.items.size(), xps::k_handler_counters.size() + 1);
  EXPECT_EQ(h.counters.items.front().name, "calls") << "known counters first, in order";
  EXPECT_EQ(h.counters.items.back().name, "newer") << "then a newer module's";
  EXPECT_EQ(h.counters["tx"], 2u);
  EXPECT_EQ(h.counters["owner_pid"], xps::k_handler_counters.size()) << "the last known one";
  EXPECT_EQ(h.counters["yielded"], 9u);
  EXPECT_EQ(h.counters["write_through"], 10u);
  EXPECT_EQ(h.counters["charged_ns"], 12u);
  EXPECT_FALSE(h.counters.get("nope"));
  EXPECT_EQ(s.global()["fences_pending"], 3u);
  EXPECT_EQ(xps::to_json(s.global())["conns"], 12);
  EXPECT_NE(xps::counter_description("unsync"), "");
}

TEST_F(XpsSysfs, Errors) {
  try {
    (void)xps::Sysfs((tmp_ / "absent").string()).handlers();
    ADD_FAILURE() << "no error without the module";
  } catch (const xcommon::error& e) {
    EXPECT_STREQ(e.what(), "xps module not loaded: insmod modules/xps/xps.ko");
    EXPECT_EQ(e.code(), ENOENT);
  }
  const xps::Sysfs s(root_.string());
  try {
    (void)s.handler("nosuch");
    ADD_FAILURE();
  } catch (const xcommon::error& e) {
    EXPECT_STREQ(e.what(), "unknown handler 'nosuch'");
  }
  EXPECT_FALSE(s.has_handler("../handlers"));
  put("handlers/http/tx", "lots\n");
  EXPECT_THROW((void)s.handler("http"), xcommon::error);
  EXPECT_EQ(xps::parse_counter("17\n"), 17u);
  EXPECT_FALSE(xps::parse_counter("-1"));
  EXPECT_FALSE(xps::parse_counter(""));
}

}  // namespace
