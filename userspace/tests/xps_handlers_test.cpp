// SPDX-License-Identifier: GPL-2.0
//
// The shipped XPS handlers' logic (bpf/xps_redis_core.h, bpf/xps_http_core.h)
// run here with fakes of the module's kfuncs and of the maps: what they
// answer, what they pass, and every write fence, hold, partial report and
// per-connection state they leave behind.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xps_parse_driver.hpp"

extern "C" {
#include "xps_http.h"
#include "xps_redis.h"
}

namespace {

// What the handlers did to the module, the maps and the reply.
struct fake_env {
  std::string payload;
  std::string reply;
  std::size_t reply_limit = XPS_REPLY_MAX;
  std::function<void()> on_reply;
  std::vector<std::uint32_t> fences;
  std::vector<std::uint32_t> holds;
  std::vector<std::uint32_t> partials;
  int state_sets = 0;
  std::uint64_t state = 0;
  int loads = 0;
  bool fail_load = false;
  // Redis
  std::map<std::string, xps_redis_val> cache;
  std::map<std::uint32_t, std::uint64_t> tokens;  // per slot; else default_token
  std::uint64_t default_token = 7;
  std::uint64_t now_ms = 1'700'000'000'000ULL;
  std::vector<std::string> misses;
  int lookups = 0;
  // Write-through: what bpf_xps_fence_write_through() returns, what it got.
  std::uint64_t wt_token = 0;
  std::vector<std::uint32_t> wt_fences;
  std::string wt_ok;
  int stores = 0;
  // HTTP
  std::map<std::string, xps_http_action> methods;
};

fake_env* env;

int fake_load(xps_md*, __u32 off, void* buf, __u32 n) {
  ++env->loads;
  if (env->fail_load || std::uint64_t{off} + n > env->payload.size()) return -EINVAL;
  std::memcpy(buf, env->payload.data() + off, n);
  return static_cast<int>(n);
}

int fake_reply(xps_md*, const void* buf, __u32 n) {
  if (env->reply.size() + n > env->reply_limit) return -ENOSPC;
  env->reply.append(static_cast<const char*>(buf), n);
  if (env->on_reply) env->on_reply();
  return 0;
}

std::string key_of(const xps_redis_key* k) {
  EXPECT_LE(k->len, sizeof(k->key));
  for (std::size_t i = k->len; i < sizeof(k->key); ++i)
    EXPECT_EQ(k->key[i], 0) << "key not zero-padded";
  return std::string(k->key, std::min<std::size_t>(k->len, sizeof(k->key)));
}

xps_redis_val* fake_lookup(const xps_redis_key* k) {
  ++env->lookups;
  auto it = env->cache.find(key_of(k));
  return it == env->cache.end() ? nullptr : &it->second;
}

std::uint64_t fake_token(std::uint32_t slot) {
  EXPECT_LT(slot, XPS_SLOTS);
  auto it = env->tokens.find(slot);
  return it == env->tokens.end() ? env->default_token : it->second;
}

std::uint64_t fake_fence_wt(std::uint32_t slot, const void* ok, __u32 n) {
  // Only for a slot the handler fenced in this call.
  EXPECT_NE(std::find(env->fences.begin(), env->fences.end(), slot), env->fences.end());
  env->wt_fences.push_back(slot);
  env->wt_ok.assign(static_cast<const char*>(ok), n);
  return env->wt_token;
}

void fake_store(const xps_redis_key* k, const xps_redis_val* v) {
  ++env->stores;
  EXPECT_LE(v->len, sizeof(v->data));
  env->cache[key_of(k)] = *v;
}

xps_http_action* fake_action(const xps_http_method* m) {
  auto it = env->methods.find(std::string(m->name, strnlen(m->name, sizeof(m->name))));
  return it == env->methods.end() ? nullptr : &it->second;
}

}  // namespace

#define XR_LOAD(md, off, buf, n) fake_load(md, off, buf, n)
#define XR_REPLY(md, buf, n) fake_reply(md, buf, n)
#define XR_PARTIAL(md, need) ((void)(md), env->partials.push_back(need))
#define XR_FENCE(md, slot) ((void)(md), env->fences.push_back(slot))
#define XR_FENCE_WT(md, slot, ok, n) ((void)(md), fake_fence_wt(slot, ok, n))
#define XR_STORE(key, val) fake_store(key, val)
#define XR_TOKEN(slot) fake_token(slot)
#define XR_HOLD(md, how) ((void)(md), env->holds.push_back(how))
#define XR_SET_STATE(md, st) ((void)(md), ++env->state_sets, env->state = (st))
#define XR_NOW_MS() env->now_ms
#define XR_LOOKUP(key) fake_lookup(key)
#define XR_MISS(key) env->misses.push_back(key_of(key))
#define XR_FOR(i, from, to) for ((i) = (from); (i) < (to); (i)++)
#include "xps_redis_core.h"

