// SPDX-License-Identifier: GPL-2.0
#include "tapsum_app.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xcommon/error.hpp"
#include "xcommon/tap.hpp"

namespace xsel::tapsum {
namespace {

constexpr std::string_view k_description =
    "tapsum - summarise the project's test results\n"
    "\n"
    "Reads the log of the host unit tests (ctest) and the kselftest stream of\n"
    "the guest, in which the runner frames each selftest binary's TAP output\n"
    "with '# xsel-begin: NAME' and '# xsel-end: NAME rc=N' lines, and prints one\n"
    "line per failing test, one count line per source and, last, the totals\n"
    "'N passed, M failed[, K skipped]'.\n";

constexpr std::string_view k_footer =
    "Counting rules (kselftest stream):\n"
    "  - only 'ok'/'not ok' at column 0 count; indented subtests are ignored\n"
    "  - '# SKIP' -> skipped, '# XFAIL' -> passed, 'not ok ... # TODO' -> skipped\n"
    "  - fewer results than the plan 1..N: one failure per missing test\n"
    "  - each counts as one failure: 'Bail out!', a block without end marker\n"
    "    (the VM died), a block with neither plan nor result, and rc != 0\n"
    "    (except 4, KSFT_SKIP) when no test of the block failed\n"
    "  - trailing '\\r' and console noise between blocks are tolerated\n"
    "\n"
    "Exit status: 0 nothing failed, 1 some test failed, 2 usage, I/O or parse\n"
    "error (including a stream without any block or a ctest log without tests,\n"
    "unless --allow-empty).\n"
    "\n"
    "Examples:\n"
    "  ctest --test-dir build/userspace | tee build/ctest.log\n"
    "  tapsum --ctest-log build/ctest.log build/vm/kselftest.log\n"
    "  cat build/vm/*.log | tapsum -             # read the stream from stdin\n"
    "  tapsum --json --ctest-log build/ctest.log | jq .failures\n";

struct options {
  std::string ctest_log;
  std::vector<std::string> tap_files;
  bool json = false;
  bool allow_empty = false;
};

// Reads one input, "-" meaning stdin, and hands the stream to parse().
template <typename Fn>
void with_input(const std::string& path, std::istream& stdin_stream, Fn&& parse) {
  if (path == "-") {
    parse(stdin_stream, std::string("-"));
    return;
  }
  std::ifstream file(path);
  if (!file) xcommon::throw_errno("open {}", path);
  parse(file, path);
  if (file.bad()) xcommon::throw_errno("read {}", path);
}

}  // namespace

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err) {
  options opt;
  CLI::App app{std::string(k_description), "tapsum"};
  app.footer(std::string(k_footer));
  app.get_formatter()->column_width(30);
  app.add_option("--ctest-log", opt.ctest_log,
                 "CTest output saved to a file (ctest ... | tee FILE)")
      ->type_name("FILE");
  app.add_flag("--json", opt.json, "print a JSON object instead of text");
  app.add_flag("--allow-empty", opt.allow_empty,
               "accept a stream without blocks or a ctest log without tests");
  app.add_option("TAPFILE", opt.tap_files,
                 "framed kselftest stream(s); '-' reads standard input")
      ->type_name("");

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    err << "tapsum: error: " << e.what() << "\nRun 'tapsum --help' for usage and examples.\n";
    return 2;
  }

  xcommon::tap::report report;
  if (opt.ctest_log.empty() && opt.tap_files.empty() && !opt.allow_empty)
    report.errors.push_back("nothing to summarise: give --ctest-log FILE and/or TAPFILE");

  if (std::count(opt.tap_files.begin(), opt.tap_files.end(), "-") > 1)
    report.errors.push_back("standard input ('-') given more than once");

  auto guard = [&report](auto&& step) {
    try {
      step();
    } catch (const std::exception& e) {
      report.errors.push_back(xcommon::describe(e));
    }
  };

  if (!opt.ctest_log.empty()) {
    guard([&] {
      with_input(opt.ctest_log, in, [&](std::istream& s, const std::string& origin) {
        auto r = xcommon::tap::parse_ctest_log(s, origin);
        report.warnings.insert(report.warnings.end(), r.warnings.begin(), r.warnings.end());
        if (r.no_tests && !opt.allow_empty)
          report.errors.push_back(fmt::format("{}: ctest found no tests", origin));
        report.sources.push_back(std::move(r.summary));
      });
    });
  }
  for (const auto& path : opt.tap_files) {
    guard([&] {
      with_input(path, in, [&](std::istream& s, const std::string& origin) {
        auto r = xcommon::tap::parse_stream(s, origin);
        report.warnings.insert(report.warnings.end(), r.warnings.begin(), r.warnings.end());
        if (r.blocks.empty() && !opt.allow_empty)
          report.errors.push_back(fmt::format(
              "{}: no '# xsel-begin: NAME' block found (did the guest run any test?)",
              origin));
        for (auto& b : r.blocks) report.sources.push_back(std::move(b));
      });
    });
  }

  if (opt.json) {
    out << xcommon::tap::to_json(report).dump(2) << '\n';
  } else {
    out << xcommon::tap::render_text(report);
  }
  for (const auto& w : report.warnings) err << "tapsum: warning: " << w << '\n';
  for (const auto& e : report.errors) err << "tapsum: error: " << e << '\n';
  out.flush();
  return report.exit_code();
}

}  // namespace xsel::tapsum
