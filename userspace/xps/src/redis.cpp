// SPDX-License-Identifier: GPL-2.0
//
// The cache filler's real backends: the fence-token program, Redis over
// hiredis, the pinned cache map and miss ring buffer, and the loop.
#include "xps/redis.hpp"

#include <sys/time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <hiredis/hiredis.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "object.hpp"
#include "xcommon/error.hpp"
#include "xcommon/libbpf_tool.hpp"
#include "xps/context.hpp"
#include "xps_fence.skel.h"

extern "C" {
#include "xps_fence.h"
#include "xps_redis.h"
}

namespace xps::redis {

using detail::fail;

// ---- FenceTokens ------------------------------------------------------------

struct FenceTokens::impl {
  xps_fence* skel = nullptr;
  int prog_fd = -1;
  ~impl() { xps_fence__destroy(skel); }
};

FenceTokens::FenceTokens() : p_{std::make_unique<impl>()} {
  p_->skel = xps_fence__open_and_load();
  if (!p_->skel)
    fail(errno, "load the fence-token program (bpf/xps_fence.bpf.c)",
         "it calls the module's kfunc bpf_xps_fence_token: is the xps module loaded?");
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, p_->skel->obj) {
    if (bpf_program__type(prog) == BPF_PROG_TYPE_SYSCALL) p_->prog_fd = bpf_program__fd(prog);
  }
  if (p_->prog_fd < 0)
    throw xcommon::error("bpf/xps_fence.bpf.c has no SEC(\"syscall\") program", EINVAL);
}

FenceTokens::~FenceTokens() = default;

std::uint64_t FenceTokens::token(std::uint32_t slot) {
  // A SYSCALL program's context goes in and comes back through ctx_in.
  xps_fence_ctx ctx{};
  ctx.slot = slot;
  auto opts = xcommon::libbpf::make_opts<bpf_test_run_opts>();
  opts.ctx_in = &ctx;
  opts.ctx_size_in = sizeof(ctx);
  if (int err = bpf_prog_test_run_opts(p_->prog_fd, &opts); err < 0)
    fail(-err, fmt::format("take the fence token of slot {}", slot));
  if (opts.retval != 0)
    throw xcommon::error(fmt::format("fence token of slot {}: the program refused the slot", slot),
                         EINVAL);
  return ctx.token;
}

// ---- RedisClient ------------------------------------------------------------

namespace {

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string reply_text(const redisReply* r) {
  if (!r) return "no reply";
  if (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STRING ||
      r->type == REDIS_REPLY_STATUS)
    return std::string(r->str, r->len);
  return fmt::format("reply type {}", r->type);
}

}  // namespace

struct RedisClient::impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  redisContext* c = nullptr;

  ~impl() { close(); }
  void close() {
    if (c) redisFree(c);
    c = nullptr;
  }
  std::string where() const { return fmt::format("Redis at {}:{}", host, port); }

  // Connected, or an error saying why not.
  redisContext* get() {
    if (c) return c;
    const timeval tv = to_timeval(timeout);
    c = redisConnectWithTimeout(host.c_str(), port, tv);
    if (!c) throw xcommon::error(fmt::format("connect to {}: out of memory", where()), ENOMEM);
    if (c->err) {
      const std::string why = c->errstr;
      close();
      throw xcommon::error(fmt::format("connect to {}: {}", where(), why), ECONNREFUSED)
          .with_hint("is redis-server running there? (--server HOST:PORT)");
    }
    redisSetTimeout(c, tv);
    return c;
  }

  // A failed exchange leaves the connection in an unknown state: drop it.
  [[noreturn]] void broken(std::string_view what) {
    const std::string why = c && c->err ? c->errstr : "connection lost";
    close();
    throw xcommon::error(fmt::format("{} on {}: {}", what, where(), why), EIO);
  }

  reply_ptr command(const std::vector<std::string>& argv) {
    redisContext* ctx = get();
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    reply_ptr r{static_cast<redisReply*>(
        redisCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()))};
    if (!r) broken(argv.front());
    return r;
  }
};

RedisClient::RedisClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : p_{std::make_unique<impl>()} {
  p_->host = std::move(host);
  p_->port = port;
  p_->timeout = timeout;
  p_->get();
}

RedisClient::~RedisClient() = default;

std::string RedisClient::where() const { return p_->where(); }

