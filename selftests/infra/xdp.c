// SPDX-License-Identifier: GPL-2.0
/*
 * The eBPF toolchain end to end: canaryctl (C++, libbpf skeleton of
 * bpf/canary_xdp.bpf.c, CO-RE against the built kernel's BTF) attaches an
 * XDP program to a veth between two network namespaces and counts exactly
 * the UDP packets sent across; detach leaves nothing behind.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xsel.h"

#define NS_A "xsel_xa"
#define NS_B "xsel_xb"
#define ADDR_B "10.199.0.2"

static const char *ctl(void)
{
	return xsel_path("%s/build/userspace/bin/canaryctl", xsel_root());
}

/* Send @n UDP datagrams from inside namespace @ns. */
static int send_udp_from(const char *ns, const char *dst, int port, int n)
{
	int st, pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		char path[128];
		int nsfd, s, i;

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		nsfd = open(path, O_RDONLY);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
			_exit(2);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		sin.sin_port = htons(port);
		inet_pton(AF_INET, dst, &sin.sin_addr);
		for (i = 0; i < n; i++)
			if (sendto(s, "canary", 6, 0, (void *)&sin, sizeof(sin)) != 6)
				_exit(3);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long long json_u64(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	return strtoll(p, NULL, 10);
}

FIXTURE(veth) {
};

FIXTURE_SETUP(veth)
{
	struct stat st;

	ASSERT_EQ(0, stat(ctl(), &st)) TH_LOG("%s not built (make userspace)", ctl());
	xsel_sh("ip netns del " NS_A " 2>/dev/null; ip netns del " NS_B " 2>/dev/null");
	ASSERT_EQ(0, xsel_sh(
		"ip netns add " NS_A " && ip netns add " NS_B " && "
		"ip link add va netns " NS_A " type veth peer name vb netns " NS_B " && "
		"ip -n " NS_A " addr add 10.199.0.1/24 dev va && "
		"ip -n " NS_B " addr add " ADDR_B "/24 dev vb && "
		"ip -n " NS_A " link set va up && ip -n " NS_B " link set vb up && "
		"ip -n " NS_A " link set lo up && ip -n " NS_B " link set lo up"));
	/* resolve ARP once so the counted burst is only UDP */
	send_udp_from(NS_A, ADDR_B, 9, 1);
	usleep(200000);
}

FIXTURE_TEARDOWN(veth)
{
	xsel_sh("%s -n " NS_B " xdp detach dev vb >/dev/null 2>&1", ctl());
	xsel_sh("ip netns del " NS_A "; ip netns del " NS_B);
}

TEST_F(veth, counts_exactly_the_udp_sent)
{
	char out[1024];

	ASSERT_EQ(0, xsel_sh("%s -n " NS_B " xdp attach dev vb", ctl()));
	ASSERT_EQ(0, send_udp_from(NS_A, ADDR_B, 9999, 100));
	usleep(200000);
	ASSERT_EQ(0, xsel_capture(out, sizeof(out),
				  "%s xdp stats dev vb --json", ctl()));
	TH_LOG("stats: %s", out);
	EXPECT_EQ(100, json_u64(out, "udp_packets"));
	EXPECT_GE(json_u64(out, "packets"), 100);
	EXPECT_GE(json_u64(out, "bytes"), 100 * (14 + 20 + 8 + 6));

	ASSERT_EQ(0, xsel_sh("%s -n " NS_B " xdp detach dev vb", ctl()));
	EXPECT_NE(0, xsel_sh("%s xdp stats dev vb >/dev/null 2>&1", ctl()));
	ASSERT_EQ(0, xsel_capture(out, sizeof(out), "%s xdp list --json", ctl()));
	EXPECT_EQ(NULL, strstr(out, "\"vb\""));
	/* and the interface no longer carries an XDP program */
	ASSERT_EQ(0, xsel_capture(out, sizeof(out), "ip -n " NS_B " link show dev vb"));
	EXPECT_EQ(NULL, strstr(out, "xdp"));
}

TEST_F(veth, double_attach_refused)
{
	ASSERT_EQ(0, xsel_sh("%s -n " NS_B " xdp attach dev vb", ctl()));
	EXPECT_NE(0, xsel_sh("%s -n " NS_B " xdp attach dev vb 2>/dev/null",
			     ctl()));
	/* the first attachment still counts */
	ASSERT_EQ(0, send_udp_from(NS_A, ADDR_B, 9999, 5));
	usleep(200000);
	EXPECT_EQ(0, xsel_sh("%s xdp stats dev vb | grep -q 'udp 5'", ctl()));
}

TEST_F(veth, bad_device_fails_cleanly)
{
	struct stat st;

	EXPECT_NE(0, xsel_sh("%s xdp attach dev nosuchdev 2>/dev/null", ctl()));
	EXPECT_NE(0, stat("/sys/fs/bpf/canary/nosuchdev", &st));
	EXPECT_NE(0, xsel_sh("%s xdp detach dev nosuchdev 2>/dev/null", ctl()));
	EXPECT_NE(0, xsel_sh("%s xdp frobnicate 2>/dev/null", ctl()));
	EXPECT_NE(0, xsel_sh("%s -n nosuchns xdp attach dev vb 2>/dev/null", ctl()));
	EXPECT_NE(0, stat("/sys/fs/bpf/canary/vb", &st));
}

TEST_HARNESS_MAIN
