// SPDX-License-Identifier: GPL-2.0
/*
 * LATR and AutoNUMA (patches/0008): the flushes of NUMA hinting protection
 * changes become lazy states, and nothing that relies on those flushes may
 * see them late.
 *
 * - lazy_hinting_takes_no_shootdowns: the same workload with the module's
 *   numa parameter off and on, in one boot: with it on the hinting scans
 *   are recorded as states and the CPUs running the process receive less
 *   than a quarter of the shootdown IPIs.
 * - unload_with_hinting_states_pending: rmmod while scans are recorded.
 * - migration_loses_no_write: writers keep incrementing counters in pages
 *   of their own while AutoNUMA scans the process and another thread
 *   bounces those pages between the nodes with move_pages(). A page
 *   migrated while a writer still had a stale translation of it (the PTE
 *   PROT_NONE, its flush lazy) would take writes after the copy into the
 *   old page: a lost increment. Every counter must match its writer's own
 *   tally.
 *
 * Both speed AutoNUMA up through debugfs (sched/numa_balancing/) and
 * restore its settings afterwards. Each writer first touches its own pages
 * after every thread is up: AutoNUMA leaves alone the pages of a
 * single-threaded process that sit on its node, and a VMA nobody faulted
 * on in its first two scan passes is then skipped as not accessed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "latr_lib.h"

#define NB_DIR "/sys/kernel/debug/sched/numa_balancing"
#define NB_SYSCTL "/proc/sys/kernel/numa_balancing"
#define WRITERS 3		/* on CPUs 0..2; CPU 3 is isolated */
#define NODE0_CPUS 2		/* CPUs 0 and 1 are node 0 */
#define WPAGES 16		/* pages per writer, few enough to stay in the TLB */

/* AutoNUMA knobs this test sets, and what they were. */
static const char * const nb_knobs[] = {
	NB_SYSCTL,
	NB_DIR "/scan_delay_ms",
	NB_DIR "/scan_period_min_ms",
	NB_DIR "/scan_period_max_ms",
};
/* a scan delay of 0 would also reset the VMAs' accessing PIDs at every scan */
static const char * const nb_fast[] = { "1", "50", "10", "10" };
#define NB_KNOBS (sizeof(nb_knobs) / sizeof(nb_knobs[0]))

/* Shootdown IPIs received by CPUs 0..@n-1 so far. */
static long long tlb_ipis(int n)
{
	long long sum = 0;

	for (int cpu = 0; cpu < n; cpu++)
		sum += xsel_irq_count("TLB", cpu);
	return sum;
}

struct writer {
	pthread_t tid;
	int cpu;
	char *pages;		/* WPAGES pages of its own */
	long tally[WPAGES];	/* increments it made per page */
	atomic_int *stop;
	atomic_int *go;		/* every writer is up: touch the pages */
	atomic_int started;
};

/*
 * Increment this writer's counter in each of its pages in turn, and count
 * what it did. The counter's address is the same in every round, so a
 * stale translation would keep being used.
 */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	long psz = getpagesize();

	pin_to(w->cpu);
	atomic_store(&w->started, 1);
	while (!atomic_load(w->go))
		;
	memset(w->pages, 0, WPAGES * psz);
	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		for (int p = 0; p < WPAGES; p++) {
			volatile long *c = (volatile long *)(w->pages + p * psz);

			*c = *c + 1;
			w->tally[p]++;
		}
	}
	return NULL;
}

FIXTURE(numa) {
	char saved[NB_KNOBS][32];
	int have_knobs;
};

FIXTURE_SETUP(numa)
{
	struct stat st;

	if (stat(NB_DIR, &st))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	ASSERT_EQ(0, stat(NB_SYSCTL, &st))
		TH_LOG("no %s: kernel without CONFIG_NUMA_BALANCING", NB_SYSCTL);
	ASSERT_EQ(0, stat(NB_DIR, &st)) TH_LOG("no %s (debugfs)", NB_DIR);
	for (size_t i = 0; i < NB_KNOBS; i++) {
		ASSERT_NE(NULL, xsel_read(nb_knobs[i], self->saved[i],
					  sizeof(self->saved[i])));
		self->have_knobs = i + 1;
		ASSERT_EQ(0, xsel_write(nb_knobs[i], nb_fast[i]));
	}
	ASSERT_EQ(0, latr_load("all")) TH_LOG("cannot load latr.ko");
	ASSERT_EQ(0, xsel_write("/sys/module/latr/parameters/numa", "Y"));
}

FIXTURE_TEARDOWN(numa)
{
	latr_unload();
	for (int i = self->have_knobs - 1; i >= 0; i--)
		xsel_write(nb_knobs[i], self->saved[i]);
}

