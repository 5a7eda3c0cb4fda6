// SPDX-License-Identifier: GPL-2.0
//
// xlane-lat: one-way latency of periodic messages between two network
// namespaces of one machine (so sender and receiver share CLOCK_MONOTONIC),
// for the X-Lane benchmark (paper 000, §6.2):
//
//   udp       a blocking recvfrom() on a UDP socket (the stock path)
//   busypoll  the same socket with SO_BUSY_POLL (+ SO_PREFER_BUSY_POLL) and a
//             non-blocking receive in a spin loop
//   xlane     a lane (libxlane): the receiver's listener on an X-R ring, the
//             sender's messages through the lane's R-X ring and the engine;
//             latency = rx_ns - tx_ns of struct xlane_rx_msg (the engine's
//             send timestamp to the receiver's XDP timestamp), plus the
//             engine's pacing error (tx_ns deltas against the period)
//
// For udp and busypoll the latency is the receiver's clock_gettime() right
// after the receive returns minus the sender's timestamp in the payload.
//
//   xlane-lat udp --ns-send h1 --ns-recv h2 --count 10000 --period-us 1000
//             --recv-cpu 3 --json build/results/udp.json
//
// The receiver's address (--dst) defaults to the receiving instance's source
// address (xlane) or the first IPv4 address of an interface that is up in the
// receiver's namespace (udp, busypoll).
//
// Output: JSON with count, received, lost, l_min, p50, p90, p99, p99_9,
// p99_99 (also as "p99.9", "p99.99"), l_max, d_max = l_max - l_min, mean,
// stddev (all ns) and a CDF of 200 points [ns, fraction], on stdout or in
// --json FILE.
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "latency_stats.hpp"
#include "xcommon/cli.hpp"
#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"
#include "xlane/codec.h"
#include "xlane/format.hpp"
#include "xlane/xlane.hpp"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

namespace {

using nlohmann::json;
using xcommon::unique_fd;

constexpr std::uint64_t k_magic = 0x58'4c'41'54'50'52'42'45ull;  // "XLATPRBE"
constexpr std::int64_t k_missing = std::numeric_limits<std::int64_t>::min();

// The head of every message: who, which, when.
struct probe {
  std::uint64_t magic;
  std::uint64_t seq;    // 0 .. count-1
  std::uint64_t tx_ns;  // sender's CLOCK_MONOTONIC just before sending
};

struct options {
  std::string mode;
  std::uint64_t count = 10000;
  std::uint64_t warmup = 0;
  std::uint32_t period_us = 1000;
  std::uint32_t size = 64;
  std::uint16_t port = 9000;
  std::string dst;
  std::string ns_send, ns_recv;
  int send_cpu = -1, recv_cpu = -1;
  int rt_prio = 0;  // SCHED_FIFO priority of sender and receiver; 0 = leave
  int busy_poll_us = 50;
  double drain_s = 1.0;
  int prio = 0;
  int tos = -1;  // IP_TOS of the UDP sender (udp, busypoll); -1 = leave
  std::string json_path;
};

std::uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_until_ns(std::uint64_t t) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(t / 1000000000ull);
  ts.tv_nsec = static_cast<long>(t % 1000000000ull);
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Places the calling thread (the sender or the receiver): on `cpu` if it is
// not negative, and under SCHED_FIFO at `rt_prio` if that is not 0.
void place(int cpu, int rt_prio, std::string_view who) {
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (int err = ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set))
      xcommon::throw_errno(err, "pin the {} to CPU {}", who, cpu);
  }
  if (rt_prio > 0) {
    const sched_param sp{.sched_priority = rt_prio};
    if (int err = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp))
      xcommon::throw_errno(err, "run the {} under SCHED_FIFO priority {}", who, rt_prio);
  }
}

// A short sleep for the loops that wait on a ring: unlike sched_yield() it
// lets every other task run, also when this one is SCHED_FIFO.
void nap() {
  const timespec ts{0, 20000};
  ::nanosleep(&ts, nullptr);
}

// --- network namespaces ----------------------------------------------------

// A name under /var/run/netns, or a path such as /proc/PID/ns/net.
std::string netns_path(const std::string& name) {
  return name.find('/') == std::string::npos ? "/var/run/netns/" + name : name;
}

