// SPDX-License-Identifier: GPL-2.0
#include "xps/filler.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

extern "C" {
#include "xps/resp.h"
}

namespace xps::redis {

std::uint32_t slot_of(std::string_view key) noexcept {
  return xps_resp_slot(key.data(), static_cast<__u32>(key.size()));
}

nlohmann::json to_json(const Stats& s) {
  return {{"misses", s.misses},
          {"merged", s.merged},
          {"filled", s.filled},
          {"write_pending", s.write_pending},
          {"gave_up", s.gave_up},
          {"absent", s.absent},
          {"too_large", s.too_large},
          {"dropped", s.dropped},
          {"fetch_errors", s.fetch_errors},
          {"store_errors", s.store_errors}};
}

Filler::Filler(TokenSource& tokens, Fetcher& fetcher, Cache& cache, Options opts)
    : tokens_{tokens}, fetcher_{fetcher}, cache_{cache}, opts_{opts} {
  if (opts_.batch == 0 || opts_.max_tries == 0)
    throw std::invalid_argument("the filler needs batch > 0 and max_tries > 0");
}

void Filler::miss(std::string key, clock::time_point now) {
  ++stats_.misses;
  if (key.empty() || key.size() > opts_.max_key) {
    ++stats_.too_large;
    return;
  }
  if (queued_.count(key)) {
    ++stats_.merged;
    return;
  }
  if (queued_.size() >= opts_.max_queued) {
    ++stats_.dropped;
    return;
  }
  queued_.insert(key);
  fresh_.push_back({std::move(key), now, 0});
}

std::optional<Filler::clock::time_point> Filler::next_due() const {
  std::optional<clock::time_point> due;
  if (!fresh_.empty()) due = fresh_.front().due;
  if (!retries_.empty() && (!due || retries_.begin()->first < *due)) due = retries_.begin()->first;
  return due;
}

// Why a cache entry filled this way never serves a value older than the
// last write Redis acknowledged (the coherence rule):
//
// The handler sees every write command to a key K on its way into Redis
// and fences K's slot (bpf_xps_fence_write) before Redis can read it: the
// slot's generation changes, and its token reads 0 until Redis has read
// the command (the module ends the fence when the application consumed
// that payload). The handler serves an entry only while the slot's token
// equals the one stored in the entry. Take a write W to K that Redis
// acknowledged, and an entry for K filled with token T:
//
//  - T was taken before W was fenced: W changed the generation, so the
//    token is no longer T and the entry is never served again, however
//    old or new its value is.
//  - T was taken after W was fenced: T != 0 means W was no longer pending,
//    i.e. Redis had already read (and, single-threaded, executed) W. The
//    fetch below is sent only after T was taken, so Redis runs it after W
//    and it sees W's effect or a later one.
//
// Either way no fast-path GET returns a value older than W. The order is
// the point: a token taken after the fetch could belong to a generation
// that began after a write the fetched value predates. Writes that change
// keys without naming them (FLUSHALL, eviction, scripts) fence every slot
// (XPS_SLOT_ALL); expiry is checked by the handler against expire_ms. The
// fetch uses MGET, not GET: the handler would count a GET as a miss again.
std::size_t Filler::run(clock::time_point now) {
  std::vector<Waiting> batch;
  while (!retries_.empty() && retries_.begin()->first <= now && batch.size() < opts_.batch) {
    batch.push_back(std::move(retries_.begin()->second));
    retries_.erase(retries_.begin());
  }
  while (!fresh_.empty() && fresh_.front().due <= now && batch.size() < opts_.batch) {
    batch.push_back(std::move(fresh_.front()));
    fresh_.pop_front();
  }
  if (batch.empty()) return 0;

  // (1) Every token of the batch before anything is asked of Redis.
  struct Ready {
    std::string key;
    std::uint64_t token;
  };
  std::vector<Ready> ready;
  for (auto& w : batch) {
    const std::uint64_t token = tokens_.token(slot_of(w.key));
    if (token != 0) {
      ready.push_back({std::move(w.key), token});
      continue;
    }
    // A write to the slot is pending: whatever Redis says now may be
    // overwritten before the entry could be checked. Later, a little.
    ++stats_.write_pending;
    if (++w.tries >= opts_.max_tries) {
      ++stats_.gave_up;
      queued_.erase(w.key);
      continue;
    }
    const auto delay = std::min<clock::duration>(
        opts_.retry_delay * (1u << std::min(w.tries - 1, 16u)), std::chrono::milliseconds(50));
    w.due = now + delay;
    retries_.emplace(w.due, std::move(w));
  }
  if (ready.empty()) return batch.size();

  // (2) Then the values, in one pipeline.
  std::vector<std::string> keys;
  keys.reserve(ready.size());
  for (const auto& r : ready) keys.push_back(r.key);
  std::vector<Fetched> got;
  try {
    got = fetcher_.fetch(keys);
    if (got.size() != keys.size())
      throw std::runtime_error(
          fmt::format("Redis answered {} of {} keys", got.size(), keys.size()));
  } catch (...) {
    stats_.fetch_errors += ready.size();
    for (const auto& r : ready) queued_.erase(r.key);
    throw;
  }

  // (3) Store what can be cached.
  for (std::size_t i = 0; i < ready.size(); ++i) {
    queued_.erase(ready[i].key);
    const Fetched& f = got[i];
    if (!f.value || f.pexpiretime == -2 || f.pexpiretime < -1) {
      ++stats_.absent;  // no key, or not a string: GETs go to Redis
      continue;
    }
    if (f.value->size() > opts_.max_value) {
      ++stats_.too_large;
      continue;
    }
    Entry e;
    // Stored XORed with the key's tag: see xps_resp_tag() in resp.h.
    e.token = ready[i].token ^ xps_resp_tag(ready[i].key.data(),
                                            static_cast<__u32>(ready[i].key.size()));
    e.expire_ms = f.pexpiretime == -1 ? 0 : static_cast<std::uint64_t>(f.pexpiretime);
    e.data = *f.value;
    try {
      cache_.store(ready[i].key, e);
      ++stats_.filled;
    } catch (const std::exception&) {
      ++stats_.store_errors;
    }
  }
  return batch.size();
}

}  // namespace xps::redis
