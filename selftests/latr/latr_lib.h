/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers of the LATR kselftests: load the module, read its counters. */
#ifndef LATR_LIB_H
#define LATR_LIB_H

#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "xsel.h"

#define LATR_SYSFS "/sys/kernel/latr"

static inline int latr_loaded(void)
{
	struct stat st;

	return stat(LATR_SYSFS, &st) == 0;
}

/*
 * Load latr.ko (if needed) and set @mode; 0 on success. $XSEL_MODULES
 * names another module tree (the debug kernel's, see make check-debug).
 */
static inline int latr_load(const char *mode)
{
	if (!latr_loaded() && xsel_sh("insmod %s/latr/latr.ko", xsel_modules()))
		return -1;
	return xsel_write(LATR_SYSFS "/mode", mode);
}

static inline int latr_unload(void)
{
	return latr_loaded() ? xsel_sh("rmmod latr") : 0;
}

/* The number in sysfs file @path, or -1 if it cannot be read */
static inline long long latr_read_number(const char *path)
{
	char buf[64];

	if (!xsel_read(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* A counter of /sys/kernel/latr/stats */
static inline long long latr_stat(const char *name)
{
	return latr_read_number(xsel_path(LATR_SYSFS "/stats/%s", name));
}

/* A file of /sys/kernel/latr itself (pending, oldest_us, ...) */
static inline long long latr_attr(const char *name)
{
	return latr_read_number(xsel_path(LATR_SYSFS "/%s", name));
}

/* States not yet reclaimed */
static inline long long latr_pending(void)
{
	return latr_attr("pending");
}

static inline int latr_set_timeout_us(unsigned int us)
{
	char v[32];

	snprintf(v, sizeof(v), "%u", us);
	return xsel_write(LATR_SYSFS "/timeout_us", v);
}

/*
 * Faults as data: a thread arms fault_armed, sigsetjmp()s into fault_jmp
 * and touches memory; SIGSEGV/SIGBUS jumps back instead of killing it.
 */
static __thread sigjmp_buf fault_jmp;
static __thread volatile int fault_armed;

static inline void latr_on_fault(int sig, siginfo_t *si, void *uc)
{
	if (fault_armed)
		siglongjmp(fault_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void latr_catch_faults(void)
{
	struct sigaction sa = { .sa_sigaction = latr_on_fault,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * @n pages of fresh anonymous memory, each touched, then every other one
 * unmapped singly: @n / 2 munmaps of distinct ranges (no later mmap reuses
 * one and forces its shootdown). Returns the mapping, MAP_FAILED on error.
 */
static inline char *latr_unmap_every_other(int n)
{
	long psz = getpagesize();
	char *big = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (big == MAP_FAILED)
		return big;
	for (i = 0; i < n; i++)
		big[i * psz] = 1;
	for (i = 0; i < n; i += 2)
		if (munmap(big + i * psz, psz))
			return MAP_FAILED;
	return big;
}

#endif /* LATR_LIB_H */
