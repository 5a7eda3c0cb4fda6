// SPDX-License-Identifier: GPL-2.0
//
// Drives the XPS parsers (modules/xps/include/xps/resp.h, http.h) the way
// the BPF handlers do: step by step, through a window the parser asks to
// refill. Each window is a heap copy of exactly the bytes loaded, so that
// under ASan a read the parser was not promised fails the test.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include "xps/http.h"
#include "xps/resp.h"
}

namespace xps_test {

// A window of exactly n payload bytes from base.
class window {
 public:
  void load(std::string_view payload, std::uint32_t base, std::uint32_t n) {
    buf_ = std::make_unique<unsigned char[]>(n ? n : 1);
    if (n) std::memcpy(buf_.get(), payload.data() + base, n);
    base_ = base;
    len_ = n;
  }
  const unsigned char* data() const { return buf_.get(); }
  // Whether [off, off + n) is in the window and equals the payload there.
  bool holds(std::string_view payload, std::uint32_t off, std::uint32_t n) const {
    if (off < base_ || off - base_ > len_ || n > len_ - (off - base_)) return false;
    return std::memcmp(buf_.get() + (off - base_), payload.data() + off, n) == 0;
  }

 private:
  std::unique_ptr<unsigned char[]> buf_;
  std::uint32_t base_ = 0, len_ = 0;
};

// ---- RESP ---------------------------------------------------------------

struct resp_cmd {
  std::uint32_t spec = 0, off = 0, len = 0, argc = 0, cflags = 0, nkeys = 0;
  std::vector<std::string> keys;

  std::uint32_t cls() const { return xps_resp_spec_class(spec); }
  std::string name() const { return xps_resp_name(xps_resp_spec_id(spec)); }
};

struct resp_result {
  std::vector<resp_cmd> cmds;
  std::uint32_t stop = 0;  // END, PARTIAL, MALFORMED or INLINE; 0: out of steps
  std::uint32_t need = 0;  // PARTIAL
  xps_resp_parser last{};  // the parser when it stopped
  std::vector<std::string> partial_keys;  // keys of the unfinished command
  int steps = 0, refills = 0;
  bool window_ok = true;  // every reported key was in the window
};

// Parses payload through windows of win bytes (XPS_RESP_LOOK .. XPS_RESP_WIN).
inline resp_result parse_resp(std::string_view payload, std::uint32_t win = XPS_RESP_WIN,
                              int max_steps = 1 << 20) {
  resp_result r;
  xps_resp_parser p;
  window w;
  std::vector<std::string> keys;
  bool refilled = false;

  xps_resp_init(&p, static_cast<__u32>(payload.size()));
  for (int i = 0; i < max_steps; ++i) {
    ++r.steps;
    const std::uint32_t ev = xps_resp_step(&p, w.data());
    if (ev & XPS_RESP_EV_REFILL) {
      // A refill must let the next step go on.
      EXPECT_FALSE(refilled) << "two refills in a row at " << p.want;
      EXPECT_LE(p.want, payload.size());
      if (refilled || p.want > payload.size()) break;
      refilled = true;
      const auto n = static_cast<std::uint32_t>(
          std::min<std::size_t>(win, payload.size() - p.want));
      w.load(payload, p.want, n);
      xps_resp_window(&p, p.want, n);
      ++r.refills;
      continue;
    }
    refilled = false;
    if (ev & XPS_RESP_EV_KEY) {
      EXPECT_LE(std::uint64_t{p.arg_off} + p.arg_len, payload.size());
      const auto seen = std::min(p.arg_len, XPS_RESP_SEEN);
      if (!w.holds(payload, p.arg_off, seen)) r.window_ok = false;
      keys.emplace_back(payload.substr(p.arg_off, p.arg_len));
    }
    if (ev & XPS_RESP_EV_CMD) {
      r.cmds.push_back({p.spec, p.cmd_off, p.cmd_len, p.argc, p.cflags, p.nkeys, keys});
      keys.clear();
    }
    if (ev & XPS_RESP_EV_STOP) {
      r.stop = ev & XPS_RESP_EV_STOP;
      r.need = p.need;
      r.last = p;
      r.partial_keys = keys;
      break;
    }
  }
  return r;
}

// A RESP command from its arguments.
inline std::string resp(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

// ---- HTTP ---------------------------------------------------------------

struct http_req {
  std::uint32_t method = 0, off = 0, len = 0;
  std::string mname;  // the method as the parser kept it
};

struct http_result {
  std::vector<http_req> reqs;
  std::uint32_t stop = 0;  // END, PARTIAL, MALFORMED or UNSUPPORTED; 0: out of steps
  std::uint32_t need = 0;
  std::uint32_t why = 0;
  int steps = 0, refills = 0;
};

inline http_result parse_http(std::string_view payload, std::uint32_t win = XPS_HTTP_WIN,
                              int max_steps = 1 << 20) {
  http_result r;
  xps_http_parser p;
  window w;
  bool refilled = false;

  xps_http_init(&p, static_cast<__u32>(payload.size()));
  for (int i = 0; i < max_steps; ++i) {
    ++r.steps;
    const std::uint32_t ev = xps_http_step(&p, w.data());
    if (ev & XPS_HTTP_EV_REFILL) {
      EXPECT_FALSE(refilled) << "two refills in a row at " << p.want;
      EXPECT_LE(p.want, payload.size());
      if (refilled || p.want > payload.size()) break;
      refilled = true;
      const auto n = static_cast<std::uint32_t>(
          std::min<std::size_t>(win, payload.size() - p.want));
      w.load(payload, p.want, n);
      xps_http_window(&p, p.want, n);
      ++r.refills;
      continue;
    }
    refilled = false;
    if (ev & XPS_HTTP_EV_REQ) {
      char name[17] = {};
      std::memcpy(name, p.mname, 16);
      r.reqs.push_back({p.method, p.req_off, p.req_len, name});
    }
    if (ev & XPS_HTTP_EV_STOP) {
      r.stop = ev & XPS_HTTP_EV_STOP;
      r.need = p.need;
      r.why = p.why;
      break;
    }
  }
  return r;
}

}  // namespace xps_test
