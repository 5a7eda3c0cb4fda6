// SPDX-License-Identifier: GPL-2.0
//
// The filler's Redis side (hiredis) against a fake Redis on the loopback:
// what it sends (one pipeline of MGET and PEXPIRETIME, never GET), how it
// reads the replies, the eviction check, and its errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"
#include "xps/redis.hpp"

namespace {

using xcommon::unique_fd;

// A Redis that knows a few strings and their PEXPIRETIME, and logs every
// command it gets (and how many arrived in one read: a pipeline).
class FakeRedis {
 public:
  std::map<std::string, std::pair<std::string, long long>> strings;
  std::map<std::string, std::string> config = {{"maxmemory-policy", "noeviction"},
                                               {"maxmemory", "0"}};
  bool no_pexpiretime = false;  // Redis 6

  FakeRedis() {
    listener_ = unique_fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
    EXPECT_EQ(::listen(listener_.get(), 4), 0);
    socklen_t len = sizeof(sin);
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRedis() {
    stop_ = true;
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  std::vector<std::string> commands() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      unique_fd c{::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC)};
      std::string buf;
      while (!stop_) {
        pollfd q{c.get(), POLLIN, 0};
        if (::poll(&q, 1, 20) <= 0) continue;
        char tmp[65536];
        const ssize_t n = ::read(c.get(), tmp, sizeof(tmp));
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
        std::string out;
        std::vector<std::string> argv;
        while (parse(buf, argv)) out += answer(argv);
        if (!out.empty() && ::write(c.get(), out.data(), out.size()) < 0) break;
      }
    }
  }

  // One RESP array of bulk strings off the front of buf.
  static bool parse(std::string& buf, std::vector<std::string>& argv) {
    argv.clear();
    std::size_t pos = 0;
    auto line = [&](std::string& l) {
      const auto e = buf.find("\r\n", pos);
      if (e == std::string::npos) return false;
      l = buf.substr(pos, e - pos);
      pos = e + 2;
      return true;
    };
    std::string l;
    if (!line(l) || l.empty() || l[0] != '*') return false;
    const int n = std::stoi(l.substr(1));
    for (int i = 0; i < n; ++i) {
      if (!line(l) || l[0] != '$') return false;
      const std::size_t len = std::stoul(l.substr(1));
      if (buf.size() < pos + len + 2) return false;
      argv.push_back(buf.substr(pos, len));
      pos += len + 2;
    }
    buf.erase(0, pos);
    return true;
  }

  static std::string bulk(const std::string& s) { return fmt::format("${}\r\n{}\r\n", s.size(), s); }

  std::string answer(const std::vector<std::string>& argv) {
    {
      std::lock_guard lock(mu_);
      std::string e;
      for (const auto& a : argv) e += (e.empty() ? "" : " ") + a;
      log_.push_back(e);
    }
    const std::string& cmd = argv.at(0);
    if (cmd == "MGET") {
      std::string out = fmt::format("*{}\r\n", argv.size() - 1);
      for (std::size_t i = 1; i < argv.size(); ++i) {
        auto it = strings.find(argv[i]);
        out += it == strings.end() ? "$-1\r\n" : bulk(it->second.first);
      }
      return out;
    }
    if (cmd == "PEXPIRETIME") {
      if (no_pexpiretime) return "-ERR unknown command 'PEXPIRETIME'\r\n";
      auto it = strings.find(argv.at(1));
      return fmt::format(":{}\r\n", it == strings.end() ? -2 : it->second.second);
    }
    if (cmd == "CONFIG" && argv.size() == 3) {
      auto it = config.find(argv[2]);
      if (it == config.end()) return "*0\r\n";
      return "*2\r\n" + bulk(argv[2]) + bulk(it->second);
    }
    return "-ERR unknown command\r\n";
  }

  unique_fd listener_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST(XpsRedisClient, OnePipelineOfMgetAndPexpiretime) {
  FakeRedis redis;
  redis.strings["user:1"] = {"alice", -1};
  redis.strings["bin"] = {std::string("a\0b\r\n", 5), 1700000000500};
  xps::redis::RedisClient client("127.0.0.1", redis.port());
  const auto got = client.fetch({"user:1", "nosuch", "bin"});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value, "alice");
  EXPECT_EQ(got[0].pexpiretime, -1);
  EXPECT_FALSE(got[1].value);
  EXPECT_EQ(got[1].pexpiretime, -2);
  EXPECT_EQ(got[2].value, std::string("a\0b\r\n", 5)) << "binary-safe";
  EXPECT_EQ(got[2].pexpiretime, 1700000000500);
  EXPECT_EQ(redis.commands(),
            (std::vector<std::string>{"MGET user:1 nosuch bin", "PEXPIRETIME user:1",
                                      "PEXPIRETIME nosuch", "PEXPIRETIME bin"}))
      << "MGET, never GET: a GET would miss in the handler again";
  EXPECT_TRUE(client.fetch({}).empty());
}

TEST(XpsRedisClient, Eviction) {
  FakeRedis redis;
  xps::redis::RedisClient client("127.0.0.1", redis.port());
  auto e = client.eviction();
  EXPECT_EQ(e.policy, "noeviction");
  EXPECT_FALSE(e.possible());
  redis.config["maxmemory-policy"] = "allkeys-lru";
  redis.config["maxmemory"] = "1048576";
  e = client.eviction();
  EXPECT_EQ(e.maxmemory, 1048576u);
  EXPECT_TRUE(e.possible());
}

TEST(XpsRedisClient, Errors) {
  FakeRedis redis;
  redis.no_pexpiretime = true;
  redis.strings["k"] = {"v", -1};
  xps::redis::RedisClient client("127.0.0.1", redis.port());
  try {
    (void)client.fetch({"k"});
    ADD_FAILURE() << "no error from a Redis without PEXPIRETIME";
  } catch (const xcommon::error& e) {
    EXPECT_NE(xcommon::describe(e).find("Redis 7.0 or later"), std::string::npos)
        << xcommon::describe(e);
  }
  // The connection stayed in step: the next exchange works.
  redis.no_pexpiretime = false;
  EXPECT_EQ(client.fetch({"k"}).at(0).value, "v");

  // Nobody listening.
  const std::uint16_t port = redis.port();
  unique_fd probe{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  socklen_t len = sizeof(sin);
  ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  const std::uint16_t closed = ntohs(sin.sin_port);  // bound, not listening
  ASSERT_NE(closed, port);
  try {
    xps::redis::RedisClient c2("127.0.0.1", closed);
    ADD_FAILURE() << "connected to a port nobody listens on";
  } catch (const xcommon::error& e) {
    EXPECT_NE(std::string(e.what()).find(fmt::format("connect to Redis at 127.0.0.1:{}", closed)),
              std::string::npos)
        << e.what();
    EXPECT_NE(e.hint().find("redis-server"), std::string::npos);
  }
}

}  // namespace
