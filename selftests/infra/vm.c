// SPDX-License-Identifier: GPL-2.0
/*
 * The VM itself as the project's tests expect it: 4 CPUs, a multiqueue
 * virtio-net NIC, a writable root that does not write through to the host,
 * and the results directory shared writable with the host.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xsel.h"

TEST(four_cpus)
{
	EXPECT_EQ(4, sysconf(_SC_NPROCESSORS_ONLN));
}

TEST(multiqueue_nic)
{
	char path[256];
	struct dirent *de;
	int rx = 0, tx = 0;
	DIR *d = NULL;

	/* the first virtio-net interface, whatever udev-less naming it got */
	for (int i = 0; i < 4 && !d; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/eth%d/queues", i);
		d = opendir(path);
	}
	ASSERT_NE(NULL, d) TH_LOG("no ethN interface");
	while ((de = readdir(d))) {
		rx += !strncmp(de->d_name, "rx-", 3);
		tx += !strncmp(de->d_name, "tx-", 3);
	}
	closedir(d);
	TH_LOG("%s: %d rx, %d tx queues", path, rx, tx);
	EXPECT_EQ(4, rx);
	EXPECT_EQ(4, tx);
}

TEST(root_is_writable_overlay)
{
	char buf[64];
	const char *p = "/etc/xsel-overlay-probe";

	ASSERT_EQ(0, xsel_write(p, "guest-only"));
	ASSERT_NE(NULL, xsel_read(p, buf, sizeof(buf)));
	EXPECT_STREQ("guest-only", buf);
	EXPECT_EQ(0, xsel_sh("grep -q '^root / overlay' /proc/mounts"));
	unlink(p);
}

TEST(results_dir_shared_writable)
{
	const char *dir = xsel_path("%s/build/results", xsel_root());
	const char *f = xsel_path("%s/.vm-write-probe", dir);
	char buf[64];

	ASSERT_EQ(0, xsel_write(f, "probe"));
	ASSERT_NE(NULL, xsel_read(f, buf, sizeof(buf)));
	EXPECT_STREQ("probe", buf);
	EXPECT_EQ(0, unlink(f));
	EXPECT_EQ(0, xsel_sh("grep -q ' %s 9p ' /proc/mounts", dir));
}

/*
 * System calls the project's tools and tests rely on, which tinyconfig
 * leaves out unless the config asks for them (madvise: ADVISE_SYSCALLS).
 */
TEST(madvise_dontneed_zeroes)
{
	char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	memset(p, 7, 4 * 4096);
	ASSERT_EQ(0, madvise(p, 4 * 4096, MADV_DONTNEED)) {
		TH_LOG("madvise: %s", strerror(errno));
	}
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(0, p[3 * 4096 + 5]);
	munmap(p, 4 * 4096);
}

TEST_HARNESS_MAIN
