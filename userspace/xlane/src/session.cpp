// SPDX-License-Identifier: GPL-2.0
//
// Session, Lane, Listener, Xfd and AliveTable over /dev/xlane.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <stop_token>
#include <utility>

#include <fmt/format.h>

#include "xcommon/error.hpp"
#include "xcommon/unique_fd.hpp"
#include "xlane/xlane.hpp"

namespace xlane {

namespace detail {

struct session_state {
  std::string device;
  xcommon::unique_fd fd;
  std::uint32_t area_size = XLANE_AREA_SIZE;

  std::mutex mu;  // guards area and lanes
  mapping area;
  std::map<std::uint32_t, std::weak_ptr<lane_state>> lanes;

  // The shared area, mapped at its first use.
  std::span<std::byte> area_bytes();
  // The lane state of `id` if a Lane of this session still holds it.
  std::shared_ptr<lane_state> find_lane(std::uint32_t id);
};

struct lane_state {
  std::shared_ptr<session_state> session;
  std::uint32_t id = 0;
  Producer ring;
  std::atomic<bool> ended{false};  // released or terminated

  mutable std::mutex mu;  // guards the fields below
  Request req;
  Resources res;
  bool released = false;
  std::optional<Reason> terminated;
};

}  // namespace detail

namespace {

using detail::lane_state;
using detail::session_state;

// --- errors ----------------------------------------------------------------

constexpr std::string_view k_not_loaded =
    "is the xlane module loaded? insmod modules/xlane/xlane.ko";
constexpr std::string_view k_needs_cap = "needs CAP_NET_ADMIN";

// "[CONTEXT: ]NAME on DEVICE: strerror[ (needs CAP_NET_ADMIN)]" with a hint.
[[noreturn]] void ioctl_failed(const std::string& device, std::string_view name, int err,
                               std::string_view context = {}) {
  std::string msg = context.empty() ? std::string{} : fmt::format("{}: ", context);
  msg += fmt::format("{} on {}: {}", name, device, std::strerror(err));
  std::string hint;
  switch (err) {
    case EPERM:
    case EACCES:
      msg += fmt::format(" ({})", k_needs_cap);
      hint = "run as root, or with CAP_NET_ADMIN over the network namespace";
      break;
    case ENOTTY:
      hint = fmt::format("{} does not know this ioctl: is the loaded xlane module from this tree?",
                         device);
      break;
    case ENETDOWN:
    case ENOTCONN:
      hint = "is the namespace's instance attached to a device? see `xlanectl show`";
      break;
    case EHOSTUNREACH:
      hint = "the receiver's address does not resolve on the attached device (ARP/route)";
      break;
    default: break;
  }
  throw xcommon::error(std::move(msg), err, std::move(hint));
}

void do_ioctl(const session_state& s, unsigned long req, void* arg, std::string_view name,
              std::string_view context = {}) {
  if (::ioctl(s.fd.get(), req, arg) != 0) ioctl_failed(s.device, name, errno, context);
}

// Opens the device, read-write, or read-only when that is all we may.
xcommon::unique_fd open_device(const std::string& device, int flags) {
  const int fd = ::open(device.c_str(), flags | O_CLOEXEC);
  if (fd >= 0) return xcommon::unique_fd{fd};
  const int err = errno;
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      throw xcommon::error(fmt::format("{}: {} ({})", device, std::strerror(err), k_not_loaded),
                           err);
    case EPERM:
    case EACCES:
      throw xcommon::error(fmt::format("{}: {} ({})", device, std::strerror(err), k_needs_cap), err,
                           fmt::format("see the permissions of {} (ls -l {})", device, device));
    default: xcommon::throw_errno(err, "open {}", device);
  }
}

[[noreturn]] void admission_refused(const session_state& s, std::string_view name,
                                    const std::string& what, std::uint32_t refusal) {
  throw xcommon::error(
      fmt::format("{} refused by admission control: {} ({} on {}: {})", what, refusal_text(refusal),
                  name, s.device, std::strerror(ENOSPC)),
      ENOSPC, "see the lanes in use with `xlanectl lanes` and the path model with `xlanectl show`");
}

template <typename T>
T load_relaxed(const T& field) noexcept {
  return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

}  // namespace

// --- session state ---------------------------------------------------------

std::span<std::byte> detail::session_state::area_bytes() {
  std::lock_guard lock(mu);
  if (!area)
    area = mapping::map(fd.get(), area_size, PROT_READ | PROT_WRITE, 0,
                        fmt::format("{} session area", device));
  return area.bytes();
}

std::shared_ptr<lane_state> detail::session_state::find_lane(std::uint32_t id) {
  std::lock_guard lock(mu);
  auto it = lanes.find(id);
  if (it == lanes.end()) return nullptr;
  auto l = it->second.lock();
  if (!l) lanes.erase(it);
  return l;
}

// --- small types -------------------------------------------------------------

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  const std::string s{text};
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return Ipv4{a.s_addr};
}

