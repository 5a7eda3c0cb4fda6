// SPDX-License-Identifier: GPL-2.0
//
// The XPS handlers' parsers (modules/xps/include/xps/resp.h and http.h),
// which run in the BPF handlers and here unchanged: commands and their
// classes, keys, pipelining, input split at every byte, windows of every
// size, large and malformed input, and fuzz loops that must never read
// past what the parser was given (this file is also built with ASan and
// UBSan).
#include <cctype>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xps_parse_driver.hpp"

namespace {

using xps_test::parse_http;
using xps_test::parse_resp;
using xps_test::resp;

std::string name_of(std::uint32_t spec) { return xps_resp_name(xps_resp_spec_id(spec)); }

std::uint32_t class_of(const char* name) {
  return xps_resp_spec_class(xps_resp_classify(name, static_cast<__u32>(std::strlen(name))));
}

// ---- the command table ---------------------------------------------------

TEST(XpsResp, TableIsConsistent) {
  std::set<std::string> names;
  for (std::uint32_t i = 0; i < XPS_RESP_NCMDS; ++i) {
    const xps_resp_cmd& c = xps_resp_cmds[i];
    const std::string n(c.name, strnlen(c.name, sizeof(c.name)));
    ASSERT_FALSE(n.empty()) << "entry " << i << " is empty: XPS_RESP_NCMDS too large";
    ASSERT_LE(n.size(), XPS_RESP_NAME_MAX);
    EXPECT_TRUE(names.insert(n).second) << n << " twice";
    for (char ch : n) EXPECT_TRUE((ch >= 'A' && ch <= 'Z') || ch == '_') << n;
    // The name classifies to its own entry, in any case.
    const std::uint32_t spec = xps_resp_classify(n.data(), static_cast<__u32>(n.size()));
    EXPECT_EQ(xps_resp_spec_id(spec), XPS_RESP_ID_FIRST + i) << n;
    EXPECT_EQ(name_of(spec), n);
    EXPECT_EQ(xps_resp_spec_class(spec), c.cls) << n;
    std::string lower = n;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(xps_resp_classify(lower.data(), static_cast<__u32>(lower.size())), spec) << lower;
    // Keys only where writes are.
    if (c.keys != XPS_RESP_K_NONE) {
      EXPECT_TRUE(c.cls == XPS_RESP_C_WRITE || c.cls == XPS_RESP_C_GET) << n;
    }
    if (c.cls == XPS_RESP_C_WRITE) {
      EXPECT_NE(c.keys, XPS_RESP_K_NONE) << n;
    }
  }
  EXPECT_EQ(names.size(), XPS_RESP_NCMDS);
}

TEST(XpsResp, ClassifiesByName) {
  EXPECT_EQ(class_of("GET"), XPS_RESP_C_GET);
  EXPECT_EQ(class_of("get"), XPS_RESP_C_GET);
  EXPECT_EQ(class_of("gEt"), XPS_RESP_C_GET);
  EXPECT_EQ(class_of("GETS"), XPS_RESP_C_ALL);  // unknown
  EXPECT_EQ(class_of("GE"), XPS_RESP_C_ALL);
  EXPECT_EQ(xps_resp_spec_id(xps_resp_classify("GE", 2)), XPS_RESP_ID_UNKNOWN);
  EXPECT_EQ(xps_resp_classify("", 0), xps_resp_classify("NOPE", 4));
  EXPECT_EQ(xps_resp_classify("G\0T", 3), XPS_RESP_SPEC_UNKNOWN);
  EXPECT_EQ(xps_resp_classify("GET\0", 4), XPS_RESP_SPEC_UNKNOWN);
  EXPECT_EQ(class_of("GEORADIUSBYMEMBER_RO"), XPS_RESP_C_READ);
  EXPECT_EQ(class_of("georadiusbymember"), XPS_RESP_C_ALL);
  EXPECT_EQ(class_of("SELECT"), XPS_RESP_C_SELECT);
  EXPECT_EQ(class_of("multi"), XPS_RESP_C_MULTI);
  EXPECT_EQ(class_of("EXEC"), XPS_RESP_C_EXEC);
  EXPECT_EQ(class_of("Discard"), XPS_RESP_C_EXEC);
  EXPECT_EQ(class_of("client"), XPS_RESP_C_BLOCK);
  EXPECT_EQ(class_of("SUBSCRIBE"), XPS_RESP_C_CONN);
  EXPECT_EQ(class_of("FLUSHALL"), XPS_RESP_C_ALL);
  EXPECT_EQ(xps_resp_name(XPS_RESP_ID_UNKNOWN), std::string("?"));
  EXPECT_EQ(xps_resp_name(XPS_RESP_ID_EMPTY), std::string("(empty)"));
  EXPECT_EQ(xps_resp_name(XPS_RESP_ID_SET), std::string("SET"));  // write-through's
  EXPECT_EQ(xps_resp_spec_id(xps_resp_classify("set", 3)), XPS_RESP_ID_SET);
  EXPECT_EQ(xps_resp_name(XPS_RESP_ID_FIRST + XPS_RESP_NCMDS), std::string("?"));
}

// Commands of Redis 7 that write, or may: none of them may be READ or GET.
TEST(XpsResp, NoWriteIsRead) {
  const char* writes[] = {
      "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "GETEX", "MSET", "MSETNX", "DEL",
      "UNLINK", "INCR", "DECR", "INCRBY", "DECRBY", "INCRBYFLOAT", "APPEND", "SETRANGE",
      "SETBIT", "BITFIELD", "BITOP", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST",
      "RENAME", "RENAMENX", "COPY", "MOVE", "RESTORE", "SORT", "LPUSH", "RPUSH", "LPUSHX",
      "RPUSHX", "LPOP", "RPOP", "LSET", "LREM", "LTRIM", "LINSERT", "LMOVE", "RPOPLPUSH",
      "LMPOP", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "HSET", "HSETNX", "HMSET",
      "HDEL", "HINCRBY", "HINCRBYFLOAT", "SADD", "SREM", "SPOP", "SMOVE", "SINTERSTORE",
      "SUNIONSTORE", "SDIFFSTORE", "ZADD", "ZREM", "ZINCRBY", "ZPOPMIN", "ZPOPMAX", "BZPOPMIN",
      "BZPOPMAX", "ZMPOP", "BZMPOP", "ZREMRANGEBYSCORE", "ZREMRANGEBYRANK", "ZREMRANGEBYLEX",
      "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZRANGESTORE", "PFADD", "PFCOUNT", "PFMERGE",
      "XADD", "XDEL", "XTRIM", "XACK", "XCLAIM", "XAUTOCLAIM", "XGROUP", "XREADGROUP", "XSETID",
      "GEOADD", "GEORADIUS", "GEORADIUSBYMEMBER", "GEOSEARCHSTORE", "FLUSHALL", "FLUSHDB",
      "SWAPDB", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT",
      "FUNCTION", "CONFIG", "DEBUG", "MIGRATE", "MULTI", "EXEC", "DISCARD", "SELECT", "CLIENT",
      "WAIT", "WAITAOF", "RESET", "HELLO", "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
      "SYNC", "PSYNC", "REPLCONF", "SHUTDOWN", "SAVE", "BGSAVE", "BGREWRITEAOF", "SLAVEOF",
      "REPLICAOF", "FAILOVER", "MODULE", "ACL", "LATENCY", "MEMORY", "SLOWLOG", "CLUSTER",
      "RESTORE-ASKING", "ASKING", "QUIT", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
  };
  for (const char* w : writes) {
    const auto c = class_of(w);
    EXPECT_NE(c, XPS_RESP_C_READ) << w;
    EXPECT_NE(c, XPS_RESP_C_GET) << w;
  }
}

// ---- commands, keys, pipelining -------------------------------------------

TEST(XpsResp, OneGet) {
  const std::string g = resp({"GET", "foo"});
  const auto r = parse_resp(g);
  EXPECT_EQ(r.stop, XPS_RESP_EV_END);
  ASSERT_EQ(r.cmds.size(), 1u);
  EXPECT_EQ(r.cmds[0].name(), "GET");
  EXPECT_EQ(r.cmds[0].off, 0u);
  EXPECT_EQ(r.cmds[0].len, g.size());
  EXPECT_EQ(r.cmds[0].argc, 2u);
  EXPECT_EQ(r.cmds[0].keys, std::vector<std::string>{"foo"});
  EXPECT_TRUE(r.window_ok);
}

TEST(XpsResp, GetWithWrongArityHasNoKey) {
  for (const auto& c : {resp({"GET"}), resp({"GET", "a", "b"}), resp({"get", "a", "b", "c"})}) {
    const auto r = parse_resp(c);
    ASSERT_EQ(r.cmds.size(), 1u);
    EXPECT_EQ(r.cmds[0].cls(), XPS_RESP_C_GET);
    EXPECT_TRUE(r.cmds[0].keys.empty()) << c;
  }
}

TEST(XpsResp, EmptyKeyAndValue) {
  const auto r = parse_resp(resp({"GET", ""}) + resp({"SET", "", ""}));
  ASSERT_EQ(r.cmds.size(), 2u);
  EXPECT_EQ(r.cmds[0].keys, std::vector<std::string>{""});
  EXPECT_EQ(r.cmds[1].keys, std::vector<std::string>{""});
  EXPECT_EQ(r.stop, XPS_RESP_EV_END);
}

TEST(XpsResp, Pipelined) {
  const std::string s = resp({"GET", "a"}) + resp({"set", "b", "1"}) + resp({"DEL", "c", "d"}) +
                        resp({"MSET", "k1", "v1", "k2", "v2"}) + resp({"Get", "e"}) +
                        resp({"PING"});
  const auto r = parse_resp(s);
  EXPECT_EQ(r.stop, XPS_RESP_EV_END);
  ASSERT_EQ(r.cmds.size(), 6u);
  const std::vector<std::vector<std::string>> keys = {{"a"}, {"b"}, {"c", "d"}, {"k1", "k2"},
                                                       {"e"}, {}};
  const char* names[] = {"GET", "SET", "DEL", "MSET", "GET", "PING"};
  std::uint32_t off = 0;
  for (std::size_t i = 0; i < r.cmds.size(); ++i) {
    EXPECT_EQ(r.cmds[i].name(), names[i]);
    EXPECT_EQ(r.cmds[i].keys, keys[i]) << i;
    EXPECT_EQ(r.cmds[i].off, off);
    off += r.cmds[i].len;
  }
  EXPECT_EQ(off, s.size());
}

struct write_case {
  std::vector<std::string> args;
  std::uint32_t cls;                // effective class when whole
  std::vector<std::string> keys;    // keys reported
};

std::uint32_t effective(const xps_test::resp_result& r) {
  return xps_resp_effective(&r.last, 1);
}

TEST(XpsResp, EveryWriteClass) {
  const std::vector<write_case> cases = {
      {{"SET", "k", "v"}, XPS_RESP_C_WRITE, {"k"}},
      {{"SET", "k", "v", "EX", "10"}, XPS_RESP_C_WRITE, {"k"}},
      {{"setnx", "k", "v"}, XPS_RESP_C_WRITE, {"k"}},
      {{"SETEX", "k", "10", "v"}, XPS_RESP_C_WRITE, {"k"}},
      {{"PSETEX", "k", "10", "v"}, XPS_RESP_C_WRITE, {"k"}},
      {{"GETSET", "k", "v"}, XPS_RESP_C_WRITE, {"k"}},
      {{"GETDEL", "k"}, XPS_RESP_C_WRITE, {"k"}},
      {{"GETEX", "k", "PERSIST"}, XPS_RESP_C_WRITE, {"k"}},
      {{"MSET", "a", "1", "b", "2", "c", "3"}, XPS_RESP_C_WRITE, {"a", "b", "c"}},
      {{"MSETNX", "a", "1", "b", "2"}, XPS_RESP_C_WRITE, {"a", "b"}},
      {{"DEL", "a", "b", "c"}, XPS_RESP_C_WRITE, {"a", "b", "c"}},
      {{"UNLINK", "a"}, XPS_RESP_C_WRITE, {"a"}},
      {{"INCR", "n"}, XPS_RESP_C_WRITE, {"n"}},
      {{"DECR", "n"}, XPS_RESP_C_WRITE, {"n"}},
      {{"INCRBY", "n", "5"}, XPS_RESP_C_WRITE, {"n"}},
      {{"DECRBY", "n", "5"}, XPS_RESP_C_WRITE, {"n"}},
      {{"INCRBYFLOAT", "n", "0.5"}, XPS_RESP_C_WRITE, {"n"}},
      {{"APPEND", "k", "x"}, XPS_RESP_C_WRITE, {"k"}},
      {{"SETRANGE", "k", "1", "x"}, XPS_RESP_C_WRITE, {"k"}},
      {{"EXPIRE", "k", "1"}, XPS_RESP_C_WRITE, {"k"}},
      {{"PEXPIRE", "k", "1"}, XPS_RESP_C_WRITE, {"k"}},
      {{"EXPIREAT", "k", "1"}, XPS_RESP_C_WRITE, {"k"}},
      {{"PEXPIREAT", "k", "1"}, XPS_RESP_C_WRITE, {"k"}},
      {{"PERSIST", "k"}, XPS_RESP_C_WRITE, {"k"}},
      {{"RENAME", "a", "b"}, XPS_RESP_C_WRITE, {"a", "b"}},
      {{"RENAMENX", "a", "b"}, XPS_RESP_C_WRITE, {"a", "b"}},
      {{"COPY", "a", "b"}, XPS_RESP_C_WRITE, {"a", "b"}},
      {{"COPY", "a", "b", "REPLACE"}, XPS_RESP_C_WRITE, {"a", "b"}},
      {{"COPY", "a", "b", "db", "1"}, XPS_RESP_C_ALL, {"a", "b"}},
      {{"COPY", "a", "db", "REPLACE"}, XPS_RESP_C_WRITE, {"a", "db"}},  // key named db
      {{"MOVE", "k", "1"}, XPS_RESP_C_WRITE, {"k"}},
      {{"LPUSH", "l", "x", "y"}, XPS_RESP_C_WRITE, {"l"}},
      {{"HSET", "h", "f", "v"}, XPS_RESP_C_WRITE, {"h"}},
      {{"SADD", "s", "m"}, XPS_RESP_C_WRITE, {"s"}},
      {{"ZADD", "z", "1", "m"}, XPS_RESP_C_WRITE, {"z"}},
      {{"SINTERSTORE", "d", "a", "b"}, XPS_RESP_C_WRITE, {"d"}},
      {{"PFMERGE", "d", "a", "b"}, XPS_RESP_C_WRITE, {"d", "a", "b"}},
      {{"MULTI"}, XPS_RESP_C_MULTI, {}},
      {{"EXEC"}, XPS_RESP_C_EXEC, {}},
      {{"DISCARD"}, XPS_RESP_C_EXEC, {}},
      {{"SELECT", "1"}, XPS_RESP_C_SELECT, {}},
      {{"BLPOP", "l", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"BRPOP", "l", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"BRPOPLPUSH", "a", "b", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"BZPOPMIN", "z", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"BZPOPMAX", "z", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"BLMPOP", "0", "1", "l", "LEFT"}, XPS_RESP_C_BLOCK, {}},
      {{"BZMPOP", "0", "1", "z", "MIN"}, XPS_RESP_C_BLOCK, {}},
      {{"WAIT", "1", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"WAITAOF", "1", "0", "0"}, XPS_RESP_C_BLOCK, {}},
      {{"CLIENT", "PAUSE", "100"}, XPS_RESP_C_BLOCK, {}},
      {{"client", "reply", "off"}, XPS_RESP_C_BLOCK, {}},
      {{"XREAD", "COUNT", "1", "STREAMS", "s", "0"}, XPS_RESP_C_READ, {}},
      {{"XREAD", "block", "0", "STREAMS", "s", "$"}, XPS_RESP_C_BLOCK, {}},
      {{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}, XPS_RESP_C_ALL, {}},
      {{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "5", "STREAMS", "s", ">"},
       XPS_RESP_C_BLOCK, {}},
      {{"FLUSHALL"}, XPS_RESP_C_ALL, {}},
      {{"FLUSHDB", "ASYNC"}, XPS_RESP_C_ALL, {}},
      {{"SWAPDB", "0", "1"}, XPS_RESP_C_ALL, {}},
      {{"EVAL", "return 1", "0"}, XPS_RESP_C_ALL, {}},
      {{"EVALSHA", "abc", "0"}, XPS_RESP_C_ALL, {}},
      {{"FCALL", "f", "0"}, XPS_RESP_C_ALL, {}},
      {{"SCRIPT", "FLUSH"}, XPS_RESP_C_ALL, {}},
      {{"FUNCTION", "FLUSH"}, XPS_RESP_C_ALL, {}},
      {{"CONFIG", "SET", "maxmemory", "1"}, XPS_RESP_C_ALL, {}},
      {{"DEBUG", "RELOAD"}, XPS_RESP_C_ALL, {}},
      {{"SHUTDOWN"}, XPS_RESP_C_ALL, {}},
      {{"NOSUCHCOMMAND", "x"}, XPS_RESP_C_ALL, {}},
      {{"SUBSCRIBE", "ch"}, XPS_RESP_C_CONN, {}},
      {{"MONITOR"}, XPS_RESP_C_CONN, {}},
      {{"HELLO", "3"}, XPS_RESP_C_CONN, {}},
      {{"PING"}, XPS_RESP_C_READ, {}},
      {{"EXISTS", "a", "b"}, XPS_RESP_C_READ, {}},
      {{"MGET", "a", "b"}, XPS_RESP_C_READ, {}},
      {{"TTL", "a"}, XPS_RESP_C_READ, {}},
      {{"STRLEN", "a"}, XPS_RESP_C_READ, {}},
  };
  for (const auto& c : cases) {
    const std::string s = resp(c.args);
    const auto r = parse_resp(s);
    ASSERT_EQ(r.stop, XPS_RESP_EV_END) << s;
    ASSERT_EQ(r.cmds.size(), 1u) << s;
    EXPECT_EQ(effective(r), c.cls) << s;
    EXPECT_EQ(r.cmds[0].keys, c.keys) << s;
    EXPECT_EQ(r.cmds[0].nkeys, c.keys.size()) << s;
  }
}

TEST(XpsResp, SelectArgument) {
  auto sel = [](const std::string& db) {
    const auto r = parse_resp(resp({"SELECT", db}));
    EXPECT_EQ(r.stop, XPS_RESP_EV_END);
    return (r.last.cflags & XPS_RESP_CF_SEL0) != 0;
  };
  EXPECT_TRUE(sel("0"));
  EXPECT_FALSE(sel("1"));
  EXPECT_FALSE(sel("00"));  // Redis refuses it: the database does not change
  EXPECT_FALSE(sel("-0"));
  EXPECT_FALSE(sel(" 0"));
  EXPECT_FALSE(sel(""));
  const auto r = parse_resp(resp({"SELECT"}));  // no argument
  EXPECT_FALSE(r.last.cflags & XPS_RESP_CF_SEL0);
}

TEST(XpsResp, EmptyArraysAreSkippedCommands) {
  for (const std::string s : {"*0\r\n", "*-1\r\n", "*-5\r\n"}) {
    const auto r = parse_resp(s + resp({"GET", "a"}));
    EXPECT_EQ(r.stop, XPS_RESP_EV_END) << s;
    ASSERT_EQ(r.cmds.size(), 2u) << s;
    EXPECT_EQ(xps_resp_spec_id(r.cmds[0].spec), XPS_RESP_ID_EMPTY);
    EXPECT_EQ(r.cmds[0].len, s.size());
    EXPECT_EQ(r.cmds[1].name(), "GET");
  }
}

TEST(XpsResp, InlineCommandsAreNotParsed) {
  for (const std::string s : {"PING\r\n", "\r\n", "get a\r\n", "$3\r\nGET\r\n"}) {
    const auto r = parse_resp(s);
    EXPECT_EQ(r.stop, XPS_RESP_EV_INLINE) << s;
    EXPECT_TRUE(r.cmds.empty());
  }
  const auto r = parse_resp(resp({"GET", "a"}) + "PING\r\n");
  EXPECT_EQ(r.stop, XPS_RESP_EV_INLINE);
  EXPECT_EQ(r.cmds.size(), 1u);
}

TEST(XpsResp, Malformed) {
  const std::vector<std::string> bad = {
      "*1\r\n$-1\r\n",                      // negative bulk length
      "*1\r\n$3\r\nGET",                     // fine so far: partial, not bad (checked below)
      "*1\rX$3\r\nGET\r\n",                  // CR without LF
      "*1\n$3\r\nGET\r\n",                   // LF alone
      "*\r\n",                               // no digits
      "*01\r\n$3\r\nGET\r\n",                // leading zero
      "*+1\r\n",                             // sign
      "*-0\r\n",                             // "-0"
      "*1 \r\n",                             // space
      "*99999999999\r\n",                    // 11 digits, above INT_MAX
      "*2147483648\r\n",                     // INT_MAX + 1
      "*1234567890123\r\n",                  // 13 digits: no CR in reach
      "*1\r\n+OK\r\n",                       // not a bulk string
      "*1\r\n:1\r\n",                        // integer
      "*1\r\n$536870913\r\n",                // above proto-max-bulk-len
      "*1\r\n$3x\r\nGET\r\n",
      "*1\r\n$03\r\nGET\r\n",
      "*1\r\n$\r\n",
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const auto r = parse_resp(bad[i]);
    if (i == 1) {
      EXPECT_EQ(r.stop, XPS_RESP_EV_PARTIAL);
      EXPECT_EQ(r.need, 2u);
      continue;
    }
    EXPECT_EQ(r.stop, XPS_RESP_EV_MALFORMED) << bad[i];
    EXPECT_TRUE(r.cmds.empty()) << bad[i];
  }
  // Malformed after good commands: those are reported first.
  const auto r = parse_resp(resp({"SET", "a", "1"}) + "*1\r\n$-3\r\n");
  EXPECT_EQ(r.stop, XPS_RESP_EV_MALFORMED);
  EXPECT_EQ(r.cmds.size(), 1u);
}

TEST(XpsResp, LargeBulkLengths) {
  // The largest bulk Redis takes: the parser skips it without reading it.
  const auto r = parse_resp("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nxyz");
  EXPECT_EQ(r.stop, XPS_RESP_EV_PARTIAL);
  EXPECT_EQ(r.need, 536870912u - 3 + 2);
  EXPECT_EQ(r.partial_keys, std::vector<std::string>{"k"});
  EXPECT_TRUE(xps_resp_keys_seen(&r.last));
  EXPECT_EQ(xps_resp_effective(&r.last, 0), XPS_RESP_C_WRITE);

  // A multibulk header announcing INT_MAX elements is fine until data runs out.
  const auto m = parse_resp("*2147483647\r\n$3\r\nDEL\r\n$1\r\na\r\n");
  EXPECT_EQ(m.stop, XPS_RESP_EV_PARTIAL);
  EXPECT_EQ(m.need, 0u);
  EXPECT_EQ(m.partial_keys, std::vector<std::string>{"a"});
  EXPECT_FALSE(xps_resp_keys_seen(&m.last));

  // A 1 MB value: few steps, many window refills, the key still right.
  const std::string big(1 << 20, 'v');
  const std::string s = resp({"SET", "big", big}) + resp({"GET", "big"});
  const auto b = parse_resp(s, XPS_RESP_LOOK);
  EXPECT_EQ(b.stop, XPS_RESP_EV_END);
  ASSERT_EQ(b.cmds.size(), 2u);
  EXPECT_EQ(b.cmds[0].keys, std::vector<std::string>{"big"});
  EXPECT_EQ(b.cmds[1].keys, std::vector<std::string>{"big"});
  EXPECT_LT(b.steps, 20);
  EXPECT_TRUE(b.window_ok);
}

TEST(XpsResp, LongKeysAndNames) {
  const std::string key(300, 'k');
  const auto r = parse_resp(resp({"GET", key}) + resp({"DEL", key, "x"}), XPS_RESP_LOOK);
  ASSERT_EQ(r.cmds.size(), 2u);
  EXPECT_EQ(r.cmds[0].keys, std::vector<std::string>{key});
  EXPECT_EQ(r.cmds[1].keys, (std::vector<std::string>{key, "x"}));
  EXPECT_TRUE(r.window_ok);  // the first XPS_RESP_SEEN bytes were there
  const std::string name(25, 'A');
  const auto n = parse_resp(resp({name, "a"}));
  ASSERT_EQ(n.cmds.size(), 1u);
  EXPECT_EQ(xps_resp_spec_id(n.cmds[0].spec), XPS_RESP_ID_UNKNOWN);
  const auto z = parse_resp(resp({std::string("G\0T", 3), "a"}));
  ASSERT_EQ(z.cmds.size(), 1u);
  EXPECT_EQ(xps_resp_spec_id(z.cmds[0].spec), XPS_RESP_ID_UNKNOWN);
}

// The payload ends inside a command: how much is missing, when it can be
// known, and what was seen of it.
TEST(XpsResp, Partial) {
  struct pcase {
    std::string in;
    std::uint32_t need;
    std::uint32_t seen;  // elements whose data was looked at
  };
  const std::vector<pcase> cases = {
      {"*", 0, 0},
      {"*2", 0, 0},
      {"*2\r", 0, 0},
      {"*2\r\n", 0, 0},
      {"*2\r\n$", 0, 0},
      {"*2\r\n$3\r\n", 0, 0},
      {"*2\r\n$3\r\nGE", 0, 0},
      {"*2\r\n$3\r\nGET", 0, 1},     // the name is whole, its CRLF is not
      {"*2\r\n$3\r\nGET\r", 0, 1},
      {"*2\r\n$3\r\nGET\r\n", 0, 1},
      {"*2\r\n$3\r\nGET\r\n$1", 0, 1},
      {"*2\r\n$3\r\nGET\r\n$1\r\n", 3, 1},  // the last element: it is known
      {"*2\r\n$3\r\nGET\r\n$1\r\nk", 2, 2},
      {"*2\r\n$3\r\nGET\r\n$1\r\nk\r", 1, 2},
      {"*1\r\n$4\r\nPI", 4, 0},
      {"*1\r\n$5\r\nMULTI", 2, 1},
  };
  for (const auto& c : cases) {
    const auto r = parse_resp(c.in);
    EXPECT_EQ(r.stop, XPS_RESP_EV_PARTIAL) << c.in;
    EXPECT_EQ(r.need, c.need) << c.in;
    EXPECT_EQ(r.last.seen, c.seen) << c.in;
    EXPECT_TRUE(r.cmds.empty()) << c.in;
  }
  // A partial GET reports no key (it cannot be answered)...
  EXPECT_TRUE(parse_resp("*2\r\n$3\r\nGET\r\n$1\r\nk").partial_keys.empty());
  // ...a partial MULTI is known for one.
  const auto m = parse_resp("*1\r\n$5\r\nMULTI");
  EXPECT_EQ(xps_resp_effective(&m.last, 0), XPS_RESP_C_MULTI);
  // An unknown name acts as ALL.
  const auto u = parse_resp("*1\r\n$5\r\nMUL");
  EXPECT_EQ(xps_resp_effective(&u.last, 0), XPS_RESP_C_ALL);
  // Options not seen yet are assumed.
  const auto x = parse_resp("*6\r\n$5\r\nXREAD\r\n");
  EXPECT_EQ(xps_resp_effective(&x.last, 0), XPS_RESP_C_BLOCK);
  const auto y = parse_resp("*4\r\n$4\r\nCOPY\r\n$1\r\na\r\n");
  EXPECT_EQ(xps_resp_effective(&y.last, 0), XPS_RESP_C_ALL);
}

TEST(XpsResp, KeysSeenOfPartialWrites) {
  auto seen = [](const std::string& s) {
    const auto r = parse_resp(s);
    EXPECT_EQ(r.stop, XPS_RESP_EV_PARTIAL) << s;
    return xps_resp_keys_seen(&r.last) != 0;
  };
  const std::string set = resp({"SET", "k", "value"});
  EXPECT_FALSE(seen(set.substr(0, 14)));  // inside the key's header
  EXPECT_TRUE(seen(set.substr(0, 20)));   // the key is whole
  const std::string mset = resp({"MSET", "a", "1", "b", "2"});
  EXPECT_FALSE(seen(mset.substr(0, mset.size() - 10)));  // b not yet
  EXPECT_TRUE(seen(mset.substr(0, mset.size() - 9)));    // b whole, its CRLF not
  EXPECT_TRUE(seen(mset.substr(0, mset.size() - 2)));   // inside the last value
  const std::string ren = resp({"RENAME", "a", "b"});
  EXPECT_FALSE(seen(ren.substr(0, ren.size() - 3)));
  EXPECT_TRUE(seen(ren.substr(0, ren.size() - 1)));
  const std::string del = resp({"DEL", "a", "b"});
  EXPECT_FALSE(seen(del.substr(0, del.size() - 3)));
  EXPECT_TRUE(seen(del.substr(0, del.size() - 1)));
}

// A stream of commands cut at every byte: the commands before the cut are
// the same, the cut is reported as partial, and a known "need" is exact.
TEST(XpsResp, SplitAtEveryByte) {
  const std::vector<std::vector<std::string>> cmds = {
      {"GET", "key:1"}, {"SET", "key:2", std::string(300, 'x')}, {"MSET", "a", "1", "b", "2"},
      {"PING"},         {"GET", ""},                             {"DEL", "x", "y", "z"}};
  std::string s;
  std::vector<std::uint32_t> ends;     // where each command ends
  std::vector<std::uint32_t> lastdata;  // where its last element's data starts
  for (const auto& c : cmds) {
    s += resp(c);
    ends.push_back(static_cast<std::uint32_t>(s.size()));
    lastdata.push_back(static_cast<std::uint32_t>(s.size() - c.back().size() - 2));
  }
  const auto whole = parse_resp(s);
  ASSERT_EQ(whole.cmds.size(), cmds.size());
  for (std::uint32_t cut = 0; cut <= s.size(); ++cut) {
    for (std::uint32_t win : {XPS_RESP_LOOK, 200u, XPS_RESP_WIN}) {
      const auto r = parse_resp(std::string_view(s).substr(0, cut), win);
      std::size_t done = 0;
      while (done < ends.size() && ends[done] <= cut) ++done;
      ASSERT_EQ(r.cmds.size(), done) << "cut " << cut;
      for (std::size_t i = 0; i < done; ++i) {
        EXPECT_EQ(r.cmds[i].off, whole.cmds[i].off);
        EXPECT_EQ(r.cmds[i].len, whole.cmds[i].len);
        EXPECT_EQ(r.cmds[i].spec, whole.cmds[i].spec);
        EXPECT_EQ(r.cmds[i].keys, whole.cmds[i].keys);
      }
      const bool boundary = cut == 0 || (done && ends[done - 1] == cut);
      if (boundary) {
        EXPECT_EQ(r.stop, XPS_RESP_EV_END) << "cut " << cut;
        continue;
      }
      EXPECT_EQ(r.stop, XPS_RESP_EV_PARTIAL) << "cut " << cut;
      if (cut >= lastdata[done])
        EXPECT_EQ(r.need, ends[done] - cut) << "cut " << cut;
      else
        EXPECT_EQ(r.need, 0u) << "cut " << cut;
      EXPECT_TRUE(r.window_ok);
    }
  }
}

TEST(XpsResp, SlotIsFnv1a) {
  EXPECT_EQ(xps_resp_slot("", 0), 0x9dc5u);
  EXPECT_EQ(xps_resp_slot("foo", 3), 0x7ed7u);
  EXPECT_EQ(xps_resp_slot("key:000000000001", 16), 0xf315u);
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "k" + std::to_string(i);
    EXPECT_LT(xps_resp_slot(k.data(), static_cast<__u32>(k.size())), XPS_SLOTS);
  }
}

