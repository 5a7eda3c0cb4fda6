// SPDX-License-Identifier: GPL-2.0
//
// The Redis handler's map layouts (bpf/xps_redis.h) as bytes: no libbpf,
// so the tests check them on the host.
#include <algorithm>
#include <cstring>

#include "xps/redis.hpp"

extern "C" {
#include "xps_redis.h"
}

namespace xps::redis {

std::optional<std::string> cache_key(std::string_view key) {
  xps_redis_key k{};
  if (key.empty() || key.size() > sizeof(k.key)) return std::nullopt;
  k.len = static_cast<__u32>(key.size());
  std::memcpy(k.key, key.data(), key.size());
  return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

std::string cache_value(const Entry& e) {
  xps_redis_val v{};
  v.token = e.token;
  v.expire_ms = e.expire_ms;
  v.len = static_cast<__u32>(std::min(e.data.size(), sizeof(v.data)));
  v.hits = 0;
  std::memcpy(v.data, e.data.data(), v.len);
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

std::optional<CachedValue> parse_cache_value(std::string_view bytes) {
  xps_redis_val v{};
  if (bytes.size() != sizeof(v)) return std::nullopt;
  std::memcpy(&v, bytes.data(), sizeof(v));
  if (v.len > sizeof(v.data)) return std::nullopt;
  CachedValue c;
  c.entry.token = v.token;
  c.entry.expire_ms = v.expire_ms;
  c.entry.data.assign(v.data, v.len);
  c.hits = v.hits;
  return c;
}

std::optional<std::string> parse_miss(std::string_view record) {
  xps_redis_miss m{};
  if (record.size() < sizeof(m)) return std::nullopt;
  std::memcpy(&m, record.data(), sizeof(m));
  if (m.len == 0 || m.len > sizeof(m.key)) return std::nullopt;
  return std::string(m.key, m.len);
}

}  // namespace xps::redis
