// SPDX-License-Identifier: GPL-2.0
//
// redis-mixload: a closed-loop Redis load generator for GET/SET mixes
// (make bench-xps). redis-benchmark runs one command per test, so it cannot
// send 95 % GETs and 5 % SETs in one run; this does.
//
// N connections, spread over T threads (one epoll loop each). Every
// connection has one request outstanding: it sends GET or SET of a key
// drawn uniformly from the keyspace (a per-connection generator seeded from
// --seed, GET with probability --get-ratio), waits for the reply, records
// the latency (send to whole reply, CLOCK_MONOTONIC) and sends the next.
// Keys are "<prefix><index>" of exactly --key-size bytes (the index
// zero-padded, as redis-benchmark pads __rand_int__ to 12 digits), values
// exactly --value-size bytes that start with their key, so a GET reply
// carrying another key's value is counted as wrong.
//
//   redis-mixload --get-ratio 0.95 --duration 20 --warmup 2 --json
//   redis-mixload --sequential --get-ratio 0   # preload: SET every key once
//   redis-mixload --sequential --get-ratio 1   # one GET of every key, in order
//
// Output: requests, rps, GET/SET counts, nil/error/wrong replies and latency
// percentiles (ns) of all requests, GETs and SETs; JSON with --json.
// Exit status: 0 success, 1 failure (including any error reply, wrong value
// or closed connection; the result is still printed), 2 usage error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "latency_stats.hpp"
#include "redis_load.hpp"
#include "xcommon/cli.hpp"
#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"

namespace {

using nlohmann::json;
using xcommon::unique_fd;
using xsel::bench::redis::keyspace;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string server = "127.0.0.1:6379";
  unsigned connections = 100;
  unsigned threads = 1;
  double duration_s = 10;
  double warmup_s = 1;
  double get_ratio = 1.0;
  std::uint64_t keys = 50000;
  std::size_t key_size = 32;
  std::size_t value_size = 128;
  std::string prefix = "bench-xps-key-32byte";
  std::uint64_t seed = 1;
  bool sequential = false;
  bool json = false;
};

struct counters {
  std::uint64_t gets = 0, sets = 0, nil = 0, errors = 0, wrong = 0, closed = 0;
  std::vector<std::int64_t> get_ns, set_ns;

  void merge(counters&& o) {
    gets += o.gets;
    sets += o.sets;
    nil += o.nil;
    errors += o.errors;
    wrong += o.wrong;
    closed += o.closed;
    get_ns.insert(get_ns.end(), o.get_ns.begin(), o.get_ns.end());
    set_ns.insert(set_ns.end(), o.set_ns.begin(), o.set_ns.end());
  }
};

