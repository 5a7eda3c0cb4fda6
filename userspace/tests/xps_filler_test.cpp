// SPDX-License-Identifier: GPL-2.0
//
// The Redis cache filler's protocol with fake tokens, Redis and cache: the
// order (token, then fetch, then store), no store while a write is pending,
// bounded retries, what gets cached and how.
#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "xps/filler.hpp"

extern "C" {
#include "xps/resp.h"
}

namespace {

using namespace xps::redis;
using namespace std::chrono_literals;
using clock_type = Filler::clock;

// Every call of the three fakes, in order: "token K", "fetch K1,K2", "store K".
struct Log {
  std::vector<std::string> events;
};

struct FakeTokens : TokenSource {
  Log& log;
  std::map<std::uint32_t, std::uint64_t> tokens;  // by slot; absent: 7
  std::map<std::uint32_t, std::string> keys;      // slot -> key, for the log
  explicit FakeTokens(Log& l) : log{l} {}
  std::uint64_t token(std::uint32_t slot) override {
    log.events.push_back("token " + (keys.count(slot) ? keys[slot] : std::to_string(slot)));
    auto it = tokens.find(slot);
    return it == tokens.end() ? 7 : it->second;
  }
};

struct FakeRedis : Fetcher {
  Log& log;
  std::map<std::string, Fetched> data;
  bool fail = false;
  explicit FakeRedis(Log& l) : log{l} {}
  std::vector<Fetched> fetch(const std::vector<std::string>& keys) override {
    std::string e = "fetch ";
    for (std::size_t i = 0; i < keys.size(); ++i) e += (i ? "," : "") + keys[i];
    log.events.push_back(e);
    if (fail) throw std::runtime_error("connection lost");
    std::vector<Fetched> out;
    for (const auto& k : keys) out.push_back(data.count(k) ? data[k] : Fetched{});
    return out;
  }
};

struct FakeCache : Cache {
  Log& log;
  std::map<std::string, Entry> entries;
  explicit FakeCache(Log& l) : log{l} {}
  void store(const std::string& key, const Entry& e) override {
    log.events.push_back("store " + key);
    entries[key] = e;
  }
};

class FillerTest : public ::testing::Test {
 protected:
  Log log;
  FakeTokens tokens{log};
  FakeRedis redis{log};
  FakeCache cache{log};
  clock_type::time_point t0 = clock_type::now();