#define XH_LOAD(md, off, buf, n) fake_load(md, off, buf, n)
#define XH_REPLY(md, buf, n) fake_reply(md, buf, n)
#define XH_PARTIAL(md, need) ((void)(md), env->partials.push_back(need))
#define XH_SET_STATE(md, st) ((void)(md), ++env->state_sets, env->state = (st))
#define XH_LOOKUP(key) fake_action(key)
#define XH_FOR(i, from, to) for ((i) = (from); (i) < (to); (i)++)
#include "xps_http_core.h"

namespace {

using xps_test::resp;

std::uint32_t slot(const std::string& k) {
  return xps_resp_slot(k.data(), static_cast<__u32>(k.size()));
}

// One connection: payloads arrive in sequence, the state carries over.
struct conn {
  fake_env e;
  std::uint32_t seq = 1000;
  std::uint64_t state = 0;
  std::uint32_t flags = 0;

  conn() { env = &e; }
  ~conn() { env = nullptr; }

  // Clears what the last call did (not the maps).
  void clear() {
    e.reply.clear();
    e.fences.clear();
    e.holds.clear();
    e.partials.clear();
    e.misses.clear();
    e.wt_fences.clear();
    e.wt_ok.clear();
    e.stores = 0;
    e.state_sets = 0;
    e.lookups = 0;
    e.loads = 0;
  }

  template <typename Scratch, typename Run>
  int call(const std::string& payload, Run run) {
    clear();
    e.payload = payload;
    xps_md md{};
    md.len = static_cast<__u32>(payload.size());
    md.seq = seq;
    md.state = state;
    md.flags = flags;
    // Per-CPU scratch keeps whatever the last call left: garbage here.
    auto sc = std::make_unique<Scratch>();
    std::memset(sc.get(), 0xa5, sizeof(Scratch));
    const int v = run(&md, sc.get());
    EXPECT_EQ(e.state_sets, 1) << "state set once per call";
    state = e.state;
    seq += md.len;
    return v;
  }

  int redis(const std::string& payload) {
    return call<xps_redis_scratch>(payload, [this](xps_md* md, xps_redis_scratch* sc) {
      xps_redis_conf conf{};
      conf.enabled = enabled;
      conf.writes_global = writes_global;
      conf.write_through = write_through;
      return xps_redis_run(md, sc, have_conf ? &conf : nullptr);
    });
  }

  int http(const std::string& payload) {
    return call<xps_http_scratch>(
        payload, [](xps_md* md, xps_http_scratch* sc) { return xps_http_run(md, sc); });
  }

  void cache(const std::string& k, const std::string& v, std::uint64_t token = 7,
             std::uint64_t expire_ms = 0) {
    xps_redis_val val{};
    val.token = token ^ xps_resp_tag(k.data(), static_cast<__u32>(k.size()));
    val.expire_ms = expire_ms;
    val.len = static_cast<__u32>(v.size());
    std::memcpy(val.data, v.data(), v.size());
    e.cache[k] = val;
  }