sockaddr_in parse_server(const std::string& s) {
  const auto colon = s.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  const auto port = colon == std::string::npos
                        ? std::nullopt
                        : xcommon::cli::parse_decimal<std::uint16_t>(std::string_view{s}.substr(colon + 1));
  if (!port || *port == 0 || inet_pton(AF_INET, s.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    throw xcommon::error(fmt::format("bad --server '{}': give IPV4:PORT", s));
  sa.sin_port = htons(*port);
  return sa;
}

unique_fd connect_to(const sockaddr_in& sa) {
  unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd) xcommon::throw_errno("socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0)
    xcommon::throw_errno("connect to {}:{}", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
  const int one = 1;
  // As hiredis (redis-benchmark) does.
  if (::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
    xcommon::throw_errno("TCP_NODELAY");
  return fd;
}

// One connection: one request outstanding at a time.
struct connection {
  unique_fd fd;
  std::mt19937_64 rng;
  std::string out;
  std::size_t out_off = 0;
  std::string in;
  bool is_get = true;
  std::uint64_t key = 0;
  clock_type::time_point sent;
  std::uint64_t next_seq = 0;  // --sequential: next index of this connection's share
  std::uint64_t version = 0;   // of the values this connection SETs
  bool want_out = false;       // EPOLLOUT registered
  bool done = false;
};

class worker {
 public:
  worker(const options& o, const keyspace& ks, const sockaddr_in& sa, unsigned first_conn,
         unsigned nconns, unsigned total_conns)
      : o_{o},
        ks_{ks},
        total_conns_{total_conns},
        ep_{::epoll_create1(EPOLL_CLOEXEC)},
        active_{nconns} {
    if (!ep_) xcommon::throw_errno("epoll_create1");
    conns_.resize(nconns);
    for (unsigned i = 0; i < nconns; ++i) {
      connection& c = conns_[i];
      c.fd = connect_to(sa);
      c.rng.seed(o.seed * 1000003u + first_conn + i);
      c.next_seq = first_conn + i;
      c.version = (static_cast<std::uint64_t>(first_conn + i) << 32) + 1;
    }
  }

  void run(clock_type::time_point measure_from, clock_type::time_point end) {
    measure_from_ = measure_from;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, conns_[i].fd.get(), &ev) != 0)
        xcommon::throw_errno("epoll_ctl add");
      issue(i);
    }
    std::vector<epoll_event> evs(64);
    while (active_ > 0) {
      if (!o_.sequential && clock_type::now() >= end) break;
      const int n = ::epoll_wait(ep_.get(), evs.data(), static_cast<int>(evs.size()), 50);
      if (n < 0) {
        if (errno == EINTR) continue;
        xcommon::throw_errno("epoll_wait");
      }
      for (int k = 0; k < n; ++k) {
        const auto i = static_cast<std::size_t>(evs[static_cast<std::size_t>(k)].data.u64);
        const auto e = evs[static_cast<std::size_t>(k)].events;
        if (conns_[i].done) continue;
        if (e & EPOLLOUT) flush(i);
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(i, end);
      }
    }
  }

  counters& result() { return stats_; }

 private:
  void finish(std::size_t i) {
    connection& c = conns_[i];
    if (c.done) return;
    c.done = true;
    --active_;
    (void)::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
  }

  void issue(std::size_t i) {
    connection& c = conns_[i];
    if (o_.sequential) {
      if (c.next_seq >= o_.keys) {
        finish(i);
        return;
      }
      c.key = c.next_seq;
      c.next_seq += total_conns_;
      c.is_get = o_.get_ratio >= 1.0 ||
                 (o_.get_ratio > 0.0 && std::bernoulli_distribution(o_.get_ratio)(c.rng));
    } else {
      c.key = std::uniform_int_distribution<std::uint64_t>(0, o_.keys - 1)(c.rng);
      c.is_get = std::bernoulli_distribution(o_.get_ratio)(c.rng);
    }
    c.out.clear();
    c.out_off = 0;
    if (c.is_get)
      ks_.append_get(c.out, c.key);
    else
      ks_.append_set(c.out, c.key, c.version++);
    c.sent = clock_type::now();
    flush(i);
  }

  void flush(std::size_t i) {
    connection& c = conns_[i];
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch_out(i, true);
        return;
      }
      ++stats_.closed;
      finish(i);
      return;
    }
    watch_out(i, false);
  }

  void watch_out(std::size_t i, bool on) {
    connection& c = conns_[i];
    if (c.want_out == on) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0)
      xcommon::throw_errno("epoll_ctl mod");
    c.want_out = on;
  }

  void receive(std::size_t i, clock_type::time_point end) {
    connection& c = conns_[i];
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof(buf)) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      ++stats_.closed;  // EOF or reset
      finish(i);
      return;
    }
    const auto r = xsel::bench::redis::parse_reply(c.in);
    if (!r) return;
    const auto now = clock_type::now();
    if (r->consumed != c.in.size())
      throw xcommon::error(
          fmt::format("{} bytes after a whole reply, with one request outstanding",
                      c.in.size() - r->consumed));
    using xsel::bench::redis::reply_kind;
    if (c.sent >= measure_from_) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sent).count();
      if (c.is_get) {
        ++stats_.gets;
        stats_.get_ns.push_back(ns);
        if (r->kind == reply_kind::nil)
          ++stats_.nil;
        else if (r->kind == reply_kind::error)
          ++stats_.errors;
        else if (r->kind != reply_kind::bulk || !ks_.value_matches(c.key, r->text))
          ++stats_.wrong;
      } else {
        ++stats_.sets;
        stats_.set_ns.push_back(ns);
        if (r->kind == reply_kind::error)
          ++stats_.errors;
        else if (r->kind != reply_kind::status || r->text != "OK")
          ++stats_.wrong;
      }
    }
    c.in.clear();
    if (!o_.sequential && now >= end) {
      finish(i);
      return;
    }
    issue(i);
  }

  const options& o_;
  const keyspace& ks_;
  unsigned total_conns_;
  unique_fd ep_;
  std::vector<connection> conns_;
  std::size_t active_ = 0;
  clock_type::time_point measure_from_;
  counters stats_;
};