std::vector<Fetched> RedisClient::fetch(const std::vector<std::string>& keys) {
  if (keys.empty()) return {};
  redisContext* c = p_->get();
  // One pipeline: MGET k1 .. kn, then PEXPIRETIME of each. Not GET: the
  // handler would report a GET it cannot answer as a miss again.
  std::vector<const char*> args{"MGET"};
  std::vector<size_t> lens{4};
  for (const auto& k : keys) {
    args.push_back(k.data());
    lens.push_back(k.size());
  }
  if (redisAppendCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()) !=
      REDIS_OK)
    p_->broken("MGET");
  for (const auto& k : keys) {
    const char* a[] = {"PEXPIRETIME", k.data()};
    const size_t l[] = {11, k.size()};
    if (redisAppendCommandArgv(c, 2, a, l) != REDIS_OK) p_->broken("PEXPIRETIME");
  }
  auto next = [&](std::string_view what) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || !raw) p_->broken(what);
    return reply_ptr{static_cast<redisReply*>(raw)};
  };
  // Read every reply before judging any, so the connection stays in step.
  reply_ptr mget = next("MGET");
  std::vector<reply_ptr> ttl;
  for (std::size_t i = 0; i < keys.size(); ++i) ttl.push_back(next("PEXPIRETIME"));

  if (mget->type != REDIS_REPLY_ARRAY || mget->elements != keys.size())
    throw xcommon::error(fmt::format("MGET on {}: {}", where(), reply_text(mget.get())), EPROTO);
  std::vector<Fetched> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const redisReply* v = mget->element[i];
    if (v->type == REDIS_REPLY_STRING) out[i].value = std::string(v->str, v->len);
    const redisReply* t = ttl[i].get();
    if (t->type == REDIS_REPLY_ERROR)
      throw xcommon::error(fmt::format("PEXPIRETIME on {}: {}", where(), reply_text(t)), EPROTO)
          .with_hint("the filler needs Redis 7.0 or later (PEXPIRETIME)");
    if (t->type != REDIS_REPLY_INTEGER)
      throw xcommon::error(fmt::format("PEXPIRETIME on {}: {}", where(), reply_text(t)), EPROTO);
    out[i].pexpiretime = t->integer;
  }
  return out;
}

std::optional<std::string> RedisClient::config(const std::string& name) {
  reply_ptr r = p_->command({"CONFIG", "GET", name});
  if (r->type == REDIS_REPLY_ERROR)
    throw xcommon::error(fmt::format("CONFIG GET {} on {}: {}", name, where(), reply_text(r.get())),
                         EPROTO);
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 0) return std::nullopt;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[1]->type != REDIS_REPLY_STRING)
    throw xcommon::error(
        fmt::format("CONFIG GET {} on {}: unexpected {}", name, where(), reply_text(r.get())),
        EPROTO);
  return std::string(r->element[1]->str, r->element[1]->len);
}

Eviction RedisClient::eviction() {
  auto must = [&](const std::string& name) {
    if (auto v = config(name)) return *v;
    throw xcommon::error(fmt::format("CONFIG GET {} on {}: no such parameter", name, where()),
                         EPROTO);
  };
  Eviction e;
  e.policy = must("maxmemory-policy");
  const std::string max = must("maxmemory");
  try {
    e.maxmemory = std::stoull(max);
  } catch (const std::exception&) {
    throw xcommon::error(fmt::format("CONFIG GET maxmemory on {}: '{}'", where(), max), EPROTO);
  }
  return e;
}

Threading RedisClient::threading() {
  Threading t;
  const auto n = config("io-threads");
  if (!n) return t;  // before Redis 6: one thread
  try {
    t.io_threads = static_cast<unsigned>(std::stoul(*n));
  } catch (const std::exception&) {
    throw xcommon::error(fmt::format("CONFIG GET io-threads on {}: '{}'", where(), *n), EPROTO);
  }
  const auto reads = config("io-threads-do-reads");
  t.do_reads = !reads || *reads == "yes";
  return t;
}

// ---- the handler's maps -----------------------------------------------------

MapCache::MapCache(const Context& ctx)
    : map_{std::make_unique<DataMap>(ctx.map(k_cache_map))} {
  if (map_->key_size() != sizeof(xps_redis_key) || map_->value_size() != sizeof(xps_redis_val))
    throw xcommon::error(
        fmt::format("{} of handler {} has {} B keys and {} B values, bpf/xps_redis.h says {} "
                    "and {}: is it the shipped redis handler?",
                    k_cache_map, ctx.name(), map_->key_size(), map_->value_size(),
                    sizeof(xps_redis_key), sizeof(xps_redis_val)),
        EINVAL);
}

MapCache::~MapCache() = default;

void MapCache::store(const std::string& key, const Entry& e) {
  const auto k = cache_key(key);
  if (!k) throw xcommon::error(fmt::format("key of {} bytes is too long to cache", key.size()));
  const std::string v = cache_value(e);
  map_->set(std::as_bytes(std::span{*k}), std::as_bytes(std::span{v}));
}

