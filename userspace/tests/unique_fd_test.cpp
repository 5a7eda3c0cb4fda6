// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <gtest/gtest.h>

#include "xcommon/unique_fd.hpp"

namespace {

using xcommon::unique_fd;

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int open_devnull() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFd, DefaultHoldsNothing) {
  unique_fd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, ClosesOnDestruction) {
  const int raw = open_devnull();
  ASSERT_GE(raw, 0);
  {
    unique_fd fd{raw};
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(fd_is_open(raw));
  }
  EXPECT_FALSE(fd_is_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnership) {
  const int raw = open_devnull();
  unique_fd a{raw};
  unique_fd b{std::move(a)};
  EXPECT_EQ(a.get(), -1);  // NOLINT(bugprone-use-after-move): checking moved-from state
  EXPECT_EQ(b.get(), raw);

  unique_fd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(fd_is_open(raw));
}

TEST(UniqueFd, MoveAssignClosesPreviousDescriptor) {
  const int first = open_devnull();
  const int second = open_devnull();
  unique_fd a{first};
  a = unique_fd{second};
  EXPECT_FALSE(fd_is_open(first));
  EXPECT_TRUE(fd_is_open(second));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  const int raw = open_devnull();
  {
    unique_fd fd{raw};
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(fd_is_open(raw));
  ::close(raw);
}

TEST(UniqueFd, ResetClosesAndAdopts) {
  const int first = open_devnull();
  const int second = open_devnull();
  unique_fd fd{first};
  fd.reset(second);
  EXPECT_FALSE(fd_is_open(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset();
  EXPECT_FALSE(fd_is_open(second));
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFd, OpenSucceedsWithCloexec) {
  unique_fd fd = unique_fd::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(fd.valid());
  EXPECT_TRUE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(UniqueFd, OpenFailureNamesThePath) {
  try {
    (void)unique_fd::open("/nonexistent/xsel-test", O_RDONLY);
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("open /nonexistent/xsel-test"), std::string::npos)
        << e.what();
  }
}

}  // namespace
