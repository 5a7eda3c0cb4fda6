// SPDX-License-Identifier: GPL-2.0
/*
 * What LATR must leave synchronous stays synchronous (mprotect, mremap,
 * fork/CoW), and the module's own promises: IPI fallback when the ring is
 * full, no IPIs to the isolated CPU for a process that no longer runs
 * there, safe unload with shootdowns pending, mode changes under load.
 * Everything runs with the module loaded in mode "all".
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "latr_lib.h"

/* A thread pinned to @cpu that keeps touching @addr (read or write). */
struct toucher {
	pthread_t tid;
	int cpu;
	volatile char *addr;
	int write;
	atomic_int stop, started;
	atomic_int phase;		/* bumped by the main thread */
	atomic_int faulted_phase;	/* phase in which the first fault hit */
	atomic_int late_writes;		/* writes that succeeded after the flip */
};

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;

	pin_to(t->cpu);
	fault_armed = 1;
	if (sigsetjmp(fault_jmp, 1)) {
		fault_armed = 0;
		atomic_store(&t->faulted_phase, atomic_load(&t->phase) + 1);
		while (!atomic_load(&t->stop))
			;
		return NULL;
	}
	atomic_store(&t->started, 1);
	while (!atomic_load(&t->stop)) {
		int phase = atomic_load(&t->phase);

		if (t->write)
			*t->addr = 1;
		else
			(void)*t->addr;
		/* a write that completed after we saw the flip is a bug */
		if (t->write && phase > 0)
			atomic_fetch_add(&t->late_writes, 1);
	}
	return NULL;
}

static void start_toucher(struct toucher *t, int cpu, void *addr, int write)
{
	*t = (struct toucher){ .cpu = cpu, .addr = addr, .write = write };
	pthread_create(&t->tid, NULL, toucher_main, t);
	while (!atomic_load(&t->started))
		;
}

static void stop_toucher(struct toucher *t)
{
	atomic_store(&t->stop, 1);
	pthread_join(t->tid, NULL);
}

FIXTURE(sem) {
	char *page;
};

FIXTURE_SETUP(sem)
{
	ASSERT_EQ(0, latr_load("all")) TH_LOG("cannot load latr.ko");
	ASSERT_EQ(0, latr_set_timeout_us(2000));
	latr_catch_faults();
	ASSERT_EQ(0, pin_to(0));
	self->page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	memset(self->page, 7, getpagesize());
}

FIXTURE_TEARDOWN(sem)
{
	munmap(self->page, getpagesize());
	latr_set_timeout_us(2000);
	latr_unload();
}

/*
 * mprotect(PROT_READ) must take effect on every CPU before it returns:
 * no write may succeed on any CPU once the main thread has flipped the
 * phase after mprotect() returned.
 */
TEST_F(sem, mprotect_is_immediate_everywhere)
{
	for (int round = 0; round < 10; round++) {
		struct toucher t[3];
		int cpu;

		ASSERT_EQ(0, mprotect(self->page, getpagesize(),
				      PROT_READ | PROT_WRITE));
		for (cpu = 1; cpu < 4; cpu++)
			start_toucher(&t[cpu - 1], cpu, self->page, 1);
		usleep(5000);
		ASSERT_EQ(0, mprotect(self->page, getpagesize(), PROT_READ));
		for (cpu = 1; cpu < 4; cpu++)
			atomic_store(&t[cpu - 1].phase, 1);
		usleep(20000);
		for (cpu = 1; cpu < 4; cpu++) {
			stop_toucher(&t[cpu - 1]);
			EXPECT_EQ(0, atomic_load(&t[cpu - 1].late_writes)) {
				TH_LOG("round %d: CPU %d wrote after mprotect(PROT_READ) returned",
				       round, cpu);
			}
			EXPECT_NE(0, atomic_load(&t[cpu - 1].faulted_phase));
		}
	}
}

