// SPDX-License-Identifier: GPL-2.0
#include "latrctl_sysfs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

namespace xsel::latrctl {
namespace {

constexpr std::string_view k_not_loaded = "latr module not loaded (insmod modules/latr/latr.ko)";
constexpr std::string_view k_version_hint =
    "the loaded latr module does not provide it; is it a different version than latrctl?";
constexpr std::string_view k_root_hint =
    "changing LATR needs root (CAP_SYS_ADMIN): run latrctl as root, e.g. with sudo";

std::string strip_trailing_space(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t'))
    text.pop_back();
  return text;
}

std::string_view mode_meaning(latr_mode m) {
  switch (m) {
    case latr_mode::off: return "every TLB shootdown synchronous (IPIs)";
    case latr_mode::optin: return "lazy TLB shootdowns for opted-in processes";
    case latr_mode::all: return "lazy TLB shootdowns for every process";
  }
  return "";
}

}  // namespace

std::string_view stat_description(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, k_stat_names.size()> k_descriptions = {
      "shootdowns taken lazily",
      "... of them NUMA hinting protection changes",
      "... of them with no other CPU to flush",
      "remote CPUs not interrupted by them",
      "states flushed by a CPU at a tick, switch or idle",
      "... of them at a context switch",
      "... of them before the CPU went idle",
      "synchronous: the CPU's ring was full",
      "synchronous: no memory to keep the pages",
      "IPIs sent because timeout_us expired",
      "states given more time for a CPU that had not ticked",
      "states completed because their range was reused",
      "IPIs sent for those",
      "mmaps steered off a range still pending",
      "states whose pages were freed",
      "total time from record to free",
      "longest time from record to free",
  };
  for (std::size_t i = 0; i < k_stat_names.size(); ++i)
    if (k_stat_names[i] == name) return k_descriptions[i];
  return "";
}

std::optional<std::uint64_t> latr_stats::get(std::string_view name) const noexcept {
  for (const auto& c : counters)
    if (c.name == name) return c.value;
  return std::nullopt;
}

std::optional<double> latr_stats::mean_reclaim_delay_us() const noexcept {
  const auto reclaimed = get("reclaimed");
  const auto sum = get("reclaim_delay_ns_sum");
  if (!reclaimed || !sum || *reclaimed == 0) return std::nullopt;
  return static_cast<double>(*sum) / static_cast<double>(*reclaimed) / 1000.0;
}

// --- latr_sysfs --------------------------------------------------------------

std::string latr_sysfs::path(std::string_view attr) const {
  return fmt::format("{}/{}", root_, attr);
}

bool latr_sysfs::loaded() const {
  struct stat st{};
  return ::stat(root_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void latr_sysfs::require_loaded() const {
  struct stat st{};
  if (::stat(root_.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR)
      throw xcommon::error(std::string(k_not_loaded), ENOENT)
          .with_hint(fmt::format(
              "{} does not exist; the module creates it when loaded (build it with "
              "`make modules`, load it as root)",
              root_));
    xcommon::throw_errno(err, "stat {}", root_);
  }
  if (!S_ISDIR(st.st_mode))
    throw xcommon::error(fmt::format("{} is not a directory, so not the latr module's", root_),
                         ENOTDIR);
}

std::string latr_sysfs::read_attr(std::string_view attr) const {
  const std::string p = path(attr);
  xcommon::unique_fd fd{::open(p.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      require_loaded();  // a missing module is the likely story
      throw xcommon::error(fmt::format("read {}: {}", p, std::strerror(err)), err,
                           std::string(k_version_hint));
    }
    xcommon::throw_errno(err, "read {}", p);
  }
  std::string text;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      xcommon::throw_errno("read {}", p);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1u << 20))
      throw xcommon::error(fmt::format("read {}: more than 1 MiB, not a latr attribute", p));
  }
  return strip_trailing_space(std::move(text));
}

std::uint64_t latr_sysfs::read_u64(std::string_view attr) const {
  const std::string text = read_attr(attr);
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end)
    throw xcommon::error(
        fmt::format("unexpected content in {}: '{}' (wanted an unsigned number)", path(attr),
                    text))
        .with_hint(std::string(k_version_hint));
  return value;
}

