// SPDX-License-Identifier: GPL-2.0
//
// xpsctl: attach, inspect and feed XPS handlers through libxps. The command
// line is parsed by xpsctl_cli.cpp; this file does the verbs.
//
// Verb to libxps:
//   handler attach   Context::create (open, patch the predicate, load, attach, pin)
//   handler detach   Context::open + detach (bpf_link_detach, unpin)
//   handler list     list_handlers (sysfs + pins + the links' struct_ops maps)
//   handler update   Context::open + update (new map, bpf_link_update)
//   data ...         Context::map + DataMap put/update/erase/get/keys
//   http action      the http handler's xps_http_methods map
//   stats            Sysfs + the handler's map with 'hits'
//   redis fill       redis::run_filler
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xcommon/error.hpp"
#include "xcommon/libbpf_tool.hpp"
#include "xpsctl_cli.hpp"
#include "xps/bytes.hpp"
#include "xps/context.hpp"
#include "xps/http.hpp"
#include "xps/redis.hpp"
#include "xps/sysfs.hpp"

namespace xsel::xpsctl {
namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void print_json(const json& j) {
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
}

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span{s}); }

xps::ContextOptions options(const command& cmd) {
  xps::ContextOptions o;
  o.paths.bpffs = cmd.bpffs;
  o.paths.sysfs = cmd.sysfs;
  return o;
}

std::string encode_or_throw(const std::string& text, std::size_t size, std::string_view what) {
  std::string why;
  auto b = xps::encode(text, size, what, &why);
  if (!b) throw xcommon::error(why, EINVAL);
  return *b;
}

// --- handler -----------------------------------------------------------------

int do_attach(const command& cmd) {
  const auto obj = xps::HandlerObject::parse(cmd.object);
  xps::Context ctx = xps::Context::create(obj, cmd.spec, options(cmd));
  if (obj.is_builtin() && obj.source() == "http") {
    try {
      xps::http::set_defaults(ctx);
    } catch (...) {
      ctx.detach();  // nothing half done: no handler without its rules
      throw;
    }
  }
  fmt::print("handler {} attached from {}: {}\npinned under {} (maps: {})\n", ctx.name(),
             obj.describe(), ctx.predicate().str(), ctx.pin_dir(),
             ctx.maps().empty() ? std::string("none") : fmt::format("{}", fmt::join(ctx.maps(), ", ")));
  if (obj.is_builtin() && obj.source() == "http")
    fmt::print("rules: POST answered 405, PUT reset; change them with xpsctl http action {} ...\n",
               ctx.name());
  if (obj.is_builtin() && obj.source() == "redis")
    fmt::print("the cache serves while its filler runs: xpsctl redis fill --name {}\n", ctx.name());
  return 0;
}

int do_detach(const command& cmd) {
  xps::Context ctx = xps::Context::open(cmd.name, options(cmd));
  ctx.detach();
  fmt::print("handler {} detached\n", cmd.name);
  return 0;
}

int do_update(const command& cmd) {
  const auto obj = xps::HandlerObject::parse(cmd.object);
  xps::Context ctx = xps::Context::open(cmd.name, options(cmd));
  ctx.update(obj);
  fmt::print("handler {} now runs {} ({})\n", cmd.name, obj.describe(), ctx.predicate().str());
  return 0;
}

std::string counter_line(const xps::Counters& c) {
  std::string out;
  for (const auto& i : c.items)
    if (i.name != "lport" && i.name != "owner_pid")
      out += fmt::format("{}{} {}", out.empty() ? "" : " ", i.name, i.value);
  return out;
}

int do_list(const command& cmd) {
  const auto handlers = xps::list_handlers(options(cmd).paths);
  if (cmd.json) {
    json arr = json::array();
    for (const auto& h : handlers) arr.push_back(xps::to_json(h));
    print_json(arr);
    return 0;
  }
  if (handlers.empty()) {
    fmt::print("no handlers attached (xpsctl handler attach ...)\n");
    return 0;
  }
  for (const auto& h : handlers) {
    std::string state = h.stats ? (h.pinned ? "" : " (not pinned: held by a process)")
                                : " (pinned, but not attached)";
    fmt::print("{}{}\n", h.name, state);
    if (h.predicate)
      fmt::print("  predicate: {}\n", h.predicate->str());
    else if (h.stats)
      fmt::print("  predicate: lport {} owner {} (run as root for the whole predicate)\n",
                 h.stats->counters["lport"], h.stats->counters["owner_pid"]);
    if (!h.maps.empty()) fmt::print("  maps: {}\n", fmt::join(h.maps, ", "));
    if (h.stats) fmt::print("  {}\n", counter_line(h.stats->counters));
  }
  return 0;
}