std::string Ipv4::str() const {
  char buf[INET_ADDRSTRLEN] = {};
  in_addr a{};
  a.s_addr = be;
  ::inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

bool Ipv4::multicast() const noexcept { return (ntohl(be) >> 28) == 0xe; }

xlane_request Request::to_uapi() const noexcept {
  xlane_request r{};
  r.loadsize = loadsize;
  r.period_us = period_us;
  r.ip = ip.be;
  r.port = port;
  r.prio = prio;
  r.flags = reclaim ? XLANE_REQ_RECLAIM : 0;
  return r;
}

std::string Request::str() const {
  return fmt::format("{} B every {} us to {} port {} prio {}", loadsize, period_us, ip.str(), port,
                     prio);
}

Resources Resources::from(const xlane_resources& r) noexcept {
  return Resources{r.loadsize, r.period_us, r.min_latency_ns, r.max_jitter_ns};
}

std::optional<Event> Event::from(const xlane_event& e) noexcept {
  if (e.type != XLANE_EV_CHANGED && e.type != XLANE_EV_TERMINATED) return std::nullopt;
  Event ev;
  ev.type = static_cast<Type>(e.type);
  ev.lane = e.lane;
  ev.reason = static_cast<Reason>(e.reason);
  ev.res = Resources::from(e.res);
  return ev;
}

// --- names -----------------------------------------------------------------

std::string reason_name(std::uint32_t reason) {
  switch (reason) {
    case XLANE_REASON_TE: return "te";
    case XLANE_REASON_BW_EXCEEDED: return "bw_exceeded";
    case XLANE_REASON_BW_UNUSED: return "bw_unused";
    case XLANE_REASON_DETACHED: return "detached";
    default: return fmt::format("reason {}", reason);
  }
}

std::string refusal_name(std::uint32_t refusal) {
  switch (refusal) {
    case XLANE_FITS: return "fits";
    case XLANE_BAD_REQUEST: return "bad_request";
    case XLANE_NO_BANDWIDTH: return "no_bandwidth";
    case XLANE_NO_ENGINE: return "no_engine";
    case XLANE_NO_JITTER: return "no_jitter";
    default: return fmt::format("refusal {}", refusal);
  }
}

std::string refusal_text(std::uint32_t refusal) {
  switch (refusal) {
    case XLANE_BAD_REQUEST:
      return fmt::format(
          "bad request: loadsize 1..{} B, period {}..{} us and prio 0..{}, on a valid path",
          XLANE_MAX_LOADSIZE, XLANE_MIN_PERIOD_US, XLANE_MAX_PERIOD_US, XLANE_PRIO_LEVELS - 1);
    case XLANE_NO_BANDWIDTH: return "no bandwidth: the X-Lane share of the links would be exceeded";
    case XLANE_NO_ENGINE: return "no engine time: the engine core's share would be exceeded";
    case XLANE_NO_JITTER:
      return "no jitter bound: some lane's worst-case jitter would reach its period";
    default: return refusal_name(refusal);
  }
}

std::string fd_event_name(std::uint32_t type) {
  switch (type) {
    case XLANE_FD_JOINED: return "joined";
    case XLANE_FD_SUSPECTED: return "suspected";
    case XLANE_FD_RECOVERED: return "recovered";
    default: return fmt::format("event {}", type);
  }
}

std::string event_name(std::uint32_t type) {
  switch (type) {
    case XLANE_EV_CHANGED: return "changed";
    case XLANE_EV_TERMINATED: return "terminated";
    default: return fmt::format("event {}", type);
  }
}

// --- Session -----------------------------------------------------------------

Session::Session() : Session(SessionOptions{}) {}

Session::Session(SessionOptions opts) : s_{std::make_shared<session_state>()} {
  s_->device = std::move(opts.device);
  try {
    s_->fd = open_device(s_->device, O_RDWR);
  } catch (const xcommon::error& e) {
    // Read-only is enough for the instance, the lanes and the alive table.
    if (e.code() != EACCES) throw;
    s_->fd = open_device(s_->device, O_RDONLY);
  }
  if (opts.area_size != 0) {
    __u32 size = opts.area_size;
    do_ioctl(*s_, XLANE_IOC_SESSION, &size, "XLANE_IOC_SESSION",
             fmt::format("set the session area to {} bytes", size));
    s_->area_size = size;
  }
}

const std::string& Session::device() const noexcept { return s_->device; }
int Session::fd() const noexcept { return s_->fd.get(); }

Lane Session::request_bandwidth(const Request& req) {
  xlane_lane_req r{};
  r.slots = req.slots;
  r.req = req.to_uapi();
  if (::ioctl(s_->fd.get(), XLANE_IOC_LANE_REQUEST, &r) != 0) {
    const int err = errno;
    if (err == ENOSPC)
      admission_refused(*s_, "XLANE_IOC_LANE_REQUEST", "lane request " + req.str(), r.refusal);
    ioctl_failed(s_->device, "XLANE_IOC_LANE_REQUEST", err, "lane request " + req.str());
  }
  auto st = std::make_shared<lane_state>();
  st->session = s_;
  st->id = r.lane;
  st->req = req;
  st->res = Resources::from(r.res);
  // From here on the Lane releases the grant if anything below fails.
  Lane lane{st};
  st->ring =
      Producer::attach(s_->area_bytes(), r.ring_off, fmt::format("lane {} R-X ring", r.lane));
  {
    std::lock_guard lock(s_->mu);
    s_->lanes[r.lane] = st;
  }
  return lane;
}

std::optional<Event> Session::next_event(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const bool forever = timeout.count() < 0;
  const auto deadline = clock::now() + (forever ? std::chrono::milliseconds(0) : timeout);
  for (;;) {
    int wait_ms = -1;
    if (!forever) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(left, 0, INT32_MAX));
    }
    pollfd p{s_->fd.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, wait_ms);
    if (n < 0) {
      if (errno == EINTR) return std::nullopt;
      xcommon::throw_errno("poll {} for upcalls", s_->device);
    }
    if (n == 0) return std::nullopt;
    if ((p.revents & POLLIN) == 0) {
      if (p.revents & (POLLERR | POLLNVAL))
        throw xcommon::error(fmt::format("poll {} for upcalls: error condition (revents {:#x})",
                                         s_->device, static_cast<unsigned>(p.revents)),
                             EIO);
      return std::nullopt;  // POLLHUP without data
    }
    xlane_event raw{};
    const ssize_t got = ::read(s_->fd.get(), &raw, sizeof(raw));
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return std::nullopt;
      xcommon::throw_errno("read an upcall from {}", s_->device);
    }
    if (static_cast<std::size_t>(got) != sizeof(raw))
      throw xcommon::error(fmt::format("read an upcall from {}: {} bytes, expected {}", s_->device,
                                       got, sizeof(raw)),
                           EPROTO);
    auto ev = Event::from(raw);
    if (!ev) continue;  // a record type this library does not know
    if (auto l = s_->find_lane(ev->lane)) {
      std::lock_guard lock(l->mu);
      if (ev->type == Event::Type::changed) {
        l->res = ev->res;
      } else {
        l->terminated = ev->reason;
        l->ended.store(true, std::memory_order_release);
      }
    }
    return ev;
  }
}