/* Start @n writers on CPUs 0..@n-1, on pages of their own in @mem. */
static void start_writers(struct writer *w, int n, char *mem, atomic_int *stop,
			  atomic_int *go)
{
	for (int i = 0; i < n; i++) {
		w[i] = (struct writer){ .cpu = i, .stop = stop, .go = go,
			.pages = mem + i * WPAGES * getpagesize() };
		pthread_create(&w[i].tid, NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < n; i++)
		while (!atomic_load(&w[i].started))
			;
	atomic_store(go, 1);
}

/*
 * One child process (a fresh mm, so AutoNUMA starts its scans at once)
 * with a writer on each CPU of node 0 for @ms; returns the shootdown IPIs
 * those CPUs received meanwhile, or -1. Everything of the process stays on
 * node 0: a page AutoNUMA finds misplaced (pthread_create() writes the top
 * of a new thread's stack on the creating CPU) would be migrated, and a
 * migration flushes synchronously with or without LATR.
 */
static pid_t spawn_writers(int ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		long psz = getpagesize();
		char *mem = mmap(NULL, WRITERS * WPAGES * psz,
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct writer w[WRITERS] = {};
		atomic_int stop = 0, go = 0;

		if (mem == MAP_FAILED || pin_to(0))
			_exit(2);
		start_writers(w, NODE0_CPUS, mem, &stop, &go);
		usleep(ms * 1000);
		atomic_store(&stop, 1);
		for (int i = 0; i < NODE0_CPUS; i++)
			pthread_join(w[i].tid, NULL);
		_exit(0);
	}
	return pid;
}

/* 0 if the writers' process @pid ran to its end and exited 0. */
static int reap_writers(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

static long long run_writers(int ms)
{
	long long ipis = tlb_ipis(NODE0_CPUS);

	if (reap_writers(spawn_writers(ms)))
		return -1;
	return tlb_ipis(NODE0_CPUS) - ipis;
}

TEST_F(numa, lazy_hinting_takes_no_shootdowns)
{
	long long sync_ipis, lazy_ipis;
	long long rec = latr_stat("numa_recorded");

	ASSERT_EQ(0, xsel_write("/sys/module/latr/parameters/numa", "N"));
	sync_ipis = run_writers(4000);
	ASSERT_EQ(rec, latr_stat("numa_recorded"))
		TH_LOG("numa=N still recorded hinting changes");

	ASSERT_EQ(0, xsel_write("/sys/module/latr/parameters/numa", "Y"));
	lazy_ipis = run_writers(4000);
	rec = latr_stat("numa_recorded") - rec;

	TH_LOG("numa=N: %lld shootdown IPIs; numa=Y: %lld IPIs, %lld hinting states",
	       sync_ipis, lazy_ipis, rec);
	ASSERT_LE(0, sync_ipis);
	ASSERT_LE(0, lazy_ipis);
	/* the scans flushed: the synchronous run interrupted the writers */
	ASSERT_LE(10, sync_ipis) TH_LOG("too few synchronous shootdowns to compare");
	EXPECT_LT(0, rec);
	EXPECT_LT(lazy_ipis * 4, sync_ipis)
		TH_LOG("lazy hinting should avoid at least 3/4 of the IPIs");
}

/*
 * rmmod while the writers run and AutoNUMA's scans are being recorded:
 * the module completes what is pending and unloads, the writers go on
 * (now with the kernel's synchronous flushes) and exit normally. A hinting
 * state left behind would trip the module's WARN_ON at exit, which fails
 * vm/kernel.
 */
TEST_F(numa, unload_with_hinting_states_pending)
{
	long long rec = latr_stat("numa_recorded");
	int tries, pending = 0;
	pid_t pid = spawn_writers(4000);

	ASSERT_LT(0, pid);
	for (tries = 0; tries < 3000 && !pending; tries++) {
		pending = latr_stat("numa_recorded") > rec && latr_pending() > 0;
		if (!pending)
			usleep(1000);
	}
	EXPECT_TRUE(pending) TH_LOG("no hinting state pending within 3 s");
	EXPECT_EQ(0, latr_unload());
	EXPECT_FALSE(latr_loaded());
	EXPECT_EQ(0, reap_writers(pid));
}

struct bouncer {
	pthread_t tid;
	char *mem;
	int npages;
	atomic_int *stop;
	long moved;
	long errors;
};

/* Move every page to the other node, again and again. */
static void *bouncer_main(void *arg)
{
	struct bouncer *b = arg;
	long psz = getpagesize();
	void *pages[WRITERS * WPAGES];
	int nodes[WRITERS * WPAGES], status[WRITERS * WPAGES];

	pin_to(1);
	for (int round = 0; !atomic_load(b->stop); round++) {
		for (int i = 0; i < b->npages; i++) {
			pages[i] = b->mem + i * psz;
			nodes[i] = round & 1;
		}
		if (syscall(SYS_move_pages, 0, b->npages, pages, nodes,
			    status, 0) < 0) {
			b->errors++;
			continue;
		}
		for (int i = 0; i < b->npages; i++)
			b->moved += status[i] == (round & 1);
		usleep(500);
	}
	return NULL;
}

TEST_F(numa, migration_loses_no_write)
{
	long psz = getpagesize();
	int npages = WRITERS * WPAGES;
	char *mem = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long long rec = latr_stat("numa_recorded");
	struct writer w[WRITERS] = {};
	struct bouncer b;
	atomic_int stop = 0, go = 0;
	long lost = 0, extra = 0;

	ASSERT_NE(MAP_FAILED, mem);
	start_writers(w, WRITERS, mem, &stop, &go);
	b = (struct bouncer){ .mem = mem, .npages = npages, .stop = &stop };
	pthread_create(&b.tid, NULL, bouncer_main, &b);

	sleep(6);
	atomic_store(&stop, 1);
	pthread_join(b.tid, NULL);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i].tid, NULL);

	for (int i = 0; i < WRITERS; i++) {
		for (int p = 0; p < WPAGES; p++) {
			long have = *(long *)(w[i].pages + p * psz);

			if (have < w[i].tally[p])
				lost += w[i].tally[p] - have;
			else
				extra += have - w[i].tally[p];
		}
	}
	rec = latr_stat("numa_recorded") - rec;
	TH_LOG("%ld pages moved by move_pages, %lld hinting states; %ld increments lost, %ld extra",
	       b.moved, rec, lost, extra);
	EXPECT_EQ(0, b.errors);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, extra);
	/* the race this test is about happened often enough to matter */
	EXPECT_LT(100, b.moved);
	EXPECT_LT(0, rec);
	munmap(mem, npages * psz);
}

TEST_HARNESS_MAIN
