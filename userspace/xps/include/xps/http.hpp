// SPDX-License-Identifier: GPL-2.0
//
// The shipped HTTP handler's method table (bpf/xps_http.h): which methods
// it answers in the kernel, and how. Methods not in the table are passed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xps {
class Context;
}  // namespace xps

namespace xps::http {

inline constexpr std::string_view k_methods_map = "xps_http_methods";

enum class Action { pass, reply, reset, drop };

// The table's key for METHOD ("POST"); nullopt if it does not fit.
[[nodiscard]] std::optional<std::string> method_key(std::string_view method);
// The table's value: reply with `status`, reset, drop (or pass).
[[nodiscard]] std::string action_value(Action a, std::uint16_t status = 0);
// Back from a value: the action and the status.
[[nodiscard]] std::optional<std::pair<Action, std::uint16_t>> parse_action(std::string_view value);

// What `http action` and the defaults write: METHOD -> action in the
// handler's xps_http_methods (pass removes the entry). Needs libxps proper.
void set_action(const Context& ctx, std::string_view method, Action a, std::uint16_t status = 0);

// The paper's Fig. 3.2: POST answered 405, PUT reset (nginx's 444).
void set_defaults(const Context& ctx);

}  // namespace xps::http