/* mremap() moving a mapping: the old address faults at once everywhere. */
TEST_F(sem, mremap_move_is_immediate)
{
	size_t len = 4 * getpagesize();
	char *old, *dst, *moved;
	struct toucher t;

	old = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, old);
	ASSERT_NE(MAP_FAILED, dst);
	memset(old, 3, len);
	start_toucher(&t, 2, old, 1);
	usleep(5000);
	moved = mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, moved);
	atomic_store(&t.phase, 1);
	usleep(20000);
	stop_toucher(&t);
	EXPECT_EQ(0, atomic_load(&t.late_writes));
	EXPECT_NE(0, atomic_load(&t.faulted_phase));
	EXPECT_EQ(3, moved[len - 1]);
	munmap(moved, len);
}

/* fork() and CoW: each side sees only its own writes, with readers around. */
TEST_F(sem, fork_cow_as_stock)
{
	struct toucher t;
	int status;
	pid_t pid;

	self->page[0] = 'p';
	start_toucher(&t, 3, self->page + 64, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (self->page[0] != 'p')
			_exit(1);
		self->page[0] = 'c';
		if (self->page[0] != 'c')
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ('p', self->page[0]);
	self->page[0] = 'q';
	EXPECT_EQ('q', self->page[0]);
	stop_toucher(&t);
}

/* A reader on the tickless isolated CPU keeps lazy states from retiring. */
static void hold_states_on_isolated_cpu(struct toucher *t, void *page)
{
	latr_set_timeout_us(1000000);
	start_toucher(t, 3, page, 0);
	usleep(5000);
}

/*
 * With a thread spinning on the tickless isolated CPU, lazy states cannot
 * retire before timeout_us: a burst of munmaps fills the 64-entry ring and
 * the next ones take the synchronous IPI path.
 */
TEST_F(sem, ring_overflow_falls_back_to_ipis)
{
	long long before_full, recorded;
	long psz = getpagesize();
	struct toucher t;
	char *big;
	int i;

	hold_states_on_isolated_cpu(&t, self->page);
	before_full = latr_stat("fallback_ring_full");
	recorded = latr_stat("recorded");
	big = latr_unmap_every_other(200);
	ASSERT_NE(MAP_FAILED, big);
	TH_LOG("100 munmaps: %lld lazy, %lld synchronous (ring full), %lld pending",
	       latr_stat("recorded") - recorded,
	       latr_stat("fallback_ring_full") - before_full, latr_pending());
	EXPECT_GT(latr_stat("fallback_ring_full") - before_full, 0);
	EXPECT_LE(latr_stat("recorded") - recorded, 64);
	stop_toucher(&t);
	for (i = 1; i < 200; i += 2)
		munmap(big + i * psz, psz);
	ASSERT_EQ(0, latr_set_timeout_us(2000));
}

/*
 * The child of held_state_does_not_block_the_ring, on CPU 0 with a reader
 * on CPU 1: @n munmaps of one page, recorded lazily, in bursts of 8 that
 * retire (CPU 1 sweeps them at its tick) before the next burst: the held
 * state must not time out meanwhile, and a wait per munmap took more than
 * its 1 s on the debug kernel. Return: 0, or 1 if it cannot run.
 */
static int ring_churn(int n)
{
	long psz = getpagesize();
	struct toucher t;
	char *page, *p;
	int i, wait;

	page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || pin_to(0))
		return 1;
	page[0] = 1;
	start_toucher(&t, 1, page, 0);
	for (i = 0; i < n; i++) {
		p = mmap(NULL, psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		p[0] = 1;
		if (munmap(p, psz))
			return 1;
		if (i % 8 != 7)
			continue;
		/* until only the parent's held state is left, 200 ms at most */
		for (wait = 0; wait < 400 && latr_pending() > 1; wait++)
			usleep(500);
	}
	stop_toucher(&t);
	return 0;
}

/*
 * States retire out of order. One held by the isolated CPU, at the head of
 * CPU 0's ring, must not block the ring: once another process's states,
 * recorded on CPU 0 after it and retired since, wrap around to it, the next
 * state takes a free slot past it rather than the IPI fallback.
 */
TEST_F(sem, held_state_does_not_block_the_ring)
{
	long long full0, rec0, ipis0, pending, oldest, held_us;
	long psz = getpagesize();
	struct toucher t;
	int i, status, n = 80;	/* more than the ring's 64: 10 bursts */
	unsigned long long t0;
	char *one;
	pid_t pid;

	one = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, one);
	one[0] = 1;
	hold_states_on_isolated_cpu(&t, self->page);
	full0 = latr_stat("fallback_ring_full");
	ipis0 = latr_stat("timeout_ipis");
	ASSERT_EQ(0, munmap(one, psz));		/* held: names CPU 3 */
	t0 = xsel_now_ns();
	rec0 = latr_stat("recorded");
	pending = latr_pending();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(ring_churn(n));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* oldest_us shows the held state's age: at least the time since */
	held_us = (xsel_now_ns() - t0) / 1000;
	oldest = latr_attr("oldest_us");
	TH_LOG("%d munmaps past a held state: %lld lazy, %lld synchronous (ring full); %lld pending before",
	       n, latr_stat("recorded") - rec0,
	       latr_stat("fallback_ring_full") - full0, pending);
	TH_LOG("oldest_us %lld, %lld us after the held munmap returned", oldest, held_us);
	if (latr_stat("timeout_ipis") != ipis0) {
		stop_toucher(&t);
		SKIP(return, "the held state timed out (1 s) before the ring wrapped");
	}
	EXPECT_LE(1, pending);
	EXPECT_EQ(0, latr_stat("fallback_ring_full") - full0);
	EXPECT_LE(n, latr_stat("recorded") - rec0);
	EXPECT_LE(held_us, oldest);
	EXPECT_GT(2000000, oldest);	/* timeout_us is 1 s */
	stop_toucher(&t);
	/* CPU 3 sweeps as it idles; once everything is reclaimed, 0 */
	for (i = 0; i < 100 && latr_pending(); i++)
		usleep(10000);
	EXPECT_EQ(0, latr_pending());
	EXPECT_EQ(0, latr_attr("oldest_us"));
}

