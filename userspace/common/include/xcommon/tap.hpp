// SPDX-License-Identifier: GPL-2.0
//
// Parsers for test output: the one place in the project that reads it.
//
// 1. kselftest streams. The guest runner frames each selftest binary's TAP
//    output with marker lines, and the whole run arrives as one stream (often
//    a serial console: trailing "\r", kernel messages between blocks):
//
//        # xsel-begin: infra/config
//        TAP version 13
//        1..3
//        ok 1 global.fragment_options
//        not ok 2 global.other
//        ok 3 global.third # SKIP needs root
//        # xsel-end: infra/config rc=1
//
//    Within a block only `ok` / `not ok` lines starting at column 0 count;
//    indented lines (subtests) and `#` comments are ignored. Directives are
//    case-insensitive: SKIP -> skipped, XFAIL -> passed, TODO on `not ok` ->
//    skipped. At most one synthetic failure is added per root cause:
//      - `Bail out!`                        -> "bail out: REASON"
//      - no end marker (VM died mid-test)   -> "incomplete (no end marker)"
//      - fewer results than the plan 1..N   -> "test K missing (binary crashed?)"
//                                              for each missing K
//      - more results than the plan         -> "N results but plan was 1..M"
//      - no plan and no result at all       -> "no test results"
//      - rc != 0 (and rc != 4, KSFT_SKIP) while nothing else failed
//                                           -> "exited rc=N"
//    A bail out suppresses the missing-test and rc failures; an incomplete
//    block gets only the "incomplete" failure on top of its real results.
//    A plan of `1..0 # SKIP why` counts the whole binary as one skipped test.
//
// 2. CTest logs: the "NN% tests passed, M tests failed out of T" line and the
//    names listed under "The following tests FAILED:" and "The following
//    tests did not run:" (Skipped/Disabled).
//
// A report aggregates both and renders the text or JSON summary that tapsum
// prints; its last text line is "N passed, M failed[, K skipped]".
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "xcommon/error.hpp"

namespace xcommon::tap {

// Raised for input that cannot be summarised (e.g. a CTest log without a
// summary line). tapsum reports it and exits 2.
class parse_error : public xcommon::error {
 public:
  using xcommon::error::error;
};

enum class outcome { pass, fail, skip };

// A top-level TAP result: "ok 3 - name # SKIP reason".
struct result_line {
  bool ok = false;
  std::optional<unsigned> number;
  std::string description;  // without the leading "- " and the directive
  std::string directive;    // "SKIP", "TODO", "XFAIL" or empty
  std::string reason;       // text after the directive

  // What this result counts as: SKIP -> skip, XFAIL -> pass,
  // TODO -> skip on "not ok" (pass on "ok"), otherwise ok -> pass.
  [[nodiscard]] outcome counted_as() const noexcept;
};

// A TAP plan "1..N" optionally followed by "# SKIP reason".
struct plan_line {
  unsigned count = 0;
  bool skip = false;
  std::string reason;
};

// Removes "\r" at both ends and trailing blanks of a console line.
[[nodiscard]] std::string_view strip_console(std::string_view line) noexcept;

// Parses a result line. Only lines starting with "ok"/"not ok" at column 0
// match; an indented subtest line returns nullopt.
[[nodiscard]] std::optional<result_line> parse_result_line(std::string_view line);

// Parses "1..N[ # SKIP reason]" at column 0.
[[nodiscard]] std::optional<plan_line> parse_plan_line(std::string_view line);

enum class source_kind { kselftest, ctest };

// Counts for one source: one framed kselftest binary, or the host CTest run.
struct source_summary {
  std::string name;    // block name ("infra/config") or "host (ctest)"
  std::string origin;  // file it was read from ("-" for stdin)
  source_kind kind = source_kind::kselftest;
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
  std::vector<std::string> failures;  // names of failed tests, in order
  std::optional<unsigned> plan;       // kselftest: N of "1..N"
  std::optional<int> rc;              // kselftest: rc from the end marker
  bool complete = true;               // kselftest: end marker seen
  bool bailed_out = false;            // kselftest: "Bail out!" seen
};

struct stream_result {
  std::vector<source_summary> blocks;  // in stream order
  std::vector<std::string> warnings;   // oddities that did not change counts
};

// Incremental parser for a framed kselftest stream. Feed it lines (with or
// without the newline), then call finish() once.
class stream_parser {
 public:
  explicit stream_parser(std::string origin = "-");

  void feed_line(std::string_view raw_line);
  [[nodiscard]] stream_result finish();

 private:
  struct open_block {
    source_summary summary;
    std::vector<unsigned> seen;  // result numbers seen so far
    unsigned results = 0;
    bool plan_skip = false;  // "1..0 # SKIP why"
  };

  void begin_block(std::string name);
  void end_block(std::string_view name, std::optional<int> rc, bool rc_garbled);
  void close_block(bool complete, std::optional<int> rc);
  void add_result(const result_line& r);
  void warn(std::string message);

  std::string origin_;
  std::size_t line_no_ = 0;
  std::optional<open_block> open_;
  std::size_t stray_results_ = 0;
  stream_result result_;
};

// Parses a whole stream. An empty result (no block) is not an error here;
// the caller decides (tapsum fails unless --allow-empty).
[[nodiscard]] stream_result parse_stream(std::istream& in, std::string origin = "-");
[[nodiscard]] stream_result parse_stream_text(std::string_view text, std::string origin = "-");

struct ctest_result {
  source_summary summary;  // name "host (ctest)", kind ctest
  bool no_tests = false;   // "No tests were found!!!" and no summary line
  std::vector<std::string> warnings;
};

// Parses a CTest log. Uses the last summary line if ctest ran several times.
// Throws parse_error if there is neither a summary nor "No tests were found".
[[nodiscard]] ctest_result parse_ctest_log(std::istream& in, std::string origin = "-");
[[nodiscard]] ctest_result parse_ctest_log_text(std::string_view text, std::string origin = "-");

struct totals {
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t skipped = 0;
};

// Everything tapsum prints.
struct report {
  std::vector<source_summary> sources;
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  // input that could not be summarised

  [[nodiscard]] totals sum() const noexcept;
  // 0: nothing failed; 1: failures; 2: errors (take precedence).
  [[nodiscard]] int exit_code() const noexcept;
};

// "N passed, M failed" with ", K skipped" only if K > 0.
[[nodiscard]] std::string format_counts(std::size_t passed, std::size_t failed,
                                        std::size_t skipped);

// Text summary for stdout: "FAIL <source>: <name>" lines, one count line per
// source, and, unless the report has errors, the totals as the last line.
// Warnings and errors are not included (tapsum prints them to stderr).
[[nodiscard]] std::string render_text(const report& r);

// JSON summary: {"passed","failed","skipped","ok","exit_code","sources":[...],
// "failures":[{"source","name"}],"warnings":[...],"errors":[...]}.
[[nodiscard]] nlohmann::json to_json(const report& r);

}  // namespace xcommon::tap
