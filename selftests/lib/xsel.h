/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the project's kselftests (used together with the
 * kernel tree's kselftest_harness.h). Tests run as root inside the QEMU
 * guest, with the project tree at the same path as on the host.
 */
#ifndef XSEL_H
#define XSEL_H

#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

/* The project root: $XSEL_ROOT, else three levels above build/selftests/x/y. */
static inline const char *xsel_root(void)
{
	static char root[PATH_MAX];
	const char *env = getenv("XSEL_ROOT");
	char *p;
	int i;

	if (root[0])
		return root;
	if (env) {
		snprintf(root, sizeof(root), "%s", env);
		return root;
	}
	if (readlink("/proc/self/exe", root, sizeof(root) - 1) < 0)
		return ".";
	for (i = 0; i < 4; i++) {	/* bin, dir, selftests, build */
		p = strrchr(root, '/');
		if (p)
			*p = '\0';
	}
	return root;
}

/* snprintf into a static buffer, for paths built from the root. */
static inline const char *xsel_path(const char *fmt, ...)
{
	static char buf[4][PATH_MAX];
	static int slot;
	va_list ap;
	char *out = buf[slot++ % 4];

	va_start(ap, fmt);
	vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	return out;
}

/*
 * The module tree: $XSEL_MODULES (the debug kernel's, see make
 * check-debug), else the project's modules/ (<dir>/<name>/<name>.ko).
 */
static inline const char *xsel_modules(void)
{
	const char *dir = getenv("XSEL_MODULES");

	return dir ? dir : xsel_path("%s/modules", xsel_root());
}

/* Read a whole (small) file; trailing newline stripped. NULL on error. */
static inline char *xsel_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

static inline int xsel_write(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(s, f) < 0)
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* Run a shell command; returns its exit status, or -1 if it did not exit. */
static inline int xsel_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Run a shell command and capture its stdout. Returns exit status. */
static inline int xsel_capture(char *out, size_t len, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	size_t n;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Interrupt count of row @label ("LOC", "TLB", or an IRQ number) on @cpu
 * in /proc/interrupts; -1 if absent.
 */
static inline long long xsel_irq_count(const char *label, int cpu)
{
	char line[4096], want[64];
	long long v = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%s:", label);
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save;
		int col = -1;

		tok = strtok_r(line, " \t\n", &save);
		if (!tok || strcmp(tok, want))
			continue;
		while ((tok = strtok_r(NULL, " \t\n", &save)) && ++col < cpu)
			;
		if (tok)
			v = strtoll(tok, NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

/* CLOCK_MONOTONIC in nanoseconds */
static inline unsigned long long xsel_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Run the calling thread on @cpu only; 0 or -1 with errno. */
static inline int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Does the CPU list string @list ("0-2,5") contain @cpu? */
static inline int xsel_cpulist_has(const char *list, int cpu)
{
	const char *p = list;

	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return 0;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (cpu >= a && cpu <= b)
			return 1;
		p = *end == ',' ? end + 1 : end;
		if (*p == '\n')
			break;
	}
	return 0;
}

#endif /* XSEL_H */
