/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * X-Lane user API: /dev/xlane.
 *
 * Every open file is a session of one process in one network namespace
 * (the opener's); the namespace's X-Lane instance is what its ioctls act
 * on, so several "hosts" (namespaces) share one machine and one engine.
 *
 * A session owns a shared area (mmap the file at offset 0, XLANE_AREA_SIZE
 * bytes unless XLANE_IOC_SESSION set another size before the first ring was
 * made) in which the module places the session's bridges: the R-X ring of
 * each of its lanes (the process produces messages, the engine sends them),
 * the X-R ring of each of its listeners (the module delivers received lane
 * messages) and the X-FD liveness counter and event ring. ioctls return
 * each ring's offset in the area; <xlane/ring.h> reads and writes them.
 *
 * The namespace's X-FD alive table is mapped read-only by any process at
 * offset XLANE_MMAP_FD_TABLE (struct xlane_fd_table).
 *
 * Upcalls (the paper's bandwidthChanged / bandwidthTerminated) are read()
 * from the session file as struct xlane_event records; poll() says when.
 *
 * Privilege: XLANE_IOC_ATTACH, XLANE_IOC_DETACH, lane requests, listeners
 * and X-FD need CAP_NET_ADMIN in the namespace's user namespace; reading
 * the instance, the lanes and the alive table needs nothing.
 */
#ifndef _UAPI_XLANE_H
#define _UAPI_XLANE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define XLANE_DEV_NAME		"xlane"
#define XLANE_DEFAULT_PORT	7400
#define XLANE_AREA_SIZE		0x100000u
#define XLANE_AREA_MAX		(64u << 20)
#define XLANE_MMAP_FD_TABLE	0x40000000ull
#define XLANE_UNBOUNDED		(-1)

/* Attach the namespace's instance to a device (re-attach changes the path). */
struct xlane_attach {
	__u32 ifindex;		/* device lane packets leave and arrive on */
	__be32 src_ip;		/* 0: the device's first IPv4 address */
	__u32 node_id;		/* 0: derived from src_ip */
	__u16 port;		/* UDP port of lane traffic; 0: XLANE_DEFAULT_PORT */
	__u16 rsvd;
	/* the path model (see <xlane/model.h>); 0 takes the default */
	__u64 link_bps;		/* default 1 Gbit/s */
	__u32 share_pct;	/* default 50 */
	__u32 links;		/* default 2 (host - switch - host) */
	__u32 hop_ns;		/* default 5000 */
	__u32 hop_jitter_ns;	/* default 2000 */
	__u32 tx_ns;		/* default: the engine's calibration at load */
	__u32 rx_ns;		/* default 2000 */
	__u32 engine_pct;	/* default 50 */
	__u32 mtu;		/* default 1514 */
};

/* struct request of the paper (List. 1). */
struct xlane_request {
	__u32 loadsize;		/* max chunk bytes per period */
	__u32 period_us;
	__be32 ip;		/* receiver: unicast or multicast IPv4 */
	__u16 port;		/* receiver's listener port (host order) */
	__u8 prio;		/* sub-lane: 0 (highest) .. 3 */
	__u8 flags;		/* XLANE_REQ_* */
};

#define XLANE_REQ_RECLAIM	0x01	/* may be slowed down when unused */

/* struct resources of the paper: what the controller granted. */
struct xlane_resources {
	__u32 loadsize;
	__u32 period_us;
	__s64 min_latency_ns;
	__s64 max_jitter_ns;	/* XLANE_UNBOUNDED if there is no bound */
};

/* XLANE_IOC_LANE_REQUEST / _CHANGE / _RELEASE */
struct xlane_lane_req {
	__u32 lane;		/* out (request), in (change, release) */
	__u32 slots;		/* in (request): R-X ring slots, 0: 64 */
	struct xlane_request req;
	struct xlane_resources res;	/* out */
	__u64 ring_off;		/* out: the lane's R-X ring in the area */
	__u32 refusal;		/* out on -ENOSPC: enum xlane_refusal */
	__u32 rsvd;
};

/* XLANE_IOC_LISTEN: deliver lane messages for `port` to an X-R ring. */
struct xlane_listen {
	__u16 port;
	__u16 rsvd;
	__u32 slots;		/* 0: 1024 */
	__u32 max_len;		/* payload bytes per message, 0: 256 */
	__u32 rsvd2;
	__u64 ring_off;		/* out */
};

/* One message in a listener's X-R ring (slot type XLANE_MSG_DATA). */
struct xlane_rx_msg {
	__u64 tx_ns;		/* sender's engine, CLOCK_MONOTONIC */
	__u64 rx_ns;		/* receiver's optimistic timestamp */
	__u64 seq;		/* sender lane's packet sequence */
	__u32 node;		/* sender node */
	__be32 src_ip;
	__u32 lane;		/* sender's lane id */
	__u16 port;
	__u16 len;		/* payload bytes after this struct */
};

#define XLANE_MSG_DATA		1

/* XLANE_IOC_FD_START: join the X-FD group of the namespace. */
struct xlane_fd_start {
	__be32 group;		/* IPv4 multicast group of the heartbeats */
	__u32 period_us;	/* T */
	__u32 threshold_us;	/* L: suspect a peer silent for T + L */
	__u32 slots;		/* event ring slots, 0: 256 */
	struct xlane_resources res;	/* out: the heartbeat lane's grant */
	__u32 lane;		/* out */
	__u32 rsvd;
	__u64 counter_off;	/* out: the __u64 liveness counter (R-X) */
	__u64 events_off;	/* out: the event ring (X-R) */
};

/* An X-FD event (slot type XLANE_MSG_FD_EVENT). */
struct xlane_fd_event {
	__u64 ns;		/* when the engine decided */
	__u64 last_alive_ns;	/* the peer's last heartbeat */
	__u32 node;
	__be32 ip;
	__u32 type;		/* XLANE_FD_* */
	__u32 credit_us;	/* engine stalls > L/2 not counted as silence */
};

#define XLANE_MSG_FD_EVENT	2

enum {
	XLANE_FD_JOINED = 1,	/* first heartbeat of a peer */
	XLANE_FD_SUSPECTED = 2,	/* no heartbeat for T + L */
	XLANE_FD_RECOVERED = 3,	/* heartbeats again */
};

#define XLANE_FD_MAX_PEERS	64
#define XLANE_FD_TABLE_MAGIC	0x58464454u	/* "XFDT" */

struct xlane_fd_peer {
	__u32 node;
	__be32 ip;
	__u32 state;		/* XLANE_FD_* of the last event */
	__u32 rsvd;
	__u64 last_alive_ns;	/* receiver timestamp of the last heartbeat */
	__u64 counter;		/* the peer application's liveness counter */
	__u64 beats;
	__u64 suspicions;
	__u64 last_latency_ns;	/* of the last heartbeat */
	__u64 max_latency_ns;
};

/* The alive table (X-R bridge, read-only, any process of the namespace). */
struct xlane_fd_table {
	__u32 magic;
	__u32 npeers;		/* entries in use, grows only */
	__u32 active;		/* X-FD runs in this namespace */
	__u32 self_node;
	__u64 period_ns;
	__u64 threshold_ns;
	__u64 beats_tx;
	__u64 beats_skipped;	/* periods without application progress */
	__u64 beats_rx;
	__u64 suspicions;
	__u64 recoveries;
	__u64 rsvd[7];
	struct xlane_fd_peer peers[XLANE_FD_MAX_PEERS];
};

/* An upcall (read() from the session). */
struct xlane_event {
	__u32 type;		/* XLANE_EV_* */
	__u32 lane;
	__u32 reason;		/* XLANE_REASON_* */
	__u32 rsvd;
	struct xlane_resources res;	/* the new grant (CHANGED) */
};

enum { XLANE_EV_CHANGED = 1, XLANE_EV_TERMINATED = 2 };
/* enum Reason of the paper, plus why a lane ended. */
enum { XLANE_REASON_TE = 0, XLANE_REASON_BW_EXCEEDED = 1, XLANE_REASON_BW_UNUSED = 2,
	XLANE_REASON_DETACHED = 3 };

/* xlane_info.engine_flags */
#define XLANE_ENGINE_POLL	0x1	/* polls between rounds (module parameter poll) */

/* XLANE_IOC_INFO: the namespace's instance and the engine. */
struct xlane_info {
	__u32 attached;
	__u32 ifindex;
	__be32 src_ip;
	__u32 node_id;
	__u16 port;
	__u16 engine_flags;	/* XLANE_ENGINE_* */
	__u32 engine_cpu;
	__u32 lanes;
	__u32 listeners;
	struct xlane_attach path;	/* the path model in use */
	__u64 tx_packets;
	__u64 tx_errors;
	__u64 rx_packets;	/* lane packets accepted */
	__u64 rx_chunks;
	__u64 rx_bad;		/* dropped: bad header or chunk check, short */
	__u64 rx_foreign;	/* dropped: not from a known sender / no listener */
	__u64 rx_ring_full;	/* messages lost on a full X-R ring */
	__u64 engine_loops;
	__u64 engine_late;	/* sends later than one period */
	__u64 tx_cost_max_ns;	/* longest build + hand-off of one packet */
	__u64 tx_cost_avg_ns;
	__u64 bw_used_ppm;	/* granted share of the link */
	/* rounds that began or ran > stall_us late: the core was taken
	 * from the engine (under emulation: the host held the vCPU)
	 */
	__u64 engine_stalls;
	__u64 engine_stolen_ns;	/* time lost in those stalls */
	__u64 engine_max_stall_ns;
	/* longest gap between two clock reads while the engine spun to a
	 * deadline with interrupts masked: the CPU itself did not run
	 */
	__u64 engine_masked_gap_max_ns;
};

/* XLANE_IOC_LANES: up to `count` lanes into `lanes` (user pointer). */
struct xlane_lane_info {
	__u32 lane;
	__s32 owner_pid;
	struct xlane_request req;
	struct xlane_resources res;
	__u64 sent;		/* packets */
	__u64 msgs;		/* messages sent */
	__u64 policed;		/* messages dropped: over the grant */
	__u64 late;
	__u64 idle_periods;
};

struct xlane_lanes {
	__u32 count;		/* in: room; out: lanes in the namespace */
	__u32 rsvd;
	__u64 lanes;		/* struct xlane_lane_info * */
};

#define XLANE_IOC_MAGIC		0xb7
#define XLANE_IOC_ATTACH	_IOW(XLANE_IOC_MAGIC, 1, struct xlane_attach)
#define XLANE_IOC_DETACH	_IO(XLANE_IOC_MAGIC, 2)
#define XLANE_IOC_INFO		_IOR(XLANE_IOC_MAGIC, 3, struct xlane_info)
#define XLANE_IOC_SESSION	_IOW(XLANE_IOC_MAGIC, 4, __u32)
#define XLANE_IOC_LANE_REQUEST	_IOWR(XLANE_IOC_MAGIC, 5, struct xlane_lane_req)
#define XLANE_IOC_LANE_CHANGE	_IOWR(XLANE_IOC_MAGIC, 6, struct xlane_lane_req)
#define XLANE_IOC_LANE_RELEASE	_IOW(XLANE_IOC_MAGIC, 7, __u32)
#define XLANE_IOC_LANES		_IOWR(XLANE_IOC_MAGIC, 8, struct xlane_lanes)
#define XLANE_IOC_LISTEN	_IOWR(XLANE_IOC_MAGIC, 9, struct xlane_listen)
#define XLANE_IOC_FD_START	_IOWR(XLANE_IOC_MAGIC, 10, struct xlane_fd_start)
#define XLANE_IOC_FD_STOP	_IO(XLANE_IOC_MAGIC, 11)

#endif /* _UAPI_XLANE_H */
