// SPDX-License-Identifier: GPL-2.0
#include "xpsctl_cli.hpp"

#include <limits>
#include <tuple>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace xsel::xpsctl {
namespace {

using xcommon::cli::looks_like_option;
using xcommon::cli::parse_decimal;

constexpr std::string_view k_description =
    "xpsctl - XPS, TCP fast-path handlers in the kernel\n"
    "\n"
    "XPS (the xps module) runs eBPF handlers inside the TCP receive path: for a\n"
    "connection its predicate selects, a handler sees each in-order payload\n"
    "before the server does and may answer it in the kernel (TX), drop it, reset\n"
    "the connection or pass it to the server untouched, so that the server never\n"
    "wakes up for what the handler can do alone: a Redis GET answered from a\n"
    "cache, an HTTP POST refused with 405.\n"
    "\n"
    "The objects:\n"
    "  handler    a struct_ops map of type xps_handler in a BPF object (a .bpf.o\n"
    "             or a shipped one: redis, http): its program and its predicate\n"
    "             (name, local/remote address and port, IPv4/IPv6, strict, an L7\n"
    "             value at an offset for sub-handlers, the owner charged with its\n"
    "             CPU time). Attached handlers are pinned under\n"
    "             /sys/fs/bpf/xps/NAME/ (link and maps) and outlive xpsctl.\n"
    "  data       a handler's BPF maps (the Redis cache, the HTTP method table),\n"
    "             pinned next to it: put, update, delete, get, dump entries.\n"
    "  stats      the module's counters per handler (/sys/kernel/xps) and per key\n"
    "             (the 'hits' of a map value).\n"
    "  redis fill the Redis cache filler: for each GET the redis handler could not\n"
    "             answer it takes the key's write-fence token, then asks Redis\n"
    "             (MGET, PEXPIRETIME) and stores the value with that token, so a\n"
    "             write Redis acknowledged is never followed by an old value.";

constexpr std::string_view k_footer =
    "Commands:\n"
    "  handler attach {redis|http|FILE.bpf.o} [--name N] [--port P] [--laddr ADDR]\n"
    "         [--raddr ADDR] [--rport P] [--ipv4|--ipv6] [--strict]\n"
    "         [--l7 OFF:LEN:HEX] [--owner PID]\n"
    "                        load, attach and pin a handler; options left out keep\n"
    "                        what the object declares (0 / empty: any)\n"
    "  handler detach NAME   detach it and remove its pins\n"
    "  handler list          attached handlers: predicate, maps, counters\n"
    "  handler update NAME {redis|http|FILE.bpf.o}\n"
    "                        replace the program, keep predicate and data\n"
    "  data put|update NAME MAP KEY VALUE   add (put) or change (update) an entry\n"
    "  data delete NAME MAP KEY             remove one\n"
    "  data get NAME MAP KEY | data dump NAME MAP [--limit N]\n"
    "  http action NAME METHOD {405|...|reset|drop|pass}\n"
    "                        what the http handler does with METHOD (attach\n"
    "                        sets POST 405 and PUT reset, as in the paper)\n"
    "  stats [NAME] [--keys N]  module counters (of NAME), and hits of N keys\n"
    "  redis fill [--server HOST:PORT] [--name N]  run the cache filler until\n"
    "                        SIGINT/SIGTERM\n"
    "list, data get/dump, stats and redis fill take --json (before or after the verb).\n"
    "\n"
    "KEY and VALUE: TEXT (or str:TEXT), hex:0a0b (or 0x0a0b), u8: u16: u32: u64:N\n"
    "(host byte order); padded with zero bytes to the map's key/value size.\n"
    "\n"
    "Attaching, detaching, updating, data and the filler need CAP_BPF and\n"
    "CAP_NET_ADMIN (run as root); stats and list read /sys/kernel/xps (list\n"
    "shows predicates only to root). The module must be loaded:\n"
    "insmod modules/xps/xps.ko.\n"
    "\n"
    "Examples:\n"
    "  insmod modules/xps/xps.ko\n"
    "  xpsctl handler attach redis --port 6379     # GETs from the kernel cache\n"
    "  xpsctl redis fill --server 127.0.0.1:6379 &  # ... which this fills\n"
    "  xpsctl stats redis --keys 10\n"
    "  xpsctl handler attach http --port 80 --name web\n"
    "  xpsctl http action web POST 405             # as in the paper's Fig. 3.2\n"
    "  xpsctl http action web PUT reset            # nginx's 444: close\n"
    "  xpsctl handler attach ping.bpf.o --port 16379 --l7 0:4:50494e47 --name ping\n"
    "  xpsctl data put ping replies u32:0 hex:2b504f4e470d0a\n"
    "  xpsctl handler update redis build/bpf/xps_redis.bpf.o\n"
    "  xpsctl handler list --json\n"
    "  xpsctl handler detach web\n"
    "\n"
    "Exit status: 0 success, 1 operation failed, 2 usage error.";

constexpr std::string_view k_see_main_help =
    "\nRun 'xpsctl --help' for the whole picture and examples.";

parse_result usage_error(std::string_view message, std::string_view help_cmd) {
  return xcommon::cli::usage_error("xpsctl", message, help_cmd);
}

using problem = std::optional<std::string>;

problem number(const std::string& word, std::uint64_t lo, std::uint64_t hi, std::string_view what,
               std::uint64_t& out) {
  const auto v = parse_decimal(word);
  if (!v || *v < lo || *v > hi) return fmt::format("bad {} '{}': give {}..{}", what, word, lo, hi);
  out = *v;
  return std::nullopt;
}

problem handler_name(const std::string& word) {
  if (auto why = xps::invalid_name(word)) return fmt::format("bad handler name: {}", *why);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(verb v) noexcept {
  switch (v) {
    case verb::handler_attach: return "handler attach";
    case verb::handler_detach: return "handler detach";
    case verb::handler_list: return "handler list";
    case verb::handler_update: return "handler update";
    case verb::data_put: return "data put";
    case verb::data_update: return "data update";
    case verb::data_delete: return "data delete";
    case verb::data_get: return "data get";
    case verb::data_dump: return "data dump";
    case verb::http_action: return "http action";
    case verb::stats: return "stats";
    case verb::redis_fill: return "redis fill";
  }
  return "?";
}

std::optional<http_verdict> parse_http_verdict(std::string_view text, std::string* why) {
  http_verdict v;
  if (text == "reset") {
    v.what = http_verdict::kind::reset;
  } else if (text == "drop") {
    v.what = http_verdict::kind::drop;
  } else if (text == "pass") {
    v.what = http_verdict::kind::pass;
  } else if (const auto code = parse_decimal(text); code && *code >= 200 && *code <= 599) {
    v.what = http_verdict::kind::status;
    v.status = static_cast<std::uint16_t>(*code);
  } else {
    if (why)
      *why = fmt::format(
          "bad action '{}': give an HTTP status (200..599, e.g. 405), reset, drop or pass", text);
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> invalid_method(std::string_view method) {
  // An HTTP token (RFC 9110), matched case-sensitively as the client sends it.
  constexpr std::string_view k_tchar = "!#$%&'*+-.^_`|~";
  bool ok = !method.empty() && method.size() <= 15;
  for (char c : method)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          k_tchar.find(c) != std::string_view::npos))
      ok = false;
  if (ok) return std::nullopt;
  return fmt::format("bad method '{}': an HTTP method of 1..15 characters, e.g. POST", method);
}

bool parse_server(std::string_view text, std::string& host, std::uint16_t& port,
                  std::string* why) {
  auto fail = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  std::string_view h = text, p;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail(fmt::format("bad server '{}'", text));
    h = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(fmt::format("bad server '{}'", text));
      p = rest.substr(1);
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon)
      return fail(fmt::format("bad server '{}': write an IPv6 address as [ADDR]:PORT", text));
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty()) return fail(fmt::format("bad server '{}': no host", text));
  std::uint64_t v = 6379;
  if (!p.empty() || text.ends_with(':')) {
    const auto n = parse_decimal(p);
    if (!n || *n == 0 || *n > 65535)
      return fail(fmt::format("bad server port '{}': give 1..65535", p));
    v = *n;
  }
  host = std::string(h);
  port = static_cast<std::uint16_t>(v);
  return true;
}