latr_status latr_sysfs::read_status() const {
  require_loaded();
  latr_status s;
  s.sysfs = root_;
  const std::string mode = read_attr("mode");
  if (auto m = parse_mode(mode))
    s.mode = *m;
  else
    throw xcommon::error(fmt::format("unexpected mode '{}' in {}", mode, path("mode")))
        .with_hint("latrctl knows off, optin and all; is the module a different version?");
  s.timeout_us = read_u64("timeout_us");
  s.pending = read_u64("pending");
  s.oldest_us = read_u64("oldest_us");
  s.ring_size = read_u64("ring_size");
  return s;
}

latr_stats latr_sysfs::read_stats() const {
  require_loaded();
  const std::string dir = path("stats");
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (auto name = it->path().filename().string(); name != "reset")
      names.push_back(std::move(name));
  if (ec) {
    if (ec.value() == ENOENT)
      throw xcommon::error(fmt::format("{} does not exist", dir), ENOENT,
                           std::string(k_version_hint));
    xcommon::throw_errno(ec.value(), "list {}", dir);
  }
  if (names.empty())
    throw xcommon::error(fmt::format("no counters in {}", dir))
        .with_hint(std::string(k_version_hint));

  // Known counters in the module's order, then the others by name.
  auto rank = [](const std::string& name) {
    return static_cast<std::size_t>(
        std::find(k_stat_names.begin(), k_stat_names.end(), name) - k_stat_names.begin());
  };
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return std::pair(rank(a), std::string_view(a)) < std::pair(rank(b), std::string_view(b));
  });

  latr_stats s;
  for (auto& name : names) {
    const std::uint64_t value = read_u64(fmt::format("stats/{}", name));
    s.counters.push_back({std::move(name), value});
  }
  return s;
}

xcommon::unique_fd latr_sysfs::open_attr(std::string_view attr, std::string_view value) const {
  const std::string p = path(attr);
  // O_TRUNC as a shell's '>' does: harmless on sysfs, and the fake trees of
  // the tests then hold exactly the value written. No O_CREAT: an attribute
  // that does not exist is an error, not a file to make.
  xcommon::unique_fd fd{::open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC)};
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) require_loaded();
    throw write_error(err, attr, value, p);
  }
  return fd;
}