int run(const options& o) {
  const keyspace ks{o.prefix, o.key_size, o.value_size};
  const sockaddr_in sa = parse_server(o.server);
  const unsigned threads = std::min(o.threads, o.connections);

  std::vector<worker> workers;
  workers.reserve(threads);
  for (unsigned t = 0, first = 0; t < threads; ++t) {
    const unsigned n = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    workers.emplace_back(o, ks, sa, first, n, o.connections);
    first += n;
  }

  const auto start = clock_type::now();
  const auto measure_from =
      o.sequential ? start
                   : start + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(o.warmup_s));
  const auto end = measure_from + std::chrono::duration_cast<clock_type::duration>(
                                      std::chrono::duration<double>(o.duration_s));
  std::vector<std::exception_ptr> errors(threads);
  {
    std::vector<std::jthread> running;
    for (unsigned t = 0; t < threads; ++t)
      running.emplace_back([&, t] {
        try {
          workers[t].run(measure_from, end);
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
  }
  const auto stopped = clock_type::now();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);

  counters total;
  for (auto& w : workers) total.merge(std::move(w.result()));
  const double window =
      std::chrono::duration<double>((o.sequential ? stopped : std::min(stopped, end)) - measure_from)
          .count();
  const std::uint64_t requests = total.gets + total.sets;
  std::vector<std::int64_t> all = total.get_ns;
  all.insert(all.end(), total.set_ns.begin(), total.set_ns.end());
  const auto lat = xsel::bench::summarize(std::move(all), 0);
  const auto get_lat = xsel::bench::summarize(total.get_ns, 0);
  const auto set_lat = xsel::bench::summarize(total.set_ns, 0);
  const double rps = window > 0 ? static_cast<double>(requests) / window : 0.0;

  if (o.json) {
    json j = {{"tool", "redis-mixload"},
              {"server", o.server},
              {"connections", o.connections},
              {"threads", threads},
              {"get_ratio", o.get_ratio},
              {"keys", o.keys},
              {"key_size", o.key_size},
              {"value_size", o.value_size},
              {"seed", o.seed},
              {"sequential", o.sequential},
              {"duration_s", window},
              {"requests", requests},
              {"rps", rps},
              {"gets", total.gets},
              {"sets", total.sets},
              {"nil", total.nil},
              {"errors", total.errors},
              {"wrong", total.wrong},
              {"closed", total.closed},
              {"latency_ns", xsel::bench::to_json(lat, false)},
              {"get_latency_ns", xsel::bench::to_json(get_lat, false)},
              {"set_latency_ns", xsel::bench::to_json(set_lat, false)}};
    std::cout << j.dump() << '\n';
  } else {
    std::cout << fmt::format(
        "{} requests in {:.2f} s: {:.0f} req/s ({} GET, {} SET); p50 {:.3f} ms, p99 {:.3f} ms; "
        "nil {}, errors {}, wrong {}, closed {}\n",
        requests, window, rps, total.gets, total.sets, static_cast<double>(lat.p50) / 1e6,
        static_cast<double>(lat.p99) / 1e6, total.nil, total.errors, total.wrong, total.closed);
  }
  if (total.errors || total.wrong || total.closed) {
    std::cerr << fmt::format("redis-mixload: {} error replies, {} wrong values, {} connections closed\n",
                             total.errors, total.wrong, total.closed);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{
      "redis-mixload - closed-loop GET/SET load on Redis at a given ratio\n"
      "\n"
      "CONNECTIONS connections over THREADS epoll threads, one request outstanding\n"
      "each: GET (probability --get-ratio) or SET of a uniformly drawn key, values\n"
      "that start with their key (a GET answered with another key's value counts as\n"
      "wrong). Latency is from send to the whole reply.",
      "redis-mixload"};
  xcommon::cli::use_formatter(app, 24);
  app.footer(
      "Examples:\n"
      "  redis-mixload --sequential --get-ratio 0        # preload: SET each key once\n"
      "  redis-mixload --get-ratio 0.95 --duration 20 --json\n"
      "Exit status: 0 success, 1 failure (also: error replies, wrong values, closed\n"
      "connections), 2 usage error.");
  app.add_option("--server", o.server, "Redis address")->capture_default_str()->type_name("IP:PORT");
  app.add_option("-c,--connections", o.connections, "connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("-t,--threads", o.threads, "threads (epoll loops)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("-d,--duration", o.duration_s, "seconds measured (after --warmup)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--warmup", o.warmup_s, "seconds of load before measuring")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--get-ratio", o.get_ratio, "fraction of GETs, the rest SETs")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("-k,--keys", o.keys, "keyspace size")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}));
  app.add_option("--key-size", o.key_size, "bytes per key")
      ->capture_default_str()
      ->check(CLI::Range(9, 1024));
  app.add_option("--value-size", o.value_size, "bytes per value")
      ->capture_default_str()
      ->check(CLI::Range(10, 1 << 20));
  app.add_option("--prefix", o.prefix, "key prefix (the index fills the rest, zero-padded)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the connections' generators")->capture_default_str();
  app.add_flag("--sequential", o.sequential,
               "each key once, in order, then stop (no --duration): preload or cache warm-up");
  app.add_flag("-j,--json", o.json, "JSON on stdout");

  const std::vector<std::string> args(argv + 1, argv + argc);
  if (auto stop = xcommon::cli::parse(app, args)) return xcommon::cli::print_early_exit(*stop);
  return xcommon::cli::run_reporting_errors("redis-mixload", [&] { return run(o); });
}
