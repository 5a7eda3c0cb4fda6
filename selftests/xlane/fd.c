// SPDX-License-Identifier: GPL-2.0
/*
 * X-FD, the failure detector in X-Lane: three hosts heartbeat to a group;
 * every host's alive table (read-only, any process) sees the others; a
 * stopped application and a cut host are suspected within T + L of their
 * last heartbeat and recover when they come back; no false suspicion over
 * a quiet run (the run under stress is a benchmark: make bench-xlane).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "xlane_lib.h"

#define HOSTS	3
#define T_US	5000
#define L_US	50000
/* the engine checks deadlines when it wakes; allow it a little */
#define SLACK_NS	20000000ull

struct host {
	int fd;
	void *area;
	struct xlane_fd_start st;
	struct xlane_cons events;
	_Atomic __u64 *counter;
	atomic_int paused, stop;
	pthread_t live;
	/* events read but not yet asked for */
	struct xlane_fd_event seen[256];
	int nseen;
};

/* The application's liveness: what libxlane does every T/3. */
static void *liveness(void *arg)
{
	struct host *h = arg;
	struct sched_param sp = { .sched_priority = 10 };

	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	while (!atomic_load(&h->stop)) {
		if (!atomic_load(&h->paused))
			atomic_fetch_add_explicit(h->counter, 1, memory_order_release);
		usleep(T_US / 3);
	}
	return NULL;
}

static int host_start(struct host *h, int n)
{
	memset(h, 0, sizeof(*h));
	h->fd = xl_open(n);
	if (h->fd < 0 || xl_attach(h->fd, n))
		return -1;
	h->area = xl_map(h->fd);
	if (!h->area)
		return -1;
	h->st.group = inet_addr("239.1.1.1");
	h->st.period_us = T_US;
	h->st.threshold_us = L_US;
	if (ioctl(h->fd, XLANE_IOC_FD_START, &h->st))
		return -1;
	h->counter = (_Atomic __u64 *)((char *)h->area + h->st.counter_off);
	xl_cons(&h->events, h->area, h->st.events_off);
	return pthread_create(&h->live, NULL, liveness, h);
}

static void host_stop(struct host *h)
{
	if (h->live) {
		atomic_store(&h->stop, 1);
		pthread_join(h->live, NULL);
	}
	if (h->area)
		munmap(h->area, XLANE_AREA_SIZE);
	if (h->fd >= 0) {
		ioctl(h->fd, XLANE_IOC_DETACH);
		close(h->fd);
	}
}

/* Next X-FD event of host @h about @node of @type within @ms; 1 if found. */
static int wait_event(struct host *h, __u32 node, __u32 type, int ms,
		      struct xlane_fd_event *out)
{
	__u64 end = xl_now_ns() + (__u64)ms * 1000000ull;
	const struct xlane_fd_event *ev;
	__u32 len, t;
	int i;

	do {
		while ((ev = xlane_cons_peek(&h->events, &len, &t))) {
			if (h->nseen < (int)(sizeof(h->seen) / sizeof(h->seen[0])))
				h->seen[h->nseen++] = *ev;
			xlane_cons_release(&h->events);
		}
		for (i = 0; i < h->nseen; i++) {
			if (h->seen[i].node != node || h->seen[i].type != type)
				continue;
			if (out)
				*out = h->seen[i];
			memmove(&h->seen[i], &h->seen[i + 1],
				(h->nseen - i - 1) * sizeof(h->seen[0]));
			h->nseen--;
			return 1;
		}
		usleep(1000);
	} while (xl_now_ns() < end);
	return 0;
}

static const struct xlane_fd_table *table(struct host *h)
{
	void *p = mmap(NULL, sizeof(struct xlane_fd_table), PROT_READ, MAP_SHARED, h->fd,
		       XLANE_MMAP_FD_TABLE);

	return p == MAP_FAILED ? NULL : p;
}

static __u32 node_of(int n)
{
	return ntohl(xl_ip(n));
}

FIXTURE(fd) {
	struct host h[HOSTS + 1];
};

FIXTURE_SETUP(fd)
{
	int i;

	for (i = 1; i <= HOSTS; i++)
		ASSERT_EQ(0, host_start(&self->h[i], i)) TH_LOG("host %d: %s", i, strerror(errno));
	/* everyone has joined everyone */
	for (i = 1; i <= HOSTS; i++) {
		int j;

		for (j = 1; j <= HOSTS; j++)
			if (j != i)
				ASSERT_EQ(1, wait_event(&self->h[i], node_of(j), XLANE_FD_JOINED,
							5000, NULL));
	}
}

FIXTURE_TEARDOWN(fd)
{
	int i;

	for (i = 1; i <= HOSTS; i++)
		host_stop(&self->h[i]);
}

