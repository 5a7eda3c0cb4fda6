// SPDX-License-Identifier: GPL-2.0
#include "xcommon/tap.hpp"

#include <algorithm>
#include <charconv>
#include <istream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace xcommon::tap {
namespace {

constexpr std::string_view k_begin_marker = "# xsel-begin:";
constexpr std::string_view k_end_marker = "# xsel-end:";
constexpr int k_ksft_skip = 4;  // kselftest exit code for "all skipped"

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string_view skip_blanks(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

char ascii_upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_upper(s[i]) != ascii_upper(prefix[i])) return false;
  return true;
}

// Parses a whole string as an unsigned/signed decimal number.
template <typename T>
std::optional<T> to_number(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  T value{};
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// Takes a leading run of digits off s.
std::optional<unsigned> take_number(std::string_view& s) noexcept {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0) return std::nullopt;
  auto value = to_number<unsigned>(s.substr(0, n));
  if (value) s.remove_prefix(n);
  return value;
}

// Recognises a directive right after a '#': returns "SKIP", "TODO", "XFAIL".
std::string_view directive_after_hash(std::string_view after) noexcept {
  after = skip_blanks(after);
  for (std::string_view d : {"SKIP", "TODO", "XFAIL"})
    if (istarts_with(after, d)) return d;
  return {};
}

}  // namespace

outcome result_line::counted_as() const noexcept {
  if (directive == "SKIP") return outcome::skip;
  if (directive == "XFAIL") return outcome::pass;
  if (directive == "TODO") return ok ? outcome::pass : outcome::skip;
  return ok ? outcome::pass : outcome::fail;
}

std::string_view strip_console(std::string_view line) noexcept {
  while (!line.empty() && line.front() == '\r') line.remove_prefix(1);
  while (!line.empty() &&
         (line.back() == '\r' || line.back() == '\n' || is_blank(line.back())))
    line.remove_suffix(1);
  return line;
}

std::optional<result_line> parse_result_line(std::string_view line) {
  result_line r;
  std::string_view rest;
  if (line.starts_with("ok")) {
    r.ok = true;
    rest = line.substr(2);
  } else if (line.starts_with("not ok")) {
    r.ok = false;
    rest = line.substr(6);
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && !is_blank(rest.front()) && rest.front() != '#') return std::nullopt;
  rest = skip_blanks(rest);

  std::string_view probe = rest;
  if (auto n = take_number(probe); n && (probe.empty() || is_blank(probe.front()) ||
                                         probe.front() == '#')) {
    r.number = n;
    rest = skip_blanks(probe);
  }
  if (rest.starts_with("- ")) rest.remove_prefix(2);
  else if (rest == "-") rest = {};

  // The description ends at the first unescaped '#' that starts a directive.
  for (std::size_t pos = rest.find('#'); pos != std::string_view::npos;
       pos = rest.find('#', pos + 1)) {
    if (pos > 0 && rest[pos - 1] == '\\') continue;
    std::string_view after = rest.substr(pos + 1);
    std::string_view d = directive_after_hash(after);
    if (d.empty()) continue;
    r.directive = std::string(d);
    after = skip_blanks(after);
    // Skip the directive word itself ("SKIP", "skipped", ...).
    std::size_t word = 0;
    while (word < after.size() && !is_blank(after[word])) ++word;
    r.reason = std::string(trim(after.substr(word)));
    rest = rest.substr(0, pos);
    break;
  }
  r.description = std::string(trim(rest));
  return r;
}

std::optional<plan_line> parse_plan_line(std::string_view line) {
  if (!line.starts_with("1..")) return std::nullopt;
  std::string_view rest = line.substr(3);
  auto n = take_number(rest);
  if (!n) return std::nullopt;
  plan_line p;
  p.count = *n;
  rest = skip_blanks(rest);
  if (rest.empty()) return p;
  if (rest.front() != '#') return std::nullopt;
  std::string_view after = rest.substr(1);
  if (directive_after_hash(after) == "SKIP") {
    p.skip = true;
    after = skip_blanks(after);
    std::size_t word = 0;
    while (word < after.size() && !is_blank(after[word])) ++word;
    p.reason = std::string(trim(after.substr(word)));
  }
  return p;
}

// ---------------------------------------------------------------------------
// kselftest stream

