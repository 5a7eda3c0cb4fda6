/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the X-Lane kselftests: the module, the test topology
 * (scripts/xlane-topo.sh: hosts xl1..xlN around a switch namespace), the
 * XDP receive program, and /dev/xlane sessions opened inside a host
 * namespace. The tests talk to the module through its user API
 * (uapi/xlane.h) and the shared cores (ring.h, codec.h), as libxlane does.
 */
#ifndef XLANE_LIB_H
#define XLANE_LIB_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "xsel.h"
#include "uapi/xlane.h"
#include "xlane/codec.h"
#include "xlane/model.h"
#include "xlane/ring.h"

#define XL_DEV "/dev/xlane"

static inline int xl_loaded(void)
{
	struct stat st;

	return stat("/sys/module/xlane", &st) == 0;
}

/*
 * rmmod xlane. A detached XDP program lets go of the module only after a
 * grace period, so an rmmod right after the last user went away can find
 * it still in use: retry for up to 5 s. 0 once it is not loaded.
 */
static inline int xl_unload(void)
{
	int i;

	for (i = 0; i < 50 && xl_loaded(); i++)
		if (xsel_sh("rmmod xlane 2>/dev/null"))
			usleep(100000);
	return xl_loaded() ? -1 : 0;
}

/*
 * insmod xlane.ko with module parameters @params ($XSEL_MODULES names
 * another module tree); nothing if it is loaded already.
 */
static inline int xl_load_with(const char *params)
{
	int i;

	if (!xl_loaded() &&
	    xsel_sh("insmod %s/xlane/xlane.ko %s", xsel_modules(), params))
		return -1;
	for (i = 0; i < 100 && access(XL_DEV, F_OK); i++)
		usleep(10000);
	return access(XL_DEV, F_OK);
}

static inline int xl_load(void)
{
	return xl_load_with("");
}

/* The XDP receive program on (1) or off (0) every host's eth0. */
static inline int xl_xdp(int n, int on)
{
	int i, err = 0;

	for (i = 1; i <= n; i++) {
		if (on)
			err |= xsel_sh("ip netns exec xl%d ip link set dev eth0 xdpgeneric obj %s/build/bpf/xlane_rx.bpf.o sec xdp",
				       i, xsel_root());
		else
			xsel_sh("ip netns exec xl%d ip link set dev eth0 xdpgeneric off 2>/dev/null", i);
	}
	return err ? -1 : 0;
}

/*
 * Hosts xl1..xl<n> and the switch, the module, the XDP program: set up
 * once per test binary (building the topology takes tens of seconds
 * under emulation), by main() before the harness runs the tests.
 */
static inline int xl_world_up(int n)
{
	xl_xdp(8, 0);
	if (xl_unload() || xl_load())
		return -1;
	if (xsel_sh("%s/scripts/xlane-topo.sh up %d >/dev/null", xsel_root(), n))
		return -1;
	return xl_xdp(n, 1);
}

static inline void xl_world_down(int n)
{
	xl_xdp(n, 0);
	xsel_sh("%s/scripts/xlane-topo.sh down >/dev/null 2>&1", xsel_root());
	xl_unload();
}

/* main() of an X-Lane test binary: the world around the harness. */
#define XL_TEST_MAIN(hosts)						\
	int main(int argc, char **argv)					\
	{								\
		int ret;						\
									\
		if (xl_world_up(hosts)) {				\
			printf("Bail out! X-Lane test world did not come up\n"); \
			xl_world_down(hosts);				\
			return 1;					\
		}							\
		ret = test_harness_run(argc, argv);			\
		xl_world_down(hosts);					\
		return ret;						\
	}


/* Runs the calling thread in host namespace xl<host> (0: back to init's). */
static inline int xl_enter(int host)
{
	char path[64];
	int fd, err;

	if (host)
		snprintf(path, sizeof(path), "/var/run/netns/xl%d", host);
	else
		snprintf(path, sizeof(path), "/proc/1/ns/net");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	return err;
}

/* A /dev/xlane session of host xl<host>. */
static inline int xl_open(int host)
{
	int fd;

	if (xl_enter(host))
		return -1;
	fd = open(XL_DEV, O_RDWR | O_CLOEXEC);
	xl_enter(0);
	return fd;
}

static inline __be32 xl_ip(int host)
{
	char s[32];

	snprintf(s, sizeof(s), "10.77.0.%d", host);
	return inet_addr(s);
}

/* Attach host xl<host>'s instance to its eth0 with the default path. */
static inline int xl_attach(int fd, int host)
{
	struct xlane_attach a = {};

	if (xl_enter(host))
		return -1;
	a.ifindex = if_nametoindex("eth0");
	xl_enter(0);
	if (!a.ifindex)
		return -1;
	return ioctl(fd, XLANE_IOC_ATTACH, &a);
}

static inline void *xl_map(int fd)
{
	void *p = mmap(NULL, XLANE_AREA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline int xl_request(int fd, struct xlane_lane_req *r, __u32 loadsize,
			     __u32 period_us, __be32 ip, __u16 port, __u8 prio)
{
	memset(r, 0, sizeof(*r));
	r->req.loadsize = loadsize;
	r->req.period_us = period_us;
	r->req.ip = ip;
	r->req.port = port;
	r->req.prio = prio;
	return ioctl(fd, XLANE_IOC_LANE_REQUEST, r);
}

/* The R-X ring of a lane, as a producer. */
static inline void xl_prod(struct xlane_prod *p, void *area, __u64 off)
{
	struct xlane_ring *r = (struct xlane_ring *)((char *)area + off);

	xlane_prod_init(p, r, r->slots, r->slot_size);
}

static inline void xl_cons(struct xlane_cons *c, void *area, __u64 off)
{
	struct xlane_ring *r = (struct xlane_ring *)((char *)area + off);

	xlane_cons_init(c, r, r->slots, r->slot_size);
}

static inline int xl_info(int fd, struct xlane_info *in)
{
	return ioctl(fd, XLANE_IOC_INFO, in);
}

/* Next upcall within @ms; 1 with *ev, 0 on timeout. */
static inline int xl_next_event(int fd, struct xlane_event *ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return read(fd, ev, sizeof(*ev)) == sizeof(*ev);
}

static inline __u64 xl_now_ns(void)
{
	return xsel_now_ns();
}

#endif /* XLANE_LIB_H */
