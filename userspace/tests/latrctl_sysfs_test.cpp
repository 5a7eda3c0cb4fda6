// SPDX-License-Identifier: GPL-2.0
//
// latrctl's sysfs access and output, against fake /sys/kernel/latr trees
// made of regular files in a temp directory.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "latrctl_sysfs.hpp"

namespace {

using namespace xsel::latrctl;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

class LatrSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "latrctl-test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << std::strerror(errno);
    tmp_ = templ;
    root_ = tmp_ / "latr";
    fs::create_directories(root_ / "stats");
    // As the module shows them right after loading.
    put("mode", "off\n");
    put("timeout_us", "2000\n");
    put("pending", "0\n");
    put("oldest_us", "0\n");
    put("ring_size", "64\n");
    put("optin", "");
    put("optout", "");
    for (auto name : k_stat_names) put(fmt::format("stats/{}", name), "0\n");
    put("stats/reset", "");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  void put(const std::string& rel, const std::string& text) {
    std::ofstream f(root_ / rel, std::ios::trunc);
    f << text;
    ASSERT_TRUE(f) << rel;
  }
  std::string get(const std::string& rel) const {
    std::ifstream f(root_ / rel);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  latr_sysfs sys() const { return latr_sysfs{root_.string()}; }

  fs::path tmp_;
  fs::path root_;
};

// Runs `f`, expects an error (xcommon::error or std::system_error), returns
// it as latrctl prints it: "message\n  hint: ...".
template <typename F>
std::string error_of(F&& f, int* code = nullptr) {
  try {
    f();
  } catch (const std::exception& e) {
    if (code) *code = xcommon::error_code_of(e);
    return xcommon::describe(e);
  }
  ADD_FAILURE() << "no exception";
  return {};
}

// --- module not loaded ---------------------------------------------------------

TEST_F(LatrSysfs, MissingModuleIsAClearError) {
  const latr_sysfs s{(tmp_ / "nope").string()};
  EXPECT_FALSE(s.loaded());
  for (auto op : std::vector<std::function<void()>>{
           [&] { (void)s.read_status(); }, [&] { (void)s.read_stats(); },
           [&] { s.set_mode(latr_mode::all); }, [&] { s.set_timeout_us(500); },
           [&] { s.opt_in(1); }, [&] { s.opt_out(1); }, [&] { s.reset_stats(); },
           [&] { s.require_loaded(); }}) {
    int code = 0;
    const std::string msg = error_of(op, &code);
    EXPECT_TRUE(contains(msg, "latr module not loaded (insmod modules/latr/latr.ko)")) << msg;
    EXPECT_TRUE(contains(msg, (tmp_ / "nope").string())) << msg;  // hint names the path
    EXPECT_EQ(code, ENOENT);
  }
  EXPECT_FALSE(fs::exists(tmp_ / "nope"));  // no write created anything
}

TEST_F(LatrSysfs, RootThatIsNotADirectory) {
  put("mode", "all\n");
  const latr_sysfs s{(root_ / "mode").string()};
  EXPECT_FALSE(s.loaded());
  const std::string msg = error_of([&] { (void)s.read_status(); });
  EXPECT_TRUE(contains(msg, "is not a directory")) << msg;
}

TEST_F(LatrSysfs, Loaded) {
  EXPECT_TRUE(sys().loaded());
  EXPECT_NO_THROW(sys().require_loaded());
  EXPECT_EQ(sys().path("stats/recorded"), (root_ / "stats/recorded").string());
}

// --- status --------------------------------------------------------------------

TEST_F(LatrSysfs, ReadStatus) {
  put("mode", "optin\n");
  put("timeout_us", "500\n");
  put("pending", "7\n");
  put("oldest_us", "1500\n");
  const auto st = sys().read_status();
  EXPECT_EQ(st.sysfs, root_.string());
  EXPECT_EQ(st.mode, latr_mode::optin);
  EXPECT_EQ(st.timeout_us, 500u);
  EXPECT_EQ(st.pending, 7u);
  EXPECT_EQ(st.oldest_us, 1500u);
  EXPECT_EQ(st.ring_size, 64u);
}

TEST_F(LatrSysfs, StatusText) {
  put("mode", "all\n");
  put("pending", "3\n");
  put("oldest_us", "812\n");
  const std::string text = format_status(sys().read_status(), false);
  EXPECT_EQ(text, fmt::format("module      loaded ({})\n"
                              "mode        all: lazy TLB shootdowns for every process\n"
                              "timeout_us  2000\n"
                              "pending     3 lazy shootdowns not yet reclaimed\n"
                              "oldest_us   812 (age of the oldest of them)\n"
                              "ring_size   64 states per CPU\n",
                              root_.string()));
}

TEST_F(LatrSysfs, StatusJson) {
  const std::string text = format_status(sys().read_status(), true);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j, (nlohmann::json{{"loaded", true},
                               {"sysfs", root_.string()},
                               {"mode", "off"},
                               {"timeout_us", 2000},
                               {"pending", 0},
                               {"oldest_us", 0},
                               {"ring_size", 64}}));
}