  std::uint32_t enabled = 1, writes_global = 0, write_through = 0;
  bool have_conf = true;
};

std::string bulk(const std::string& v) {
  return "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n";
}

const std::uint64_t ST_VALID = XPS_REDIS_ST_VALID;

// ---- Redis: answers -----------------------------------------------------

TEST(XpsRedisHandler, AnswersValidGets) {
  conn c;
  c.cache("foo", "bar");
  EXPECT_EQ(c.redis(resp({"GET", "foo"})), XPS_TX);
  EXPECT_EQ(c.e.reply, bulk("bar"));
  EXPECT_TRUE(c.e.fences.empty());
  EXPECT_TRUE(c.e.misses.empty());
  EXPECT_TRUE(c.e.partials.empty());
  EXPECT_EQ(c.e.cache["foo"].hits, 1u);
  EXPECT_EQ(c.state, ST_VALID | c.seq);

  // Any case, pipelined, empty and 512-byte values, numbers of every width.
  const std::string v512(XPS_REDIS_VAL_MAX, 'z');
  c.cache("e", "");
  c.cache("big", v512);
  c.cache("k10", std::string(10, 'a'));
  c.cache("k100", std::string(100, 'b'));
  EXPECT_EQ(c.redis(resp({"get", "foo"}) + resp({"GET", "e"}) + resp({"gEt", "big"}) +
                    resp({"GET", "k10"}) + resp({"GET", "k100"})),
            XPS_TX);
  EXPECT_EQ(c.e.reply, bulk("bar") + bulk("") + bulk(v512) + bulk(std::string(10, 'a')) +
                           bulk(std::string(100, 'b')));
  EXPECT_EQ(c.e.cache["foo"].hits, 2u);
}

TEST(XpsRedisHandler, ManyPipelinedGetsAcrossWindows) {
  conn c;
  std::string in, out;
  for (int i = 0; i < 150; ++i) {
    const std::string k = "key:" + std::to_string(i), v = "value-" + std::to_string(i * 7);
    c.cache(k, v);
    in += resp({"GET", k});
    out += bulk(v);
  }
  ASSERT_GT(in.size(), XPS_RESP_WIN);
  EXPECT_EQ(c.redis(in), XPS_TX);
  EXPECT_EQ(c.e.reply, out);
  EXPECT_GT(c.e.loads, 1);
}

TEST(XpsRedisHandler, MissesArePassedAndReported) {
  conn c;
  // Absent.
  EXPECT_EQ(c.redis(resp({"GET", "nope"})), XPS_PASS);
  EXPECT_EQ(c.e.misses, std::vector<std::string>{"nope"});
  EXPECT_TRUE(c.e.fences.empty());
  // Token 0 (written since), stale token, expired, about to expire.
  c.cache("zero", "v", 0);
  c.cache("stale", "v", 6);
  c.cache("expired", "v", 7, c.e.now_ms);
  c.cache("edge", "v", 7, c.e.now_ms + 1);
  for (const char* k : {"zero", "stale", "expired", "edge"}) {
    EXPECT_EQ(c.redis(resp({"GET", k})), XPS_PASS) << k;
    EXPECT_EQ(c.e.misses, std::vector<std::string>{k});
    EXPECT_EQ(c.e.cache[k].hits, 0u) << k;
  }
  c.cache("later", "v", 7, c.e.now_ms + 2);
  EXPECT_EQ(c.redis(resp({"GET", "later"})), XPS_TX);
  // The slot's own token counts.
  c.cache("mine", "v", 9);
  c.e.tokens[slot("mine")] = 9;
  EXPECT_EQ(c.redis(resp({"GET", "mine"})), XPS_TX);
  c.e.tokens[slot("mine")] = 0;  // a write is pending
  EXPECT_EQ(c.redis(resp({"GET", "mine"})), XPS_PASS);
  // One miss among hits passes all, reports the one.
  c.cache("a", "1");
  EXPECT_EQ(c.redis(resp({"GET", "a"}) + resp({"GET", "b"}) + resp({"GET", "a"})), XPS_PASS);
  EXPECT_EQ(c.e.misses, std::vector<std::string>{"b"});
}

TEST(XpsRedisHandler, WhatIsNeverAnswered) {
  conn c;
  c.cache("a", "1");
  const std::string key65(65, 'k');
  c.cache(key65.substr(0, 64), "x");
  // A key longer than the cache's: passed, not reported.
  EXPECT_EQ(c.redis(resp({"GET", key65})), XPS_PASS);
  EXPECT_TRUE(c.e.misses.empty());
  EXPECT_EQ(c.e.lookups, 0);
  // GET with the wrong arity: Redis answers an error.
  EXPECT_EQ(c.redis(resp({"GET", "a", "b"})), XPS_PASS);
  EXPECT_EQ(c.redis(resp({"GET"})), XPS_PASS);
  // GET after any other command, or before one.
  EXPECT_EQ(c.redis(resp({"PING"}) + resp({"GET", "a"})), XPS_PASS);
  EXPECT_EQ(c.redis(resp({"GET", "a"}) + resp({"EXISTS", "a"})), XPS_PASS);
  EXPECT_EQ(c.redis("*0\r\n" + resp({"GET", "a"})), XPS_PASS);
  // A value the cache cannot hold is invalid.
  c.e.cache["a"].len = XPS_REDIS_VAL_MAX + 1;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_EQ(c.e.misses, std::vector<std::string>{"a"});
}

TEST(XpsRedisHandler, GetAfterWriteOfItInOnePayloadIsPassed) {
  conn c;
  c.cache("k", "old");
  EXPECT_EQ(c.redis(resp({"SET", "k", "new"}) + resp({"GET", "k"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("k")});
}

TEST(XpsRedisHandler, DisabledOrPassOnly) {
  conn c;
  c.cache("a", "1");
  c.enabled = 0;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_TRUE(c.e.misses.empty());
  EXPECT_EQ(c.e.lookups, 0);
  // Writes are fenced all the same (the cache must stay coherent).
  EXPECT_EQ(c.redis(resp({"SET", "a", "2"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("a")});
  c.enabled = 1;
  c.have_conf = false;  // no configuration: nothing served, writes fence all
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_EQ(c.redis(resp({"SET", "a", "2"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL});
  c.have_conf = true;
  c.flags = XPS_MD_PASS_ONLY;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_TRUE(c.e.reply.empty());
  c.flags = 0;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
}

TEST(XpsRedisHandler, ReplyRefusedOrTorn) {
  conn c;
  c.cache("a", std::string(500, 'a'));
  c.e.reply_limit = 100;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  c.e.reply_limit = XPS_REPLY_MAX;
  // The entry is replaced while its value is copied.
  c.e.on_reply = [&c] { c.e.cache["a"].token = 8; };
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  c.e.on_reply = nullptr;
  c.e.cache["a"].token = 7 ^ xps_resp_tag("a", 1);
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
}

// A hash-map element recycled for another key while a GET copies it looks,
// to that GET, like its own entry; both slots have the same fence token.
TEST(XpsRedisHandler, AnotherKeysEntryIsNotServed) {
  conn c;
  c.cache("b", "B-value");
  c.e.cache["a"] = c.e.cache["b"];  // what the lookup of "a" now sees
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  c.cache("a", "A-value");
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
}

// ---- Redis: write fences ---------------------------------------------------

TEST(XpsRedisHandler, WritesFenceTheirKeys) {
  struct wcase {
    std::vector<std::string> cmd;
    std::vector<std::string> fenced;  // "*" for all slots
  };
  const std::vector<wcase> cases = {
      {{"SET", "k", "v"}, {"k"}},
      {{"set", "k", "v", "EX", "1"}, {"k"}},
      {{"INCR", "n"}, {"n"}},
      {{"APPEND", "k", "x"}, {"k"}},
      {{"EXPIRE", "k", "10"}, {"k"}},
      {{"GETDEL", "k"}, {"k"}},
      {{"DEL", "a", "b"}, {"a", "b"}},
      {{"UNLINK", "a", "b", "c"}, {"a", "b", "c"}},
      {{"MSET", "a", "1", "b", "2"}, {"a", "b"}},
      {{"RENAME", "a", "b"}, {"a", "b"}},
      {{"COPY", "a", "b"}, {"a", "b"}},
      {{"COPY", "a", "b", "DB", "2"}, {"a", "b", "*"}},
      {{"LPUSH", "l", "x"}, {"l"}},
      {{"SET"}, {"*"}},  // no key where one should be
      {{"DEL", std::string(65, 'l')}, {}},  // never cached
      {{"FLUSHALL"}, {"*"}},
      {{"EVAL", "redis.call('set','a','b')", "0"}, {"*"}},
      {{"NOSUCH", "a"}, {"*"}},
      {{"SWAPDB", "0", "1"}, {"*"}},
      {{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}, {"*"}},
  };
  for (const auto& w : cases) {
    conn c;
    c.cache("a", "1");
    EXPECT_EQ(c.redis(resp(w.cmd)), XPS_PASS) << w.cmd[0];
    std::vector<std::uint32_t> want;
    for (const auto& k : w.fenced) want.push_back(k == "*" ? XPS_SLOT_ALL : slot(k));
    EXPECT_EQ(c.e.fences, want) << w.cmd[0];
    EXPECT_TRUE(c.e.holds.empty()) << w.cmd[0];
    EXPECT_FALSE(c.state & XPS_REDIS_ST_TAINT) << w.cmd[0];
    EXPECT_TRUE(c.e.misses.empty());
  }
}

// ---- Redis: write-through -----------------------------------------------

std::uint64_t tag(const std::string& k) {
  return xps_resp_tag(k.data(), static_cast<__u32>(k.size()));
}

TEST(XpsRedisHandler, WriteThroughStoresAPlainSetFirst) {
  conn c;
  c.write_through = 1;
  c.e.wt_token = 42;
  c.cache("k", "old");
  EXPECT_EQ(c.redis(resp({"SET", "k", "hello"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("k")});
  EXPECT_EQ(c.e.wt_fences, std::vector<std::uint32_t>{slot("k")});
  EXPECT_EQ(c.e.wt_ok, "+OK\r\n");
  ASSERT_EQ(c.e.stores, 1);
  const xps_redis_val& v = c.e.cache.at("k");
  EXPECT_EQ(v.token, 42 ^ tag("k"));
  EXPECT_EQ(v.expire_ms, 0u);
  EXPECT_EQ(std::string(v.data, v.len), "hello");
  EXPECT_TRUE(c.e.misses.empty());
  // Until Redis confirms, the slot's token is another: not served.
  EXPECT_EQ(c.redis(resp({"GET", "k"})), XPS_PASS);
  EXPECT_EQ(c.e.misses, std::vector<std::string>{"k"});
  // Confirmed: the slot's token is the one the value was stored with.
  c.e.tokens[slot("k")] = 42;
  EXPECT_EQ(c.redis(resp({"GET", "k"})), XPS_TX);
  EXPECT_EQ(c.e.reply, bulk("hello"));
  // An empty value, and one of the longest cached.
  for (const std::string& val : {std::string{}, std::string(XPS_REDIS_VAL_MAX, 'x')}) {
    EXPECT_EQ(c.redis(resp({"SET", "k", val})), XPS_PASS);
    ASSERT_EQ(c.e.stores, 1);
    EXPECT_EQ(std::string(c.e.cache.at("k").data, c.e.cache.at("k").len), val);
  }
}

TEST(XpsRedisHandler, WriteThroughOnlyWhereTheReplyIsKnown) {
  struct wcase {
    std::string what;
    std::string payload;
    std::function<void(conn&)> setup;
    std::vector<std::uint32_t> fenced;  // XPS_SLOT_ALL for all
  };
  const std::string set = resp({"SET", "k", "v"});
  const std::uint32_t k = slot("k");
  const std::vector<wcase> cases = {
      {"with options", resp({"SET", "k", "v", "EX", "10"}), nullptr, {k}},
      {"not first", resp({"GET", "a"}) + set, nullptr, {k}},
      {"other writes", resp({"APPEND", "k", "v"}), nullptr, {k}},
      {"off", set, [](conn& c) { c.write_through = 0; }, {k}},
      {"cache disabled", set, [](conn& c) { c.enabled = 0; }, {k}},
      {"no conf", set, [](conn& c) { c.have_conf = false; }, {XPS_SLOT_ALL}},
      {"pass only", set, [](conn& c) { c.flags = XPS_MD_PASS_ONLY; }, {k}},
      {"writes global", set, [](conn& c) { c.writes_global = 1; }, {XPS_SLOT_ALL}},
      {"in MULTI", set, [](conn& c) { c.state = XPS_REDIS_ST_MULTI; }, {k}},
      {"database 1", set, [](conn& c) { c.state = XPS_REDIS_ST_DB; }, {XPS_SLOT_ALL}},
      {"tainted", set, [](conn& c) { c.state = XPS_REDIS_ST_TAINT; }, {k}},
      {"value too long", resp({"SET", "k", std::string(XPS_REDIS_VAL_MAX + 1, 'v')}), nullptr,
       {k}},
      {"key too long", resp({"SET", std::string(XPS_REDIS_KEY_MAX + 1, 'k'), "v"}), nullptr, {}},
      {"value cut", set.substr(0, set.size() - 3), nullptr, {k}},
  };
  for (const auto& w : cases) {
    conn c;
    c.write_through = 1;
    c.e.wt_token = 42;
    if (w.setup) w.setup(c);
    EXPECT_EQ(c.redis(w.payload), XPS_PASS) << w.what;
    EXPECT_EQ(c.e.fences, w.fenced) << w.what;
    EXPECT_TRUE(c.e.wt_fences.empty()) << w.what;
    EXPECT_EQ(c.e.stores, 0) << w.what;
  }
  {
    conn c;  // passed only to yield to a starved Redis: it owes nothing before
    c.write_through = 1;
    c.e.wt_token = 42;
    c.flags = XPS_MD_PASS_ONLY | XPS_MD_YIELD;
    EXPECT_EQ(c.redis(set), XPS_PASS);
    EXPECT_EQ(c.e.wt_fences, std::vector<std::uint32_t>{k});
    EXPECT_EQ(c.e.stores, 1);
  }
  {
    conn c;  // the first of two SETs only
    c.write_through = 1;
    c.e.wt_token = 42;
    EXPECT_EQ(c.redis(set + resp({"SET", "j", "w"})), XPS_PASS);
    EXPECT_EQ(c.e.fences, (std::vector<std::uint32_t>{k, slot("j")}));
    EXPECT_EQ(c.e.wt_fences, std::vector<std::uint32_t>{k});
    EXPECT_EQ(c.e.stores, 1);
  }
  {
    conn c;  // the module says no (another write pending...): nothing stored
    c.write_through = 1;
    c.cache("k", "old", 7);
    EXPECT_EQ(c.redis(set), XPS_PASS);
    EXPECT_EQ(c.e.wt_fences, std::vector<std::uint32_t>{k});
    EXPECT_EQ(c.e.stores, 0);
    EXPECT_EQ(std::string(c.e.cache.at("k").data, c.e.cache.at("k").len), "old");
  }
}

TEST(XpsRedisHandler, WritesGlobalFenceAll) {
  conn c;
  c.writes_global = 1;
  EXPECT_EQ(c.redis(resp({"SET", "a", "1"}) + resp({"DEL", "b", "c"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL});
  // Reads still do not fence.
  EXPECT_EQ(c.redis(resp({"GET", "a"}) + resp({"MGET", "a", "b"})), XPS_PASS);
  EXPECT_TRUE(c.e.fences.empty());
}

TEST(XpsRedisHandler, Select) {
  conn c;
  c.cache("a", "1");
  EXPECT_EQ(c.redis(resp({"SELECT", "1"})), XPS_PASS);
  EXPECT_TRUE(c.state & XPS_REDIS_ST_DB);
  // Another database: GETs passed, not reported; writes fence all.
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_TRUE(c.e.misses.empty());
  EXPECT_EQ(c.redis(resp({"SET", "a", "2"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL});
  // "SELECT 00" fails in Redis: still not 0.
  EXPECT_EQ(c.redis(resp({"SELECT", "00"})), XPS_PASS);
  EXPECT_TRUE(c.state & XPS_REDIS_ST_DB);
  EXPECT_EQ(c.redis(resp({"SELECT", "0"})), XPS_PASS);
  EXPECT_FALSE(c.state & XPS_REDIS_ST_DB);
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
  // Within one payload, in order: the SET after SELECT 1 fences all.
  EXPECT_EQ(c.redis(resp({"SET", "a", "1"}) + resp({"SELECT", "1"}) + resp({"SET", "b", "1"}) +
                    resp({"SELECT", "0"})),
            XPS_PASS);
  EXPECT_EQ(c.e.fences, (std::vector<std::uint32_t>{slot("a"), XPS_SLOT_ALL}));
  EXPECT_FALSE(c.state & XPS_REDIS_ST_DB);
  // SELECT 0 inside MULTI happens at EXEC, if at all.
  EXPECT_EQ(c.redis(resp({"SELECT", "3"}) + resp({"MULTI"}) + resp({"SELECT", "0"})), XPS_PASS);
  EXPECT_TRUE(c.state & XPS_REDIS_ST_DB);
}

TEST(XpsRedisHandler, MultiHoldsFencesUntilExec) {
  conn c;
  c.cache("a", "1");
  EXPECT_EQ(c.redis(resp({"MULTI"})), XPS_PASS);
  EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_ON});
  EXPECT_TRUE(c.state & XPS_REDIS_ST_MULTI);
  // Queued: GET is answered "QUEUED" by Redis, never from the cache.
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_TRUE(c.e.misses.empty());
  EXPECT_EQ(c.redis(resp({"SET", "a", "2"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("a")});
  EXPECT_EQ(c.redis(resp({"EXEC"})), XPS_PASS);
  EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_OFF});
  EXPECT_FALSE(c.state & XPS_REDIS_ST_MULTI);
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
  // DISCARD too; and a whole transaction in one payload, in order.
  EXPECT_EQ(c.redis(resp({"MULTI"}) + resp({"INCR", "n"}) + resp({"DISCARD"})), XPS_PASS);
  EXPECT_EQ(c.e.holds, (std::vector<std::uint32_t>{XPS_HOLD_ON, XPS_HOLD_OFF}));
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("n")});
  EXPECT_FALSE(c.state & XPS_REDIS_ST_MULTI);
}

TEST(XpsRedisHandler, BlockingAndClientHoldForever) {
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"BLPOP", "l", "0"},
           {"BRPOP", "l", "0"},
           {"BLMOVE", "a", "b", "LEFT", "LEFT", "0"},
           {"BRPOPLPUSH", "a", "b", "0"},
           {"BZPOPMIN", "z", "0"},
           {"BZPOPMAX", "z", "0"},
           {"BLMPOP", "0", "1", "l", "LEFT"},
           {"BZMPOP", "0", "1", "z", "MIN"},
           {"WAIT", "1", "0"},
           {"WAITAOF", "0", "1", "0"},
           {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"},
           {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"},
           {"CLIENT", "PAUSE", "1000", "WRITE"},
           {"CLIENT", "SETNAME", "x"},
           {"client", "reply", "off"}}) {
    conn c;
    c.cache("a", "1");
    EXPECT_EQ(c.redis(resp(cmd)), XPS_PASS) << cmd[0];
    EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL}) << cmd[0];
    EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_FOREVER}) << cmd[0];
    EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT) << cmd[0];
    // The connection is not answered again.
    EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS) << cmd[0];
    EXPECT_TRUE(c.e.misses.empty());
  }
  // XREAD without BLOCK is a read.
  conn c;
  EXPECT_EQ(c.redis(resp({"XREAD", "STREAMS", "s", "0"})), XPS_PASS);
  EXPECT_TRUE(c.e.fences.empty());
  EXPECT_TRUE(c.e.holds.empty());
}

TEST(XpsRedisHandler, ConnectionModesTaint) {
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"SUBSCRIBE", "ch"}, {"PSUBSCRIBE", "c*"}, {"MONITOR"}, {"HELLO", "3"},
           {"RESET"}, {"QUIT"}}) {
    conn c;
    c.cache("a", "1");
    EXPECT_EQ(c.redis(resp(cmd)), XPS_PASS) << cmd[0];
    EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT) << cmd[0];
    EXPECT_TRUE(c.e.holds.empty());
    EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS) << cmd[0];
    // Writes of a tainted connection are still fenced.
    EXPECT_EQ(c.redis(resp({"SET", "a", "2"})), XPS_PASS);
    EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("a")});
  }
}

