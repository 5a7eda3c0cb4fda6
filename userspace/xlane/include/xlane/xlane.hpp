// SPDX-License-Identifier: GPL-2.0
//
// libxlane: the X-Lane user API (/dev/xlane, modules/xlane/include/uapi/xlane.h)
// in C++, RAII over everything.
//
//   xlane::Session s;                                      // opens /dev/xlane
//   xlane::Lane lane = s.request_bandwidth({.loadsize = 64, .period_us = 100,
//                                           .ip = *xlane::Ipv4::parse("10.0.0.2"),
//                                           .port = 9000});
//   lane.send(std::as_bytes(std::span{"hello", 5}));       // into the R-X ring
//   s.dispatch({.bandwidth_changed = ..., .bandwidth_terminated = ...}, 100ms);
//   // ~Lane releases the lane (XLANE_IOC_LANE_RELEASE)
//
//   xlane::Listener l = s.listen(9000);                    // X-R ring
//   while (auto m = l.poll()) use(m->payload, m->rx_ns - m->tx_ns);
//
//   xlane::Xfd fd = s.fd_start(group, 1000, 500);          // X-FD + liveness thread
//   auto table = xlane::AliveTable::open();                // any user
//
// A session is one open file of the device: one process in one network
// namespace (the opener's), whose instance every ioctl acts on. Lanes,
// listeners and X-FD keep the session's state alive, so they may outlive the
// Session object that made them; the module ends them all when the last of
// them is gone and the file is closed.
//
// Errors are xcommon::error (with errno and a hint) or std::system_error, and
// say which ioctl failed on which device and why.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "uapi/xlane.h"
#include "xlane/bridge.hpp"
#include "xlane/mapping.hpp"
#include "xlane/model.h"

namespace xlane {

inline constexpr std::string_view k_device = "/dev/xlane";

// An IPv4 address, kept in network byte order as the uapi wants it.
struct Ipv4 {
  std::uint32_t be = 0;

  // Dotted quad only ("10.0.0.2"); nullopt for anything else.
  [[nodiscard]] static std::optional<Ipv4> parse(std::string_view text);
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool multicast() const noexcept;  // 224.0.0.0/4
  [[nodiscard]] bool any() const noexcept { return be == 0; }
  friend bool operator==(const Ipv4&, const Ipv4&) = default;
};

// struct request of the paper (List. 1).
struct Request {
  std::uint32_t loadsize = 0;  // max chunk bytes per period
  std::uint32_t period_us = 0;
  Ipv4 ip;                  // receiver: unicast or multicast
  std::uint16_t port = 0;   // receiver's listener port
  std::uint8_t prio = 0;    // sub-lane 0 (highest) .. 3
  bool reclaim = false;     // may be slowed down when unused (XLANE_REQ_RECLAIM)
  std::uint32_t slots = 0;  // R-X ring slots, 0: the module's default (64)

  [[nodiscard]] xlane_request to_uapi() const noexcept;
  // "64 B every 100 us to 10.0.0.2 port 9000 prio 0"
  [[nodiscard]] std::string str() const;
};

// struct resources of the paper: what the controller granted.
struct Resources {
  std::uint32_t loadsize = 0;
  std::uint32_t period_us = 0;
  std::int64_t min_latency_ns = 0;
  std::int64_t max_jitter_ns = XLANE_UNBOUNDED;

  [[nodiscard]] static Resources from(const xlane_resources& r) noexcept;
  [[nodiscard]] bool jitter_bounded() const noexcept { return max_jitter_ns >= 0; }
  // "64 B every 100 us, latency 12.000 us + jitter <= 4.500 us"
  [[nodiscard]] std::string str() const;
  friend bool operator==(const Resources&, const Resources&) = default;
};

// enum Reason of the paper (XLANE_REASON_*), plus why a lane ended.
enum class Reason : std::uint32_t {
  te = XLANE_REASON_TE,
  bw_exceeded = XLANE_REASON_BW_EXCEEDED,
  bw_unused = XLANE_REASON_BW_UNUSED,
  detached = XLANE_REASON_DETACHED,
};

// An upcall read from the session (struct xlane_event).
struct Event {
  enum class Type : std::uint32_t { changed = XLANE_EV_CHANGED, terminated = XLANE_EV_TERMINATED };
  Type type = Type::changed;
  std::uint32_t lane = 0;
  Reason reason = Reason::te;
  Resources res;  // the new grant (changed)

  // nullopt for a record this library does not know (unknown type).
  [[nodiscard]] static std::optional<Event> from(const xlane_event& e) noexcept;
};

// The paper's upcalls; either may be empty.
struct Upcalls {
  std::function<void(std::uint32_t lane, const Resources& res, Reason reason)> bandwidth_changed;
  std::function<void(std::uint32_t lane, Reason reason)> bandwidth_terminated;
};

// One message from a listener's X-R ring (struct xlane_rx_msg + payload).
struct Message {
  std::uint64_t tx_ns = 0;  // sender's engine, CLOCK_MONOTONIC
  std::uint64_t rx_ns = 0;  // receiver's optimistic (XDP) timestamp
  std::uint64_t seq = 0;    // sender lane's packet sequence
  std::uint32_t node = 0;   // sender node
  Ipv4 src;
  std::uint32_t lane = 0;  // sender's lane id
  std::uint16_t port = 0;
  std::vector<std::byte> payload;