TEST_F(LatrSysfs, UnexpectedModeIsReported) {
  put("mode", "turbo\n");
  const std::string msg = error_of([&] { (void)sys().read_status(); });
  EXPECT_TRUE(contains(msg, "unexpected mode 'turbo'")) << msg;
  EXPECT_TRUE(contains(msg, (root_ / "mode").string())) << msg;
}

TEST_F(LatrSysfs, MissingAttributeIsNamed) {
  fs::remove(root_ / "ring_size");
  int code = 0;
  const std::string msg = error_of([&] { (void)sys().read_status(); }, &code);
  EXPECT_TRUE(contains(msg, (root_ / "ring_size").string())) << msg;
  EXPECT_TRUE(contains(msg, "different version")) << msg;
  EXPECT_EQ(code, ENOENT);
}

TEST_F(LatrSysfs, GarbageNumberIsReported) {
  put("pending", "-1\n");
  std::string msg = error_of([&] { (void)sys().read_status(); });
  EXPECT_TRUE(contains(msg, "unexpected content in")) << msg;
  EXPECT_TRUE(contains(msg, "'-1'")) << msg;
  put("pending", "\n");
  msg = error_of([&] { (void)sys().read_status(); });
  EXPECT_TRUE(contains(msg, "unexpected content in")) << msg;
  put("pending", "12 34\n");
  EXPECT_THROW((void)sys().read_status(), xcommon::error);
}

TEST_F(LatrSysfs, ReadAttrStripsTheNewline) {
  put("mode", "all\n");
  EXPECT_EQ(sys().read_attr("mode"), "all");
  put("timeout_us", "18446744073709551615\n");
  EXPECT_EQ(sys().read_u64("timeout_us"), 18446744073709551615ull);
  put("timeout_us", "18446744073709551616\n");
  EXPECT_THROW((void)sys().read_u64("timeout_us"), xcommon::error);
}

// --- stats ---------------------------------------------------------------------

TEST_F(LatrSysfs, ReadStatsInModuleOrder) {
  for (std::size_t i = 0; i < k_stat_names.size(); ++i)
    put(fmt::format("stats/{}", k_stat_names[i]), fmt::format("{}\n", 100 + i));
  const auto st = sys().read_stats();
  ASSERT_EQ(st.counters.size(), k_stat_names.size());  // stats/reset is no counter
  for (std::size_t i = 0; i < k_stat_names.size(); ++i) {
    EXPECT_EQ(st.counters[i].name, k_stat_names[i]);
    EXPECT_EQ(st.counters[i].value, 100 + i) << k_stat_names[i];
    EXPECT_EQ(st.get(k_stat_names[i]), 100 + i);
  }
  EXPECT_FALSE(st.get("no_such_counter"));
}

