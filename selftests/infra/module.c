// SPDX-License-Identifier: GPL-2.0
/*
 * An out-of-tree module (modules/canary) built against build/linux loads,
 * reports through sysfs, refuses bad input and unloads cleanly, also while
 * one of its files is open.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xsel.h"

#define SYSDIR "/sys/kernel/xcanary"

/* $XSEL_MODULES names another module tree (make check-debug) */
static const char *ko(void)
{
	return xsel_path("%s/canary/xcanary.ko", xsel_modules());
}

static int loaded(void)
{
	struct stat st;

	return stat("/sys/module/xcanary", &st) == 0;
}

FIXTURE(canary) {
};

FIXTURE_SETUP(canary)
{
	struct stat st;

	ASSERT_EQ(0, stat(ko(), &st)) TH_LOG("%s not built (make modules)", ko());
	if (loaded())
		xsel_sh("rmmod xcanary");
	ASSERT_FALSE(loaded());
}

FIXTURE_TEARDOWN(canary)
{
	if (loaded())
		xsel_sh("rmmod xcanary");
}

TEST_F(canary, load_report_unload)
{
	char buf[64];

	ASSERT_EQ(0, xsel_sh("insmod %s initial=41", ko()));
	ASSERT_TRUE(loaded());
	ASSERT_NE(NULL, xsel_read(SYSDIR "/counter", buf, sizeof(buf)));
	EXPECT_STREQ("41", buf);
	ASSERT_EQ(0, xsel_write(SYSDIR "/counter", "1"));
	ASSERT_NE(NULL, xsel_read(SYSDIR "/counter", buf, sizeof(buf)));
	EXPECT_STREQ("42", buf);
	ASSERT_NE(NULL, xsel_read(SYSDIR "/reads", buf, sizeof(buf)));
	EXPECT_STREQ("2", buf);
	/* bad input: rejected, value unchanged */
	EXPECT_EQ(-EINVAL, xsel_write(SYSDIR "/counter", "forty"));
	ASSERT_NE(NULL, xsel_read(SYSDIR "/counter", buf, sizeof(buf)));
	EXPECT_STREQ("42", buf);

	ASSERT_EQ(0, xsel_sh("rmmod xcanary"));
	EXPECT_FALSE(loaded());
	EXPECT_EQ(NULL, xsel_read(SYSDIR "/counter", buf, sizeof(buf)));
}

TEST_F(canary, double_load_refused)
{
	ASSERT_EQ(0, xsel_sh("insmod %s", ko()));
	EXPECT_NE(0, xsel_sh("insmod %s 2>/dev/null", ko()));
	EXPECT_TRUE(loaded());
}

TEST_F(canary, bad_parameter_refused)
{
	EXPECT_NE(0, xsel_sh("insmod %s initial=notanumber 2>/dev/null", ko()));
	EXPECT_FALSE(loaded());
}

TEST_F(canary, unload_with_open_file)
{
	char buf[64];
	int fd;

	ASSERT_EQ(0, xsel_sh("insmod %s initial=7", ko()));
	fd = open(SYSDIR "/counter", O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(2, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, xsel_sh("rmmod xcanary"));
	EXPECT_FALSE(loaded());
	/* The file outlives the module: reads fail, nothing crashes. */
	EXPECT_GT(0, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