std::size_t Session::dispatch(const Upcalls& up, std::chrono::milliseconds timeout) {
  std::size_t n = 0;
  for (auto ev = next_event(timeout); ev; ev = next_event(std::chrono::milliseconds(0))) {
    ++n;
    if (ev->type == Event::Type::changed) {
      if (up.bandwidth_changed) up.bandwidth_changed(ev->lane, ev->res, ev->reason);
    } else if (up.bandwidth_terminated) {
      up.bandwidth_terminated(ev->lane, ev->reason);
    }
  }
  return n;
}

Listener Session::listen(std::uint16_t port, std::uint32_t slots, std::uint32_t max_len) {
  xlane_listen l{};
  l.port = port;
  l.slots = slots;
  l.max_len = max_len;
  do_ioctl(*s_, XLANE_IOC_LISTEN, &l, "XLANE_IOC_LISTEN", fmt::format("listen on port {}", port));
  Listener out;
  out.session_ = s_;
  out.port_ = port;
  out.ring_ = Consumer::attach(s_->area_bytes(), l.ring_off,
                               fmt::format("listener port {} X-R ring", port));
  return out;
}

void Session::attach(const xlane_attach& a) {
  xlane_attach copy = a;
  do_ioctl(*s_, XLANE_IOC_ATTACH, &copy, "XLANE_IOC_ATTACH",
           fmt::format("attach the instance to ifindex {}", a.ifindex));
}