  void value(const std::string& key, std::string v, long long pexpiretime = -1) {
    redis.data[key] = Fetched{std::move(v), pexpiretime};
    tokens.keys[slot_of(key)] = key;
  }
};

TEST(XpsFillerSlot, IsTheHandlersHash) {
  // FNV-1a 32-bit of "a" is 0xe40c292c; the slot is that modulo XPS_SLOTS.
  EXPECT_EQ(slot_of("a"), 0xe40c292cu % XPS_SLOTS);
  EXPECT_EQ(slot_of("user:1"), xps_resp_slot("user:1", 6));
  EXPECT_LT(slot_of("some other key"), static_cast<std::uint32_t>(XPS_SLOTS));
}

TEST_F(FillerTest, TokenBeforeFetchBeforeStore) {
  value("k1", "v1");
  value("k2", "v2", 1700000000123);
  tokens.tokens[slot_of("k2")] = 99;
  Filler f(tokens, redis, cache);
  f.miss("k1", t0);
  f.miss("k2", t0);
  EXPECT_EQ(f.run(t0), 2u);
  EXPECT_EQ(log.events, (std::vector<std::string>{"token k1", "token k2", "fetch k1,k2",
                                                  "store k1", "store k2"}))
      << "every token is taken before Redis is asked; one pipeline for the batch";
  EXPECT_EQ(cache.entries["k1"].token, 7u ^ xps_resp_tag("k1", 2));
  EXPECT_EQ(cache.entries["k1"].expire_ms, 0u) << "PEXPIRETIME -1: no expiry";
  EXPECT_EQ(cache.entries["k1"].data, "v1");
  EXPECT_EQ(cache.entries["k2"].token, 99u ^ xps_resp_tag("k2", 2))
      << "the token of the key's own slot, XORed with the key's tag";
  EXPECT_EQ(cache.entries["k2"].expire_ms, 1700000000123u);
  EXPECT_EQ(f.stats().filled, 2u);
  EXPECT_EQ(f.queued(), 0u);
  EXPECT_FALSE(f.next_due());
}

TEST_F(FillerTest, PendingWriteMeansNoFetchAndNoStore) {
  value("k", "old");
  tokens.tokens[slot_of("k")] = 0;
  Options o;
  o.retry_delay = 1ms;
  Filler f(tokens, redis, cache, o);
  f.miss("k", t0);
  f.run(t0);
  EXPECT_EQ(log.events, (std::vector<std::string>{"token k"}))
      << "token 0: Redis is not asked, nothing is stored";
  EXPECT_TRUE(cache.entries.empty());
  EXPECT_EQ(f.stats().write_pending, 1u);
  ASSERT_TRUE(f.next_due());
  EXPECT_GT(*f.next_due(), t0) << "retried later, not at once";
  EXPECT_EQ(f.run(t0), 0u) << "not due yet";

  // The write ended (new generation): the retry fills with the new token.
  tokens.tokens[slot_of("k")] = 8;
  value("k", "new");
  EXPECT_EQ(f.run(*f.next_due()), 1u);
  EXPECT_EQ(cache.entries.at("k").data, "new");
  EXPECT_EQ(cache.entries.at("k").token, 8u ^ xps_resp_tag("k", 1));
}

TEST_F(FillerTest, RetriesAreBoundedAndBackOff) {
  value("k", "v");
  tokens.tokens[slot_of("k")] = 0;
  Options o;
  o.max_tries = 4;
  o.retry_delay = 1ms;
  Filler f(tokens, redis, cache, o);
  f.miss("k", t0);
  auto now = t0;
  std::vector<clock_type::duration> delays;
  for (int i = 0; i < 10 && (i == 0 || f.next_due()); ++i) {
    f.run(now);
    if (auto due = f.next_due()) {
      delays.push_back(*due - now);
      now = *due;
    }
  }
  EXPECT_EQ(f.stats().write_pending, 4u);
  EXPECT_EQ(f.stats().gave_up, 1u);
  EXPECT_EQ(f.queued(), 0u);
  ASSERT_EQ(delays.size(), 3u);
  EXPECT_EQ(delays[0], 1ms);
  EXPECT_EQ(delays[1], 2ms);
  EXPECT_EQ(delays[2], 4ms);
  EXPECT_TRUE(cache.entries.empty());
  for (const auto& e : log.events) EXPECT_EQ(e, "token k") << "never fetched";
  // A later miss starts over.
  tokens.tokens[slot_of("k")] = 3;
  f.miss("k", now);
  f.run(now);
  EXPECT_EQ(cache.entries.at("k").token, 3u ^ xps_resp_tag("k", 1));
}

TEST_F(FillerTest, WhatIsNotCached) {
  value("nil", "");
  redis.data["nil"] = Fetched{std::nullopt, -1};  // absent or not a string
  value("gone", "x", -2);                            // vanished between the replies
  value("big", std::string(513, 'b'));
  value("max", std::string(512, 'm'));
  Filler f(tokens, redis, cache);
  for (const char* k : {"nil", "gone", "big", "max"}) f.miss(k, t0);
  f.miss(std::string(65, 'k'), t0);  // longer than a cache key
  f.miss("", t0);
  f.run(t0);
  EXPECT_EQ(cache.entries.size(), 1u);
  EXPECT_EQ(cache.entries.count("max"), 1u) << "512 bytes are cached";
  EXPECT_EQ(f.stats().absent, 2u);
  EXPECT_EQ(f.stats().too_large, 3u);
  EXPECT_EQ(f.stats().misses, 6u);
}

TEST_F(FillerTest, MergesAQueuedKey) {
  value("k", "v");
  Filler f(tokens, redis, cache);
  f.miss("k", t0);
  f.miss("k", t0);
  f.miss("k", t0);
  f.run(t0);
  EXPECT_EQ(f.stats().merged, 2u);
  EXPECT_EQ(log.events, (std::vector<std::string>{"token k", "fetch k", "store k"}));
}

TEST_F(FillerTest, BatchesAreBounded) {
  Options o;
  o.batch = 2;
  Filler f(tokens, redis, cache, o);
  for (const char* k : {"a", "b", "c"}) {
    value(k, k);
    f.miss(k, t0);
  }
  EXPECT_EQ(f.run(t0), 2u);
  EXPECT_EQ(f.run(t0), 1u);
  EXPECT_EQ(f.run(t0), 0u);
  EXPECT_EQ(cache.entries.size(), 3u);
  EXPECT_EQ(std::count_if(log.events.begin(), log.events.end(),
                          [](const std::string& e) { return e.starts_with("fetch"); }),
            2);
}

TEST_F(FillerTest, AFailedFetchStoresNothingAndForgetsTheBatch) {
  value("k", "v");
  redis.fail = true;
  Filler f(tokens, redis, cache);
  f.miss("k", t0);
  EXPECT_THROW(f.run(t0), std::runtime_error);
  EXPECT_TRUE(cache.entries.empty());
  EXPECT_EQ(f.stats().fetch_errors, 1u);
  EXPECT_EQ(f.queued(), 0u);
  redis.fail = false;
  f.miss("k", t0);  // the next miss fills it
  f.run(t0);
  EXPECT_EQ(cache.entries.count("k"), 1u);
}

TEST_F(FillerTest, QueueIsBounded) {
  Options o;
  o.max_queued = 2;
  Filler f(tokens, redis, cache, o);
  f.miss("a", t0);
  f.miss("b", t0);
  f.miss("c", t0);
  EXPECT_EQ(f.queued(), 2u);
  EXPECT_EQ(f.stats().dropped, 1u);
  const auto j = to_json(f.stats());
  EXPECT_EQ(j["dropped"], 1);
  EXPECT_EQ(j["misses"], 3);
}

}  // namespace
