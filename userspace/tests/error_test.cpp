// SPDX-License-Identifier: GPL-2.0
#include <cerrno>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "xcommon/error.hpp"

namespace {

TEST(Error, ErrnoErrorCarriesWhatAndStrerror) {
  const auto e = xcommon::errno_error(ENOENT, "open /x");
  EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
  EXPECT_NE(std::string(e.what()).find("open /x"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
}

TEST(Error, ThrowErrnoFormatsAndUsesErrno) {
  errno = EACCES;
  try {
    xcommon::throw_errno("write {} bytes to {}", 3, "/y");
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EACCES);
    EXPECT_NE(std::string(e.what()).find("write 3 bytes to /y"), std::string::npos);
    return;
  }
  FAIL() << "throw_errno did not throw";
}

TEST(Error, ThrowErrnoWithExplicitCode) {
  EXPECT_THROW(xcommon::throw_errno(EBUSY, "attach {}", "eth0"), std::system_error);
  try {
    xcommon::throw_errno(EBUSY, "attach {}", "eth0");
  } catch (const std::exception& e) {
    EXPECT_EQ(xcommon::error_code_of(e), EBUSY);
  }
}

TEST(Error, ProjectErrorCarriesCodeAndHint) {
  const auto e = xcommon::error("interface eth9 is not attached", ENOENT)
                     .with_hint("run canaryctl xdp list");
  EXPECT_EQ(e.code(), ENOENT);
  EXPECT_EQ(e.hint(), "run canaryctl xdp list");
  EXPECT_EQ(xcommon::error_code_of(e), ENOENT);
  EXPECT_EQ(xcommon::describe(e),
            "interface eth9 is not attached\n  hint: run canaryctl xdp list");
}

TEST(Error, DescribeWithoutHintIsWhat) {
  const std::runtime_error plain("plain");
  EXPECT_EQ(xcommon::describe(plain), "plain");
  EXPECT_EQ(xcommon::error_code_of(plain), 0);
  EXPECT_EQ(xcommon::describe(xcommon::error("no hint")), "no hint");
}

}  // namespace
