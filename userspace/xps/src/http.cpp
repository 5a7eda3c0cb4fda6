// SPDX-License-Identifier: GPL-2.0
#include "xps/http.hpp"

#include <cstring>

extern "C" {
#include "xps_http.h"
}

namespace xps::http {

std::optional<std::string> method_key(std::string_view method) {
  xps_http_method k{};
  if (method.empty() || method.size() >= sizeof(k.name)) return std::nullopt;
  std::memcpy(k.name, method.data(), method.size());
  return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

std::string action_value(Action a, std::uint16_t status) {
  xps_http_action v{};
  switch (a) {
    case Action::pass: v.action = XPS_HTTP_PASS; break;
    case Action::reply: v.action = XPS_HTTP_REPLY; v.status = status; break;
    case Action::reset: v.action = XPS_HTTP_RESET; break;
    case Action::drop: v.action = XPS_HTTP_DROP; break;
  }
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

std::optional<std::pair<Action, std::uint16_t>> parse_action(std::string_view value) {
  xps_http_action v{};
  if (value.size() != sizeof(v)) return std::nullopt;
  std::memcpy(&v, value.data(), sizeof(v));
  switch (v.action) {
    case XPS_HTTP_PASS: return std::pair{Action::pass, std::uint16_t{0}};
    case XPS_HTTP_REPLY: return std::pair{Action::reply, static_cast<std::uint16_t>(v.status)};
    case XPS_HTTP_RESET: return std::pair{Action::reset, std::uint16_t{0}};
    case XPS_HTTP_DROP: return std::pair{Action::drop, std::uint16_t{0}};
    default: return std::nullopt;
  }
}

}  // namespace xps::http