// ---- HTTP ----------------------------------------------------------------

const std::string host = "Host: example.com\r\n";

std::string req(const std::string& method, const std::string& body = "",
                const std::string& extra = "") {
  std::string s = method + " /index.html?a=1 HTTP/1.1\r\n" + host + extra;
  if (!body.empty()) s += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return s + "\r\n" + body;
}

TEST(XpsHttp, MethodIds) {
  const std::pair<const char*, std::uint32_t> m[] = {
      {"GET", XPS_HTTP_M_GET},         {"HEAD", XPS_HTTP_M_HEAD},   {"POST", XPS_HTTP_M_POST},
      {"PUT", XPS_HTTP_M_PUT},         {"DELETE", XPS_HTTP_M_DELETE},
      {"CONNECT", XPS_HTTP_M_CONNECT}, {"OPTIONS", XPS_HTTP_M_OPTIONS},
      {"TRACE", XPS_HTTP_M_TRACE},     {"PATCH", XPS_HTTP_M_PATCH}, {"post", XPS_HTTP_M_OTHER},
      {"PROPFIND", XPS_HTTP_M_OTHER},  {"GETS", XPS_HTTP_M_OTHER},  {"", XPS_HTTP_M_OTHER},
  };
  for (const auto& [name, id] : m)
    EXPECT_EQ(xps_http_method_id(name, static_cast<__u32>(std::strlen(name))), id) << name;
}