TEST_F(LatrSysfs, CountersOfAnotherModuleVersion) {
  // A newer module's counters come after the known ones, by name; a known
  // one the module lacks is left out.
  put("stats/zeta_events", "5\n");
  put("stats/alpha_events", "6\n");
  fs::remove(root_ / "stats/steered");
  const auto st = sys().read_stats();
  ASSERT_EQ(st.counters.size(), k_stat_names.size() + 1);
  EXPECT_EQ(st.counters.front().name, "recorded");
  EXPECT_EQ(st.counters[st.counters.size() - 3].name, "reclaim_delay_ns_max");
  EXPECT_EQ(st.counters[st.counters.size() - 2].name, "alpha_events");
  EXPECT_EQ(st.counters.back().name, "zeta_events");
  EXPECT_EQ(st.get("zeta_events"), 5u);
  EXPECT_FALSE(st.get("steered"));
  const std::string text = format_stats(st, false);
  EXPECT_TRUE(contains(text, "\nzeta_events           5\n")) << text;
  EXPECT_EQ(to_json(st)["alpha_events"], 6);
}

TEST_F(LatrSysfs, StatsDirectoryProblems) {
  put("stats/recorded", "x\n");
  std::string msg = error_of([&] { (void)sys().read_stats(); });
  EXPECT_TRUE(contains(msg, "unexpected content in")) << msg;
  EXPECT_TRUE(contains(msg, "stats/recorded")) << msg;

  for (auto name : k_stat_names) fs::remove(root_ / "stats" / name);
  msg = error_of([&] { (void)sys().read_stats(); });
  EXPECT_TRUE(contains(msg, "no counters in")) << msg;

  fs::remove_all(root_ / "stats");
  int code = 0;
  msg = error_of([&] { (void)sys().read_stats(); }, &code);
  EXPECT_TRUE(contains(msg, (root_ / "stats").string() + " does not exist")) << msg;
  EXPECT_EQ(code, ENOENT);
}

TEST_F(LatrSysfs, MeanReclaimDelay) {
  latr_stats st;
  EXPECT_FALSE(st.mean_reclaim_delay_us());  // nothing reclaimed: no mean
  put("stats/reclaimed", "4\n");
  put("stats/reclaim_delay_ns_sum", "10000\n");
  st = sys().read_stats();
  ASSERT_TRUE(st.mean_reclaim_delay_us());
  EXPECT_DOUBLE_EQ(*st.mean_reclaim_delay_us(), 2.5);
}

TEST_F(LatrSysfs, StatsText) {
  put("stats/recorded", "1234567\n");
  put("stats/ipis_avoided", "42\n");
  put("stats/reclaimed", "3\n");
  put("stats/reclaim_delay_ns_sum", "4000\n");
  const std::string text = format_stats(sys().read_stats(), false);
  // Names, right-aligned values (width of the widest), explanations.
  EXPECT_TRUE(contains(text, "recorded              1234567  shootdowns taken lazily\n")) << text;
  EXPECT_TRUE(contains(text, "ipis_avoided               42  remote CPUs not interrupted"))
      << text;
  EXPECT_TRUE(contains(text, "fallback_ring_full          0  synchronous: the CPU's ring was full"))
      << text;
  EXPECT_TRUE(contains(text, "mean_reclaim_delay_us   1.333  reclaim_delay_ns_sum / reclaimed"))
      << text;
  // One line per counter plus the mean, in the module's order.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'),
            static_cast<long>(k_stat_names.size() + 1));
  std::size_t last = 0;
  for (auto name : k_stat_names) {
    const auto at = text.find(fmt::format("\n{} ", name));
    if (name == k_stat_names.front()) {
      EXPECT_EQ(text.rfind(std::string(name), 0), 0u);
      continue;
    }
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_GT(at, last) << name;
    last = at;
  }
}

TEST_F(LatrSysfs, StatsTextBeforeAnyReclaim) {
  const std::string text = format_stats(sys().read_stats(), false);
  EXPECT_TRUE(contains(text, "mean_reclaim_delay_us -  nothing reclaimed yet\n")) << text;
}