void set_conf(const Context& ctx, bool enabled, bool writes_global, bool write_through) {
  const DataMap map = ctx.map(k_conf_map);
  xps_redis_conf conf{};
  conf.enabled = enabled ? 1 : 0;
  conf.writes_global = writes_global ? 1 : 0;
  conf.write_through = write_through ? 1 : 0;
  const __u32 zero = 0;
  if (map.key_size() != sizeof(zero) || map.value_size() != sizeof(conf))
    throw xcommon::error(fmt::format("{} of handler {} is not bpf/xps_redis.h's", k_conf_map,
                                     ctx.name()),
                         EINVAL);
  map.set(std::as_bytes(std::span{&zero, 1}), std::as_bytes(std::span{&conf, 1}));
}

struct MissReader::impl {
  DataMap map;
  ring_buffer* rb = nullptr;
  explicit impl(DataMap m) : map{std::move(m)} {}
  ~impl() { ring_buffer__free(rb); }
};

MissReader::MissReader(const Context& ctx, std::function<void(std::string)> on_miss)
    : p_{std::make_unique<impl>(ctx.map(k_misses_map))}, on_miss_{std::move(on_miss)} {
  p_->rb = ring_buffer__new(
      p_->map.fd(),
      [](void* self, void* data, size_t size) -> int {
        auto* r = static_cast<MissReader*>(self);
        if (auto key = parse_miss({static_cast<const char*>(data), size}))
          r->on_miss_(std::move(*key));
        else
          ++r->malformed_;
        return 0;
      },
      this, nullptr);
  if (!p_->rb) fail(errno, fmt::format("read ring buffer {} of {}", k_misses_map, ctx.name()));
}

MissReader::~MissReader() = default;

int MissReader::poll(std::chrono::milliseconds timeout) {
  const int n = ring_buffer__poll(p_->rb, static_cast<int>(timeout.count()));
  if (n == -EINTR) return 0;
  if (n < 0) fail(-n, fmt::format("poll ring buffer {}", k_misses_map));
  return n;
}

// ---- the loop ---------------------------------------------------------------

Stats run_filler(const Context& ctx, const FillOptions& opts, const std::atomic<bool>& stop) {
  using clock = Filler::clock;
  using namespace std::chrono_literals;
  auto warn = [&](const std::string& w) {
    if (opts.warn) opts.warn(w);
  };

  RedisClient redis(opts.host, opts.port);
  // Redis evicts keys no command names: then every write must fence every
  // key (writes_global), since any of them may make room by evicting K.
  // Asked once, before the cache is enabled: the handler fences every slot
  // for any CONFIG command (ours too), so asking again while the cache
  // serves would empty it each time. A CONFIG SET that turns eviction on
  // later is the handler's to see.
  bool global = true;
  try {
    const Eviction ev = redis.eviction();
    global = ev.possible();
  } catch (const xcommon::error& e) {
    if (e.code() != EPROTO) throw;
    warn(fmt::format("{}; assuming keys may be evicted", e.what()));
  }
  bool write_through = opts.write_through && !global;
  if (write_through) {
    try {
      if (redis.threading().threaded_reads()) {
        write_through = false;
        warn("Redis reads in I/O threads (io-threads, io-threads-do-reads): write-through off");
      }
    } catch (const xcommon::error& e) {
      if (e.code() != EPROTO) throw;
      write_through = false;
      warn(fmt::format("{}; write-through off", e.what()));
    }
  }
  FenceTokens tokens;
  MapCache cache(ctx);
  Filler filler(tokens, redis, cache, opts.filler);
  MissReader reader(ctx, [&](std::string key) { filler.miss(std::move(key)); });
  set_conf(ctx, true, global, write_through);
  // The cache serves only while its filler runs: nobody else refills it,
  // and only the filler knew the eviction settings it was enabled with.
  struct disable_at_exit {
    const Context& ctx;
    ~disable_at_exit() {
      try {
        set_conf(ctx, false, true);
      } catch (...) {
      }
    }
  } disable{ctx};
  if (opts.report) opts.report(filler.stats(), "started");

  std::uint64_t reported = 0;  // misses + fills at the last report
  auto last_report = clock::now();
  while (!stop) {
    auto now = clock::now();
    auto wait = 100ms;
    if (auto due = filler.next_due())
      wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*due - now), 0ms, 100ms);
    reader.poll(wait);
    try {
      while (!stop && filler.run(clock::now()) > 0) {
      }
    } catch (const std::exception& e) {
      warn(fmt::format("{} (keys of this batch dropped; they are filled at their next miss)",
                       xcommon::describe(e)));
      std::this_thread::sleep_for(200ms);
    }
    now = clock::now();
    if (now - last_report >= 1s) {
      last_report = now;
      const Stats& s = filler.stats();
      if (opts.report && s.misses + s.filled != reported) {
        reported = s.misses + s.filled;
        opts.report(s, "stats");
      }
    }
  }
  if (reader.malformed()) warn(fmt::format("{} malformed miss records", reader.malformed()));
  if (opts.report) opts.report(filler.stats(), "stopped");
  return filler.stats();
}

}  // namespace xps::redis