// --- data --------------------------------------------------------------------

int do_data(const command& cmd) {
  const xps::Context ctx = xps::Context::open(cmd.name, options(cmd));
  const xps::DataMap map = ctx.map(cmd.map);
  if (cmd.action == verb::data_dump) {
    const auto keys = map.keys(cmd.limit);
    json arr = json::array();
    for (const auto& k : keys) {
      const auto v = map.get(bytes(k));
      if (!v) continue;  // deleted meanwhile
      if (cmd.json)
        arr.push_back({{"key", xps::display(k)}, {"value", xps::display(*v)}});
      else
        fmt::print("{} = {}\n", xps::display(k), xps::display(*v));
    }
    if (cmd.json) print_json(arr);
    else if (keys.empty()) fmt::print("map {} of {} is empty\n", map.name(), cmd.name);
    return 0;
  }
  const std::string key = encode_or_throw(cmd.key, map.key_size(), "key");
  switch (cmd.action) {
    case verb::data_put:
    case verb::data_update: {
      const std::string value = encode_or_throw(cmd.value, map.value_size(), "value");
      const bool put = cmd.action == verb::data_put;
      const bool done = put ? map.put(bytes(key), bytes(value)) : map.update(bytes(key), bytes(value));
      if (!done)
        throw xcommon::error(
            fmt::format("{} {} in {}: {}", put ? "put" : "update", cmd.key, map.name(),
                        put ? "the key exists (use update)" : "no such key (use put)"),
            put ? EEXIST : ENOENT);
      fmt::print("{} {} = {} in {}/{}\n", put ? "put" : "updated", cmd.key, cmd.value, cmd.name,
                 map.name());
      return 0;
    }
    case verb::data_delete:
      if (!map.erase(bytes(key)))
        throw xcommon::error(fmt::format("delete {} in {}: no such key", cmd.key, map.name()),
                             ENOENT);
      fmt::print("deleted {} in {}/{}\n", cmd.key, cmd.name, map.name());
      return 0;
    default: break;
  }
  const auto v = map.get(bytes(key));
  if (!v) throw xcommon::error(fmt::format("no key {} in {}", cmd.key, map.name()), ENOENT);
  if (cmd.json)
    print_json({{"key", xps::display(key)}, {"value", xps::display(*v)}});
  else
    fmt::print("{}\n", xps::display(*v));
  return 0;
}

// --- http --------------------------------------------------------------------

int do_http_action(const command& cmd) {
  const xps::Context ctx = xps::Context::open(cmd.name, options(cmd));
  using kind = http_verdict::kind;
  const auto action = cmd.verdict.what == kind::pass    ? xps::http::Action::pass
                      : cmd.verdict.what == kind::reset ? xps::http::Action::reset
                      : cmd.verdict.what == kind::drop  ? xps::http::Action::drop
                                                        : xps::http::Action::reply;
  xps::http::set_action(ctx, cmd.method, action, cmd.verdict.status);
  const std::string what = cmd.verdict.what == kind::status
                               ? fmt::format("answered {} in the kernel", cmd.verdict.status)
                           : cmd.verdict.what == kind::reset ? std::string("connection reset")
                           : cmd.verdict.what == kind::drop  ? std::string("dropped silently")
                                                             : std::string("passed to the server");
  fmt::print("{} {}: {}\n", cmd.name, cmd.method, what);
  return 0;
}

// --- stats -------------------------------------------------------------------