void Session::detach() { do_ioctl(*s_, XLANE_IOC_DETACH, nullptr, "XLANE_IOC_DETACH"); }

xlane_info Session::info() {
  xlane_info i{};
  do_ioctl(*s_, XLANE_IOC_INFO, &i, "XLANE_IOC_INFO");
  return i;
}

std::vector<xlane_lane_info> Session::lanes() {
  std::vector<xlane_lane_info> v(16);
  for (int attempt = 0; attempt < 8; ++attempt) {
    xlane_lanes req{};
    req.count = static_cast<__u32>(v.size());
    req.lanes = reinterpret_cast<std::uintptr_t>(v.data());
    do_ioctl(*s_, XLANE_IOC_LANES, &req, "XLANE_IOC_LANES");
    if (req.count <= v.size()) {
      v.resize(req.count);
      return v;
    }
    // More lanes than room: ask again with enough (plus some, they may grow).
    v.assign(req.count + req.count / 4 + 4, xlane_lane_info{});
  }
  throw xcommon::error(
      fmt::format("XLANE_IOC_LANES on {}: the number of lanes keeps growing", s_->device), EAGAIN);
}

// --- Lane --------------------------------------------------------------------

Lane& Lane::operator=(Lane&& other) noexcept {
  if (this != &other) {
    try {
      release();
    } catch (...) {
    }
    s_ = std::move(other.s_);
  }
  return *this;
}

Lane::~Lane() {
  try {
    release();
  } catch (...) {
    // A destructor cannot report; the module ends the lane with the file.
  }
}

namespace {
const lane_state& require(const std::shared_ptr<lane_state>& s) {
  if (!s) throw xcommon::error("use of an empty xlane::Lane (moved from or default)", EBADF);
  return *s;
}
}  // namespace

std::uint32_t Lane::id() const { return require(s_).id; }

Request Lane::request() const {
  const auto& s = require(s_);
  std::lock_guard lock(s.mu);
  return s.req;
}

Resources Lane::resources() const {
  const auto& s = require(s_);
  std::lock_guard lock(s.mu);
  return s.res;
}

bool Lane::active() const { return s_ && !s_->ended.load(std::memory_order_acquire); }

std::optional<Reason> Lane::terminated() const {
  const auto& s = require(s_);
  std::lock_guard lock(s.mu);
  return s.terminated;
}

Resources Lane::change_bandwidth(const Request& req) {
  require(s_);
  auto& st = *s_;
  if (st.ended.load(std::memory_order_acquire))
    throw xcommon::error(fmt::format("change lane {}: it has ended", st.id), ENOENT);
  xlane_lane_req r{};
  r.lane = st.id;
  r.slots = req.slots;
  r.req = req.to_uapi();
  const std::string what = fmt::format("change lane {} to {}", st.id, req.str());
  if (::ioctl(st.session->fd.get(), XLANE_IOC_LANE_CHANGE, &r) != 0) {
    const int err = errno;
    if (err == ENOSPC) admission_refused(*st.session, "XLANE_IOC_LANE_CHANGE", what, r.refusal);
    ioctl_failed(st.session->device, "XLANE_IOC_LANE_CHANGE", err, what);
  }
  std::lock_guard lock(st.mu);
  st.req = req;
  st.res = Resources::from(r.res);
  return st.res;
}