// ---- Redis: input it cannot follow -----------------------------------------

TEST(XpsRedisHandler, PartialWithKnownEnd) {
  conn c;
  c.cache("a", "1");
  const std::string set = resp({"SET", "k", std::string(1000, 'v')});
  const std::uint32_t cut = 100;
  EXPECT_EQ(c.redis(resp({"GET", "a"}) + set.substr(0, cut)), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{slot("k")});
  ASSERT_EQ(c.e.partials.size(), 1u);
  const std::uint32_t need = static_cast<std::uint32_t>(set.size()) - cut;
  EXPECT_EQ(c.e.partials[0], need);
  // The module skips the rest of the command and offers what follows it.
  c.seq += need;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
  EXPECT_FALSE(c.state & XPS_REDIS_ST_TAINT);
}

TEST(XpsRedisHandler, PartialCommandsAct) {
  const std::string multi = resp({"MULTI"}), exec = resp({"EXEC"});
  {
    conn c;
    EXPECT_EQ(c.redis(multi.substr(0, multi.size() - 1)), XPS_PASS);
    EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_ON});
    EXPECT_TRUE(c.state & XPS_REDIS_ST_MULTI);
    EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{1});
  }
  {
    conn c;
    c.state = XPS_REDIS_ST_MULTI;
    EXPECT_EQ(c.redis(exec.substr(0, exec.size() - 2)), XPS_PASS);
    EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_OFF});
    EXPECT_FALSE(c.state & XPS_REDIS_ST_MULTI);
  }
  {
    conn c;  // SELECT whose argument is not all there: not database 0
    const std::string sel = resp({"SELECT", "0"});
    EXPECT_EQ(c.redis(sel.substr(0, sel.size() - 1)), XPS_PASS);
    EXPECT_TRUE(c.state & XPS_REDIS_ST_DB);
  }
  {
    conn c;  // a name not seen: anything, MULTI included
    EXPECT_EQ(c.redis("*1\r\n$5\r\nMUL"), XPS_PASS);
    EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL});
    EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_FOREVER});
    EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT);
    EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{4});
  }
  {
    conn c;  // keys not all seen: all slots
    const std::string del = resp({"DEL", "a", "b"});
    EXPECT_EQ(c.redis(del.substr(0, del.size() - 5)), XPS_PASS);
    EXPECT_EQ(c.e.fences, (std::vector<std::uint32_t>{slot("a"), XPS_SLOT_ALL}));
    EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0});
  }
  {
    conn c;  // a partial blocking command
    EXPECT_EQ(c.redis("*3\r\n$5\r\nBLPOP\r\n"), XPS_PASS);
    EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_FOREVER});
    EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT);
  }
}

