// SPDX-License-Identifier: GPL-2.0
/*
 * The guest runs the kernel this tree built, and that kernel carries every
 * option Kconfig.fragment asks for (read back from /proc/config.gz).
 */
#include <sys/utsname.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xsel.h"

static int config_has(const char *config, const char *line)
{
	const char *p = config;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == config || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

TEST(fragment_options_present)
{
	static char config[1 << 20];
	char line[512], opt[512];
	int checked = 0, missing = 0;
	FILE *frag;

	ASSERT_EQ(0, xsel_capture(config, sizeof(config),
				  "zcat /proc/config.gz")) {
		TH_LOG("cannot read /proc/config.gz (CONFIG_IKCONFIG_PROC)");
	}
	frag = fopen(xsel_path("%s/Kconfig.fragment", xsel_root()), "r");
	ASSERT_NE(NULL, frag);
	while (fgets(line, sizeof(line), frag)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "CONFIG_", 7)) {
			checked++;
			if (!config_has(config, line)) {
				TH_LOG("running kernel lacks %s", line);
				missing++;
			}
		} else if (sscanf(line, "# %511s is not set", opt) == 1 &&
			   !strncmp(opt, "CONFIG_", 7)) {
			char set[600];

			checked++;
			snprintf(set, sizeof(set), "\n%s=", opt);
			if (strstr(config, set)) {
				TH_LOG("running kernel sets %s", opt);
				missing++;
			}
		}
	}
	fclose(frag);
	TH_LOG("%d fragment options checked", checked);
	EXPECT_GT(checked, 10);
	EXPECT_EQ(0, missing);
}

TEST(running_the_built_kernel)
{
	char built[256], version[512];
	struct utsname u;

	ASSERT_EQ(0, uname(&u));
	ASSERT_NE(NULL, xsel_read(xsel_path("%s/build/linux/include/config/kernel.release",
					    xsel_root()), built, sizeof(built)));
	EXPECT_STREQ(built, u.release);
	/* KBUILD_BUILD_USER/HOST as set by scripts/kernel.sh */
	ASSERT_NE(NULL, xsel_read("/proc/version", version, sizeof(version)));
	EXPECT_NE(NULL, strstr(version, "(xlat@qemu)")) {
		TH_LOG("not our build: %s", version);
	}
}

TEST(btf_for_core)
{
	struct stat st;

	ASSERT_EQ(0, stat("/sys/kernel/btf/vmlinux", &st));
	EXPECT_GT(st.st_size, 1024 * 1024);
}

TEST_HARNESS_MAIN
