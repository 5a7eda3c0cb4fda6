// SPDX-License-Identifier: GPL-2.0
#include "xps/sysfs.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xcommon/cli.hpp"
#include "xcommon/error.hpp"

namespace xps {
namespace {

constexpr std::string_view k_version_hint =
    "the loaded xps module does not look like the one xpsctl was built for";

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::size_t rank(std::string_view name) {
  return static_cast<std::size_t>(
      std::find(k_handler_counters.begin(), k_handler_counters.end(), name) -
      k_handler_counters.begin());
}

}  // namespace

std::string_view counter_description(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, k_handler_counters.size()> k_text = {
      "handler runs",
      "payloads answered in the kernel (XPS_TX)",
      "payloads dropped (XPS_DROP)",
      "payloads passed to the application (XPS_PASS)",
      "connections reset (XPS_RESET)",
      "replies that could not be sent, passed instead",
      "payloads passed while the connection was out of step",
      "write fences taken",
      "payloads passed, not answered: the owner owed a reply and waited for a CPU (yield_us)",
      "of fenced, write-through: valid from the application's confirming reply on",
      "CPU time in the handler, ns",
      "of cpu_ns, charged to owner_pid's process (a tick's worth at a time; the rest at detach)",
      "connections with handler state",
      "local port of the predicate (0: any)",
      "process the handler works for, charged with its CPU time (0: none)",
  };
  const std::size_t i = rank(name);
  return i < k_text.size() ? k_text[i] : std::string_view{};
}

std::optional<std::uint64_t> Counters::get(std::string_view name) const noexcept {
  for (const auto& c : items)
    if (c.name == name) return c.value;
  return std::nullopt;
}

nlohmann::json to_json(const Counters& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& i : c.items) j[i.name] = i.value;
  return j;
}

std::optional<std::uint64_t> parse_counter(std::string_view text) noexcept {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return xcommon::cli::parse_decimal(text);
}

bool Sysfs::loaded() const { return is_dir(root_); }

void Sysfs::require_loaded() const {
  if (loaded()) return;
  throw xcommon::error(std::string(k_not_loaded), ENOENT)
      .with_hint(fmt::format(
          "{} does not exist; the module creates it when loaded (build it with `make modules`, "
          "load it as root)",
          root_));
}

std::vector<std::string> Sysfs::handlers() const {
  require_loaded();
  const std::string dir = root_ + "/handlers";
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  if (ec && ec.value() != ENOENT) xcommon::throw_errno(ec.value(), "list {}", dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool Sysfs::has_handler(std::string_view name) const {
  return !name.empty() && name.find('/') == std::string_view::npos && name != "." &&
         name != ".." && is_dir(fmt::format("{}/handlers/{}", root_, name));
}

HandlerStats Sysfs::handler(std::string_view name) const {
  require_loaded();
  if (!has_handler(name))
    throw xcommon::error(fmt::format("unknown handler '{}'", name), ENOENT)
        .with_hint("see the attached handlers with `xpsctl handler list`");
  return {std::string(name), read_dir(fmt::format("{}/handlers/{}", root_, name))};
}

Counters Sysfs::global() const {
  require_loaded();
  return read_dir(root_);
}

Counters Sysfs::read_dir(const std::string& dir) const {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
  if (ec) xcommon::throw_errno(ec.value(), "list {}", dir);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return std::pair(rank(a), std::string_view(a)) < std::pair(rank(b), std::string_view(b));
  });
  Counters c;
  for (auto& name : names) {
    const std::string path = fmt::format("{}/{}", dir, name);
    std::ifstream in(path);
    if (!in) {
      // A handler detached while we read: say so rather than show half of it.
      if (!is_dir(dir)) throw xcommon::error(fmt::format("{} went away", dir), ENOENT);
      xcommon::throw_errno("read {}", path);
    }
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    const auto v = parse_counter(text);
    if (!v)
      throw xcommon::error(
          fmt::format("unexpected content in {}: '{}' (wanted an unsigned number)", path, text))
          .with_hint(std::string(k_version_hint));
    c.items.push_back({std::move(name), *v});
  }
  return c;
}

}  // namespace xps