/*
 * A process that ran on the isolated CPU once and moved away stays in its
 * mm_cpumask; stock 6.12 IPIs it whenever page tables are freed. With LATR
 * the isolated CPU gets no IPI for it at all.
 */
TEST_F(sem, isolated_cpu_gets_no_ipis)
{
	long long tlb0, tlb1, cal0, cal1;
	struct toucher t[2];
	int i;

	ASSERT_EQ(0, pin_to(3));	/* leave a trace in mm_cpumask */
	usleep(2000);
	ASSERT_EQ(0, pin_to(0));
	start_toucher(&t[0], 1, self->page, 0);
	start_toucher(&t[1], 2, self->page, 0);
	tlb0 = xsel_irq_count("TLB", 3);
	cal0 = xsel_irq_count("CAL", 3);
	for (i = 0; i < 300; i++) {
		/* a lone 2 MiB-aligned VMA: munmap frees its page table too */
		char *p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *a = (char *)(((unsigned long)p + (2 << 20) - 1) & ~((2UL << 20) - 1));

		ASSERT_NE(MAP_FAILED, p);
		a[0] = 1;
		ASSERT_EQ(0, munmap(p, 4 << 20));
	}
	tlb1 = xsel_irq_count("TLB", 3);
	cal1 = xsel_irq_count("CAL", 3);
	stop_toucher(&t[0]);
	stop_toucher(&t[1]);
	TH_LOG("IPIs on the isolated CPU during 300 munmaps: %lld shootdown, %lld function call",
	       tlb1 - tlb0, cal1 - cal0);
	EXPECT_EQ(tlb0, tlb1);
	/*
	 * LATR's own fallbacks arrive as function calls. Other kernel work
	 * may send one now and then (seen once in the lockdep + KASAN
	 * kernel). Stock 6.12 keeps the CPU in mm_cpumask and IPIs it
	 * whenever a munmap frees page tables.
	 */
	EXPECT_LE(cal1 - cal0, 2);
}