TEST(XpsHttp, OneRequest) {
  const std::string s = req("GET");
  const auto r = parse_http(s);
  EXPECT_EQ(r.stop, XPS_HTTP_EV_END);
  ASSERT_EQ(r.reqs.size(), 1u);
  EXPECT_EQ(r.reqs[0].method, XPS_HTTP_M_GET);
  EXPECT_EQ(r.reqs[0].mname, "GET");
  EXPECT_EQ(r.reqs[0].len, s.size());
}

TEST(XpsHttp, BodyAndPipelining) {
  const std::string body(256, 'b');
  const std::string s = req("POST", body) + req("PUT", "x") + req("GET") +
                        req("DELETE", "", "Content-Length: 0\r\n") + req("PROPFIND");
  const auto r = parse_http(s);
  EXPECT_EQ(r.stop, XPS_HTTP_EV_END);
  ASSERT_EQ(r.reqs.size(), 5u);
  EXPECT_EQ(r.reqs[0].method, XPS_HTTP_M_POST);
  EXPECT_EQ(r.reqs[0].len, req("POST", body).size());
  EXPECT_EQ(r.reqs[1].method, XPS_HTTP_M_PUT);
  EXPECT_EQ(r.reqs[2].method, XPS_HTTP_M_GET);
  EXPECT_EQ(r.reqs[3].method, XPS_HTTP_M_DELETE);
  EXPECT_EQ(r.reqs[4].method, XPS_HTTP_M_OTHER);
  EXPECT_EQ(r.reqs[4].mname, "PROPFIND");
  std::uint32_t off = 0;
  for (const auto& q : r.reqs) {
    EXPECT_EQ(q.off, off);
    off += q.len;
  }
  EXPECT_EQ(off, s.size());
}

