/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between bpf/xlane_prio.bpf.c and whatever configures it
 * (scripts/xlane-topo.sh writes the map with bpftool, byte by byte, so keep
 * the layout fixed and little-endian friendly).
 *
 * "xlane_prio_cfg": array map, one entry (key 0). A zero field takes the
 * default, so the program works without any configuration.
 *
 * "xlane_prio_stats": per-CPU array map, XLANE_PRIO_NR_STATS entries of
 * __u64 (packets), indexed by enum xlane_prio_stat.
 */
#ifndef XSEL_XLANE_PRIO_H
#define XSEL_XLANE_PRIO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XLANE_PRIO_DEFAULT_PORT	7400	/* XLANE_DEFAULT_PORT of <uapi/xlane.h> */
#define XLANE_PRIO_DEFAULT_DSCP	46	/* EF: IPv4 tos / IPv6 tclass 0xb8 */

/* prio qdisc bands (the class minor is band + 1: 1:1, 1:2, 1:3). */
#define XLANE_PRIO_BAND_LANE	0
#define XLANE_PRIO_BAND_OTHER	1

struct xlane_prio_cfg {
	__u16 port;	/* UDP destination port of lane traffic (host order), 0: 7400 */
	__u8 dscp;	/* DSCP that also selects band 0, 0: 46 (EF) */
	__u8 flags;	/* XLANE_PRIO_F_* */
};

#define XLANE_PRIO_F_NO_DSCP	0x01	/* ignore the DSCP, classify by port only */

enum xlane_prio_stat {
	XLANE_PRIO_ST_PORT = 0,	/* band 0: UDP to the lane port */
	XLANE_PRIO_ST_DSCP,	/* band 0: DSCP match (not the lane port) */
	XLANE_PRIO_ST_OTHER,	/* band 1 */
	XLANE_PRIO_NR_STATS,
};

#endif /* XSEL_XLANE_PRIO_H */
