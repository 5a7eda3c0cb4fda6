// SPDX-License-Identifier: GPL-2.0
/*
 * CPU 3 of the guest belongs to X-Lane: it must really be isolated.
 * - the boot parameters took effect (isolated, nohz_full, rcu_nocbs);
 * - no unbound kernel thread may run there;
 * - no device interrupt is routed there, and none arrives there while
 *   devices are busy;
 * - its tick stops while one task runs there (and, as a control, a
 *   housekeeping CPU keeps ticking under the same load).
 */
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include "kselftest_harness.h"
#include "xsel.h"

#define ISOL_CPU 3
#define PF_KTHREAD 0x00200000
#define PF_NO_SETAFFINITY 0x04000000

TEST(boot_parameters_took_effect)
{
	char buf[4096];

	ASSERT_NE(NULL, xsel_read("/sys/devices/system/cpu/isolated", buf, sizeof(buf)));
	EXPECT_STREQ("3", buf);
	ASSERT_NE(NULL, xsel_read("/sys/devices/system/cpu/nohz_full", buf, sizeof(buf)));
	EXPECT_STREQ("3", buf);
	ASSERT_NE(NULL, xsel_read("/proc/cmdline", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "rcu_nocbs=3"));
	EXPECT_NE(NULL, strstr(buf, "irqaffinity=0-2"));
	ASSERT_NE(NULL, xsel_read("/sys/devices/system/cpu/online", buf, sizeof(buf)));
	EXPECT_STREQ("0-3", buf);
}

/*
 * Unbound = allowed on more than one CPU; per-CPU kthreads may stay. The
 * guest moves every kthread it may (scripts/guest-isolate.sh, as tuned
 * does); what the kernel pins itself (PF_NO_SETAFFINITY) may only be a
 * workqueue rescuer, which runs only to rescue work already queued on the
 * CPU it then binds to.
 */
TEST(no_unbound_kthreads_on_isolated_cpu)
{
	struct dirent *de;
	int kthreads = 0, bad = 0, rescuers = 0;
	DIR *d = opendir("/proc");

	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		char stat[1024], status[4096], *p, *allowed;
		unsigned long flags = 0;
		int i;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (!xsel_read(xsel_path("/proc/%s/stat", de->d_name), stat, sizeof(stat)))
			continue;
		/* field 9 is flags; skip "pid (comm)" which may hold spaces */
		p = strrchr(stat, ')');
		if (!p)
			continue;
		for (i = 0; i < 7 && p; i++)
			p = strchr(p + 1, ' ');
		if (!p)
			continue;
		flags = strtoul(p + 1, NULL, 10);
		if (!(flags & PF_KTHREAD))
			continue;
		if (!xsel_read(xsel_path("/proc/%s/status", de->d_name), status, sizeof(status)))
			continue;
		kthreads++;
		allowed = strstr(status, "Cpus_allowed_list:");
		if (!allowed)
			continue;
		allowed += strlen("Cpus_allowed_list:");
		while (*allowed == ' ' || *allowed == '\t')
			allowed++;
		if (strchr(allowed, '\n'))
			*strchr(allowed, '\n') = '\0';
		if (xsel_cpulist_has(allowed, ISOL_CPU) &&
		    (strchr(allowed, '-') || strchr(allowed, ','))) {
			char *name = strstr(status, "Name:");

			name = name ? name + 6 : "?";
			name[strcspn(name, "\n")] = '\0';
			if ((flags & PF_NO_SETAFFINITY) &&
			    !strncmp(name, "kworker/R-", 10)) {
				rescuers++;
				continue;
			}
			TH_LOG("unbound kthread %s may run on CPU %d (allowed %s): %s",
			       de->d_name, ISOL_CPU, allowed, name);
			bad++;
		}
	}
	closedir(d);
	TH_LOG("%d kthreads, %d workqueue rescuers pinned by the kernel",
	       kthreads, rescuers);
	EXPECT_GT(kthreads, 10);
	EXPECT_EQ(0, bad);
}

static long long device_irqs_on(int cpu)
{
	struct dirent *de;
	long long sum = 0;
	DIR *d = opendir("/proc/irq");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		long long v;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		v = xsel_irq_count(de->d_name, cpu);
		if (v > 0)
			sum += v;
	}
	closedir(d);
	return sum;
}

TEST(no_device_irqs_on_isolated_cpu)
{
	long long before_iso, after_iso, before_all = 0, after_all = 0;
	struct dirent *de;
	char buf[256];
	int cpu, routed = 0, bad = 0;
	DIR *d = opendir("/proc/irq");

	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (xsel_irq_count(de->d_name, 0) < 0)
			continue;	/* no handler registered */
		if (!xsel_read(xsel_path("/proc/irq/%s/effective_affinity_list",
					 de->d_name), buf, sizeof(buf)))
			continue;
		routed++;
		if (xsel_cpulist_has(buf, ISOL_CPU)) {
			TH_LOG("IRQ %s is routed to CPU %d (effective %s)",
			       de->d_name, ISOL_CPU, buf);
			bad++;
		}
	}
	closedir(d);
	EXPECT_GT(routed, 0);
	EXPECT_EQ(0, bad);

	/* Make the devices work (9p reads over virtio), count where IRQs land. */
	before_iso = device_irqs_on(ISOL_CPU);
	for (cpu = 0; cpu < 4; cpu++)
		before_all += device_irqs_on(cpu);
	ASSERT_EQ(0, xsel_sh("cat /usr/bin/* >/dev/null 2>&1; true"));
	after_iso = device_irqs_on(ISOL_CPU);
	for (cpu = 0; cpu < 4; cpu++)
		after_all += device_irqs_on(cpu);
	TH_LOG("device IRQs during the burst: %lld in all, %lld on CPU %d",
	       after_all - before_all, after_iso - before_iso, ISOL_CPU);
	EXPECT_GT(after_all - before_all, 10);
	EXPECT_EQ(before_iso, after_iso);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t spin_on(int cpu)
{
	pid_t pid = fork();

	if (pid == 0) {
		volatile unsigned long n = 0;

		if (pin_to(cpu))
			_exit(1);
		for (;;)
			n++;
	}
	return pid;
}

/* Local timer interrupts per second on @cpu while one task spins there. */
static double tick_rate_busy(int cpu)
{
	long long a, b;
	double t0, t1;
	pid_t pid = spin_on(cpu);

	if (pid < 0)
		return -1;
	usleep(1500000);	/* let the tick dependencies settle */
	a = xsel_irq_count("LOC", cpu);
	t0 = now();
	usleep(2000000);
	b = xsel_irq_count("LOC", cpu);
	t1 = now();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (a < 0 || b < 0)
		return -1;
	return (b - a) / (t1 - t0);
}

TEST(tick_stops_when_busy)
{
	double iso, control;

	/* Keep this process off both measured CPUs. */
	ASSERT_EQ(0, pin_to(0));

	control = tick_rate_busy(1);
	iso = tick_rate_busy(ISOL_CPU);
	TH_LOG("local timer IRQs/s with one busy task: CPU 1 %.0f, CPU %d %.0f",
	       control, ISOL_CPU, iso);
	ASSERT_GE(control, 0);
	ASSERT_GE(iso, 0);
	/* HZ=1000: a ticking CPU shows hundreds per second, a tickless one ~1. */
	EXPECT_GT(control, 200);
	EXPECT_LT(iso, 50);
}

TEST_HARNESS_MAIN
