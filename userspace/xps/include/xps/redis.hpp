// SPDX-License-Identifier: GPL-2.0
//
// The shipped Redis handler's side in user space (bpf/xps_redis.h): its
// maps' layouts, and the real backends of the cache filler (filler.hpp):
//
//   FenceTokens   bpf_xps_fence_token() through the SYSCALL program of
//                 bpf/xps_fence.bpf.c, run with BPF_PROG_TEST_RUN
//   RedisClient   MGET + PEXPIRETIME over hiredis; CONFIG GET at start
//   MapCache      the pinned xps_redis_cache map
//   MissReader    the pinned xps_redis_misses ring buffer
//   FillDaemon    all of it for `xpsctl redis fill`
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xps/filler.hpp"

namespace xps {
class Context;
class DataMap;
}  // namespace xps

namespace xps::redis {

// Map names of the shipped handler (bpf/xps_redis.bpf.c).
inline constexpr std::string_view k_cache_map = "xps_redis_cache";
inline constexpr std::string_view k_misses_map = "xps_redis_misses";
inline constexpr std::string_view k_conf_map = "xps_redis_conf";

// ---- layouts (no libbpf: unit-tested) ---------------------------------------

// The cache map's key for a Redis key (nullopt if it is too long).
[[nodiscard]] std::optional<std::string> cache_key(std::string_view key);
// The cache map's value for an entry (hits 0).
[[nodiscard]] std::string cache_value(const Entry& e);
// An entry and its hits, from a cache map value.
struct CachedValue {
  Entry entry;
  std::uint64_t hits = 0;
};
[[nodiscard]] std::optional<CachedValue> parse_cache_value(std::string_view bytes);
// The key of a miss record of the ring buffer; nullopt if malformed.
[[nodiscard]] std::optional<std::string> parse_miss(std::string_view record);

// What CONFIG GET says about eviction.
struct Eviction {
  std::string policy;           // maxmemory-policy
  std::uint64_t maxmemory = 0;  // bytes, 0: no limit
  // Redis may evict keys without a command naming them.
  [[nodiscard]] bool possible() const noexcept { return maxmemory > 0 && policy != "noeviction"; }
};

// What CONFIG GET says about I/O threads. Redis that reads in several
// threads may apply commands of two clients in another order than it read
// them, which write-through (a SET's value served from its +OK on) must not
// meet: the kernel knows only the order of reads.
struct Threading {
  unsigned io_threads = 1;  // io-threads
  bool do_reads = false;    // io-threads-do-reads; Redis 8 has no such option and reads in them
  [[nodiscard]] bool threaded_reads() const noexcept { return io_threads > 1 && do_reads; }
};

// ---- backends (libbpf, hiredis) ---------------------------------------------

class FenceTokens : public TokenSource {
 public:
  FenceTokens();  // loads the program (the xps module must be loaded)
  ~FenceTokens() override;
  std::uint64_t token(std::uint32_t slot) override;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

class RedisClient : public Fetcher {
 public:
  RedisClient(std::string host, std::uint16_t port,
              std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~RedisClient() override;
  std::vector<Fetched> fetch(const std::vector<std::string>& keys) override;
  [[nodiscard]] Eviction eviction();
  [[nodiscard]] Threading threading();
  // CONFIG GET name: its value, nullopt if this Redis has no such parameter.
  [[nodiscard]] std::optional<std::string> config(const std::string& name);
  [[nodiscard]] std::string where() const;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

class MapCache : public Cache {
 public:
  explicit MapCache(const Context& ctx);
  ~MapCache() override;
  void store(const std::string& key, const Entry& e) override;

 private:
  std::unique_ptr<DataMap> map_;
};

// Sets the handler's configuration (xps_redis_conf).
void set_conf(const Context& ctx, bool enabled, bool writes_global, bool write_through = false);

class MissReader {
 public:
  MissReader(const Context& ctx, std::function<void(std::string)> on_miss);
  ~MissReader();
  // Waits up to timeout for records, hands each key to on_miss; returns
  // how many it consumed. EINTR counts as none.
  int poll(std::chrono::milliseconds timeout);
  [[nodiscard]] std::uint64_t malformed() const noexcept { return malformed_; }

 private:
  struct impl;
  std::unique_ptr<impl> p_;
  std::function<void(std::string)> on_miss_;
  std::uint64_t malformed_ = 0;
};

struct FillOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  Options filler;
  // Called with "started" once the cache is enabled, "stats" about every
  // second while the counters change, and "stopped" at the end.
  std::function<void(const Stats&, std::string_view event)> report;
  std::function<void(const std::string&)> warn;
  // Let a plain SET store its value in the cache, served once Redis answers
  // +OK (off where Redis reads in I/O threads, or keys may be evicted).
  bool write_through = true;
};

// `xpsctl redis fill`: checks eviction, configures and enables the
// handler, then fills until `stop` is set. Returns the final counters.
Stats run_filler(const Context& ctx, const FillOptions& opts, const std::atomic<bool>& stop);

}  // namespace xps::redis