TEST(XpsRedisHandler, LostTrack) {
  for (const std::string& bad : {std::string("PING\r\n"), std::string("*1\r\n$-1\r\n"),
                                std::string("*x\r\n"), resp({"GET", "a"}) + "\r\n"}) {
    conn c;
    c.cache("a", "1");
    EXPECT_EQ(c.redis(bad), XPS_PASS) << bad;
    EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL}) << bad;
    EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0}) << bad;
    EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT);
  }
  // A window that cannot be loaded.
  conn c;
  c.e.fail_load = true;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0});
  EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT);
}

TEST(XpsRedisHandler, InputUnseenTaints) {
  conn c;
  c.cache("a", "1");
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
  c.seq += 10;  // ten bytes went by without the handler
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
  EXPECT_EQ(c.e.fences, std::vector<std::uint32_t>{XPS_SLOT_ALL});
  EXPECT_EQ(c.e.holds, std::vector<std::uint32_t>{XPS_HOLD_FOREVER});
  EXPECT_TRUE(c.state & XPS_REDIS_ST_TAINT);
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_PASS);
}

TEST(XpsRedisHandler, SequenceWraps) {
  conn c;
  c.cache("a", "1");
  c.seq = 0xfffffff0u;
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
  EXPECT_EQ(c.redis(resp({"GET", "a"})), XPS_TX);
  EXPECT_FALSE(c.state & XPS_REDIS_ST_TAINT);
}