void Lane::release() {
  if (!s_) return;
  auto& st = *s_;
  bool skip_ioctl;
  {
    std::lock_guard lock(st.mu);
    if (st.released) return;
    st.released = true;
    // A lane the module terminated is gone already; its id may be reused.
    skip_ioctl = st.terminated.has_value();
  }
  st.ended.store(true, std::memory_order_release);
  {
    std::lock_guard lock(st.session->mu);
    st.session->lanes.erase(st.id);
  }
  if (skip_ioctl) return;
  __u32 id = st.id;
  if (::ioctl(st.session->fd.get(), XLANE_IOC_LANE_RELEASE, &id) != 0 && errno != ENOENT)
    ioctl_failed(st.session->device, "XLANE_IOC_LANE_RELEASE", errno,
                 fmt::format("release lane {}", id));
}

bool Lane::send(std::span<const std::byte> msg) {
  require(s_);
  auto& st = *s_;
  if (st.ended.load(std::memory_order_acquire)) {
    std::lock_guard lock(st.mu);
    if (st.terminated)
      throw xcommon::error(fmt::format("send on lane {}: terminated by the module ({})", st.id,
                                       reason_name(static_cast<std::uint32_t>(*st.terminated))),
                           ENOENT);
    throw xcommon::error(fmt::format("send on lane {}: released", st.id), ENOENT);
  }
  return st.ring.push(msg, XLANE_MSG_DATA);
}

RingStats Lane::ring_stats() const { return require(s_).ring.stats(); }

// --- Listener ----------------------------------------------------------------

std::optional<Listener::view> Listener::next_valid() noexcept {
  for (;;) {
    auto v = ring_.peek();
    if (!v) return std::nullopt;
    if (v->type == XLANE_MSG_DATA && v->payload.size() >= sizeof(xlane_rx_msg)) {
      view out{};
      std::memcpy(&out.hdr, v->payload.data(), sizeof(out.hdr));
      if (out.hdr.len <= v->payload.size() - sizeof(xlane_rx_msg)) {
        out.payload = v->payload.subspan(sizeof(xlane_rx_msg), out.hdr.len);
        return out;
      }
    }
    ++malformed_;
    ring_.release();
  }
}

std::optional<Message> Listener::poll() {
  auto v = next_valid();
  if (!v) return std::nullopt;
  Message m;
  m.tx_ns = v->hdr.tx_ns;
  m.rx_ns = v->hdr.rx_ns;
  m.seq = v->hdr.seq;
  m.node = v->hdr.node;
  m.src = Ipv4{v->hdr.src_ip};
  m.lane = v->hdr.lane;
  m.port = v->hdr.port;
  m.payload.assign(v->payload.begin(), v->payload.end());
  ring_.release();
  return m;
}

std::size_t Listener::poll_batch(std::vector<Message>& out, std::size_t max) {
  std::size_t n = 0;
  while (n < max) {
    auto m = poll();
    if (!m) break;
    out.push_back(std::move(*m));
    ++n;
  }
  return n;
}