parse_result parse_args(const std::vector<std::string>& args) {
  command cmd;
  bool json_global = false, json_local = false, no_write_through = false;
  std::vector<std::string> words;
  std::string name_opt, port, laddr, raddr, rport, l7, owner, limit, keys, server, batch;
  bool ipv4 = false, ipv6 = false, strict = false;

  CLI::App app{std::string(k_description), "xpsctl"};
  xcommon::cli::use_formatter(app, 28);
  app.footer(std::string(k_footer));
  app.allow_extras();
  app.require_subcommand(0, 1);
  app.add_flag("-j,--json", json_global, "JSON output (list, get, dump, stats, fill)");
  app.add_flag("-v,--verbose", cmd.verbose, "show libbpf's log");
  app.add_option("--bpffs", cmd.bpffs, "bpf filesystem the handlers are pinned in")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--sysfs", cmd.sysfs, "the xps module's sysfs directory")
      ->type_name("DIR")
      ->capture_default_str();

  auto json_flag = [&](CLI::App* sub) { sub->add_flag("-j,--json", json_local, "JSON output"); };

  // --- handler
  CLI::App* handler = app.add_subcommand("handler", "attach, detach, list and update handlers");
  handler->require_subcommand(0, 1);
  handler->footer(
      "Verbs:\n"
      "  handler attach {redis|http|FILE.bpf.o} [options]\n"
      "  handler detach NAME\n"
      "  handler list [--json]\n"
      "  handler update NAME {redis|http|FILE.bpf.o}\n");

  CLI::App* attach = handler->add_subcommand("attach", "load, attach and pin a handler");
  attach->footer(
      "Open the handler's object (redis and http are the shipped ones, built into\n"
      "xpsctl; anything else is a BPF object file with one struct_ops map of type\n"
      "xps_handler), write the predicate into it, load it (the verifier checks it),\n"
      "attach it and pin link and maps under <bpffs>/xps/NAME/. Options left out\n"
      "keep the value the object declares; 0 and empty mean any.\n"
      "  --name N          unique handler name, 1..15 of a-z 0-9 _ - (default: the\n"
      "                    object's)\n"
      "  --port P          local (server) port\n"
      "  --laddr ADDR      local address, IPv4 or IPv6\n"
      "  --rport P         remote (client) port\n"
      "  --raddr ADDR      remote address\n"
      "  --ipv4 | --ipv6   only connections of that family\n"
      "  --strict          once anything was passed on a connection, pass all of it\n"
      "  --l7 OFF:LEN:HEX  a sub-handler: only payloads whose LEN (1..8) bytes at OFF\n"
      "                    are HEX; handlers of one port share OFF and LEN, and one\n"
      "                    without --l7 takes the rest\n"
      "  --owner PID       the process the handler works for: the handler's CPU\n"
      "                    time is charged to it (ps, top, getrusage, its cgroup),\n"
      "                    and while it owes a reply but waits for a CPU, answers\n"
      "                    yield to it (/sys/module/xps/parameters/yield_us)\n"
      "A failed attach leaves nothing behind. Needs CAP_BPF and CAP_NET_ADMIN.\n");
  attach->add_option("OBJECT", words, "redis, http or FILE.bpf.o");
  attach->add_option("--name", name_opt, "handler name")->type_name("N");
  attach->add_option("--port", port, "local port")->type_name("P");
  attach->add_option("--laddr", laddr, "local address")->type_name("ADDR");
  attach->add_option("--rport", rport, "remote port")->type_name("P");
  attach->add_option("--raddr", raddr, "remote address")->type_name("ADDR");
  attach->add_flag("--ipv4", ipv4, "IPv4 connections only");
  attach->add_flag("--ipv6", ipv6, "IPv6 connections only");
  attach->add_flag("--strict", strict, "pass everything after a pass");
  attach->add_option("--l7", l7, "L7 value of a sub-handler")->type_name("OFF:LEN:HEX");
  attach->add_option("--owner", owner, "process the handler works for, charged with its CPU time")->type_name("PID");

  CLI::App* detach = handler->add_subcommand("detach", "detach a handler, remove its pins");
  detach->footer(
      "Detach handler NAME (its struct_ops link) and remove <bpffs>/xps/NAME/ with\n"
      "its maps. Connections go on with the server alone. Needs CAP_BPF and\n"
      "CAP_NET_ADMIN.\n");
  detach->add_option("NAME", words, "the handler");

  CLI::App* list = handler->add_subcommand("list", "attached handlers");
  list->footer(
      "Print every attached or pinned handler: its predicate (as root: read from\n"
      "its struct_ops map), pinned maps and the module's counters.\n");
  json_flag(list);

  CLI::App* update = handler->add_subcommand("update", "replace a handler's program");
  update->footer(
      "Load a new program for handler NAME and swap it in (bpf_link update): the\n"
      "name and predicate stay; maps the new object has under the same name and\n"
      "shape as the pinned ones are reused with their data. Needs CAP_BPF and\n"
      "CAP_NET_ADMIN.\n");
  update->add_option("NAME OBJECT", words, "the handler and its new object");

  // --- data
  CLI::App* data = app.add_subcommand("data", "entries of a handler's maps");
  data->require_subcommand(0, 1);
  data->footer(
      "Verbs:\n"
      "  data put NAME MAP KEY VALUE     add an entry (fails if KEY exists; arrays: set)\n"
      "  data update NAME MAP KEY VALUE  change an entry (fails if KEY is absent)\n"
      "  data delete NAME MAP KEY\n"
      "  data get NAME MAP KEY [--json]\n"
      "  data dump NAME MAP [--limit N] [--json]\n"
      "KEY and VALUE: TEXT (or str:TEXT), hex:0a0b (or 0x0a0b), u8: u16: u32: u64:N;\n"
      "padded with zero bytes to the map's sizes (xpsctl handler list shows maps).\n");
  CLI::App* put = data->add_subcommand("put", "add an entry");
  put->add_option("NAME MAP KEY VALUE", words, "the entry");
  CLI::App* upd = data->add_subcommand("update", "change an entry");
  upd->add_option("NAME MAP KEY VALUE", words, "the entry");
  CLI::App* del = data->add_subcommand("delete", "remove an entry");
  del->add_option("NAME MAP KEY", words, "the entry");
  CLI::App* get = data->add_subcommand("get", "print an entry");
  get->add_option("NAME MAP KEY", words, "the entry");
  json_flag(get);
  CLI::App* dump = data->add_subcommand("dump", "print a map's entries");
  dump->add_option("NAME MAP", words, "the map");
  dump->add_option("--limit", limit, "at most N entries (default 100)")->type_name("N");
  json_flag(dump);
  for (CLI::App* sub : {put, upd, del, get, dump})
    sub->footer("Needs CAP_BPF (root). See 'xpsctl data --help' for KEY and VALUE.\n");

  // --- http
  CLI::App* http = app.add_subcommand("http", "the http handler's method table");
  http->require_subcommand(0, 1);
  http->footer("Verbs:\n  http action NAME METHOD {405|...|reset|drop|pass}\n");
  CLI::App* action = http->add_subcommand("action", "what the http handler does with a method");
  action->footer(
      "Set what the http handler NAME does with requests of METHOD (its map\n"
      "xps_http_methods; methods are case-sensitive): answer with an HTTP status\n"
      "200..599 (e.g. 405 Method Not Allowed; no body, the connection stays),\n"
      "reset the connection (nginx's 444), drop the request silently, or pass it\n"
      "to the server (as every method not in the table). Attaching the shipped\n"
      "http handler sets the paper's rules: POST 405, PUT reset. Needs CAP_BPF.\n");
  action->add_option("NAME METHOD ACTION", words, "the rule");

  // --- stats
  CLI::App* stats = app.add_subcommand("stats", "the module's counters, per-key hits");
  stats->footer(
      "Print the module's counters of every handler, or of NAME (sysfs: calls, tx,\n"
      "drop, pass, reset, refused, unsync, fenced, cpu_ns, ...) and the global ones\n"
      "(fences_pending, conns). With --keys N also the hits of up to N keys of the\n"
      "handler's map whose values count them (the Redis cache); that needs root.\n");
  stats->add_option("NAME", words, "one handler");
  stats->add_option("--keys", keys, "hits of up to N keys")->type_name("N");
  json_flag(stats);

  // --- redis
  CLI::App* redis = app.add_subcommand("redis", "the Redis cache filler");
  redis->require_subcommand(0, 1);
  redis->footer(
      "Verbs:\n  redis fill [--server HOST:PORT] [--name N] [--batch N] [--no-write-through]\n");
  CLI::App* fill = redis->add_subcommand("fill", "fill the redis handler's cache from Redis");
  fill->footer(
      "Run the cache filler of redis handler NAME (default redis) until SIGINT or\n"
      "SIGTERM. It reads the keys GETs missed (ring buffer xps_redis_misses), takes\n"
      "each key's write-fence token (program xps_fence), then asks Redis (MGET and\n"
      "PEXPIRETIME, pipelined) and stores value, expiry and token in\n"
      "xps_redis_cache; a key whose slot has a write pending is tried again a\n"
      "little later. At start it checks Redis's maxmemory and maxmemory-policy:\n"
      "if keys can be evicted, every write fences every key. Then it enables the\n"
      "cache, with write-through: a plain SET KEY VALUE that starts a payload\n"
      "stores VALUE in the cache at once, served from Redis's +OK on, so the next\n"
      "GET needs no trip through this filler. Write-through stays off where keys\n"
      "can be evicted or Redis reads in I/O threads (io-threads-do-reads).\n"
      "Prints a summary at the end (--json: as JSON).\n"
      "  --server HOST:PORT   Redis (default 127.0.0.1:6379)\n"
      "  --batch N            keys per pipeline (default 64)\n"
      "  --no-write-through   SETs only invalidate; GETs refill through here\n"
      "Needs CAP_BPF and CAP_NET_ADMIN.\n");
  fill->add_option("--server", server, "Redis server")->type_name("HOST:PORT");
  fill->add_option("--name", name_opt, "the redis handler")->type_name("N");
  fill->add_option("--batch", batch, "keys per pipeline")->type_name("N");
  fill->add_flag("--no-write-through", no_write_through, "SETs only invalidate cached values");
  json_flag(fill);

  for (CLI::App* sub : {handler, attach, detach, list, update, data, put, upd, del, get, dump, http,
                        action, stats, redis, fill})
    sub->footer(sub->get_footer() + std::string(k_see_main_help));

  if (auto stop = xcommon::cli::parse(app, args)) return *stop;

  const auto chain = xcommon::cli::parsed_subcommands(app);
  const std::string& where = chain.where;
  const CLI::App* last = chain.last();

  using xcommon::cli::missing_or_unknown;
  constexpr std::string_view k_objects = "handler, data, http, stats, redis";
  if (last == &app)
    return usage_error(missing_or_unknown(app, fmt::format("missing object ({})", k_objects),
                                          "object", k_objects),
                       where);
  for (const auto& [group, name, verbs] :
       {std::tuple{handler, "handler", "attach, detach, list, update"},
        std::tuple{data, "data", "put, update, delete, get, dump"},
        std::tuple{http, "http", "action"}, std::tuple{redis, "redis", "fill"}})
    if (last == group)
      return usage_error(
          missing_or_unknown(*group, fmt::format("missing verb ({})", verbs),
                             fmt::format("verb for '{}'", name), verbs),
          where);
  // Anything CLI11 could not place (allow_extras) is an error too.
  if (auto q = xcommon::cli::leftover(chain)) return usage_error(*q, where);
  // Options given to a verb that takes no option of that name end up in
  // `words` when they look like values; an option-looking word is an error.
  for (const auto& w : words)
    if (looks_like_option(w) && w != "-")
      return usage_error(fmt::format("unknown option '{}'", w), where);

  // Exactly the positional words `names` (space separated) ask for.
  auto want = [&](std::size_t min, std::size_t max, std::string_view names) -> problem {
    if (words.size() < min) return fmt::format("missing {}", names);
    if (words.size() > max) return fmt::format("unexpected argument '{}'", words[max]);
    return std::nullopt;
  };

  problem p;
  using PS = xps::PredicateSpec;
  if (last == attach) {
    cmd.action = verb::handler_attach;
    p = want(1, 1, "OBJECT (redis, http or FILE.bpf.o)");
    if (!p) cmd.object = words[0];
    auto& v = cmd.spec.value;
    auto take_port = [&](const std::string& text, std::string_view what, std::uint16_t& dst,
                         PS::field f) -> problem {
      if (text.empty()) return std::nullopt;
      std::uint64_t n = 0;
      if (auto q = number(text, 0, 65535, what, n)) return q;
      dst = static_cast<std::uint16_t>(n);
      cmd.spec.set |= f;
      return std::nullopt;
    };
    auto take_addr = [&](const std::string& text, std::string_view what, xps::Address& dst,
                         PS::field f) -> problem {
      if (text.empty() && !attach->count(fmt::format("--{}", what))) return std::nullopt;
      const auto a = xps::Address::parse(text);
      if (!a)
        return fmt::format("bad {} '{}': give an IPv4 or IPv6 address (10.0.0.1, ::1)", what,
                           text);
      dst = *a;
      cmd.spec.set |= f;
      return std::nullopt;
    };
    if (!p && !name_opt.empty()) {
      p = handler_name(name_opt);
      v.name = name_opt;
      cmd.spec.set |= PS::name;
    }
    if (!p && attach->count("--name") && name_opt.empty()) p = handler_name(name_opt);
    if (!p) p = take_port(port, "port", v.lport, PS::lport);
    if (!p) p = take_port(rport, "rport", v.rport, PS::rport);
    if (!p) p = take_addr(laddr, "laddr", v.laddr, PS::laddr);
    if (!p) p = take_addr(raddr, "raddr", v.raddr, PS::raddr);
    if (!p && ipv4 && ipv6) p = "--ipv4 and --ipv6 exclude each other (neither: both families)";
    if (!p && (ipv4 || ipv6)) {
      v.flags |= ipv4 ? XPS_F_IPV4 : XPS_F_IPV6;
      cmd.spec.set |= PS::family;
    }
    if (!p && ((ipv4 && !v.laddr.any() && !v.laddr.v4_mapped()) ||
               (ipv6 && !v.laddr.any() && v.laddr.v4_mapped())))
      p = fmt::format("--laddr {} is not an {} address", v.laddr.str(), ipv4 ? "IPv4" : "IPv6");
    if (!p && strict) {
      v.flags |= XPS_F_STRICT;
      cmd.spec.set |= PS::strict;
    }
    if (!p && attach->count("--l7")) {
      std::string why;
      if (auto m = xps::L7Match::parse(l7, &why)) {
        v.l7 = *m;
        cmd.spec.set |= PS::l7;
      } else {
        p = fmt::format("bad --l7 '{}': {}", l7, why);
      }
    }
    if (!p && attach->count("--owner")) {
      std::uint64_t pid = 0;
      p = number(owner, 1, std::numeric_limits<std::int32_t>::max(), "--owner PID", pid);
      v.owner_pid = static_cast<std::uint32_t>(pid);
      cmd.spec.set |= PS::owner;
    }
  } else if (last == detach) {
    cmd.action = verb::handler_detach;
    p = want(1, 1, "NAME");
    if (!p) p = handler_name(cmd.name = words[0]);
  } else if (last == list) {
    cmd.action = verb::handler_list;
  } else if (last == update) {
    cmd.action = verb::handler_update;
    p = want(2, 2, words.empty() ? "NAME OBJECT" : "OBJECT (redis, http or FILE.bpf.o)");
    if (!p) p = handler_name(cmd.name = words[0]);
    if (!p) cmd.object = words[1];
  } else if (last == put || last == upd || last == del || last == get || last == dump) {
    const bool with_value = last == put || last == upd;
    const bool with_key = last != dump;
    cmd.action = last == put   ? verb::data_put
                 : last == upd ? verb::data_update
                 : last == del ? verb::data_delete
                 : last == get ? verb::data_get
                               : verb::data_dump;
    const std::size_t n = 2 + (with_key ? 1 : 0) + (with_value ? 1 : 0);
    p = want(n, n, with_value ? "NAME MAP KEY VALUE" : with_key ? "NAME MAP KEY" : "NAME MAP");
    if (!p) p = handler_name(cmd.name = words[0]);
    if (!p) {
      cmd.map = words[1];
      if (cmd.map.empty() || cmd.map == "link" || cmd.map.find('/') != std::string::npos)
        p = fmt::format("bad map name '{}'", cmd.map);
    }
    if (!p && with_key) cmd.key = words[2];
    if (!p && with_value) cmd.value = words[3];
    if (!p && last == dump && !limit.empty())
      p = number(limit, 1, 1000000000, "--limit", cmd.limit);
  } else if (last == action) {
    cmd.action = verb::http_action;
    p = want(3, 3, "NAME METHOD ACTION");
    if (!p) p = handler_name(cmd.name = words[0]);
    if (!p) p = invalid_method(cmd.method = words[1]);
    if (!p) {
      std::string why;
      if (auto v = parse_http_verdict(words[2], &why))
        cmd.verdict = *v;
      else
        p = why;
    }
  } else if (last == stats) {
    cmd.action = verb::stats;
    p = want(0, 1, "NAME");
    if (!p && !words.empty()) p = handler_name(cmd.name = words[0]);
    if (!p && !keys.empty()) p = number(keys, 0, 1000000, "--keys", cmd.keys);
    if (!p && cmd.keys && cmd.name.empty()) p = "--keys needs a handler NAME";
  } else {
    cmd.action = verb::redis_fill;
    p = want(0, 0, "");
    cmd.name = name_opt.empty() ? "redis" : name_opt;
    if (!p) p = handler_name(cmd.name);
    if (!p && !server.empty()) {
      std::string why;
      if (!parse_server(server, cmd.redis_host, cmd.redis_port, &why)) p = why;
    }
    if (!p && !batch.empty()) p = number(batch, 1, 4096, "--batch", cmd.batch);
    cmd.write_through = !no_write_through;
  }
  if (p) return usage_error(*p, where);

  if (json_global || json_local) {
    switch (cmd.action) {
      case verb::handler_attach:
      case verb::handler_detach:
      case verb::handler_update:
      case verb::data_put:
      case verb::data_update:
      case verb::data_delete:
      case verb::http_action:
        return usage_error(fmt::format("--json is not supported by '{}'", to_string(cmd.action)),
                           where);
      default: cmd.json = true;
    }
  }
  if (cmd.bpffs.empty()) return usage_error("--bpffs needs a directory", "xpsctl");
  if (cmd.sysfs.empty()) return usage_error("--sysfs needs a directory", "xpsctl");
  while (cmd.bpffs.size() > 1 && cmd.bpffs.back() == '/') cmd.bpffs.pop_back();
  while (cmd.sysfs.size() > 1 && cmd.sysfs.back() == '/') cmd.sysfs.pop_back();
  return parse_result{std::move(cmd)};
}

}  // namespace xsel::xpsctl
