// SPDX-License-Identifier: GPL-2.0
/*
 * X-Lane lanes end to end: privileges, attach errors, admission and its
 * upcalls, data through the engine, the switch and the XDP receive path,
 * policing, corrupted and forged packets, dead readers, detach and unload,
 * and a polling engine that leaves its CPU to other runnable tasks.
 * Hosts xl1..xl3 around the switch namespace (scripts/xlane-topo.sh).
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "kselftest_harness.h"
#include "xlane_lib.h"

#define PORT 9000

FIXTURE(lanes) {
	int h1, h2;
	void *a1, *a2;
};

/* Sessions of hosts 1 and 2, attached, their areas mapped: 0, or -1. */
static int open_sessions(FIXTURE_DATA(lanes) *self)
{
	self->h1 = xl_open(1);
	self->h2 = xl_open(2);
	if (self->h1 < 0 || self->h2 < 0 ||
	    xl_attach(self->h1, 1) || xl_attach(self->h2, 2))
		return -1;
	self->a1 = xl_map(self->h1);
	self->a2 = xl_map(self->h2);
	return self->a1 && self->a2 ? 0 : -1;
}

FIXTURE_SETUP(lanes)
{
	ASSERT_EQ(0, open_sessions(self));
}

FIXTURE_TEARDOWN(lanes)
{
	if (self->a1)
		munmap(self->a1, XLANE_AREA_SIZE);
	if (self->a2)
		munmap(self->a2, XLANE_AREA_SIZE);
	if (self->h1 >= 0)
		ioctl(self->h1, XLANE_IOC_DETACH);
	if (self->h2 >= 0)
		ioctl(self->h2, XLANE_IOC_DETACH);
	close(self->h1);
	close(self->h2);
}

