// SPDX-License-Identifier: GPL-2.0
//
// The HTTP handler's method table, written through its pin.
#include <cerrno>
#include <span>

#include <fmt/format.h>

#include "xcommon/error.hpp"
#include "xps/context.hpp"
#include "xps/http.hpp"

namespace xps::http {

void set_action(const Context& ctx, std::string_view method, Action a, std::uint16_t status) {
  const DataMap map = ctx.map(k_methods_map);
  const auto key = method_key(method);
  if (!key)
    throw xcommon::error(fmt::format("method '{}' does not fit the table (1..{} bytes)", method,
                                     map.key_size() - 1),
                         EINVAL);
  if (a == Action::pass) {
    map.erase(std::as_bytes(std::span{*key}));  // not in the table: passed
    return;
  }
  const std::string value = action_value(a, status);
  map.set(std::as_bytes(std::span{*key}), std::as_bytes(std::span{value}));
}

void set_defaults(const Context& ctx) {
  set_action(ctx, "POST", Action::reply, 405);
  set_action(ctx, "PUT", Action::reset);
}

}  // namespace xps::http
