/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between bpf/xlane_rx.bpf.c and userspace/tools/xlanectl.cpp.
 *
 * Layout of one value of the per-CPU array map "xlane_rx_stats" (one entry,
 * key 0). User space sums the values of all possible CPUs.
 */
#ifndef XSEL_XLANE_RX_H
#define XSEL_XLANE_RX_H

#ifndef __VMLINUX_H__
/* User space (C or C++); BPF code gets __u64 from vmlinux.h. */
#include <linux/types.h>
#endif

struct xlane_rx_counters {
	__u64 seen;	/* every packet the program ran for */
	__u64 lane;	/* UDP to the lane port: handed to the module */
	__u64 passed;	/* everything else, passed on unchanged */
};

#endif /* XSEL_XLANE_RX_H */