TEST_F(lanes, unprivileged_reads_but_cannot_change)
{
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (!pid) {
		struct xlane_lane_req r;
		struct xlane_info in;
		int fd = xl_open(1);

		if (fd < 0 || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (xl_info(fd, &in) || !in.attached)
			_exit(11);
		if (xl_request(fd, &r, 64, 1000, xl_ip(2), PORT, 0) != -1 || errno != EPERM)
			_exit(12);
		if (ioctl(fd, XLANE_IOC_DETACH) != -1 || errno != EPERM)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(lanes, attach_errors_leave_things_as_they_were)
{
	struct xlane_attach a = { .ifindex = 9999 };
	struct xlane_lane_req r;
	struct xlane_info in;
	int h3 = xl_open(3);

	ASSERT_LE(0, h3);
	EXPECT_EQ(-1, ioctl(h3, XLANE_IOC_ATTACH, &a));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, xl_request(h3, &r, 64, 1000, xl_ip(1), PORT, 0));
	EXPECT_EQ(ENETDOWN, errno);
	EXPECT_EQ(-1, ioctl(h3, XLANE_IOC_DETACH));
	EXPECT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, xl_info(h3, &in));
	EXPECT_EQ(0, in.attached);
	/* a path the model rejects */
	EXPECT_EQ(0, xl_attach(h3, 3));
	a.ifindex = 0;
	a.share_pct = 101;
	EXPECT_EQ(-1, ioctl(h3, XLANE_IOC_ATTACH, &a));
	ioctl(h3, XLANE_IOC_DETACH);
	close(h3);
}

TEST_F(lanes, admission_refuses_what_the_path_cannot_carry)
{
	struct xlane_lane_req r, r2, big;
	struct xlane_event ev;

	/* 1 Gbit/s, half for X-Lane: 1400 B every 10 us is 1.2 Gbit/s */
	EXPECT_EQ(-1, xl_request(self->h1, &big, 1400, 10, xl_ip(2), PORT, 0));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(XLANE_NO_BANDWIDTH, big.refusal);
	/* the engine costs tx_ns (20 us by default) per packet: 50 us periods
	 * would take 40% each, two of them more than the engine's 50% */
	ASSERT_EQ(0, xl_request(self->h1, &r, 64, 50, xl_ip(2), PORT, 1));
	EXPECT_EQ(-1, xl_request(self->h1, &r2, 64, 50, xl_ip(2), PORT, 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(XLANE_NO_ENGINE, r2.refusal);
	EXPECT_EQ(0, ioctl(self->h1, XLANE_IOC_LANE_RELEASE, &r.lane));

	/* grants: a bound on latency and jitter; a second lane of the same
	 * priority widens the first one's jitter, and its owner is told */
	ASSERT_EQ(0, xl_request(self->h1, &r, 64, 1000, xl_ip(2), PORT, 0));
	EXPECT_EQ(64, r.res.loadsize);
	EXPECT_EQ(1000, r.res.period_us);
	EXPECT_LT(0, r.res.min_latency_ns);
	EXPECT_LT(0, r.res.max_jitter_ns);
	EXPECT_LT(r.res.max_jitter_ns, 1000000);
	ASSERT_EQ(0, xl_request(self->h2, &r2, 64, 1000, xl_ip(1), PORT, 0));
	/* h2's lane is in another namespace: h1 is not affected */
	EXPECT_EQ(0, xl_next_event(self->h1, &ev, 100));
	ASSERT_EQ(0, xl_request(self->h1, &r2, 64, 1000, xl_ip(3), PORT, 0));
	EXPECT_GT(r2.res.max_jitter_ns, r.res.max_jitter_ns);
	ASSERT_EQ(1, xl_next_event(self->h1, &ev, 1000));
	EXPECT_EQ(XLANE_EV_CHANGED, ev.type);
	EXPECT_EQ(r.lane, ev.lane);
	EXPECT_EQ(XLANE_REASON_TE, ev.reason);
	EXPECT_GT(ev.res.max_jitter_ns, r.res.max_jitter_ns);
	/* a lower-priority lane costs the first one only one packet */

	/* change: a bigger load, then one the path cannot carry */
	r.req.loadsize = 128;
	ASSERT_EQ(0, ioctl(self->h1, XLANE_IOC_LANE_CHANGE, &r));
	EXPECT_EQ(128, r.res.loadsize);
	r.req.loadsize = 1400;
	r.req.period_us = 10;
	EXPECT_EQ(-1, ioctl(self->h1, XLANE_IOC_LANE_CHANGE, &r));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(128, r.res.loadsize);
	r.lane = 4242;
	EXPECT_EQ(-1, ioctl(self->h1, XLANE_IOC_LANE_CHANGE, &r));
	EXPECT_EQ(ENOENT, errno);
	/* bad requests */
	EXPECT_EQ(-1, xl_request(self->h1, &big, 0, 1000, xl_ip(2), PORT, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xl_request(self->h1, &big, 64, 1000, xl_ip(2), PORT, 9));
	EXPECT_EQ(EINVAL, errno);
}

static int listen_port(int fd, __u16 port, __u32 slots, struct xlane_listen *l)
{
	memset(l, 0, sizeof(*l));
	l->port = port;
	l->slots = slots;
	l->max_len = 256;
	return ioctl(fd, XLANE_IOC_LISTEN, l);
}

/*
 * Send @n numbered messages from @h1 to a listener of @h2, one per period,
 * and check each on arrival: in order, from host 1, on the lane, with a
 * receive timestamp after its send timestamp. Return: how many arrived
 * whole and in order within 20 s, or -1 if the lane or listener could not
 * be set up (errno set).
 */
static int send_in_order(int h1, void *a1, int h2, void *a2, int n)
{
	struct xlane_lane_req r;
	struct xlane_listen l;
	struct xlane_prod p;
	struct xlane_cons c;
	char msg[64], want[64];
	int sent = 0, got = 0;
	__u64 deadline;

	if (listen_port(h2, PORT, 256, &l) ||
	    xl_request(h1, &r, 256, 1000, xl_ip(2), PORT, 0))
		return -1;
	xl_prod(&p, a1, r.ring_off);
	xl_cons(&c, a2, l.ring_off);
	deadline = xl_now_ns() + 20ull * 1000000000ull;
	while (got < n && xl_now_ns() < deadline) {
		const struct xlane_rx_msg *m;
		__u32 len, type;

		/* one message per period: the grant */
		if (sent < n && xlane_prod_used(&p) == 0) {
			snprintf(msg, sizeof(msg), "message %d", sent);
			if (!xlane_prod_push(&p, msg, strlen(msg) + 1, 0))
				sent++;
		}
		while ((m = xlane_cons_peek(&c, &len, &type))) {
			snprintf(want, sizeof(want), "message %d", got);
			if (type != XLANE_MSG_DATA || len != sizeof(*m) + m->len ||
			    strcmp(want, (const char *)(m + 1)) ||
			    m->src_ip != xl_ip(1) || m->lane != r.lane ||
			    m->tx_ns >= m->rx_ns ||
			    m->rx_ns - m->tx_ns >= 1000000000ull) {
				fprintf(stderr, "# message %d: type %u len %u src %#x lane %u tx %llu rx %llu\n",
					got, type, len, m->src_ip, m->lane,
					(unsigned long long)m->tx_ns,
					(unsigned long long)m->rx_ns);
				return got;
			}
			xlane_cons_release(&c);
			got++;
		}
		usleep(200);
	}
	return got;
}

TEST_F(lanes, messages_arrive_in_order_with_timestamps)
{
	struct xlane_listen l;
	struct xlane_info in;

	ASSERT_EQ(200, send_in_order(self->h1, self->a1, self->h2, self->a2, 200));
	/* one listener per port */
	EXPECT_EQ(-1, listen_port(self->h2, PORT, 256, &l));
	EXPECT_EQ(EADDRINUSE, errno);
	ASSERT_EQ(0, xl_info(self->h2, &in));
	EXPECT_LE(200, in.rx_packets);
	EXPECT_EQ(0, in.rx_bad);
	ASSERT_EQ(0, xl_info(self->h1, &in));
	EXPECT_LE(200, in.tx_packets);
	EXPECT_EQ(0, in.tx_errors);
}

/* Drop the fixture's holds on the module: mappings, sessions, XDP. */
static void let_go(FIXTURE_DATA(lanes) *self)
{
	munmap(self->a1, XLANE_AREA_SIZE);
	munmap(self->a2, XLANE_AREA_SIZE);
	self->a1 = self->a2 = NULL;
	close(self->h1);
	close(self->h2);
	self->h1 = self->h2 = -1;
	xl_xdp(3, 0);
}

/* Reload the module with @params and open the fixture's sessions again. */
static int reload(FIXTURE_DATA(lanes) *self, const char *params)
{
	let_go(self);
	if (xl_unload() || xl_load_with(params) || xl_xdp(3, 1))
		return -1;
	return open_sessions(self);
}

/* poll=0: the engine sleeps on its hrtimer between rounds; lanes still run. */
TEST_F(lanes, sleeping_engine_carries_messages)
{
	struct xlane_info in;
	int got;

	ASSERT_EQ(0, reload(self, "poll=0"));
	ASSERT_EQ(0, xl_info(self->h1, &in));
	EXPECT_EQ(0, in.engine_flags & XLANE_ENGINE_POLL);
	got = send_in_order(self->h1, self->a1, self->h2, self->a2, 100);
	/* back to the default for the tests that follow */
	ASSERT_EQ(0, reload(self, ""));
	EXPECT_EQ(100, got);
}

TEST_F(lanes, sender_over_its_grant_is_policed_and_told)
{
	struct xlane_lane_info info[4];
	struct xlane_lanes ls = { .count = 4, .lanes = (__u64)(unsigned long)info };
	struct xlane_lane_req r;
	struct xlane_listen l;
	struct xlane_prod p;
	struct xlane_event ev;
	char big[300] = "x", small[16] = "y";
	int i, seen = 0;

	ASSERT_EQ(0, listen_port(self->h2, PORT, 256, &l));
	ASSERT_EQ(0, xl_request(self->h1, &r, 64, 10000, xl_ip(2), PORT, 0));
	xl_prod(&p, self->a1, r.ring_off);
	/* larger than the grant: never sent */
	ASSERT_EQ(0, xlane_prod_push(&p, big, sizeof(big), 0));
	/* a burst of 10 in one period: two fit in 64 chunk bytes (28 each) */
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, xlane_prod_push(&p, small, sizeof(small), 0));
	while (xl_next_event(self->h1, &ev, 3000)) {
		if (ev.type == XLANE_EV_CHANGED && ev.reason == XLANE_REASON_BW_EXCEEDED &&
		    ev.lane == r.lane) {
			seen = 1;
			break;
		}
	}
	EXPECT_TRUE(seen);
	usleep(50000);
	ASSERT_EQ(0, ioctl(self->h1, XLANE_IOC_LANES, &ls));
	ASSERT_EQ(1, ls.count);
	EXPECT_EQ(r.lane, info[0].lane);
	EXPECT_EQ(getpid(), info[0].owner_pid);
	EXPECT_EQ(2, info[0].msgs);
	EXPECT_EQ(9, info[0].policed);
}

/* Sends raw UDP payloads to host 2's lane port from host 3. */
static int send_raw(const void *buf, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(XLANE_DEFAULT_PORT) };
	int s, n;

	to.sin_addr.s_addr = xl_ip(2);
	if (xl_enter(3))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	xl_enter(0);
	if (s < 0)
		return -1;
	n = sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	close(s);
	return n == (int)len ? 0 : -1;
}

static __u32 build(unsigned char *buf, __u32 node, const char *text)
{
	struct xlane_enc e;

	xlane_enc_begin(&e, buf, XLANE_WIRE_MAX, node, 7, 1);
	xlane_enc_chunk(&e, XLANE_SVC_DATA, PORT, text, strlen(text) + 1);
	return xlane_enc_finish(&e, xl_now_ns());
}

TEST_F(lanes, corrupted_and_forged_packets_are_dropped_and_counted)
{
	struct xlane_info before, after;
	struct xlane_listen l;
	struct xlane_cons c;
	unsigned char buf[XLANE_WIRE_MAX];
	__u32 len, type, n;
	const struct xlane_rx_msg *m;
	int bit, flips = 0;

	ASSERT_EQ(0, listen_port(self->h2, PORT, 256, &l));
	xl_cons(&c, self->a2, l.ring_off);
	ASSERT_EQ(0, xl_info(self->h2, &before));

	/* every flipped bit in header or chunk is caught */
	n = build(buf, 3, "hello");
	for (bit = 0; bit < (int)n * 8; bit += 37, flips++) {
		buf[bit / 8] ^= 1 << (bit % 8);
		ASSERT_EQ(0, send_raw(buf, n));
		buf[bit / 8] ^= 1 << (bit % 8);
	}
	ASSERT_EQ(0, send_raw("garbage", 7));
	ASSERT_EQ(0, send_raw(buf, 20));	/* truncated */
	/* forged: claims the receiver's own node */
	n = build(buf, ntohl(xl_ip(2)), "forged");
	ASSERT_EQ(0, send_raw(buf, n));
	usleep(300000);
	ASSERT_EQ(0, xl_info(self->h2, &after));
	EXPECT_EQ(NULL, xlane_cons_peek(&c, &len, &type));
	/* each flip fails the header or a chunk check; then garbage, truncated */
	EXPECT_EQ(before.rx_bad + flips + 2, after.rx_bad)
		TH_LOG("rx_bad %llu -> %llu", before.rx_bad, after.rx_bad);
	EXPECT_EQ(before.rx_foreign + 1, after.rx_foreign);

	/* an intact packet to the lane port is delivered (CRCs are not
	 * authentication: the README says what X-Lane trusts) */
	n = build(buf, 3, "intact");
	ASSERT_EQ(0, send_raw(buf, n));
	usleep(300000);
	m = xlane_cons_peek(&c, &len, &type);
	ASSERT_NE(NULL, m);
	EXPECT_STREQ("intact", (const char *)(m + 1));
}

TEST_F(lanes, a_dead_reader_never_blocks_the_engine)
{
	struct xlane_lane_req r1, r3;
	struct xlane_listen dead, live;
	struct xlane_prod p1, p3;
	struct xlane_cons c;
	struct xlane_info in;
	int h3 = xl_open(3), got = 0, i;
	void *a3;

	ASSERT_LE(0, h3);
	ASSERT_EQ(0, xl_attach(h3, 3));
	a3 = xl_map(h3);
	ASSERT_NE(NULL, a3);
	/* port PORT is never read (8 slots); port PORT+1 is read */
	ASSERT_EQ(0, listen_port(self->h2, PORT, 8, &dead));
	ASSERT_EQ(0, listen_port(self->h2, PORT + 1, 256, &live));
	ASSERT_EQ(0, xl_request(self->h1, &r1, 64, 1000, xl_ip(2), PORT, 0));
	ASSERT_EQ(0, xl_request(h3, &r3, 64, 1000, xl_ip(2), PORT + 1, 0));
	xl_prod(&p1, self->a1, r1.ring_off);
	xl_prod(&p3, a3, r3.ring_off);
	xl_cons(&c, self->a2, live.ring_off);
	for (i = 0; i < 60; i++) {
		const void *m;
		__u32 len, type;

		xlane_prod_push(&p1, "to nobody", 10, 0);
		xlane_prod_push(&p3, "to someone", 11, 0);
		usleep(5000);
		while ((m = xlane_cons_peek(&c, &len, &type))) {
			xlane_cons_release(&c);
			got++;
		}
	}
	usleep(100000);
	while (xlane_cons_peek(&c, &(__u32){0}, &(__u32){0})) {
		xlane_cons_release(&c);
		got++;
	}
	EXPECT_EQ(60, got);
	ASSERT_EQ(0, xl_info(self->h2, &in));
	EXPECT_LE(60 - 8, in.rx_ring_full);
	munmap(a3, XLANE_AREA_SIZE);
	ioctl(h3, XLANE_IOC_DETACH);
	close(h3);
}

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

/*
 * A polling engine gives its CPU to any task that becomes runnable there
 * (single_task_running()), or per-CPU kworkers and ksoftirqd would starve.
 * A SCHED_FIFO loop that did not would leave a normal task only the fair
 * server's 50 ms per second: 200 ms of CPU would take 4 s.
 */
TEST_F(lanes, polling_engine_yields_its_cpu)
{
	struct xlane_info in;
	long long wall_ms;
	__u64 t0;
	pid_t pid;
	int st;

	ASSERT_EQ(0, xl_info(self->h1, &in));
	if (!(in.engine_flags & XLANE_ENGINE_POLL))
		SKIP(return, "the engine sleeps between rounds (poll=0, or no isolated CPU)");
	t0 = xl_now_ns();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(in.engine_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			_exit(10);
		while (cpu_ns() < 200000000ll)
			;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	wall_ms = (xl_now_ns() - t0) / 1000000;
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	TH_LOG("200 ms of CPU on the engine's CPU %u took %lld ms", in.engine_cpu, wall_ms);
	EXPECT_GT(2000, wall_ms);
}

TEST_F(lanes, detach_terminates_lanes_and_unload_waits_for_users)
{
	struct xlane_lane_req r;
	struct xlane_event ev;
	struct xlane_info in;

	ASSERT_EQ(0, xl_request(self->h1, &r, 64, 1000, xl_ip(2), PORT, 0));
	/* in use: sessions and XDP programs hold the module */
	EXPECT_NE(0, xsel_sh("rmmod xlane 2>/dev/null"));
	ASSERT_EQ(0, xl_info(self->h1, &in));
	EXPECT_EQ(1, in.lanes);

	ASSERT_EQ(0, ioctl(self->h1, XLANE_IOC_DETACH));
	ASSERT_EQ(1, xl_next_event(self->h1, &ev, 1000));
	EXPECT_EQ(XLANE_EV_TERMINATED, ev.type);
	EXPECT_EQ(r.lane, ev.lane);
	EXPECT_EQ(XLANE_REASON_DETACHED, ev.reason);
	ASSERT_EQ(0, xl_info(self->h1, &in));
	EXPECT_EQ(0, in.attached);
	EXPECT_EQ(0, in.lanes);
	EXPECT_EQ(-1, ioctl(self->h1, XLANE_IOC_LANE_RELEASE, &r.lane));
	EXPECT_EQ(ENOENT, errno);

	/* a lane of h2 still runs when its users go away: then unload */
	ASSERT_EQ(0, xl_request(self->h2, &r, 64, 1000, xl_ip(1), PORT, 0));
	let_go(self);
	EXPECT_EQ(0, xl_unload())
		TH_LOG("rmmod xlane failed for 5 s after the last user went away");
	/* back for the tests that follow */
	ASSERT_EQ(0, xl_load());
	ASSERT_EQ(0, xl_xdp(3, 1));
}

XL_TEST_MAIN(3)