// The calling thread in another network namespace for its lifetime; sockets
// and X-Lane sessions made meanwhile stay in that namespace.
class scoped_netns {
 public:
  explicit scoped_netns(const std::string& name) {
    if (name.empty()) return;
    home_ = unique_fd::open("/proc/thread-self/ns/net", O_RDONLY);
    const unique_fd target = unique_fd::open(netns_path(name), O_RDONLY);
    if (::setns(target.get(), CLONE_NEWNET) != 0)
      xcommon::throw_errno("enter network namespace {}", netns_path(name));
  }
  scoped_netns(const scoped_netns&) = delete;
  scoped_netns& operator=(const scoped_netns&) = delete;
  ~scoped_netns() {
    if (home_) (void)::setns(home_.get(), CLONE_NEWNET);
  }

 private:
  unique_fd home_;
};

template <typename Fn>
auto in_netns(const std::string& name, Fn&& fn) {
  scoped_netns ns(name);
  return fn();
}

// --- results ---------------------------------------------------------------

struct samples {
  std::vector<std::int64_t> latency;     // by message index; k_missing if lost
  std::vector<std::int64_t> app_to_rx;   // xlane: payload timestamp to rx_ns
  std::vector<std::uint64_t> pkt_seq;    // xlane: packet of each message
  std::vector<std::uint64_t> pkt_tx_ns;  // xlane: engine timestamp of that packet
  std::uint64_t send_errors = 0;         // udp: send() failed; xlane: ring full
  std::uint64_t foreign = 0;             // datagrams that were not our probes
};

// The largest latencies counted, with their message index: whether the tail
// is the first messages (cold caches; under emulation, code not translated
// yet) or spread over the run.
json worst_json(const options& o, const samples& s, std::size_t n = 10) {
  std::vector<std::pair<std::int64_t, std::uint64_t>> all;  // (latency, index)
  for (std::uint64_t i = o.warmup; i < s.latency.size(); ++i)
    if (s.latency[i] != k_missing) all.emplace_back(s.latency[i], i);
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    std::greater<>{});
  json w = json::array();
  for (std::size_t k = 0; k < n; ++k) w.push_back({{"index", all[k].second}, {"ns", all[k].first}});
  return w;
}

json summary_json(const options& o, const samples& s, json extra) {
  std::vector<std::int64_t> lat, app;
  std::uint64_t received = 0;
  for (std::uint64_t i = 0; i < s.latency.size(); ++i) {
    if (s.latency[i] == k_missing) continue;
    ++received;
    if (i < o.warmup) continue;
    lat.push_back(s.latency[i]);
    if (!s.app_to_rx.empty()) app.push_back(s.app_to_rx[i]);
  }
  const auto sum = xsel::bench::summarize(std::move(lat));
  json j = {{"mode", o.mode},
            {"period_us", o.period_us},
            {"size", o.size},
            {"count", o.count},
            {"warmup", o.warmup},
            {"received", received},
            {"lost", o.count - received},
            {"send_errors", s.send_errors},
            {"foreign", s.foreign},
            {"ns_send", o.ns_send},
            {"ns_recv", o.ns_recv},
            {"send_cpu", o.send_cpu},
            {"recv_cpu", o.recv_cpu},
            {"rt_prio", o.rt_prio}};
  j.update(xsel::bench::to_json(sum));
  j["samples"] = sum.count;
  j.erase("count");
  j["count"] = o.count;
  if (!app.empty()) j["app_to_rx_ns"] = xsel::bench::to_json(xsel::bench::summarize(app), false);
  j["worst"] = worst_json(o, s);
  j.update(extra);
  return j;
}

// After the last send: waits until every message arrived, or none arrived
// (and, for a lane, none was left to send) for `quiet_s` seconds.
template <typename Pending>
void drain(const std::atomic<std::uint64_t>& got, std::uint64_t count, double quiet_s,
           const std::exception_ptr& rx_error, Pending&& pending) {
  using clock = std::chrono::steady_clock;
  const auto quiet =
      std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(quiet_s));
  std::uint64_t last = got.load();
  auto since = clock::now();
  while (got.load() < count && !rx_error) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::uint64_t now_got = got.load();
    if (now_got != last || pending()) {
      last = now_got;
      since = clock::now();
    } else if (clock::now() - since >= quiet) {
      break;
    }
  }
}

// --- udp and busypoll ------------------------------------------------------

unique_fd udp_socket() {
  unique_fd fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (!fd) xcommon::throw_errno("socket(AF_INET, SOCK_DGRAM)");
  return fd;
}