void latr_sysfs::store(const xcommon::unique_fd& fd, std::string_view attr,
                       std::string_view value) const {
  // One write(2): a sysfs store sees the whole buffer at once.
  const std::string text = fmt::format("{}\n", value);
  ssize_t n;
  do {
    n = ::write(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw write_error(errno, attr, value, path(attr));
  if (static_cast<std::size_t>(n) != text.size())
    throw xcommon::error(fmt::format("{}: short write to {} ({} of {} bytes)",
                                     describe_write(attr, value), path(attr), n, text.size()));
}

void latr_sysfs::store(std::string_view attr, std::string_view value) const {
  require_loaded();
  store(open_attr(attr, value), attr, value);
}

void latr_sysfs::set_mode(latr_mode mode) const { store("mode", to_string(mode)); }

void latr_sysfs::set_timeout_us(unsigned us) const { store("timeout_us", std::to_string(us)); }

void latr_sysfs::opt_in(int pid) const { store("optin", std::to_string(pid)); }

void latr_sysfs::opt_out(int pid) const { store("optout", std::to_string(pid)); }

xcommon::unique_fd latr_sysfs::open_reset() const {
  require_loaded();
  return open_attr("stats/reset", "1");
}

void latr_sysfs::reset_stats(const xcommon::unique_fd& reset) const {
  store(reset, "stats/reset", "1");
}

// --- errors ------------------------------------------------------------------

std::string describe_write(std::string_view attr, std::string_view value) {
  if (attr == "mode") return fmt::format("set mode to {}", value);
  if (attr == "timeout_us") return fmt::format("set timeout to {} us", value);
  if (attr == "optin") return fmt::format("opt in process {}", value);
  if (attr == "optout") return fmt::format("opt out process {}", value);
  if (attr == "stats/reset") return "reset the statistics";
  return fmt::format("write '{}' to {}", value, attr);
}

xcommon::error write_error(int err, std::string_view attr, std::string_view value,
                           const std::string& path) {
  const std::string what = describe_write(attr, value);
  const bool process = attr == "optin" || attr == "optout";
  switch (err) {
    case EACCES:
    case EPERM:
      return xcommon::error(fmt::format("{}: {}: {}", what, path, std::strerror(err)), err,
                            std::string(k_root_hint));
    case ENOENT:
      return xcommon::error(fmt::format("{}: {} does not exist", what, path), err,
                            std::string(k_version_hint));
    case ESRCH:
      if (process)
        return xcommon::error(fmt::format("{}: no such process", what), err,
                              fmt::format("no process {} exists in latrctl's PID namespace; "
                                          "check with `ps -p {}`",
                                          value, value));
      break;
    case ERANGE:
      if (attr == "timeout_us")
        return xcommon::error(fmt::format("{}: out of range", what), err,
                              fmt::format("the module accepts {}..{} microseconds",
                                          k_timeout_min_us, k_timeout_max_us));
      break;
    case EINVAL:
      if (attr == "mode")
        return xcommon::error(fmt::format("{}: the module does not know mode '{}'", what, value),
                              err, "the modes are off, optin and all");
      if (attr == "timeout_us")
        return xcommon::error(fmt::format("{}: the module rejected '{}'", what, value), err,
                              fmt::format("give whole microseconds, {}..{}", k_timeout_min_us,
                                          k_timeout_max_us));
      if (process)
        return xcommon::error(
            fmt::format("{}: the process has no address space (a kernel thread, or exiting)",
                        what),
            err, "opt-in applies to user processes");
      break;
    case ENODEV:
      return xcommon::error(fmt::format("{}: {}: {}", what, path, std::strerror(err)), err,
                            "was the latr module unloaded meanwhile?");
    default:
      break;
  }
  return xcommon::error(fmt::format("{}: write {}: {}", what, path, std::strerror(err)), err);
}

// --- output ------------------------------------------------------------------

nlohmann::ordered_json to_json(const latr_status& s) {
  return {{"loaded", true},
          {"sysfs", s.sysfs},
          {"mode", std::string(to_string(s.mode))},
          {"timeout_us", s.timeout_us},
          {"pending", s.pending},
          {"oldest_us", s.oldest_us},
          {"ring_size", s.ring_size}};
}

nlohmann::ordered_json to_json(const latr_stats& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& c : s.counters) j[c.name] = c.value;
  if (auto mean = s.mean_reclaim_delay_us())
    j["mean_reclaim_delay_us"] = *mean;
  else
    j["mean_reclaim_delay_us"] = nullptr;
  return j;
}

std::string format_status(const latr_status& s, bool json) {
  if (json) return to_json(s).dump() + "\n";
  std::string out;
  out += fmt::format("{:<11} loaded ({})\n", "module", s.sysfs);
  out += fmt::format("{:<11} {}: {}\n", "mode", to_string(s.mode), mode_meaning(s.mode));
  out += fmt::format("{:<11} {}\n", "timeout_us", s.timeout_us);
  out += fmt::format("{:<11} {} lazy shootdowns not yet reclaimed\n", "pending", s.pending);
  out += fmt::format("{:<11} {} (age of the oldest of them)\n", "oldest_us", s.oldest_us);
  out += fmt::format("{:<11} {} states per CPU\n", "ring_size", s.ring_size);
  return out;
}

std::string format_stats(const latr_stats& s, bool json) {
  if (json) return to_json(s).dump() + "\n";
  constexpr std::string_view k_mean = "mean_reclaim_delay_us";
  const auto mean = s.mean_reclaim_delay_us();
  const std::string mean_text = mean ? fmt::format("{:.3f}", *mean) : "-";

  std::size_t name_width = k_mean.size();
  std::size_t value_width = mean_text.size();
  for (const auto& c : s.counters) {
    name_width = std::max(name_width, c.name.size());
    value_width = std::max(value_width, fmt::formatted_size("{}", c.value));
  }
  std::string out;
  auto line = [&](std::string_view name, const auto& value, std::string_view what) {
    std::string text = fmt::format("{:<{}} {:>{}}  {}", name, name_width, value, value_width, what);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  for (const auto& c : s.counters) line(c.name, c.value, stat_description(c.name));
  line(k_mean, mean_text,
       mean ? "reclaim_delay_ns_sum / reclaimed, in microseconds" : "nothing reclaimed yet");
  return out;
}

}  // namespace xsel::latrctl
