/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between bpf/canary_xdp.bpf.c and userspace/tools/canaryctl.cpp.
 *
 * Layout of one value of the per-CPU array map "canary_stats" (one entry,
 * key 0). User space sums the values of all possible CPUs.
 */
#ifndef XSEL_CANARY_XDP_H
#define XSEL_CANARY_XDP_H

#ifndef __VMLINUX_H__
/* User space (C or C++); BPF code gets __u64 from vmlinux.h. */
#include <linux/types.h>
#endif

struct canary_stats {
	__u64 packets;		/* every packet seen by the program */
	__u64 bytes;		/* bytes of those packets (linear part) */
	__u64 udp_packets;	/* IPv4 or IPv6 packets carrying a UDP header */
};

#endif /* XSEL_CANARY_XDP_H */