TEST(XpsHttp, HeaderForms) {
  // Case-insensitive names, OWS around values, tabs, other headers.
  const std::string ok[] = {
      "POST / HTTP/1.1\r\nhOsT:  example.com:8080 \r\ncontent-length:\t3\t\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nX-A: \x80\xff\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: wrk\r\nAccept: */*\r\nCookie: " +
          std::string(5000, 'c') + "\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nA-Very-Long-Header-Name-Indeed: 1\r\n\r\n",
      "M_-X / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "GET /a%20b?c=d HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
  };
  for (const auto& s : ok) {
    for (std::uint32_t win : {XPS_HTTP_LOOK + XPS_HTTP_BACK, 300u, XPS_HTTP_WIN}) {
      const auto r = parse_http(s, win);
      EXPECT_EQ(r.stop, XPS_HTTP_EV_END) << s << " why " << r.why;
      ASSERT_EQ(r.reqs.size(), 1u) << s;
      EXPECT_EQ(r.reqs[0].len, s.size());
    }
  }
}

TEST(XpsHttp, UnsupportedOrMalformed) {
  struct bcase {
    std::string in;
    std::uint32_t stop, why;
  };
  const auto U = XPS_HTTP_EV_UNSUPPORTED, M = XPS_HTTP_EV_MALFORMED;
  const std::vector<bcase> cases = {
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", U,
       XPS_HTTP_WHY_TE},
      {"POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", U, XPS_HTTP_WHY_CLOSE},
      {"POST / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", U,
       XPS_HTTP_WHY_CLOSE},
      {"POST / HTTP/1.0\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_HTTP10},
      {"POST / HTTP/2.0\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_VERSION},
      {"POST / http/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_VERSION},
      {"POST / HTTP/1.1 \r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_TARGET},
      {"POST /a b HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_TARGET},
      {"POST /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_TARGET},
      {"POST /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_TARGET},
      {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_TARGET},
      {"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_TARGET},
      {"POST / HTTP/1.1\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: a..b\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: .a\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: a/b\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost:\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: a b\r\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", U,
       XPS_HTTP_WHY_CLEN_DUP},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\nx", U, XPS_HTTP_WHY_CLEN},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", U, XPS_HTTP_WHY_CLEN},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", U, XPS_HTTP_WHY_CLEN},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", U, XPS_HTTP_WHY_CLEN},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999\r\n\r\n", U,
       XPS_HTTP_WHY_CLEN},
      {"POST / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", U, XPS_HTTP_WHY_FOLD},
      {"POST / HTTP/1.1\r\nHost a\r\n\r\n", U, XPS_HTTP_WHY_NAME},
      {"POST / HTTP/1.1\r\nHost : a\r\n\r\n", U, XPS_HTTP_WHY_NAME},
      {"POST / HTTP/1.1\r\nHost: a\r\nNoColonAtAllHereSoLong\r\n\r\n", M, XPS_HTTP_WHY_COLON},
      {"POST / HTTP/1.1\r\nHost: a\r\nNocolon\r\n\r\n", M, XPS_HTTP_WHY_COLON},
      {"POST / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", M, XPS_HTTP_WHY_NAME},
      {"POST / HTTP/1.1\nHost: a\r\n\r\n", M, XPS_HTTP_WHY_CRLF},
      {"POST / HTTP/1.1\r\nHost: a\r\nX: a\n\r\n", M, XPS_HTTP_WHY_CRLF},
      {"POST / HTTP/1.1\r\nHost: a\n\r\n", U, XPS_HTTP_WHY_HOST},
      {"POST / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", M, XPS_HTTP_WHY_CRLF},
      {"POST / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", M, XPS_HTTP_WHY_CTL},
      {"POST / HTTP/1.1\r\nHost: a\r\n\rX", M, XPS_HTTP_WHY_CRLF},
      {"post / HTTP/1.1\r\nHost: a\r\n\r\n", M, XPS_HTTP_WHY_METHOD},
      {" POST / HTTP/1.1\r\nHost: a\r\n\r\n", M, XPS_HTTP_WHY_METHOD},
      {"\r\nPOST / HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_LEADING},
      {"ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_METHOD},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(9000, 'x') + "\r\n\r\n", U,
       XPS_HTTP_WHY_LONG},
      {"GET /" + std::string(9000, 'x') + " HTTP/1.1\r\nHost: a\r\n\r\n", U, XPS_HTTP_WHY_LONG},
      {std::string("\0\1\2\3garbage", 11), M, XPS_HTTP_WHY_METHOD},
      {"GET\r\n", M, XPS_HTTP_WHY_METHOD},
  };
  for (const auto& c : cases) {
    const auto r = parse_http(c.in);
    EXPECT_EQ(r.stop, c.stop) << c.in;
    EXPECT_EQ(r.why, c.why) << c.in;
    EXPECT_TRUE(r.reqs.empty()) << c.in;
  }
  // After good requests, the good ones are reported first.
  const auto r = parse_http(req("POST") + "POST / HTTP/1.0\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.stop, XPS_HTTP_EV_UNSUPPORTED);
  EXPECT_EQ(r.reqs.size(), 1u);
  // A 16-byte method is looked up, a 17-byte one is not for the fast path.
  const auto m16 = parse_http("ABCDEFGHIJKLMNOP / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(m16.stop, XPS_HTTP_EV_END);
  ASSERT_EQ(m16.reqs.size(), 1u);
  EXPECT_EQ(m16.reqs[0].mname, "ABCDEFGHIJKLMNOP");
}

TEST(XpsHttp, Partial) {
  const std::string body(1000, 'b');
  const std::string s = req("POST", body);
  const auto head = s.size() - body.size();
  // Inside the head: the end is unknown.
  for (std::size_t cut : {std::size_t{1}, std::size_t{4}, std::size_t{5}, std::size_t{20},
                          head - 1}) {
    const auto r = parse_http(s.substr(0, cut));
    EXPECT_EQ(r.stop, XPS_HTTP_EV_PARTIAL) << cut;
    EXPECT_EQ(r.need, 0u) << cut;
  }
  // Inside the body: it is known.
  for (std::size_t cut : {head, head + 1, s.size() - 1}) {
    const auto r = parse_http(s.substr(0, cut));
    EXPECT_EQ(r.stop, XPS_HTTP_EV_PARTIAL) << cut;
    EXPECT_EQ(r.need, s.size() - cut) << cut;
  }
}

TEST(XpsHttp, SplitAtEveryByte) {
  const std::string s = req("POST", std::string(300, 'p')) + req("GET") +
                        req("PUT", "x", "Connection: keep-alive\r\nX-Long: " +
                                            std::string(200, 'l') + "\r\n") +
                        req("DELETE");
  std::vector<std::uint32_t> ends, bodies;
  for (const auto& one : {req("POST", std::string(300, 'p')), req("GET"),
                          req("PUT", "x", "Connection: keep-alive\r\nX-Long: " +
                                              std::string(200, 'l') + "\r\n"),
                          req("DELETE")}) {
    bodies.push_back(static_cast<std::uint32_t>((ends.empty() ? 0 : ends.back()) +
                                                one.find("\r\n\r\n") + 4));
    ends.push_back(static_cast<std::uint32_t>((ends.empty() ? 0 : ends.back()) + one.size()));
  }
  ASSERT_EQ(ends.back(), s.size());
  for (std::uint32_t cut = 0; cut <= s.size(); ++cut) {
    for (std::uint32_t win : {XPS_HTTP_LOOK + XPS_HTTP_BACK, 333u, XPS_HTTP_WIN}) {
      const auto r = parse_http(std::string_view(s).substr(0, cut), win);
      std::size_t done = 0;
      while (done < ends.size() && ends[done] <= cut) ++done;
      ASSERT_EQ(r.reqs.size(), done) << "cut " << cut;
      const bool boundary = cut == 0 || (done && ends[done - 1] == cut);
      if (boundary) {
        EXPECT_EQ(r.stop, XPS_HTTP_EV_END) << "cut " << cut;
        continue;
      }
      EXPECT_EQ(r.stop, XPS_HTTP_EV_PARTIAL) << "cut " << cut << " why " << r.why;
      EXPECT_EQ(r.need, cut >= bodies[done] ? ends[done] - cut : 0u) << "cut " << cut;
    }
  }
}

// ---- fuzz -----------------------------------------------------------------

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A random valid RESP stream, as commands.
std::vector<std::vector<std::string>> random_cmds(std::mt19937_64& rng) {
  static const char* names[] = {"GET", "get", "SET", "MSET", "DEL", "MULTI", "EXEC", "SELECT",
                                "PING", "COPY", "XREAD", "BLPOP", "CLIENT", "FOO", "EVAL", ""};
  std::vector<std::vector<std::string>> cmds(1 + rng() % 12);
  for (auto& c : cmds) {
    c.push_back(names[rng() % (sizeof(names) / sizeof(names[0]))]);
    const int args = static_cast<int>(rng() % 6);
    for (int a = 0; a < args; ++a) {
      const std::size_t len = rng() % 8 == 0 ? rng() % 3000 : rng() % 70;
      c.push_back(random_bytes(rng, len));
    }
  }
  return cmds;
}

// Invariants of any parse: commands tile the payload from 0, and the
// parser stops within a bound on its steps.
void check_resp(std::string_view in, const xps_test::resp_result& r, std::uint64_t it) {
  ASSERT_NE(r.stop, 0u) << "no stop, iteration " << it;
  std::uint32_t off = 0;
  for (const auto& c : r.cmds) {
    ASSERT_EQ(c.off, off) << "iteration " << it;
    ASSERT_GT(c.len, 0u);
    off += c.len;
  }
  ASSERT_LE(off, in.size());
  if (r.stop == XPS_RESP_EV_END) {
    ASSERT_EQ(off, in.size()) << "iteration " << it;
  }
  ASSERT_LE(r.steps, 4 * static_cast<int>(in.size()) + 8) << "iteration " << it;
  ASSERT_TRUE(r.window_ok) << "iteration " << it;
}

TEST(XpsResp, FuzzNeverCrashesOrReadsOutside) {
  std::mt19937_64 rng(0x7e5b);
  int ends = 0, partials = 0, bad = 0;
  for (std::uint64_t it = 0; it < 20000; ++it) {
    const auto cmds = random_cmds(rng);
    std::string s;
    for (const auto& c : cmds) s += resp(c);
    switch (it % 4) {
      case 0:  // valid: all commands, keys as the reference says
        break;
      case 1: {  // byte edits
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !s.empty(); ++e) s[rng() % s.size()] = static_cast<char>(rng());
        break;
      }
      case 2:  // digits rewritten
        for (auto& ch : s)
          if (ch >= '0' && ch <= '9' && rng() % 4 == 0) ch = static_cast<char>('0' + rng() % 10);
        break;
      default:  // cut and random bytes
        s = s.substr(0, rng() % (s.size() + 1));
        if (rng() % 2) s += random_bytes(rng, rng() % 40);
        break;
    }
    const std::uint32_t win = XPS_RESP_LOOK + static_cast<std::uint32_t>(rng() % (XPS_RESP_WIN - XPS_RESP_LOOK + 1));
    const auto r = parse_resp(s, win);
    check_resp(s, r, it);
    if (HasFatalFailure()) return;
    // The window size changes nothing.
    const auto w = parse_resp(s, XPS_RESP_WIN);
    ASSERT_EQ(w.stop, r.stop) << "iteration " << it;
    ASSERT_EQ(w.need, r.need) << "iteration " << it;
    ASSERT_EQ(w.cmds.size(), r.cmds.size()) << "iteration " << it;
    for (std::size_t i = 0; i < w.cmds.size(); ++i) {
      ASSERT_EQ(w.cmds[i].spec, r.cmds[i].spec);
      ASSERT_EQ(w.cmds[i].keys, r.cmds[i].keys);
    }
    if (it % 4 == 0) {
      // Valid input: exactly the commands generated.
      ASSERT_EQ(r.stop, XPS_RESP_EV_END) << "iteration " << it;
      ASSERT_EQ(r.cmds.size(), cmds.size());
      for (std::size_t i = 0; i < cmds.size(); ++i) {
        const auto spec = xps_resp_classify(cmds[i][0].data(),
                                            static_cast<__u32>(cmds[i][0].size()));
        ASSERT_EQ(r.cmds[i].spec, spec);
        ASSERT_EQ(r.cmds[i].argc, cmds[i].size());
      }
    }
    ends += r.stop == XPS_RESP_EV_END;
    partials += r.stop == XPS_RESP_EV_PARTIAL;
    bad += r.stop == XPS_RESP_EV_MALFORMED || r.stop == XPS_RESP_EV_INLINE;
  }
  // Every outcome was exercised.
  EXPECT_GT(ends, 1000);
  EXPECT_GT(partials, 1000);
  EXPECT_GT(bad, 1000);
}

TEST(XpsResp, FuzzRandomBytes) {
  std::mt19937_64 rng(0xb17e5);
  for (std::uint64_t it = 0; it < 20000; ++it) {
    std::string s = random_bytes(rng, rng() % 300);
    if (rng() % 2 && !s.empty()) s[0] = '*';
    const auto r = parse_resp(s, XPS_RESP_LOOK + static_cast<std::uint32_t>(rng() % 500));
    check_resp(s, r, it);
    if (HasFatalFailure()) return;
  }
}

std::string random_request(std::mt19937_64& rng) {
  static const char* methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "X_Y"};
  std::string s = methods[rng() % 7];
  s += " /" + std::string(rng() % 100, 'p') + " HTTP/1.1\r\nHost: h" + std::to_string(rng() % 99) +
       "\r\n";
  const int hdrs = static_cast<int>(rng() % 5);
  for (int h = 0; h < hdrs; ++h)
    s += "X-H" + std::to_string(h) + ": " + std::string(rng() % 300, 'v') + "\r\n";
  std::string body;
  if (rng() % 2) {
    body = random_bytes(rng, rng() % 500);
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return s + "\r\n" + body;
}

TEST(XpsHttp, FuzzNeverCrashesOrReadsOutside) {
  std::mt19937_64 rng(0x4771);
  int ends = 0, partials = 0, bad = 0;
  for (std::uint64_t it = 0; it < 20000; ++it) {
    const int n = 1 + static_cast<int>(rng() % 4);
    std::string s;
    for (int i = 0; i < n; ++i) s += random_request(rng);
    switch (it % 4) {
      case 0:
        break;
      case 1: {
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) s[rng() % s.size()] = static_cast<char>(rng());
        break;
      }
      case 2:
        for (auto& ch : s)
          if ((ch == '\r' || ch == '\n' || ch == ' ' || ch == ':') && rng() % 8 == 0)
            ch = "\r\n :"[rng() % 4];
        break;
      default:
        s = s.substr(0, rng() % (s.size() + 1));
        if (rng() % 2) s += random_bytes(rng, rng() % 40);
        break;
    }
    const std::uint32_t win =
        XPS_HTTP_LOOK + XPS_HTTP_BACK +
        static_cast<std::uint32_t>(rng() % (XPS_HTTP_WIN - XPS_HTTP_LOOK - XPS_HTTP_BACK + 1));
    const auto r = parse_http(s, win);
    ASSERT_NE(r.stop, 0u) << "iteration " << it;
    ASSERT_LE(r.steps, 4 * static_cast<int>(s.size()) + 8) << "iteration " << it;
    std::uint32_t off = 0;
    for (const auto& q : r.reqs) {
      ASSERT_EQ(q.off, off);
      off += q.len;
    }
    ASSERT_LE(off, s.size());
    if (r.stop == XPS_HTTP_EV_END) {
      ASSERT_EQ(off, s.size());
    }
    const auto w = parse_http(s, XPS_HTTP_WIN);
    ASSERT_EQ(w.stop, r.stop) << "iteration " << it;
    ASSERT_EQ(w.need, r.need);
    ASSERT_EQ(w.why, r.why);
    ASSERT_EQ(w.reqs.size(), r.reqs.size());
    if (it % 4 == 0) {
      ASSERT_EQ(r.stop, XPS_HTTP_EV_END) << "iteration " << it << " why " << r.why;
      ASSERT_EQ(r.reqs.size(), static_cast<std::size_t>(n));
    }
    ends += r.stop == XPS_HTTP_EV_END;
    partials += r.stop == XPS_HTTP_EV_PARTIAL;
    bad += r.stop == XPS_HTTP_EV_MALFORMED || r.stop == XPS_HTTP_EV_UNSUPPORTED;
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(ends, 1000);
  EXPECT_GT(partials, 1000);
  EXPECT_GT(bad, 1000);
}

TEST(XpsHttp, FuzzRandomBytes) {
  std::mt19937_64 rng(0x9a7b);
  for (std::uint64_t it = 0; it < 20000; ++it) {
    std::string s = random_bytes(rng, rng() % 400);
    if (rng() % 2) s = "POST / HTTP/1.1\r\n" + s;
    const auto r = parse_http(s, XPS_HTTP_LOOK + XPS_HTTP_BACK +
                                     static_cast<std::uint32_t>(rng() % 1000));
    ASSERT_NE(r.stop, 0u) << "iteration " << it;
    ASSERT_LE(r.steps, 4 * static_cast<int>(s.size()) + 8);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