TEST_F(LatrSysfs, StatsJson) {
  put("stats/timeout_ipis", "9\n");
  put("stats/reclaimed", "2\n");
  put("stats/reclaim_delay_ns_sum", "3000\n");
  put("stats/reclaim_delay_ns_max", "2500\n");
  const std::string text = format_stats(sys().read_stats(), true);
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.size(), k_stat_names.size() + 1);
  for (auto name : k_stat_names) EXPECT_TRUE(j.contains(std::string(name))) << name;
  EXPECT_EQ(j["timeout_ipis"], 9);
  EXPECT_EQ(j["reclaim_delay_ns_max"], 2500);
  EXPECT_DOUBLE_EQ(j["mean_reclaim_delay_us"].get<double>(), 1.5);

  put("stats/reclaimed", "0\n");
  EXPECT_TRUE(to_json(sys().read_stats())["mean_reclaim_delay_us"].is_null());
}

TEST_F(LatrSysfs, StatsAreAllOrNothing) {
  // A counter that cannot be read fails the whole read.
  fs::remove(root_ / "stats/reuse_ipis");
  fs::create_directory(root_ / "stats/reuse_ipis");
  const std::string msg = error_of([&] { (void)sys().read_stats(); });
  EXPECT_TRUE(contains(msg, "stats/reuse_ipis")) << msg;
}

TEST_F(LatrSysfs, ResetWritesOne) {
  put("stats/recorded", "5\n");
  sys().reset_stats();
  EXPECT_EQ(get("stats/reset"), "1\n");
  // The two-step form used by 'stats --reset': open first, reset later.
  put("stats/reset", "");
  auto fd = sys().open_reset();
  EXPECT_EQ(get("stats/reset"), "");
  sys().reset_stats(fd);
  EXPECT_EQ(get("stats/reset"), "1\n");
}

TEST_F(LatrSysfs, ResetThatCannotBeOpenedFailsEarly) {
  fs::remove(root_ / "stats/reset");
  int code = 0;
  const std::string msg = error_of([&] { (void)sys().open_reset(); }, &code);
  EXPECT_TRUE(contains(msg, "reset the statistics")) << msg;
  EXPECT_EQ(code, ENOENT);
  EXPECT_FALSE(fs::exists(root_ / "stats/reset"));
}

// --- writes --------------------------------------------------------------------

TEST_F(LatrSysfs, SetModeLandsInMode) {
  put("mode", "optin\n");
  sys().set_mode(latr_mode::all);
  EXPECT_EQ(get("mode"), "all\n");  // replaced, not overwritten in place
  sys().set_mode(latr_mode::off);
  EXPECT_EQ(get("mode"), "off\n");
  sys().set_mode(latr_mode::optin);
  EXPECT_EQ(get("mode"), "optin\n");
  EXPECT_EQ(sys().read_status().mode, latr_mode::optin);
  EXPECT_EQ(get("timeout_us"), "2000\n");  // nothing else touched
}

TEST_F(LatrSysfs, SetTimeoutLandsInTimeoutUs) {
  sys().set_timeout_us(500);
  EXPECT_EQ(get("timeout_us"), "500\n");
  EXPECT_EQ(sys().read_status().timeout_us, 500u);
  EXPECT_EQ(get("mode"), "off\n");
}

TEST_F(LatrSysfs, OptInAndOutLandInTheirFiles) {
  sys().opt_in(4242);
  EXPECT_EQ(get("optin"), "4242\n");
  EXPECT_EQ(get("optout"), "");
  sys().opt_out(17);
  EXPECT_EQ(get("optout"), "17\n");
  EXPECT_EQ(get("optin"), "4242\n");
}

TEST_F(LatrSysfs, WriteToMissingAttributeCreatesNothing) {
  fs::remove(root_ / "optin");
  int code = 0;
  const std::string msg = error_of([&] { sys().opt_in(42); }, &code);
  EXPECT_TRUE(contains(msg, "opt in process 42")) << msg;
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
  EXPECT_TRUE(contains(msg, "different version")) << msg;
  EXPECT_EQ(code, ENOENT);
  EXPECT_FALSE(fs::exists(root_ / "optin"));
}

TEST_F(LatrSysfs, WriteFailureSaysWhatWasAttempted) {
  // As root, permissions cannot be faked; a directory refuses writes too.
  fs::remove(root_ / "mode");
  fs::create_directory(root_ / "mode");
  int code = 0;
  const std::string msg = error_of([&] { sys().set_mode(latr_mode::all); }, &code);
  EXPECT_EQ(code, EISDIR);
  EXPECT_TRUE(contains(msg, fmt::format("set mode to all: write {}: ", (root_ / "mode").string())))
      << msg;
}