int do_stats(const command& cmd) {
  const xps::Sysfs sys(cmd.sysfs);
  std::vector<xps::HandlerStats> hs;
  if (cmd.name.empty()) {
    for (const auto& n : sys.handlers()) hs.push_back(sys.handler(n));
  } else {
    hs.push_back(sys.handler(cmd.name));
  }
  const xps::Counters global = sys.global();
  // Per-key hits of one handler.
  json keys_json = json::array();
  std::vector<std::pair<std::string, std::uint64_t>> hits;
  if (cmd.keys) {
    const xps::Context ctx = xps::Context::open(cmd.name, options(cmd));
    const auto map = ctx.stats_map();
    if (!map)
      throw xcommon::error(fmt::format("handler {} keeps no per-key hits", cmd.name), ENOENT);
    const auto [off, size] = *map->value_member("hits");
    for (const auto& k : map->keys(cmd.keys)) {
      const auto v = map->get(bytes(k));
      if (!v) continue;
      std::uint64_t n = 0;
      std::memcpy(&n, v->data() + off, std::min<std::size_t>(size, sizeof(n)));
      hits.emplace_back(xps::display(k), n);
    }
    std::sort(hits.begin(), hits.end(), [](auto& a, auto& b) { return a.second > b.second; });
  }
  if (cmd.json) {
    json handlers = json::object();
    for (const auto& h : hs) handlers[h.name] = xps::to_json(h.counters);
    json j = {{"global", xps::to_json(global)}, {"handlers", handlers}};
    if (cmd.keys) {
      for (const auto& [k, n] : hits) keys_json.push_back({{"key", k}, {"hits", n}});
      j["keys"] = keys_json;
    }
    print_json(j);
    return 0;
  }
  fmt::print("xps: {}\n", counter_line(global));
  if (hs.empty()) fmt::print("no handlers attached\n");
  for (const auto& h : hs) {
    fmt::print("handler {}:\n", h.name);
    for (const auto& c : h.counters.items)
      fmt::print("  {:<10} {:>14}  {}\n", c.name, c.value, xps::counter_description(c.name));
  }
  if (cmd.keys) {
    fmt::print("hits by key ({} of up to {} keys):\n", hits.size(), cmd.keys);
    for (const auto& [k, n] : hits) fmt::print("  {:>10}  {}\n", n, k);
  }
  return 0;
}

// --- redis fill --------------------------------------------------------------

int do_redis_fill(const command& cmd) {
  catch_stop_signals();
  const xps::Context ctx = xps::Context::open(cmd.name, options(cmd));
  xps::redis::FillOptions o;
  o.host = cmd.redis_host;
  o.port = cmd.redis_port;
  o.filler.batch = cmd.batch;
  o.write_through = cmd.write_through;
  o.warn = [](const std::string& w) {
    std::fflush(stdout);
    fmt::print(stderr, "xpsctl: warning: {}\n", w);
  };
  o.report = [&](const xps::redis::Stats& s, std::string_view event) {
    if (cmd.json) {
      json j = xps::redis::to_json(s);
      j["event"] = event;
      print_json(j);
      return;
    }
    if (event == "started") {
      fmt::print("filling {}'s cache from Redis at {}:{} (SIGINT to stop)\n", cmd.name,
                 cmd.redis_host, cmd.redis_port);
    } else if (event == "stopped") {
      fmt::print(
          "filler stopped: misses {} filled {} merged {} write-pending {} gave up {} absent {} "
          "too large {} dropped {} fetch errors {} store errors {}\n",
          s.misses, s.filled, s.merged, s.write_pending, s.gave_up, s.absent, s.too_large,
          s.dropped, s.fetch_errors, s.store_errors);
    }
    std::fflush(stdout);
  };
  xps::redis::run_filler(ctx, o, g_stop);
  return 0;
}

int execute(const command& cmd) {
  xcommon::libbpf::capture_log(cmd.verbose);
  switch (cmd.action) {
    case verb::handler_attach: return do_attach(cmd);
    case verb::handler_detach: return do_detach(cmd);
    case verb::handler_list: return do_list(cmd);
    case verb::handler_update: return do_update(cmd);
    case verb::data_put:
    case verb::data_update:
    case verb::data_delete:
    case verb::data_get:
    case verb::data_dump: return do_data(cmd);
    case verb::http_action: return do_http_action(cmd);
    case verb::stats: return do_stats(cmd);
    case verb::redis_fill: return do_redis_fill(cmd);
  }
  return 2;
}

}  // namespace
}  // namespace xsel::xpsctl

int main(int argc, char** argv) {
  using namespace xsel::xpsctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  return xcommon::cli::run_main("xpsctl", parse_args(args), execute);
}