TEST_F(fd, alive_table_is_readable_by_anyone)
{
	const struct xlane_fd_table *t = table(&self->h[1]);
	pid_t pid;
	int st;

	ASSERT_NE(NULL, t);
	EXPECT_EQ(XLANE_FD_TABLE_MAGIC, t->magic);
	EXPECT_EQ(1, t->active);
	EXPECT_EQ(HOSTS - 1, t->npeers);
	EXPECT_EQ((__u64)T_US * 1000, t->period_ns);
	EXPECT_LT(0, t->beats_tx);
	EXPECT_LT(0, t->beats_rx);
	/*
	 * Whether a peer was suspected since it joined depends here on how long
	 * the host held a vCPU (L is 50 ms; a CI run saw one suspicion and its
	 * recovery): no_false_suspicion_over_a_quiet_run checks that, with an
	 * L fit for emulation. This table must show the peer alive.
	 */
	EXPECT_TRUE(t->peers[0].state == XLANE_FD_JOINED ||
		    t->peers[0].state == XLANE_FD_RECOVERED)
		TH_LOG("peer state %u, %llu suspicions", t->peers[0].state,
		       (unsigned long long)t->suspicions);
	EXPECT_LT(0, t->peers[0].beats);
	EXPECT_LT(0, t->peers[0].last_latency_ns);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = xl_open(1);
		void *p;

		if (fd < 0 || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		p = mmap(NULL, sizeof(struct xlane_fd_table), PROT_READ, MAP_SHARED, fd,
			 XLANE_MMAP_FD_TABLE);
		if (p == MAP_FAILED || ((struct xlane_fd_table *)p)->npeers != HOSTS - 1)
			_exit(11);
		if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 XLANE_MMAP_FD_TABLE) != MAP_FAILED)
			_exit(12);
		if (mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(fd, one_detector_per_namespace_and_bad_groups)
{
	struct xlane_fd_start st = { .group = inet_addr("239.1.1.1"), .period_us = T_US,
				     .threshold_us = L_US };
	int other = xl_open(1);

	ASSERT_LE(0, other);
	EXPECT_EQ(-1, ioctl(other, XLANE_IOC_FD_START, &st));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, ioctl(other, XLANE_IOC_FD_STOP));
	EXPECT_EQ(ENOENT, errno);
	close(other);
	other = xl_open(3);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioctl(self->h[3].fd, XLANE_IOC_FD_STOP));
	st.group = xl_ip(1);	/* not multicast */
	EXPECT_EQ(-1, ioctl(other, XLANE_IOC_FD_START, &st));
	EXPECT_EQ(EINVAL, errno);
	close(other);
}

static void expect_suspected(struct __test_metadata *_metadata, struct host *h,
			     int victim, __u64 since)
{
	struct xlane_fd_event ev;

	ASSERT_EQ(1, wait_event(h, node_of(victim), XLANE_FD_SUSPECTED, 3000, &ev));
	/* suspected T + L after its last heartbeat, not before, not much later */
	EXPECT_LE(ev.last_alive_ns + (T_US + L_US) * 1000ull, ev.ns);
	/* (plus the time the engine itself did not run, which it credits) */
	EXPECT_GE(ev.last_alive_ns + (T_US + L_US) * 1000ull + ev.credit_us * 1000ull +
		  SLACK_NS, ev.ns)
		TH_LOG("detected %llu ns after the last heartbeat, credit %u us",
		       (unsigned long long)(ev.ns - ev.last_alive_ns), ev.credit_us);
	/* and within T + L of the failure, plus one period of heartbeat */
	EXPECT_GE(since + (2 * T_US + L_US) * 1000ull + ev.credit_us * 1000ull + SLACK_NS,
		  ev.ns);
}

/* Heartbeats alive table @t counts from host @n; 0 if @n is not a peer. */
static __u64 beats_from(const struct xlane_fd_table *t, int n)
{
	__u32 i;

	for (i = 0; i < t->npeers && i < XLANE_FD_MAX_PEERS; i++)
		if (t->peers[i].node == node_of(n))
			return *(volatile const __u64 *)&t->peers[i].beats;
	return 0;
}