void set_int_opt(int fd, int level, int name, int value, std::string_view what, bool required) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0 && required)
    xcommon::throw_errno("setsockopt {} = {}", what, value);
}

unique_fd udp_receiver(const options& o, bool busy) {
  unique_fd fd = udp_socket();
  set_int_opt(fd.get(), SOL_SOCKET, SO_RCVBUF, 4 << 20, "SO_RCVBUF", false);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(o.port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    xcommon::throw_errno("bind UDP port {}", o.port);
  if (busy) {
    set_int_opt(fd.get(), SOL_SOCKET, SO_BUSY_POLL, o.busy_poll_us, "SO_BUSY_POLL", true);
    set_int_opt(fd.get(), SOL_SOCKET, SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL", false);
  } else {
    timeval tv{0, 50000};  // so the receiver notices the end
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
      xcommon::throw_errno("setsockopt SO_RCVTIMEO");
  }
  return fd;
}

unique_fd udp_sender(const options& o, xlane::Ipv4 dst) {
  unique_fd fd = udp_socket();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(o.port);
  a.sin_addr.s_addr = dst.be;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    xcommon::throw_errno("connect UDP socket to {}:{}", dst.str(), o.port);
  if (o.tos >= 0 &&
      ::setsockopt(fd.get(), IPPROTO_IP, IP_TOS, &o.tos, sizeof(o.tos)) != 0)
    xcommon::throw_errno("setsockopt IP_TOS {:#x}", o.tos);
  return fd;
}

// The first IPv4 address of an interface that is up, not loopback, in `ns`.
std::optional<xlane::Ipv4> first_ipv4(const std::string& ns) {
  return in_netns(ns, [&]() -> std::optional<xlane::Ipv4> {
    ifaddrs* raw = nullptr;
    if (::getifaddrs(&raw) != 0) xcommon::throw_errno("getifaddrs");
    const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> list{raw, &::freeifaddrs};
    for (const ifaddrs* a = list.get(); a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
      if ((a->ifa_flags & IFF_UP) == 0 || (a->ifa_flags & IFF_LOOPBACK) != 0) continue;
      return xlane::Ipv4{reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr};
    }
    return std::nullopt;
  });
}

xlane::Ipv4 parse_dst(const std::string& text) {
  const auto dst = xlane::Ipv4::parse(text);
  if (!dst) throw xcommon::error(fmt::format("bad --dst '{}': give an IPv4 address", text), EINVAL);
  return *dst;
}

json run_udp(const options& o, bool busy) {
  xlane::Ipv4 dst;
  if (!o.dst.empty()) {
    dst = parse_dst(o.dst);
  } else if (auto a = first_ipv4(o.ns_recv)) {
    dst = *a;
  } else {
    throw xcommon::error(
        fmt::format("no IPv4 address on an interface that is up in the receiver's namespace {}",
                    o.ns_recv.empty() ? "(this one)" : o.ns_recv),
        EADDRNOTAVAIL, "give the receiver's address with --dst");
  }
  unique_fd rx = in_netns(o.ns_recv, [&] { return udp_receiver(o, busy); });
  unique_fd tx = in_netns(o.ns_send, [&] { return udp_sender(o, dst); });

  samples s;
  s.latency.assign(o.count, k_missing);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> got{0};
  std::exception_ptr rx_error;

  std::jthread receiver([&] {
    try {
      // A spinning receiver under SCHED_FIFO would starve everything of its
      // priority on its CPU, the sender included: it stays SCHED_OTHER.
      place(o.recv_cpu, busy ? 0 : o.rt_prio, "receiver");
      std::vector<unsigned char> buf(std::max<std::size_t>(o.size, sizeof(probe)) + 64);
      const int flags = busy ? MSG_DONTWAIT : 0;
      while (!stop.load(std::memory_order_relaxed) && got.load() < o.count) {
        const ssize_t n = ::recv(rx.get(), buf.data(), buf.size(), flags);
        const std::uint64_t t = now_ns();
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
          xcommon::throw_errno("recv on UDP port {}", o.port);
        }
        probe p{};
        if (static_cast<std::size_t>(n) < sizeof(p)) {
          ++s.foreign;
          continue;
        }
        std::memcpy(&p, buf.data(), sizeof(p));
        if (p.magic != k_magic || p.seq >= o.count || s.latency[p.seq] != k_missing) {
          ++s.foreign;
          continue;
        }
        s.latency[p.seq] = static_cast<std::int64_t>(t - p.tx_ns);
        got.fetch_add(1);
      }
    } catch (...) {
      rx_error = std::current_exception();
    }
  });

  place(o.send_cpu, o.rt_prio, "sender");
  std::vector<unsigned char> msg(o.size, 0);
  std::uint64_t next = now_ns() + 20000000;  // let the receiver settle
  for (std::uint64_t i = 0; i < o.count && !rx_error; ++i) {
    sleep_until_ns(next);
    probe p{k_magic, i, now_ns()};
    std::memcpy(msg.data(), &p, sizeof(p));
    if (::send(tx.get(), msg.data(), msg.size(), 0) < 0) ++s.send_errors;
    next += std::uint64_t{o.period_us} * 1000;
  }
  drain(got, o.count, o.drain_s, rx_error, [] { return false; });
  stop = true;
  receiver.join();
  if (rx_error) std::rethrow_exception(rx_error);
  json extra = {{"dst", dst.str()}, {"port", o.port}};
  if (busy) extra["busy_poll_us"] = o.busy_poll_us;
  return summary_json(o, s, extra);
}

// --- xlane -------------------------------------------------------------------

// The engine's pacing: for consecutive packets, how far their tx_ns distance
// is from the nearest whole number of periods.
json pacing_json(const samples& s, std::uint32_t period_us) {
  std::map<std::uint64_t, std::uint64_t> packets;  // packet seq -> tx_ns
  for (std::size_t i = 0; i < s.pkt_seq.size(); ++i)
    if (s.latency[i] != k_missing) packets.emplace(s.pkt_seq[i], s.pkt_tx_ns[i]);
  std::vector<std::int64_t> abs_err;
  std::int64_t lo = 0, hi = 0;
  const auto p = static_cast<std::int64_t>(period_us) * 1000;
  std::uint64_t skipped_periods = 0;
  for (auto it = packets.begin(); it != packets.end() && std::next(it) != packets.end(); ++it) {
    const auto delta = static_cast<std::int64_t>(std::next(it)->second - it->second);
    const auto k = static_cast<std::int64_t>(
        std::llround(static_cast<double>(delta) / static_cast<double>(p)));
    const std::int64_t err = delta - k * p;
    if (k > 1) skipped_periods += static_cast<std::uint64_t>(k - 1);
    lo = abs_err.empty() ? err : std::min(lo, err);
    hi = abs_err.empty() ? err : std::max(hi, err);
    abs_err.push_back(err < 0 ? -err : err);
  }
  json j = xsel::bench::to_json(xsel::bench::summarize(std::move(abs_err)), false);
  j["signed_min"] = lo;
  j["signed_max"] = hi;
  j["packets"] = packets.size();
  j["periods_without_packet"] = skipped_periods;
  return j;
}

json run_xlane(const options& o) {
  constexpr std::uint32_t k_listen_slots = 4096;
  xlane::Session rs = in_netns(o.ns_recv, [] { return xlane::Session{}; });
  xlane::Session ss = in_netns(o.ns_send, [] { return xlane::Session{}; });
  xlane::Ipv4 dst;
  if (!o.dst.empty()) {
    dst = parse_dst(o.dst);
  } else {
    // Lanes go to the receiving instance's own address.
    const xlane_info ri = rs.info();
    if (!ri.attached || ri.src_ip == 0)
      throw xcommon::error(
          fmt::format("the X-Lane instance of the receiver's namespace {} is not attached",
                      o.ns_recv.empty() ? "(this one)" : o.ns_recv),
          ENOTCONN, "attach it (xlanectl -n NS attach dev IFNAME) or give --dst");
    dst = xlane::Ipv4{ri.src_ip};
  }
  xlane::Listener listener = rs.listen(o.port, k_listen_slots, o.size);

  xlane::Request req;
  req.loadsize = xlane_chunk_wire_len(o.size);
  req.period_us = o.period_us;
  req.ip = dst;
  req.port = o.port;
  req.prio = static_cast<std::uint8_t>(o.prio);
  xlane::Lane lane = ss.request_bandwidth(req);
  const xlane::Resources grant = lane.resources();

  samples s;
  s.latency.assign(o.count, k_missing);
  s.app_to_rx.assign(o.count, 0);
  s.pkt_seq.assign(o.count, 0);
  s.pkt_tx_ns.assign(o.count, 0);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> got{0};
  std::exception_ptr rx_error;

  std::jthread receiver([&] {
    try {
      place(o.recv_cpu, o.rt_prio, "receiver");
      while (!stop.load(std::memory_order_relaxed) && got.load() < o.count) {
        const std::size_t n = listener.consume(
            [&](const xlane_rx_msg& h, std::span<const std::byte> payload) {
              probe p{};
              if (payload.size() < sizeof(p)) {
                ++s.foreign;
                return;
              }
              std::memcpy(&p, payload.data(), sizeof(p));
              if (p.magic != k_magic || p.seq >= o.count || s.latency[p.seq] != k_missing) {
                ++s.foreign;
                return;
              }
              s.latency[p.seq] = static_cast<std::int64_t>(h.rx_ns - h.tx_ns);
              s.app_to_rx[p.seq] = static_cast<std::int64_t>(h.rx_ns - p.tx_ns);
              s.pkt_seq[p.seq] = h.seq;
              s.pkt_tx_ns[p.seq] = h.tx_ns;
              got.fetch_add(1);
            },
            64);
        // Latency is rx_ns - tx_ns, both taken in the kernel, so when this
        // thread looks does not matter; the ring holds seconds of messages.
        if (n == 0) nap();
      }
    } catch (...) {
      rx_error = std::current_exception();
    }
  });

  place(o.send_cpu, o.rt_prio, "sender");
  // One message per granted period; the engine sends on its own clock.
  const std::uint64_t period_ns = std::uint64_t{grant.period_us} * 1000;
  std::vector<std::byte> msg(o.size, std::byte{0});
  constexpr std::uint64_t k_second = 1000000000;
  std::uint64_t waits = 0, wait_max = 0;
  std::uint64_t next = now_ns() + 20000000;
  for (std::uint64_t i = 0; i < o.count && !rx_error && lane.active(); ++i) {
    sleep_until_ns(next);
    // One message per engine round: if the last one is still queued (this
    // thread woke late, or the engine runs late), let the engine take it
    // first; two queued at the start of a round would be over the grant and
    // policed, a loss the sender caused. How often it waited says how far
    // the engine kept the period.
    if (lane.ring_stats().used > 0) {
      const std::uint64_t from = now_ns(), give_up = from + std::max(100 * period_ns, k_second);
      while (lane.ring_stats().used > 0 && now_ns() < give_up && lane.active()) nap();
      ++waits;
      wait_max = std::max(wait_max, now_ns() - from);
    }
    probe p{k_magic, i, now_ns()};
    std::memcpy(msg.data(), &p, sizeof(p));
    if (!lane.send(msg)) ++s.send_errors;
    next += period_ns;
  }
  drain(got, o.count, o.drain_s, rx_error,
        [&] { return lane.active() && lane.ring_stats().used > 0; });
  stop = true;
  receiver.join();
  if (rx_error) std::rethrow_exception(rx_error);

  // What the engine did with the lane's messages (lost ones: policed?).
  json engine = nullptr;
  if (lane.active()) {
    for (const auto& l : ss.lanes())
      if (l.lane == lane.id())
        engine = {{"packets", l.sent},
                  {"msgs", l.msgs},
                  {"policed", l.policed},
                  {"late", l.late},
                  {"idle_periods", l.idle_periods}};
  }

  json extra = {{"dst", dst.str()},
                {"port", o.port},
                {"prio", o.prio},
                {"request", xlane::to_json(req)},
                {"grant", xlane::to_json(grant)},
                {"lane_terminated", !lane.active()},
                {"listener_ring", xlane::to_json(listener.stats())},
                {"lane_counters", engine},
                {"sender_waits", waits},
                {"sender_wait_max_ns", wait_max},
                {"pacing_error_ns", pacing_json(s, grant.period_us)}};
  json j = summary_json(o, s, extra);
  // The granted period is what was measured against.
  j["period_us"] = grant.period_us;
  return j;
}

int run(const options& o) {
  json j;
  if (o.mode == "udp")
    j = run_udp(o, false);
  else if (o.mode == "busypoll")
    j = run_udp(o, true);
  else
    j = run_xlane(o);

  if (o.json_path.empty() || o.json_path == "-") {
    std::cout << j.dump() << '\n';
  } else {
    std::ofstream out(o.json_path);
    if (!out) xcommon::throw_errno("open {}", o.json_path);
    out << j.dump(1) << '\n';
    if (!out.flush()) xcommon::throw_errno("write {}", o.json_path);
    fmt::print("{}: {} of {} received, l_min {} p50 {} p99 {} p99.99 {} l_max {} d_max {} -> {}\n",
               o.mode, j["received"].get<std::uint64_t>(), o.count, j.value("l_min", 0ll),
               j.value("p50", 0ll), j.value("p99", 0ll), j.value("p99_99", 0ll),
               j.value("l_max", 0ll), j.value("d_max", 0ll), o.json_path);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{
      "xlane-lat - one-way latency of periodic messages between two network namespaces\n"
      "\n"
      "Modes: udp (blocking recv), busypoll (SO_BUSY_POLL + non-blocking spin), xlane\n"
      "(a lane of the xlane module: latency = rx_ns - tx_ns of the receiver's\n"
      "struct xlane_rx_msg, and the engine's pacing error). Sender and receiver run\n"
      "on one machine and share CLOCK_MONOTONIC.",
      "xlane-lat"};
  xcommon::cli::use_formatter(app, 24);
  app.footer(
      "Example:\n"
      "  xlane-lat xlane --ns-send h1 --ns-recv h2 --count 10000 \\\n"
      "            --period-us 1000 --recv-cpu 2 --json build/results/xlane.json\n"
      "Exit status: 0 success, 1 failure, 2 usage error.");
  app.add_option("MODE", o.mode, "udp, busypoll or xlane")
      ->required()
      ->check(CLI::IsMember({"udp", "busypoll", "xlane"}));
  app.add_option("--dst", o.dst,
                 "the receiver's IPv4 address (default: the receiving instance's (xlane) or "
                 "the first one of the receiver's namespace)")
      ->type_name("IP");
  app.add_option("--count", o.count, "messages")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  app.add_option("--warmup", o.warmup, "first messages left out of the statistics")
      ->capture_default_str();
  app.add_option("--period-us", o.period_us, "send period in microseconds")
      ->capture_default_str()
      ->check(CLI::Range(XLANE_MIN_PERIOD_US, XLANE_MAX_PERIOD_US));
  app.add_option("--size", o.size, "message bytes (at least 24)")
      ->capture_default_str()
      ->check(CLI::Range(static_cast<std::uint32_t>(sizeof(probe)),
                         XLANE_MAX_LOADSIZE - XLANE_WIRE_CHUNK - 4));
  app.add_option("--port", o.port, "UDP port (udp, busypoll) or listener port (xlane)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--ns-send", o.ns_send, "sender's network namespace (name or path)")
      ->type_name("NAME");
  app.add_option("--ns-recv", o.ns_recv, "receiver's network namespace (name or path)")
      ->type_name("NAME");
  app.add_option("--send-cpu", o.send_cpu, "pin the sender to this CPU")->type_name("CPU");
  app.add_option("--recv-cpu", o.recv_cpu, "pin the receiver to this CPU")->type_name("CPU");
  app.add_option("--rt-prio", o.rt_prio,
                 "run sender and receiver under SCHED_FIFO at this priority (needs "
                 "CAP_SYS_NICE); a busypoll receiver, which spins, stays SCHED_OTHER")
      ->capture_default_str()
      ->check(CLI::Range(0, 99));
  app.add_option("--busy-poll-us", o.busy_poll_us, "SO_BUSY_POLL (busypoll)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--tos", o.tos,
                 "IP TOS byte of the UDP baselines' packets, e.g. 184 (DSCP EF, "
                 "the switch's priority band, as lane traffic) for a fair comparison")
      ->check(CLI::Range(0, 255));
  app.add_option("--prio", o.prio, "lane priority (xlane)")
      ->capture_default_str()
      ->check(CLI::Range(0, static_cast<int>(XLANE_PRIO_LEVELS) - 1));
  app.add_option("--drain", o.drain_s,
                 "after the last send, stop once nothing arrived for this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--json", o.json_path, "write the result here (default: stdout)")
      ->type_name("FILE");

  const std::vector<std::string> args(argv + 1, argv + argc);
  if (auto stop = xcommon::cli::parse(app, args)) return xcommon::cli::print_early_exit(*stop);
  if (o.warmup >= o.count) {
    std::cerr << "xlane-lat: error: --warmup must be smaller than --count\n";
    return 2;
  }
  return xcommon::cli::run_reporting_errors("xlane-lat", [&] { return run(o); });
}