// ---- HTTP -------------------------------------------------------------------

std::string req(const std::string& method, const std::string& body = "") {
  std::string s = method + " /form HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: wrk\r\n";
  if (!body.empty()) s += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return s + "\r\n" + body;
}

const std::string k405 = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n";

void paper_table(conn& c) {
  c.e.methods["POST"] = {XPS_HTTP_REPLY, 405};
  c.e.methods["PUT"] = {XPS_HTTP_RESET, 0};
}

TEST(XpsHttpHandler, PostIsAnswered405) {
  conn c;
  paper_table(c);
  EXPECT_EQ(c.http(req("POST", std::string(256, 'b'))), XPS_TX);
  EXPECT_EQ(c.e.reply, k405);
  EXPECT_TRUE(c.e.partials.empty());
  EXPECT_EQ(c.state, XPS_HTTP_ST_VALID | c.seq);
  // Pipelined: one answer each, in order.
  EXPECT_EQ(c.http(req("POST", "a") + req("POST") + req("POST", "ccc")), XPS_TX);
  EXPECT_EQ(c.e.reply, k405 + k405 + k405);
}

TEST(XpsHttpHandler, PutResetsAndResetWins) {
  conn c;
  paper_table(c);
  EXPECT_EQ(c.http(req("PUT", "x")), XPS_RESET);
  EXPECT_EQ(c.http(req("POST") + req("PUT")), XPS_RESET);
  EXPECT_EQ(c.http(req("PUT") + req("POST")), XPS_RESET);
}