/*
 * A CPU that ticks and still owes a state after timeout_us gets its IPI only
 * after stall_timeouts times that (it sweeps at its next tick); a CPU that
 * does not tick (the nohz_full isolated one, running user code) gets it at
 * timeout_us. With the stall bound at 5 s, states that name the isolated
 * CPU must still complete within timeout_us, and those that name only
 * ticking CPUs at their ticks.
 */
TEST_F(sem, tickless_cpu_forced_at_timeout)
{
	long long ipis0, pending = -1;
	long psz = getpagesize();
	struct toucher t[2];
	char *big;
	int i;

	ASSERT_EQ(0, xsel_write("/sys/module/latr/parameters/stall_timeouts", "2500"));
	start_toucher(&t[0], 1, self->page, 0);
	start_toucher(&t[1], 3, self->page, 0);
	usleep(20000);
	ipis0 = latr_stat("timeout_ipis");
	big = latr_unmap_every_other(40);
	ASSERT_NE(MAP_FAILED, big);
	/* well within the 5 s stall bound; TCG stretches 2 ms a lot */
	for (i = 0; i < 50 && pending; i++) {
		usleep(10000);
		pending = latr_pending();
	}
	TH_LOG("pending after %d ms: %lld; timeout IPIs: %lld", i * 10, pending,
	       latr_stat("timeout_ipis") - ipis0);
	EXPECT_EQ(0, pending);
	EXPECT_GT(latr_stat("timeout_ipis") - ipis0, 0);
	stop_toucher(&t[0]);
	stop_toucher(&t[1]);
	for (i = 1; i < 40; i += 2)
		munmap(big + i * psz, psz);
}

/* rmmod with lazy shootdowns pending completes them and frees every page. */
TEST_F(sem, unload_with_pending_states)
{
	long psz = getpagesize();
	struct toucher t;
	long long pending;
	char *big;
	int i;

	hold_states_on_isolated_cpu(&t, self->page);
	big = latr_unmap_every_other(40);
	ASSERT_NE(MAP_FAILED, big);
	pending = latr_pending();
	TH_LOG("pending before rmmod: %lld", pending);
	EXPECT_GT(pending, 0);
	EXPECT_EQ(0, latr_unload());
	for (i = 1; i < 40; i += 2)
		munmap(big + i * psz, psz);
	EXPECT_FALSE(latr_loaded());
	/* the process goes on: the page it reads is intact */
	EXPECT_EQ(7, self->page[100]);
	stop_toucher(&t);
}

/* Switch modes while threads on every CPU map, touch and unmap. */
struct churner {
	pthread_t tid;
	int cpu;
	atomic_int *stop;
	long bad;
};

static void *churner_main(void *arg)
{
	struct churner *c = arg;

	pin_to(c->cpu);
	while (!atomic_load(c->stop)) {
		char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			c->bad++;
			continue;
		}
		for (int i = 0; i < 8; i++)
			p[i * 4096] = (char)c->cpu;
		for (int i = 0; i < 8; i++)
			c->bad += p[i * 4096] != (char)c->cpu;
		madvise(p, 8 * 4096, MADV_DONTNEED);
		c->bad += p[0] != 0;
		munmap(p, 8 * 4096);
	}
	return NULL;
}

TEST_F(sem, mode_changes_under_load)
{
	static const char * const modes[] = { "off", "all", "optin", "all" };
	struct churner c[4];
	atomic_int stop = 0;
	int cpu, i;

	for (cpu = 0; cpu < 4; cpu++) {
		c[cpu] = (struct churner){ .cpu = cpu, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&c[cpu].tid, NULL, churner_main, &c[cpu]));
	}
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(0, xsel_write(LATR_SYSFS "/mode", modes[i % 4]));
		usleep(20000);
	}
	atomic_store(&stop, 1);
	for (cpu = 0; cpu < 4; cpu++) {
		pthread_join(c[cpu].tid, NULL);
		EXPECT_EQ(0, c[cpu].bad);
	}
	EXPECT_NE(0, xsel_write(LATR_SYSFS "/mode", "sometimes"));
}

TEST_HARNESS_MAIN
