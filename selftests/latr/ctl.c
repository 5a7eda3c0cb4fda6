// SPDX-License-Identifier: GPL-2.0
/*
 * latrctl against the real module: status, mode, timeout, per-process
 * opt-in and statistics; bad input is refused and changes nothing.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "latr_lib.h"

static const char *ctl(void)
{
	return xsel_path("%s/build/userspace/bin/latrctl", xsel_root());
}

FIXTURE(ctl) {
};

FIXTURE_SETUP(ctl)
{
	ASSERT_EQ(0, latr_unload());
}

FIXTURE_TEARDOWN(ctl)
{
	latr_unload();
}

TEST_F(ctl, unloaded_module_is_a_clear_error)
{
	char out[1024];

	EXPECT_EQ(1, xsel_capture(out, sizeof(out), "%s status 2>&1", ctl()));
	EXPECT_NE(NULL, strstr(out, "not loaded")) TH_LOG("said: %s", out);
}

TEST_F(ctl, mode_timeout_optin_stats)
{
	char out[4096], buf[64];

	ASSERT_EQ(0, latr_load("off"));
	ASSERT_EQ(0, xsel_sh("%s enable >/dev/null", ctl()));
	ASSERT_NE(NULL, xsel_read(LATR_SYSFS "/mode", buf, sizeof(buf)));
	EXPECT_STREQ("all", buf);
	ASSERT_EQ(0, xsel_capture(out, sizeof(out), "%s status --json", ctl()));
	EXPECT_NE(NULL, strstr(out, "\"all\"")) TH_LOG("status: %s", out);

	ASSERT_EQ(0, xsel_sh("%s set timeout 5000 >/dev/null", ctl()));
	ASSERT_NE(NULL, xsel_read(LATR_SYSFS "/timeout_us", buf, sizeof(buf)));
	EXPECT_STREQ("5000", buf);
	EXPECT_EQ(2, xsel_sh("%s set timeout 5 2>/dev/null", ctl()));
	ASSERT_NE(NULL, xsel_read(LATR_SYSFS "/timeout_us", buf, sizeof(buf)));
	EXPECT_STREQ("5000", buf);

	EXPECT_EQ(0, xsel_sh("%s process optin %d >/dev/null", ctl(), getpid()));
	EXPECT_EQ(1, xsel_sh("%s process optin 999999 2>/dev/null", ctl()));
	EXPECT_EQ(2, xsel_sh("%s process optin notapid 2>/dev/null", ctl()));
	EXPECT_EQ(0, xsel_sh("%s process optout %d >/dev/null", ctl(), getpid()));

	ASSERT_EQ(0, xsel_capture(out, sizeof(out), "%s stats --json", ctl()));
	EXPECT_NE(NULL, strstr(out, "\"recorded\"")) TH_LOG("stats: %s", out);
	EXPECT_NE(NULL, strstr(out, "\"ipis_avoided\""));

	ASSERT_EQ(0, xsel_sh("%s disable >/dev/null", ctl()));
	ASSERT_NE(NULL, xsel_read(LATR_SYSFS "/mode", buf, sizeof(buf)));
	EXPECT_STREQ("off", buf);
	EXPECT_EQ(2, xsel_sh("%s set mode sometimes 2>/dev/null", ctl()));
}

static atomic_int spin_stop;

static void *spin_on_cpu1(void *arg)
{
	pin_to(1);
	while (!atomic_load(&spin_stop))
		;
	return NULL;
}

/* Opt-in mode: only the opted-in process takes lazy shootdowns. */
TEST_F(ctl, optin_is_per_process)
{
	long long before;
	pthread_t spinner;
	char *p;	/* leaked on purpose: half-unmapped test memory */

	ASSERT_EQ(0, latr_load("optin"));
	/* a second CPU with this mm loaded, so munmap has someone to shoot */
	ASSERT_EQ(0, pin_to(0));
	ASSERT_EQ(0, pthread_create(&spinner, NULL, spin_on_cpu1, NULL));
	usleep(20000);

	before = latr_stat("recorded");
	p = latr_unmap_every_other(64);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(before, latr_stat("recorded"));

	ASSERT_EQ(0, xsel_sh("%s process optin %d >/dev/null", ctl(), getpid()));
	p = latr_unmap_every_other(64);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_LT(before, latr_stat("recorded"));
	atomic_store(&spin_stop, 1);
	pthread_join(spinner, NULL);
}

TEST_HARNESS_MAIN