TEST_F(fd, stopped_application_is_suspected_and_recovers)
{
	const struct xlane_fd_table *t3 = table(&self->h[3]);
	__u64 t0, from1, from2;
	int i;

	ASSERT_NE(NULL, t3);
	from1 = beats_from(t3, 1);
	from2 = beats_from(t3, 2);
	atomic_store(&self->h[3].paused, 1);
	t0 = xl_now_ns();
	expect_suspected(_metadata, &self->h[1], 3, t0);
	expect_suspected(_metadata, &self->h[2], 3, t0);
	/*
	 * Host 3 still hears the others while its application is stopped:
	 * its engine keeps counting their heartbeats. (Whether it also never
	 * suspects them over these ~60 ms depends under emulation on how long
	 * the host holds their vCPUs, L being 50 ms here: a CI run saw host 1
	 * suspected once. no_false_suspicion_over_a_quiet_run checks that with
	 * an L fit for emulation.) Each peer beats every T = 5 ms, a dozen
	 * since the pause by now; ask for three, waiting up to 1 s for a
	 * stalled vCPU.
	 */
	for (i = 0; i < 1000 && (beats_from(t3, 1) < from1 + 3 ||
				beats_from(t3, 2) < from2 + 3); i++)
		usleep(1000);
	EXPECT_LE(from1 + 3, beats_from(t3, 1));
	EXPECT_LE(from2 + 3, beats_from(t3, 2));
	atomic_store(&self->h[3].paused, 0);
	EXPECT_EQ(1, wait_event(&self->h[1], node_of(3), XLANE_FD_RECOVERED, 3000, NULL));
	EXPECT_EQ(1, wait_event(&self->h[2], node_of(3), XLANE_FD_RECOVERED, 3000, NULL));
	munmap((void *)t3, sizeof(*t3));
}

TEST_F(fd, cut_host_is_suspected_and_recovers)
{
	__u64 t0;

	ASSERT_EQ(0, xsel_sh("ip -n xlsw link set sw2 down"));
	t0 = xl_now_ns();
	expect_suspected(_metadata, &self->h[1], 2, t0);
	expect_suspected(_metadata, &self->h[3], 2, t0);
	ASSERT_EQ(0, xsel_sh("ip -n xlsw link set sw2 up"));
	EXPECT_EQ(1, wait_event(&self->h[1], node_of(2), XLANE_FD_RECOVERED, 5000, NULL));
	EXPECT_EQ(1, wait_event(&self->h[3], node_of(2), XLANE_FD_RECOVERED, 5000, NULL));
}

/* Restarts host @h's X-FD with threshold @l_us; the liveness thread follows. */
static int host_restart(struct host *h, __u32 l_us)
{
	atomic_store(&h->stop, 1);
	pthread_join(h->live, NULL);
	h->live = 0;
	if (ioctl(h->fd, XLANE_IOC_FD_STOP))
		return -1;
	h->st.threshold_us = l_us;
	if (ioctl(h->fd, XLANE_IOC_FD_START, &h->st))
		return -1;
	h->counter = (_Atomic __u64 *)((char *)h->area + h->st.counter_off);
	xl_cons(&h->events, h->area, h->st.events_off);
	atomic_store(&h->stop, 0);
	return pthread_create(&h->live, NULL, liveness, h);
}

/*
 * No false suspicion while nothing fails. Under emulation a vCPU can be
 * held by the host for hundreds of ms (the engine counts its own stalls in
 * engine_stalls; an application's liveness thread stalls the same way and
 * then looks stopped, rightly), so this run uses L = 1 s. Accuracy against
 * L, under CPU stress and cross-traffic, is measured by make bench-xlane.
 */
TEST_F_TIMEOUT(fd, no_false_suspicion_over_a_quiet_run, 120)
{
	const struct xlane_fd_table *t[HOSTS + 1];
	__u64 rx0 = 0, rx = 0, susp = 0;
	struct xlane_info in;
	int i;

	for (i = 1; i <= HOSTS; i++)
		ASSERT_EQ(0, host_restart(&self->h[i], 1000000));
	usleep(500000);
	/* the table's counters live as long as the namespace: take deltas */
	for (i = 1; i <= HOSTS; i++) {
		t[i] = table(&self->h[i]);
		ASSERT_NE(NULL, t[i]);
		rx0 += t[i]->beats_rx;
		susp -= t[i]->suspicions;
	}
	sleep(20);
	for (i = 1; i <= HOSTS; i++) {
		rx += t[i]->beats_rx;
		susp += t[i]->suspicions;
	}
	ASSERT_EQ(0, xl_info(self->h[1].fd, &in));
	TH_LOG("%llu heartbeats received, %llu suspicions; engine: %llu stalls, longest %llu us",
	       (unsigned long long)(rx - rx0), (unsigned long long)susp,
	       (unsigned long long)in.engine_stalls,
	       (unsigned long long)in.engine_max_stall_ns / 1000);
	EXPECT_EQ(0, susp);
	/* six directed pairs, one beat per T each, over 20 s: most of them */
	EXPECT_LT(6ull * 20 * 1000000 / T_US / 2, rx - rx0);
}

XL_TEST_MAIN(HOSTS)