TEST(XpsHttpHandler, OtherMethodsPass) {
  conn c;
  paper_table(c);
  EXPECT_EQ(c.http(req("GET")), XPS_PASS);
  EXPECT_EQ(c.http(req("POST") + req("GET")), XPS_PASS);
  EXPECT_EQ(c.http(req("GET") + req("PUT")), XPS_PASS);
  EXPECT_TRUE(c.e.partials.empty());
  c.e.methods["PROPFIND"] = {XPS_HTTP_REPLY, 405};
  EXPECT_EQ(c.http(req("PROPFIND")), XPS_TX);
  c.e.methods["DELETE"] = {XPS_HTTP_PASS, 0};
  EXPECT_EQ(c.http(req("DELETE")), XPS_PASS);
  c.e.methods["PATCH"] = {XPS_HTTP_REPLY, 99};  // not a status to send
  EXPECT_EQ(c.http(req("PATCH")), XPS_PASS);
  c.e.methods["PATCH"] = {7, 405};  // not an action
  EXPECT_EQ(c.http(req("PATCH")), XPS_PASS);
  EXPECT_FALSE(c.state & XPS_HTTP_ST_TAINT);
  // Methods are case-sensitive, and nginx refuses "post" (400).
  EXPECT_EQ(c.http(req("post")), XPS_PASS);
  EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0});
}