std::optional<Message> Listener::receive(std::chrono::nanoseconds timeout,
                                         std::chrono::nanoseconds spin) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (;;) {
    if (auto m = poll()) return m;
    const auto waited = clock::now() - start;
    if (waited >= timeout) return std::nullopt;
    if (waited >= spin) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// --- Xfd ---------------------------------------------------------------------

struct Xfd::liveness {
  std::shared_ptr<session_state> session;  // keeps the area (and counter) mapped
  std::uint64_t* counter = nullptr;
  std::chrono::nanoseconds interval{};
  std::atomic<bool> paused{false};
  std::atomic<std::uint64_t> value{0};
  std::mutex mu;
  std::condition_variable_any cv;

  void run(std::stop_token stop) {
    using clock = std::chrono::steady_clock;
    std::atomic_ref<std::uint64_t> shared{*counter};
    auto next = clock::now();
    std::unique_lock lock(mu);
    while (!stop.stop_requested()) {
      if (!paused.load(std::memory_order_relaxed)) {
        const std::uint64_t v = value.load(std::memory_order_relaxed) + 1;
        value.store(v, std::memory_order_relaxed);
        shared.store(v, std::memory_order_release);
      }
      next += interval;
      if (const auto now = clock::now(); next < now) next = now + interval;  // fell behind
      cv.wait_until(lock, stop, next, [] { return false; });
    }
  }
};

Xfd& Xfd::operator=(Xfd&& other) noexcept {
  if (this != &other) {
    try {
      stop();
    } catch (...) {
    }
    session_ = std::move(other.session_);
    live_ = std::move(other.live_);
    thread_ = std::move(other.thread_);
    events_ = std::move(other.events_);
    res_ = other.res_;
    lane_ = other.lane_;
    period_us_ = other.period_us_;
    threshold_us_ = other.threshold_us_;
    realtime_ = other.realtime_;
    realtime_err_ = other.realtime_err_;
  }
  return *this;
}

Xfd::~Xfd() {
  try {
    stop();
  } catch (...) {
    // The module stops X-FD when the file is closed.
  }
}

// The liveness thread holds `mu` from its check of `paused` to its store
// of the counter, so once the lock is ours no increment is on its way: the
// caller's clock read after this returns is the application's last sign of
// life (the failure time a benchmark measures detection against).
void Xfd::pause_liveness() noexcept {
  if (!live_) return;
  std::lock_guard lock(live_->mu);
  live_->paused.store(true);
}
void Xfd::resume_liveness() noexcept {
  if (live_) live_->paused.store(false);
}
bool Xfd::liveness_paused() const noexcept { return live_ && live_->paused.load(); }
std::uint64_t Xfd::counter() const noexcept { return live_ ? live_->value.load() : 0; }

std::optional<FdEvent> Xfd::poll_event() {
  for (;;) {
    auto v = events_.peek();
    if (!v) return std::nullopt;
    if (v->type != XLANE_MSG_FD_EVENT || v->payload.size() < sizeof(xlane_fd_event)) {
      events_.release();
      continue;
    }
    xlane_fd_event raw{};
    std::memcpy(&raw, v->payload.data(), sizeof(raw));
    events_.release();
    FdEvent e;
    e.type = static_cast<FdEvent::Type>(raw.type);
    e.ns = raw.ns;
    e.last_alive_ns = raw.last_alive_ns;
    e.node = raw.node;
    e.ip = Ipv4{raw.ip};
    return e;
  }
}

void Xfd::stop() {
  if (!session_) return;
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  auto s = std::move(session_);
  session_ = nullptr;
  events_ = Consumer{};
  if (::ioctl(s->fd.get(), XLANE_IOC_FD_STOP) != 0 && errno != ENOENT)
    ioctl_failed(s->device, "XLANE_IOC_FD_STOP", errno, "stop X-FD");
}

Xfd Session::fd_start(Ipv4 group, std::uint32_t period_us, std::uint32_t threshold_us,
                      const XfdOptions& opts) {
  xlane_fd_start f{};
  f.group = group.be;
  f.period_us = period_us;
  f.threshold_us = threshold_us;
  f.slots = opts.slots;
  const std::string what = fmt::format("start X-FD in group {} (period {} us, threshold {} us)",
                                       group.str(), period_us, threshold_us);
  if (::ioctl(s_->fd.get(), XLANE_IOC_FD_START, &f) != 0) {
    const int err = errno;
    // The heartbeat lane goes through admission like any other.
    if (err == ENOSPC)
      throw xcommon::error(
          fmt::format("{}: the heartbeat lane was refused by admission control "
                      "(XLANE_IOC_FD_START on {}: {})",
                      what, s_->device, std::strerror(err)),
          err, "a longer period needs less bandwidth and engine time; see `xlanectl lanes`");
    ioctl_failed(s_->device, "XLANE_IOC_FD_START", err, what);
  }
  Xfd x;
  x.session_ = s_;  // from here on ~Xfd stops X-FD if anything fails
  x.lane_ = f.lane;
  x.res_ = Resources::from(f.res);
  x.period_us_ = period_us;
  x.threshold_us_ = threshold_us;

  const auto area = s_->area_bytes();
  if (f.counter_off % 8 != 0 || f.counter_off > area.size() ||
      area.size() - f.counter_off < sizeof(std::uint64_t))
    throw xcommon::error(fmt::format("{}: liveness counter offset {:#x} is not an aligned u64 in "
                                     "the {}-byte area",
                                     what, f.counter_off, area.size()),
                         EPROTO);
  x.events_ = Consumer::attach(area, f.events_off, "X-FD event ring");

  auto live = std::make_shared<Xfd::liveness>();
  live->session = s_;
  live->counter = reinterpret_cast<std::uint64_t*>(area.data() + f.counter_off);
  live->value.store(std::atomic_ref<std::uint64_t>{*live->counter}.load(std::memory_order_acquire));
  live->interval = std::max<std::chrono::nanoseconds>(std::chrono::microseconds(period_us) / 3,
                                                      std::chrono::microseconds(1));
  x.live_ = live;
  x.thread_ = std::jthread([live](std::stop_token st) { live->run(std::move(st)); });
  if (opts.fifo_priority > 0) {
    sched_param sp{};
    sp.sched_priority = opts.fifo_priority;
    x.realtime_err_ = ::pthread_setschedparam(x.thread_.native_handle(), SCHED_FIFO, &sp);
    x.realtime_ = x.realtime_err_ == 0;
  }
  return x;
}

// --- AliveTable ------------------------------------------------------------

namespace {
std::size_t table_map_len() {
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t p = page > 0 ? static_cast<std::size_t>(page) : 4096;
  return (sizeof(xlane_fd_table) + p - 1) / p * p;
}

std::shared_ptr<const mapping> map_table(int fd, const std::string& device) {
  return std::make_shared<const mapping>(mapping::map(fd, table_map_len(), PROT_READ,
                                                      static_cast<off_t>(XLANE_MMAP_FD_TABLE),
                                                      fmt::format("{} X-FD alive table", device)));
}
}  // namespace

AliveTable AliveTable::open(std::string_view device) {
  AliveTable t;
  t.device_ = std::string{device};
  const xcommon::unique_fd fd = open_device(t.device_, O_RDONLY);
  t.map_ = map_table(fd.get(), t.device_);  // the mapping outlives the descriptor
  return t;
}

AliveTable Session::alive_table() {
  AliveTable t;
  t.device_ = s_->device;
  t.map_ = map_table(s_->fd.get(), s_->device);
  return t;
}

AliveSnapshot AliveTable::snapshot() const {
  AliveSnapshot s;
  if (!map_) return s;
  const auto* t = reinterpret_cast<const xlane_fd_table*>(map_->data());
  const std::uint32_t magic = __atomic_load_n(&t->magic, __ATOMIC_ACQUIRE);
  if (magic == 0) return s;  // X-FD never ran in this namespace
  if (magic != XLANE_FD_TABLE_MAGIC)
    throw xcommon::error(fmt::format("{} X-FD alive table: bad magic {:#x} (want {:#x})", device_,
                                     magic, XLANE_FD_TABLE_MAGIC),
                         EPROTO);
  s.active = load_relaxed(t->active) != 0;
  s.self_node = load_relaxed(t->self_node);
  s.period_ns = load_relaxed(t->period_ns);
  s.threshold_ns = load_relaxed(t->threshold_ns);
  s.beats_tx = load_relaxed(t->beats_tx);
  s.beats_skipped = load_relaxed(t->beats_skipped);
  s.beats_rx = load_relaxed(t->beats_rx);
  s.suspicions = load_relaxed(t->suspicions);
  s.recoveries = load_relaxed(t->recoveries);
  const std::uint32_t n = std::min<std::uint32_t>(load_relaxed(t->npeers), XLANE_FD_MAX_PEERS);
  s.peers.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const xlane_fd_peer& src = t->peers[i];
    xlane_fd_peer p{};
    p.node = load_relaxed(src.node);
    p.ip = load_relaxed(src.ip);
    p.state = load_relaxed(src.state);
    p.last_alive_ns = load_relaxed(src.last_alive_ns);
    p.counter = load_relaxed(src.counter);
    p.beats = load_relaxed(src.beats);
    p.suspicions = load_relaxed(src.suspicions);
    p.last_latency_ns = load_relaxed(src.last_latency_ns);
    p.max_latency_ns = load_relaxed(src.max_latency_ns);
    s.peers.push_back(p);
  }
  return s;
}

}  // namespace xlane