  // rx_ns - tx_ns: one-way latency when both hosts share CLOCK_MONOTONIC.
  [[nodiscard]] std::int64_t latency_ns() const noexcept {
    return static_cast<std::int64_t>(rx_ns - tx_ns);
  }
};

// An X-FD event (struct xlane_fd_event).
struct FdEvent {
  enum class Type : std::uint32_t {
    joined = XLANE_FD_JOINED,
    suspected = XLANE_FD_SUSPECTED,
    recovered = XLANE_FD_RECOVERED,
  };
  Type type = Type::joined;
  std::uint64_t ns = 0;             // when the engine decided
  std::uint64_t last_alive_ns = 0;  // the peer's last heartbeat
  std::uint32_t node = 0;
  Ipv4 ip;
};

namespace detail {
struct session_state;
struct lane_state;
}  // namespace detail

// A granted lane. Move-only; releases the lane when destroyed.
class Lane {
 public:
  Lane() = default;
  Lane(Lane&&) noexcept = default;
  Lane& operator=(Lane&& other) noexcept;
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  ~Lane();

  [[nodiscard]] std::uint32_t id() const;
  [[nodiscard]] Request request() const;
  // The current grant: the request's answer, updated by changed upcalls the
  // session has read (next_event / dispatch) and by change_bandwidth().
  [[nodiscard]] Resources resources() const;
  // Ended by the module (terminated upcall) or by release().
  [[nodiscard]] bool active() const;
  [[nodiscard]] std::optional<Reason> terminated() const;

  // changeBandwidth (XLANE_IOC_LANE_CHANGE): the new grant, also kept.
  Resources change_bandwidth(const Request& req);
  // releaseBandwidth (XLANE_IOC_LANE_RELEASE); idempotent.
  void release();

  // Pushes one message into the lane's R-X ring; false when it is full.
  // Throws if the lane has ended, or the message can never fit a slot.
  bool send(std::span<const std::byte> msg);
  [[nodiscard]] RingStats ring_stats() const;

 private:
  friend class Session;
  explicit Lane(std::shared_ptr<detail::lane_state> s) noexcept : s_{std::move(s)} {}
  std::shared_ptr<detail::lane_state> s_;
};

// Lane messages for one port (XLANE_IOC_LISTEN), read from an X-R ring.
// The module keeps delivering until the session's file is closed.
class Listener {
 public:
  Listener() = default;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // The next message, or nullopt when none is waiting (never blocks).
  [[nodiscard]] std::optional<Message> poll();
  // Up to `max` waiting messages appended to `out`; how many.
  std::size_t poll_batch(std::vector<Message>& out, std::size_t max);
  // Zero-copy: calls fn(const xlane_rx_msg&, std::span<const std::byte> payload)
  // for up to `max` waiting messages, each valid only during the call.
  template <typename Fn>
  std::size_t consume(Fn&& fn, std::size_t max) {
    std::size_t n = 0;
    while (n < max) {
      auto v = next_valid();
      if (!v) break;
      fn(v->hdr, v->payload);
      ring_.release();
      ++n;
    }
    return n;
  }
  // Waits for a message: spins for `spin`, then polls every 50 us until
  // `timeout` has passed.
  [[nodiscard]] std::optional<Message> receive(
      std::chrono::nanoseconds timeout,
      std::chrono::nanoseconds spin = std::chrono::microseconds(100));

  [[nodiscard]] RingStats stats() const noexcept { return ring_.stats(); }
  // Slots that did not hold a well-formed struct xlane_rx_msg (skipped).
  [[nodiscard]] std::uint64_t malformed() const noexcept { return malformed_; }

 private:
  friend class Session;
  struct view {
    xlane_rx_msg hdr;
    std::span<const std::byte> payload;
  };
  // The next well-formed message still in the ring (not released).
  std::optional<view> next_valid() noexcept;

  std::shared_ptr<detail::session_state> session_;
  Consumer ring_;
  std::uint16_t port_ = 0;
  std::uint64_t malformed_ = 0;
};

struct XfdOptions {
  std::uint32_t slots = 0;  // event ring slots, 0: the module's default (256)
  // SCHED_FIFO priority of the liveness thread; 0 keeps the normal policy.
  // If the priority is not permitted the thread runs normally and
  // Xfd::realtime_error() says why.
  int fifo_priority = 10;
};

// X-FD membership (XLANE_IOC_FD_START) with the application's liveness
// thread, which increments the shared liveness counter every T/3. Stops X-FD
// (XLANE_IOC_FD_STOP) when destroyed.
class Xfd {
 public:
  Xfd() = default;
  Xfd(Xfd&&) noexcept = default;
  Xfd& operator=(Xfd&& other) noexcept;
  Xfd(const Xfd&) = delete;
  Xfd& operator=(const Xfd&) = delete;
  ~Xfd();

