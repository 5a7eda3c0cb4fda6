// SPDX-License-Identifier: GPL-2.0
//
// What the project's command-line tools (canaryctl, latrctl) share around
// their CLI11 grammars: the parse result, the handling of --help and usage
// errors, the help layout, and main().
//
//   parse_result<command> parse_args(const std::vector<std::string>& args) {
//     CLI::App app{description, "tool"};
//     xcommon::cli::use_formatter(app, 26);
//     ...                                         // the tool's grammar
//     if (auto stop = xcommon::cli::parse(app, args)) return *stop;
//     ...                                         // check, fill in the command
//     return parse_result<command>{std::move(cmd)};
//   }
//
//   int main(int argc, char** argv) {
//     return xcommon::cli::run_main("tool", parse_args({argv + 1, argv + argc}), execute);
//   }
//
// Only cli.cpp needs CLI11's headers; callers include <CLI/CLI.hpp> themselves.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace xcommon::cli {

// Text to print and an exit status, for a command line that is not to be
// executed: 0 after --help, 2 for a usage error.
struct early_exit {
  int exit_code = 0;
  std::string out;  // help text
  std::string err;  // error message, ends with a hint to --help
};

// Either a command to execute, or text to print and an exit status.
template <typename Command>
struct parse_result : early_exit {
  std::optional<Command> cmd;

  parse_result() = default;
  // Implicit, so that parse_args() can `return usage_error(...)`.
  parse_result(early_exit stop)  // NOLINT(google-explicit-constructor)
      : early_exit(std::move(stop)) {}
  explicit parse_result(Command c) : cmd(std::move(c)) {}
};

// Exit status 2 and "TOOL: error: MESSAGE\nRun 'HELP_CMD --help' for usage and examples.\n".
[[nodiscard]] early_exit usage_error(std::string_view tool, std::string_view message,
                                     std::string_view help_cmd);

// The help layout of the tools, set on `app` (subcommands inherit it):
// positionals show as their bare name ("PID", "dev IFNAME") instead of
// CLI11's "[PID TEXT ...]", since the tools check them with better messages,
// and a blank line separates the description from "Usage:".
void use_formatter(CLI::App& app, std::size_t column_width);

// Runs app.parse(args) (args excludes the program name); the tool's name is
// app.get_name(). nullopt when the command line parsed; otherwise what to
// print instead:
//  - --help / -h: the help of the innermost subcommand named (exit 0);
//  - --help-all: the help of the whole tree (exit 0);
//  - a CLI11 parse error: a usage_error pointing to the --help of the
//    innermost subcommand named (exit 2).
[[nodiscard]] std::optional<early_exit> parse(CLI::App& app, const std::vector<std::string>& args);

// The subcommands named on a parsed command line: app first, then each
// subcommand inside the previous one ("xpsctl handler attach"), and that
// path as text for messages.
struct parsed_chain {
  std::vector<const CLI::App*> apps;
  std::string where;  // "tool sub verb"
  [[nodiscard]] const CLI::App* last() const { return apps.back(); }
};
[[nodiscard]] parsed_chain parsed_subcommands(const CLI::App& app);

// For a command line that stopped at `group` (an object or command that
// needs a verb): `missing` ("missing verb (start or status)") if nothing
// followed, else "unknown option 'W'" or "unknown KIND 'W' (known: KNOWN)".
[[nodiscard]] std::string missing_or_unknown(const CLI::App& group, std::string_view missing,
                                             std::string_view kind, std::string_view known);

// "unknown option 'W'" or "unexpected argument 'W'" for the first word an
// app of the chain could not place (apps with allow_extras()), if any.
[[nodiscard]] std::optional<std::string> leftover(const parsed_chain& chain);

// A word that is an option ("-x", "--name"), not a value ("-" is a value).
[[nodiscard]] inline bool looks_like_option(std::string_view word) noexcept {
  return word.size() > 1 && word.front() == '-';
}

// A decimal number without sign, spaces or suffix; nullopt for anything
// else, or one that does not fit T.
template <typename T = std::uint64_t>
[[nodiscard]] std::optional<T> parse_decimal(std::string_view text) noexcept {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Prints the help or usage error of `stop`; returns its exit status.
int print_early_exit(const early_exit& stop);

// Runs `body`; an exception escaping it is printed as "TOOL: error: ..."
// (xcommon::describe) after flushing stdout, and gives exit status 1.
int run_reporting_errors(std::string_view tool, const std::function<int()>& body);

// main() of a tool: prints the help or usage error of `parsed`, or executes
// its command, returning the exit status.
template <typename Command, typename Execute>
int run_main(std::string_view tool, const parse_result<Command>& parsed, Execute&& execute) {
  if (!parsed.cmd) return print_early_exit(parsed);
  return run_reporting_errors(tool, [&] { return std::forward<Execute>(execute)(*parsed.cmd); });
}

}  // namespace xcommon::cli