TEST_F(LatrSysfs, PermissionDeniedMentionsRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write read-only files";
  fs::permissions(root_ / "timeout_us", fs::perms::owner_read);
  int code = 0;
  const std::string msg = error_of([&] { sys().set_timeout_us(500); }, &code);
  EXPECT_EQ(code, EACCES);
  EXPECT_TRUE(contains(msg, "CAP_SYS_ADMIN")) << msg;
  EXPECT_EQ(get("timeout_us"), "2000\n");
}

// --- what the module's errors become ------------------------------------------

TEST(LatrWriteError, Descriptions) {
  EXPECT_EQ(describe_write("mode", "all"), "set mode to all");
  EXPECT_EQ(describe_write("timeout_us", "50"), "set timeout to 50 us");
  EXPECT_EQ(describe_write("optin", "42"), "opt in process 42");
  EXPECT_EQ(describe_write("optout", "42"), "opt out process 42");
  EXPECT_EQ(describe_write("stats/reset", "1"), "reset the statistics");
}

TEST(LatrWriteError, PermissionsNeedRoot) {
  for (int err : {EACCES, EPERM}) {
    const auto e = write_error(err, "optin", "42", "/sys/kernel/latr/optin");
    EXPECT_EQ(e.code(), err);
    EXPECT_TRUE(contains(e.what(), "opt in process 42: /sys/kernel/latr/optin: ")) << e.what();
    EXPECT_TRUE(contains(e.hint(), "CAP_SYS_ADMIN")) << e.hint();
    EXPECT_TRUE(contains(e.hint(), "root")) << e.hint();
  }
  const auto e = write_error(EPERM, "stats/reset", "1", "/sys/kernel/latr/stats/reset");
  EXPECT_TRUE(contains(e.what(), "reset the statistics")) << e.what();
  EXPECT_TRUE(contains(e.hint(), "CAP_SYS_ADMIN")) << e.hint();
}

TEST(LatrWriteError, NoSuchProcess) {
  const auto e = write_error(ESRCH, "optout", "99999", "/sys/kernel/latr/optout");
  EXPECT_EQ(std::string(e.what()), "opt out process 99999: no such process");
  EXPECT_EQ(e.code(), ESRCH);
  EXPECT_TRUE(contains(e.hint(), "ps -p 99999")) << e.hint();
}

TEST(LatrWriteError, TimeoutOutOfRange) {
  const auto e = write_error(ERANGE, "timeout_us", "50", "/sys/kernel/latr/timeout_us");
  EXPECT_EQ(std::string(e.what()), "set timeout to 50 us: out of range");
  EXPECT_TRUE(contains(e.hint(), "100..1000000 microseconds")) << e.hint();
}

TEST(LatrWriteError, InvalidValues) {
  auto e = write_error(EINVAL, "mode", "turbo", "/sys/kernel/latr/mode");
  EXPECT_TRUE(contains(e.what(), "does not know mode 'turbo'")) << e.what();
  EXPECT_TRUE(contains(e.hint(), "off, optin and all")) << e.hint();
  e = write_error(EINVAL, "optin", "2", "/sys/kernel/latr/optin");
  EXPECT_TRUE(contains(e.what(), "kernel thread")) << e.what();
  e = write_error(EINVAL, "timeout_us", "x", "/sys/kernel/latr/timeout_us");
  EXPECT_TRUE(contains(e.hint(), "100..1000000")) << e.hint();
}

TEST(LatrWriteError, OtherErrorsKeepStrerror) {
  const auto e = write_error(EIO, "mode", "all", "/sys/kernel/latr/mode");
  EXPECT_EQ(std::string(e.what()),
            fmt::format("set mode to all: write /sys/kernel/latr/mode: {}", std::strerror(EIO)));
  EXPECT_EQ(e.code(), EIO);
  // ESRCH only means "no such process" for optin/optout.
  EXPECT_TRUE(contains(write_error(ESRCH, "mode", "all", "/m").what(), "write /m"));
}

}  // namespace