  [[nodiscard]] std::uint32_t lane() const noexcept { return lane_; }
  [[nodiscard]] const Resources& heartbeat() const noexcept { return res_; }
  [[nodiscard]] std::uint32_t period_us() const noexcept { return period_us_; }
  [[nodiscard]] std::uint32_t threshold_us() const noexcept { return threshold_us_; }

  // Simulates a stopped application: the counter stops moving (no increment
  // is in flight once this returns), the engine keeps running and the peers
  // suspect this node T + L after the heartbeat carrying the last value,
  // which leaves up to T after the pause: within 2T + L of it.
  void pause_liveness() noexcept;
  void resume_liveness() noexcept;
  [[nodiscard]] bool liveness_paused() const noexcept;
  // The counter value last published.
  [[nodiscard]] std::uint64_t counter() const noexcept;

  // Whether the liveness thread got SCHED_FIFO, and if not the errno
  // (EPERM without CAP_SYS_NICE); 0 when it was not asked for.
  [[nodiscard]] bool realtime() const noexcept { return realtime_; }
  [[nodiscard]] int realtime_error() const noexcept { return realtime_err_; }

  // The next event from the event ring, or nullopt (never blocks).
  [[nodiscard]] std::optional<FdEvent> poll_event();
  [[nodiscard]] RingStats event_ring_stats() const noexcept { return events_.stats(); }

  // Stops the liveness thread and X-FD; idempotent.
  void stop();
  [[nodiscard]] bool running() const noexcept { return session_ != nullptr; }

 private:
  friend class Session;
  struct liveness;  // shared with the thread

  std::shared_ptr<detail::session_state> session_;
  std::shared_ptr<liveness> live_;
  std::jthread thread_;
  Consumer events_;
  Resources res_;
  std::uint32_t lane_ = 0, period_us_ = 0, threshold_us_ = 0;
  bool realtime_ = false;
  int realtime_err_ = 0;
};

// A consistent-enough copy of the alive table (fields read one by one while
// the engine may update them).
struct AliveSnapshot {
  bool active = false;
  std::uint32_t self_node = 0;
  std::uint64_t period_ns = 0, threshold_ns = 0;
  std::uint64_t beats_tx = 0, beats_skipped = 0, beats_rx = 0;
  std::uint64_t suspicions = 0, recoveries = 0;
  std::vector<xlane_fd_peer> peers;
};

// The namespace's X-FD alive table (XLANE_MMAP_FD_TABLE), read-only; works
// for any user.
class AliveTable {
 public:
  [[nodiscard]] static AliveTable open(std::string_view device = k_device);
  [[nodiscard]] AliveSnapshot snapshot() const;

 private:
  friend class Session;
  AliveTable() = default;
  std::shared_ptr<const mapping> map_;
  std::string device_;
};

struct SessionOptions {
  std::string device{k_device};
  // Bytes of the shared area (XLANE_IOC_SESSION), 0: XLANE_AREA_SIZE.
  std::uint32_t area_size = 0;
};

class Session {
 public:
  // Opens the device; throws with a hint when the module is not loaded.
  Session();
  explicit Session(SessionOptions opts);

  [[nodiscard]] const std::string& device() const noexcept;
  [[nodiscard]] int fd() const noexcept;

  // --- the controller API (List. 1) ---
  // requestBandwidth; on refusal by admission (ENOSPC) the error says why.
  [[nodiscard]] Lane request_bandwidth(const Request& req);
  // An upcall, waiting up to `timeout`; nullopt on timeout or when a signal
  // interrupted the wait. Keeps the Lane objects' grants up to date.
  [[nodiscard]] std::optional<Event> next_event(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for the first upcall, then calls `up` for it and
  // every other one already queued; returns how many.
  std::size_t dispatch(const Upcalls& up, std::chrono::milliseconds timeout);

  // --- bridges and services ---
  [[nodiscard]] Listener listen(std::uint16_t port, std::uint32_t slots = 0,
                                std::uint32_t max_len = 0);
  [[nodiscard]] Xfd fd_start(Ipv4 group, std::uint32_t period_us, std::uint32_t threshold_us,
                             const XfdOptions& opts = {});
  [[nodiscard]] AliveTable alive_table();

  // --- the instance ---
  void attach(const xlane_attach& a);
  void detach();
  [[nodiscard]] xlane_info info();
  [[nodiscard]] std::vector<xlane_lane_info> lanes();

 private:
  std::shared_ptr<detail::session_state> s_;
};

// Names for the uapi's enums ("te", "bw_exceeded", ...; "reason 7" if unknown).
[[nodiscard]] std::string reason_name(std::uint32_t reason);
[[nodiscard]] std::string refusal_name(std::uint32_t refusal);  // "no_bandwidth"
[[nodiscard]] std::string refusal_text(std::uint32_t refusal);  // a sentence
[[nodiscard]] std::string fd_event_name(std::uint32_t type);    // "suspected"
[[nodiscard]] std::string event_name(std::uint32_t type);       // "changed"

}  // namespace xlane