TEST(XpsHttpHandler, DropAndStatuses) {
  conn c;
  c.e.methods["TRACE"] = {XPS_HTTP_DROP, 0};
  c.e.methods["POST"] = {XPS_HTTP_REPLY, 403};
  c.e.methods["PATCH"] = {XPS_HTTP_REPLY, 204};
  c.e.methods["DELETE"] = {XPS_HTTP_REPLY, 418};
  EXPECT_EQ(c.http(req("TRACE") + req("TRACE")), XPS_DROP);
  EXPECT_TRUE(c.e.reply.empty());
  EXPECT_EQ(c.http(req("TRACE") + req("POST")), XPS_PASS);  // would shift answers
  EXPECT_EQ(c.http(req("POST")), XPS_TX);
  EXPECT_EQ(c.e.reply, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(c.http(req("PATCH")), XPS_TX);
  EXPECT_EQ(c.e.reply, "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(c.http(req("DELETE") + req("POST")), XPS_TX);
  EXPECT_EQ(c.e.reply, "HTTP/1.1 418 \r\nContent-Length: 0\r\n\r\n"
                       "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  c.e.reply_limit = 10;
  EXPECT_EQ(c.http(req("POST")), XPS_PASS);
}

TEST(XpsHttpHandler, PartialBodyThenResync) {
  conn c;
  paper_table(c);
  const std::string post = req("POST", std::string(5000, 'b'));
  EXPECT_EQ(c.http(post.substr(0, 1400)), XPS_PASS);
  ASSERT_EQ(c.e.partials.size(), 1u);
  EXPECT_EQ(c.e.partials[0], post.size() - 1400);
  c.seq += c.e.partials[0];
  EXPECT_EQ(c.http(req("POST")), XPS_TX);
  // A head cut short: the end is unknown.
  EXPECT_EQ(c.http(req("POST").substr(0, 30)), XPS_PASS);
  EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0});
  EXPECT_FALSE(c.state & XPS_HTTP_ST_TAINT);
}

TEST(XpsHttpHandler, WhatItCannotFollowEndsTheLook) {
  for (const std::string& bad :
       {std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
        std::string("POST / HTTP/1.0\r\n\r\n"), std::string("garbage\r\n\r\n")}) {
    conn c;
    paper_table(c);
    EXPECT_EQ(c.http(bad), XPS_PASS) << bad;
    EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0}) << bad;
    EXPECT_TRUE(c.state & XPS_HTTP_ST_TAINT);
    EXPECT_EQ(c.http(req("POST")), XPS_PASS);
    EXPECT_EQ(c.e.partials, std::vector<std::uint32_t>{0});
  }
}

TEST(XpsHttpHandler, PassOnlyAndGaps) {
  conn c;
  paper_table(c);
  c.flags = XPS_MD_PASS_ONLY;
  EXPECT_EQ(c.http(req("POST")), XPS_PASS);
  c.flags = 0;
  EXPECT_EQ(c.http(req("POST")), XPS_TX);
  c.seq += 1;
  EXPECT_EQ(c.http(req("POST")), XPS_PASS);
  EXPECT_TRUE(c.state & XPS_HTTP_ST_TAINT);
}

}  // namespace