stream_parser::stream_parser(std::string origin) : origin_{std::move(origin)} {}

void stream_parser::warn(std::string message) {
  result_.warnings.push_back(fmt::format("{}:{}: {}", origin_, line_no_, message));
}

void stream_parser::begin_block(std::string name) {
  if (open_) {
    warn(fmt::format("block '{}' begins before block '{}' ended", name,
                     open_->summary.name));
    close_block(false, std::nullopt);
  }
  if (name.empty()) {
    warn("begin marker without a name");
    name = "(unnamed)";
  }
  open_.emplace();
  open_->summary.name = std::move(name);
  open_->summary.origin = origin_;
  open_->summary.kind = source_kind::kselftest;
}

void stream_parser::end_block(std::string_view name, std::optional<int> rc, bool rc_garbled) {
  if (!open_) {
    warn(fmt::format("end marker for '{}' without a begin marker, ignored", name));
    return;
  }
  if (name != open_->summary.name) {
    warn(fmt::format("end marker for '{}' while block '{}' is open", name,
                     open_->summary.name));
    close_block(false, std::nullopt);
    return;
  }
  if (rc_garbled) warn(fmt::format("end marker of '{}' has no readable rc=N", name));
  close_block(true, rc);
}

void stream_parser::add_result(const result_line& r) {
  auto& b = *open_;
  auto& s = b.summary;
  ++b.results;
  const unsigned number = r.number.value_or(b.results);
  b.seen.push_back(number);
  switch (r.counted_as()) {
    case outcome::pass:
      ++s.passed;
      break;
    case outcome::skip:
      ++s.skipped;
      break;
    case outcome::fail:
      ++s.failed;
      s.failures.push_back(r.description.empty() ? fmt::format("test {}", number)
                                                 : r.description);
      break;
  }
}

void stream_parser::close_block(bool complete, std::optional<int> rc) {
  open_block b = std::move(*open_);
  open_.reset();
  auto& s = b.summary;
  s.complete = complete;
  s.rc = rc;

  auto fail = [&s](std::string name) {
    ++s.failed;
    s.failures.push_back(std::move(name));
  };

  if (s.bailed_out) {
    // Already counted when the bail out was seen.
  } else if (!complete) {
    fail("incomplete (no end marker)");
  } else if (b.plan_skip && b.results == 0) {
    ++s.skipped;  // "1..0 # SKIP why": the whole binary skipped
  } else if (s.plan) {
    const unsigned planned = *s.plan;
    std::sort(b.seen.begin(), b.seen.end());
    for (unsigned k = 1; k <= planned; ++k)
      if (!std::binary_search(b.seen.begin(), b.seen.end(), k))
        fail(fmt::format("test {} missing (binary crashed?)", k));
    if (b.results > planned)
      fail(fmt::format("{} results but plan was 1..{}", b.results, planned));
  } else if (b.results == 0) {
    fail("no test results");
  }

  if (complete && rc && *rc != 0 && *rc != k_ksft_skip && s.failed == 0)
    fail(fmt::format("exited rc={}", *rc));

  result_.blocks.push_back(std::move(s));
}

void stream_parser::feed_line(std::string_view raw_line) {
  ++line_no_;
  const std::string_view line = strip_console(raw_line);

  // Markers are recognised anywhere in the line: console noise may precede them.
  if (auto pos = line.find(k_begin_marker); pos != std::string_view::npos) {
    begin_block(std::string(trim(line.substr(pos + k_begin_marker.size()))));
    return;
  }
  if (auto pos = line.find(k_end_marker); pos != std::string_view::npos) {
    std::string_view rest = trim(line.substr(pos + k_end_marker.size()));
    std::optional<int> rc;
    bool rc_garbled = true;
    if (auto rpos = rest.rfind("rc="); rpos != std::string_view::npos &&
                                       (rpos == 0 || is_blank(rest[rpos - 1]))) {
      rc = to_number<int>(rest.substr(rpos + 3));
      rc_garbled = !rc;
      rest = trim(rest.substr(0, rpos));
    }
    end_block(rest, rc, rc_garbled);
    return;
  }

  if (!open_) {
    if (parse_result_line(line)) ++stray_results_;
    return;
  }
  auto& b = *open_;
  if (b.summary.bailed_out) return;  // TAP: nothing after a bail out counts

  if (line.starts_with("Bail out!")) {
    b.summary.bailed_out = true;
    std::string_view reason = trim(line.substr(9));
    ++b.summary.failed;
    b.summary.failures.push_back(reason.empty() ? std::string("bail out")
                                                : fmt::format("bail out: {}", reason));
    return;
  }
  if (auto plan = parse_plan_line(line)) {
    if (b.summary.plan) {
      warn(fmt::format("second plan in block '{}' ignored", b.summary.name));
      return;
    }
    b.summary.plan = plan->count;
    b.plan_skip = plan->skip;
    return;
  }
  if (auto r = parse_result_line(line)) add_result(*r);
}

