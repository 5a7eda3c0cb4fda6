// SPDX-License-Identifier: GPL-2.0
#include "xcommon/cli.hpp"

#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xcommon/error.hpp"

namespace xcommon::cli {
namespace {

class formatter : public CLI::Formatter {
 public:
  std::string make_option_usage(const CLI::Option* opt) const override {
    if (opt->get_positional()) return opt->get_name();
    return CLI::Formatter::make_option_usage(opt);
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_positional()) return {};
    return CLI::Formatter::make_option_opts(opt);
  }
  // A blank line between the description and "Usage:".
  std::string make_description(const CLI::App* app) const override {
    std::string d = CLI::Formatter::make_description(app);
    return d.empty() ? d : d + "\n";
  }
};

}  // namespace

early_exit usage_error(std::string_view tool, std::string_view message, std::string_view help_cmd) {
  early_exit r;
  r.exit_code = 2;
  r.err = fmt::format("{}: error: {}\nRun '{} --help' for usage and examples.\n", tool, message,
                      help_cmd);
  return r;
}

void use_formatter(CLI::App& app, std::size_t column_width) {
  app.formatter(std::make_shared<formatter>());
  app.get_formatter()->column_width(column_width);
}

std::optional<early_exit> parse(CLI::App& app, const std::vector<std::string>& args) {
  try {
    // CLI11 takes the arguments last to first.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    early_exit r;
    // Help of the innermost subcommand that was named.
    const CLI::App* target = &app;
    std::string prefix;  // "latrctl set" for the help of "latrctl set timeout"
    for (const CLI::App* sub = &app;;) {
      auto parsed = sub->get_subcommands();
      if (parsed.empty()) break;
      prefix += (prefix.empty() ? "" : " ") + sub->get_name();
      sub = parsed.front();
      target = sub;
    }
    r.out = target->help(prefix);
    return r;
  } catch (const CLI::CallForAllHelp&) {
    early_exit r;
    r.out = app.help("", CLI::AppFormatMode::All);
    return r;
  } catch (const CLI::ParseError& e) {
    std::string where = app.get_name();
    for (const CLI::App* sub = &app;;) {
      auto parsed = sub->get_subcommands();
      if (parsed.empty()) break;
      sub = parsed.front();
      where += " " + sub->get_name();
    }
    return usage_error(app.get_name(), e.what(), where);
  }
  return std::nullopt;
}

parsed_chain parsed_subcommands(const CLI::App& app) {
  parsed_chain c{{&app}, app.get_name()};
  while (true) {
    auto parsed = c.apps.back()->get_subcommands();
    if (parsed.empty()) break;
    c.apps.push_back(parsed.front());
    c.where += " " + parsed.front()->get_name();
  }
  return c;
}

std::string missing_or_unknown(const CLI::App& group, std::string_view missing,
                               std::string_view kind, std::string_view known) {
  const auto rest = group.remaining();
  if (rest.empty()) return std::string(missing);
  if (looks_like_option(rest.front())) return fmt::format("unknown option '{}'", rest.front());
  return fmt::format("unknown {} '{}' (known: {})", kind, rest.front(), known);
}

std::optional<std::string> leftover(const parsed_chain& chain) {
  for (const CLI::App* a : chain.apps) {
    const auto rest = a->remaining();
    if (rest.empty()) continue;
    if (looks_like_option(rest.front())) return fmt::format("unknown option '{}'", rest.front());
    return fmt::format("unexpected argument '{}'", rest.front());
  }
  return std::nullopt;
}

int print_early_exit(const early_exit& stop) {
  std::cout << stop.out;
  std::cerr << stop.err;
  return stop.exit_code;
}

int run_reporting_errors(std::string_view tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    // What the command printed so far comes before the error.
    std::fflush(stdout);
    std::cerr << tool << ": error: " << describe(e) << '\n';
    return 1;
  }
}

}  // namespace xcommon::cli
