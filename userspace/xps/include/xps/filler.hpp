// SPDX-License-Identifier: GPL-2.0
//
// The Redis cache filler's protocol, without Redis, BPF or the module: the
// three things it talks to are interfaces, so the tests drive it with fakes
// and `xpsctl redis fill` with the real ones (xps/redis.hpp).
//
//   Filler f(tokens, fetcher, cache);
//   f.miss("user:1");     // from the handler's miss ring buffer
//   f.run();              // token, then fetch, then store, for every due key
//
// For each key: (1) take the write-fence token of the key's slot; 0 means a
// write to the slot is still pending: try the key again a little later
// (bounded); (2) only then fetch value and expiry from Redis (MGET and
// PEXPIRETIME, pipelined); (3) store {token, expiry, value} in the cache
// map. Why this order keeps the cache coherent is explained at run() in
// filler.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace xps::redis {

// Write-fence tokens (bpf_xps_fence_token() of the module).
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // Token of `slot` now: non-zero and unchanged while no write to the slot
  // was fenced since; 0 while one is pending.
  virtual std::uint64_t token(std::uint32_t slot) = 0;
};

// What Redis says about one key.
struct Fetched {
  std::optional<std::string> value;  // MGET: nullopt for nil (absent, or not a string)
  long long pexpiretime = -2;        // PEXPIRETIME: ms since the epoch, -1 none, -2 no key
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // One answer per key, in order, from one pipeline (MGET k1 .. kn, then
  // PEXPIRETIME of each). Throws when Redis cannot be asked.
  virtual std::vector<Fetched> fetch(const std::vector<std::string>& keys) = 0;
};

// One cache entry as the handler checks it.
struct Entry {
  std::uint64_t token = 0;      // fence token taken before the fetch
  std::uint64_t expire_ms = 0;  // absolute, CLOCK_REALTIME ms; 0: never
  std::string data;             // the value, at most Options::max_value bytes
};

class Cache {
 public:
  virtual ~Cache() = default;
  virtual void store(const std::string& key, const Entry& e) = 0;
};

struct Options {
  std::size_t batch = 64;         // keys per pipeline
  std::size_t max_key = 64;       // longer keys are not cached
  std::size_t max_value = 512;    // longer values are not cached
  unsigned max_tries = 8;         // token attempts of a key before giving up
  std::chrono::microseconds retry_delay{200};  // doubled each try, at most 50 ms
  std::size_t max_queued = 65536;  // more distinct keys waiting are dropped
};

struct Stats {
  std::uint64_t misses = 0;      // keys reported
  std::uint64_t merged = 0;      // ... already waiting: one fill serves both
  std::uint64_t filled = 0;      // entries stored
  std::uint64_t write_pending = 0;  // token 0: retried later
  std::uint64_t gave_up = 0;     // still pending after max_tries
  std::uint64_t absent = 0;      // nil or no such key: nothing to cache
  std::uint64_t too_large = 0;   // key or value over the limit
  std::uint64_t dropped = 0;     // queue full
  std::uint64_t fetch_errors = 0;  // keys lost to a failed fetch
  std::uint64_t store_errors = 0;
};

[[nodiscard]] nlohmann::json to_json(const Stats& s);

// The fence slot of a key: modules/xps/include/xps/resp.h's hash, the one
// the handler uses.
[[nodiscard]] std::uint32_t slot_of(std::string_view key) noexcept;

class Filler {
 public:
  using clock = std::chrono::steady_clock;

  Filler(TokenSource& tokens, Fetcher& fetcher, Cache& cache, Options opts = {});

  // A GET missed `key`: queue it, due at once (merged with a queued one).
  void miss(std::string key, clock::time_point now = clock::now());

  // Fills the keys due by `now`, at most one pipeline (Options::batch).
  // Returns how many keys it took off the queue (filled or not). A failed
  // fetch loses that batch's keys (counted) and is rethrown.
  std::size_t run(clock::time_point now = clock::now());

  // When the next queued key is due; nullopt if none is queued.
  [[nodiscard]] std::optional<clock::time_point> next_due() const;
  [[nodiscard]] std::size_t queued() const noexcept { return queued_.size(); }
  [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

 private:
  struct Waiting {
    std::string key;
    clock::time_point due;
    unsigned tries = 0;
  };

  TokenSource& tokens_;
  Fetcher& fetcher_;
  Cache& cache_;
  Options opts_;
  Stats stats_;
  std::deque<Waiting> fresh_;                           // due at once, in order
  std::multimap<clock::time_point, Waiting> retries_;  // by due time
  std::unordered_set<std::string> queued_;             // keys in either
};

}  // namespace xps::redis