stream_result stream_parser::finish() {
  if (open_) {
    ++line_no_;
    warn(fmt::format("stream ended inside block '{}'", open_->summary.name));
    close_block(false, std::nullopt);
  }
  if (stray_results_ > 0)
    result_.warnings.push_back(fmt::format(
        "{}: {} TAP result line(s) outside any xsel-begin/xsel-end block ignored", origin_,
        stray_results_));
  stream_result out = std::move(result_);
  result_ = {};
  stray_results_ = 0;
  line_no_ = 0;
  return out;
}

stream_result parse_stream(std::istream& in, std::string origin) {
  stream_parser parser(std::move(origin));
  std::string line;
  while (std::getline(in, line)) parser.feed_line(line);
  return parser.finish();
}

stream_result parse_stream_text(std::string_view text, std::string origin) {
  std::istringstream in{std::string(text)};
  return parse_stream(in, std::move(origin));
}

// ---------------------------------------------------------------------------
// CTest log

namespace {

// "  33% tests passed, 4 tests failed out of 6"
struct ctest_summary_line {
  std::size_t failed = 0;
  std::size_t total = 0;
};

std::optional<ctest_summary_line> parse_ctest_summary(std::string_view line) {
  line = trim(line);
  const auto pct = line.find("% tests passed, ");
  if (pct == std::string_view::npos) return std::nullopt;
  if (!to_number<unsigned>(line.substr(0, pct))) return std::nullopt;
  std::string_view rest = line.substr(pct + 16);
  const auto sp = rest.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto failed = to_number<std::size_t>(rest.substr(0, sp));
  rest = rest.substr(sp);
  for (std::string_view mid : {" tests failed out of ", " test failed out of "}) {
    if (rest.starts_with(mid)) {
      auto total = to_number<std::size_t>(trim(rest.substr(mid.size())));
      if (failed && total && *failed <= *total) return ctest_summary_line{*failed, *total};
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// "\t  3 - Suite.Name (Failed)" -> {"Suite.Name", "Failed"}
std::optional<std::pair<std::string, std::string>> parse_ctest_list_entry(std::string_view line) {
  if (line.empty() || !is_blank(line.front())) return std::nullopt;
  std::string_view rest = skip_blanks(line);
  if (!take_number(rest)) return std::nullopt;
  if (!rest.starts_with(" - ")) return std::nullopt;
  rest = trim(rest.substr(3));
  std::string status;
  if (rest.ends_with(')')) {
    if (auto open = rest.rfind(" ("); open != std::string_view::npos) {
      status = std::string(rest.substr(open + 2, rest.size() - open - 3));
      rest = rest.substr(0, open);
    }
  }
  if (rest.empty()) return std::nullopt;
  return std::pair{std::string(rest), std::move(status)};
}

}  // namespace

ctest_result parse_ctest_log(std::istream& in, std::string origin) {
  enum class list { none, failed, not_run };
  std::optional<ctest_summary_line> summary;
  bool no_tests = false;
  std::vector<std::string> failed_names;
  std::size_t skipped_in_total = 0;  // "(Skipped)": counted in T and in "passed"
  std::size_t disabled = 0;          // "(Disabled)": not counted in T
  list current = list::none;

  std::string raw;
  while (std::getline(in, raw)) {
    const std::string_view line = strip_console(raw);
    if (auto s = parse_ctest_summary(line)) {
      // A later ctest run in the same log replaces the earlier one.
      summary = s;
      failed_names.clear();
      skipped_in_total = disabled = 0;
      current = list::none;
      continue;
    }
    if (trim(line).starts_with("No tests were found")) {
      no_tests = true;
      continue;
    }
    if (line == "The following tests FAILED:") {
      current = list::failed;
      continue;
    }
    if (line == "The following tests did not run:") {
      current = list::not_run;
      continue;
    }
    if (current == list::none) continue;
    auto entry = parse_ctest_list_entry(line);
    if (!entry) {
      current = list::none;
      continue;
    }
    if (current == list::failed) {
      failed_names.push_back(std::move(entry->first));
    } else if (entry->second == "Disabled") {
      ++disabled;
    } else {
      ++skipped_in_total;
    }
  }
  if (in.bad()) throw parse_error(fmt::format("{}: read error", origin));

  ctest_result out;
  auto& s = out.summary;
  s.name = "host (ctest)";
  s.origin = origin;
  s.kind = source_kind::ctest;
  if (!summary) {
    if (no_tests) {
      out.no_tests = true;
      return out;
    }
    throw parse_error(
        fmt::format("{}: no CTest summary line (\"NN% tests passed, M tests failed out of T\")",
                    origin),
        0, "was ctest interrupted, or is this not a ctest log?");
  }
  s.failed = summary->failed;
  s.skipped = skipped_in_total + disabled;
  const std::size_t not_failed = summary->total - summary->failed;
  s.passed = not_failed >= skipped_in_total ? not_failed - skipped_in_total : 0;
  if (failed_names.size() != summary->failed)
    out.warnings.push_back(fmt::format("{}: summary says {} failed but {} failing test(s) are listed",
                                       origin, summary->failed, failed_names.size()));
  s.failures = std::move(failed_names);
  for (std::size_t i = s.failures.size(); i < s.failed; ++i)
    s.failures.push_back(fmt::format("(unnamed failure {})", i + 1));
  s.failures.resize(s.failed);
  return out;
}

ctest_result parse_ctest_log_text(std::string_view text, std::string origin) {
  std::istringstream in{std::string(text)};
  return parse_ctest_log(in, std::move(origin));
}

// ---------------------------------------------------------------------------
// report

totals report::sum() const noexcept {
  totals t;
  for (const auto& s : sources) {
    t.passed += s.passed;
    t.failed += s.failed;
    t.skipped += s.skipped;
  }
  return t;
}

int report::exit_code() const noexcept {
  if (!errors.empty()) return 2;
  return sum().failed > 0 ? 1 : 0;
}

std::string format_counts(std::size_t passed, std::size_t failed, std::size_t skipped) {
  std::string s = fmt::format("{} passed, {} failed", passed, failed);
  if (skipped > 0) s += fmt::format(", {} skipped", skipped);
  return s;
}

std::string render_text(const report& r) {
  std::string out;
  for (const auto& s : r.sources)
    for (const auto& f : s.failures) out += fmt::format("FAIL {}: {}\n", s.name, f);
  for (const auto& s : r.sources)
    out += fmt::format("{}: {}\n", s.name, format_counts(s.passed, s.failed, s.skipped));
  if (r.errors.empty()) {
    const totals t = r.sum();
    out += format_counts(t.passed, t.failed, t.skipped) + "\n";
  }
  return out;
}

nlohmann::json to_json(const report& r) {
  using nlohmann::json;
  const totals t = r.sum();
  json sources = json::array();
  json failures = json::array();
  for (const auto& s : r.sources) {
    json j = {
        {"name", s.name},
        {"origin", s.origin},
        {"kind", s.kind == source_kind::ctest ? "ctest" : "kselftest"},
        {"passed", s.passed},
        {"failed", s.failed},
        {"skipped", s.skipped},
        {"failures", s.failures},
    };
    if (s.kind == source_kind::kselftest) {
      j["complete"] = s.complete;
      j["bailed_out"] = s.bailed_out;
      j["plan"] = s.plan ? json(*s.plan) : json(nullptr);
      j["rc"] = s.rc ? json(*s.rc) : json(nullptr);
    }
    sources.push_back(std::move(j));
    for (const auto& f : s.failures) failures.push_back({{"source", s.name}, {"name", f}});
  }
  return {
      {"passed", t.passed},
      {"failed", t.failed},
      {"skipped", t.skipped},
      {"ok", r.exit_code() == 0},
      {"exit_code", r.exit_code()},
      {"sources", std::move(sources)},
      {"failures", std::move(failures)},
      {"warnings", r.warnings},
      {"errors", r.errors},
  };
}

}  // namespace xcommon::tap
