/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlane: internal interfaces between the parts of the module.
 *
 *   main.c    /dev/xlane, sessions and their shared areas, the controller
 *             (attach, admission, lane requests), per-namespace instances
 *   engine.c  the lane engine: one kthread on the isolated CPU that sends
 *             every lane's packet at its granted period
 *   rx.c      the receive path: the bpf_xlane_rx() kfunc called by the XDP
 *             program, delivering to listeners and X-FD
 *   fd.c      X-FD, the failure detector service
 *
 * Locking. xl_lock (a mutex) serialises every change of configuration:
 * attaching, lanes, listeners, X-FD, sessions going away. The engine and
 * the receive path only read configuration, under RCU; objects they may
 * see are unlinked with list_del_rcu() and freed after a grace period.
 * Lane counters and schedule are written by the engine only; X-FD peer
 * liveness by the receive path, peer state by the engine (see fd.c).
 */
#ifndef XLANE_INTERNAL_H
#define XLANE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/net_trackers.h>

#include "include/uapi/xlane.h"
#include "include/xlane/codec.h"
#include "include/xlane/model.h"
#include "include/xlane/ring.h"

#define XL_EVENTS	64	/* upcalls queued per session */
#define XL_LISTEN_PORTS	64	/* listeners per namespace */

extern struct mutex xl_lock;
extern struct list_head xl_lanes;	/* every lane, all namespaces (RCU) */
extern struct list_head xl_nets;	/* every instance (RCU) */
extern unsigned int xl_spin_ns;
extern unsigned int xl_unused_periods;

struct xl_session;

/* A namespace's X-FD (fd.c); lives in struct xl_net. */
struct xl_fd {
	bool active;
	struct xlane_fd_table *tab;	/* vmalloc_user, mapped read-only */
	size_t tab_bytes;
	struct xl_session *owner;
	struct xl_lane *lane;		/* the heartbeat lane */
	u64 *counter;			/* the owner's liveness counter */
	unsigned long stop_gp;		/* RCU grace period of the last stop */
	u64 last_counter;
	u64 period_ns;
	u64 threshold_ns;
	u64 stolen;			/* credited engine stalls (engine writes) */
	u64 stolen_at[XLANE_FD_MAX_PEERS];	/* ->stolen at the peer's last beat */
	struct xlane_prod events;	/* X-R ring in the owner's area */
	spinlock_t peer_lock;		/* receive path: adding peers */
};

/* The X-Lane instance of one network namespace. */
struct xl_net {
	struct net *net;
	struct list_head node;		/* xl_nets (RCU) */
	bool attached;
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	int ifindex;
	__be32 src_ip;
	u32 node_id;
	u16 port;
	struct xlane_attach cfg;	/* as requested, defaults filled */
	struct xlane_path path;
	u32 next_lane_id;
	u32 nlanes;
	struct xl_listener __rcu *listeners[XL_LISTEN_PORTS];
	struct xl_fd fd;
	atomic64_t tx_packets, tx_errors, rx_packets, rx_chunks, rx_bad;
	atomic64_t rx_foreign, rx_ring_full;
};

enum xl_lane_kind { XL_LANE_DATA, XL_LANE_FD };

struct xl_lane {
	struct list_head node;		/* xl_lanes (RCU) */
	struct list_head sess_node;	/* the owner's lanes (xl_lock) */
	struct rcu_head rcu;
	struct xl_net *xn;
	struct xl_session *owner;
	enum xl_lane_kind kind;
	u32 id;
	pid_t owner_pid;
	struct xlane_request req;
	struct xlane_resources res;
	u64 ring_off;
	struct xlane_cons rx;		/* the R-X ring (DATA lanes) */
	u8 dst_mac[ETH_ALEN];
	/* engine-owned */
	u64 period_ns;			/* READ_ONCE: changed by the controller */
	u32 loadsize;			/* READ_ONCE */
	u64 next_due;
	u64 seq;
	u64 sent, msgs, policed, late, idle_periods;
	u64 idle_run;
	u64 exceeded_at;		/* last BW_EXCEEDED upcall, ns */
	bool reclaim_queued;
};

/* Delivery of lane messages for one UDP-level port of a namespace. */
struct xl_listener {
	struct rcu_head rcu;
	struct xl_session *owner;
	u16 port;
	u32 max_len;
	u64 ring_off;
	spinlock_t lock;		/* producers: receive paths on any CPU */
	struct xlane_prod prod;
};

struct xl_session {
	struct xl_net *xn;
	struct net *net;
	pid_t pid;
	void *area;			/* vmalloc_user; NULL until first use */
	size_t area_size;
	size_t area_used;
	struct list_head lanes;
	spinlock_t ev_lock;		/* ev[], ev_head, ev_tail, ev_lost */
	struct xlane_event ev[XL_EVENTS];
	unsigned int ev_head, ev_tail;
	u64 ev_lost;
	wait_queue_head_t wq;
};

/* main.c */
struct xl_net *xl_net_of(struct net *net);
void *xl_area_alloc(struct xl_session *s, size_t bytes, u64 *off);
void xl_event(struct xl_session *s, u32 type, u32 lane, u32 reason,
	      const struct xlane_resources *res);
struct xl_lane *xl_lane_add(struct xl_session *s, enum xl_lane_kind kind,
			    const struct xlane_request *req, u32 slots, u32 *refusal);
void xl_lane_remove(struct xl_lane *lane, u32 reason);
void xl_reclaim_request(struct xl_lane *lane);

/* engine.c */
int xl_engine_start(int cpu);
void xl_engine_stop(void);
void xl_engine_kick(void);
int xl_engine_cpu(void);
void xl_engine_stats(struct xlane_info *in);

/* rx.c */
int xl_rx_register(void);

/* fd.c */
int xl_fd_init(struct xl_net *xn);
void xl_fd_free(struct xl_net *xn);
int xl_fd_start(struct xl_session *s, struct xlane_fd_start *arg);
void xl_fd_stop(struct xl_net *xn);
bool xl_fd_beat_payload(struct xl_net *xn, struct xlane_fd_beat *beat);
void xl_fd_rx(struct xl_net *xn, const struct xlane_pkt *pkt, __be32 saddr,
	      const void *data, u32 len, u64 rx_ns);
u64 xl_fd_check(struct xl_net *xn, u64 now);
void xl_fd_stalled(struct xl_net *xn, u64 t);

#endif /* XLANE_INTERNAL_H */
