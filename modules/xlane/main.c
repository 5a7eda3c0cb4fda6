// SPDX-License-Identifier: GPL-2.0
/*
 * xlane: an express lane for bounded periodic messages on an isolated core
 * ("X-Lane", paper 000 in the project's seeds).
 *
 * This file is the controller side: /dev/xlane and its sessions, the
 * shared areas that hold the bridges, the per-namespace instances, and
 * admission (request, change and release of lanes, after <xlane/model.h>).
 * The lane engine is in engine.c, the receive path in rx.c, X-FD in fd.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/inetdevice.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <net/arp.h>
#include <net/ip.h>
#include <net/neighbour.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "xlane.h"

static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU of the lane engine (-1: the first isolated CPU, else the last)");

static unsigned int spin_us = 20;
module_param(spin_us, uint, 0444);
MODULE_PARM_DESC(spin_us, "the engine wakes this early and spins, IRQs masked, to a lane's deadline");

unsigned int xl_unused_periods = 1000;
module_param_named(unused_periods, xl_unused_periods, uint, 0644);
MODULE_PARM_DESC(unused_periods, "idle periods after which a reclaimable lane is slowed (BW_UNUSED)");

static unsigned int tx_ns = 20000;
module_param(tx_ns, uint, 0444);
MODULE_PARM_DESC(tx_ns, "default engine cost per packet for the model (calibrate: xlanectl show)");

#define XL_MAX_LANES	64	/* per namespace */

/* serialises every configuration change (see xlane.h) */
DEFINE_MUTEX(xl_lock);
LIST_HEAD(xl_lanes);
LIST_HEAD(xl_nets);
unsigned int xl_spin_ns;
static unsigned int xl_net_id;

/**
 * xl_net_of() - the X-Lane instance of a network namespace.
 * @net: the namespace
 *
 * Return: its instance; every namespace has one while the module is loaded.
 */
struct xl_net *xl_net_of(struct net *net)
{
	return net_generic(net, xl_net_id);
}

#define xl_net(net) xl_net_of(net)

/* ---- sessions: events (upcalls) and the shared area ---- */

/**
 * xl_event() - queue an upcall for a session.
 * @s: the session owning the lane
 * @type: XLANE_EV_CHANGED or XLANE_EV_TERMINATED
 * @lane: lane id
 * @reason: XLANE_REASON_*
 * @res: the lane's grant after the change, or NULL
 *
 * Callable from the engine and the controller; never sleeps. A full queue
 * loses the oldest upcall and counts it.
 */
void xl_event(struct xl_session *s, u32 type, u32 lane, u32 reason,
	      const struct xlane_resources *res)
{
	struct xlane_event *ev;
	unsigned long flags;

	spin_lock_irqsave(&s->ev_lock, flags);
	if (s->ev_head - s->ev_tail >= XL_EVENTS) {
		s->ev_tail++;
		s->ev_lost++;
	}
	ev = &s->ev[s->ev_head % XL_EVENTS];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->lane = lane;
	ev->reason = reason;
	if (res)
		ev->res = *res;
	s->ev_head++;
	spin_unlock_irqrestore(&s->ev_lock, flags);
	wake_up_interruptible(&s->wq);
}

static int xl_area_ensure(struct xl_session *s)
{
	lockdep_assert_held(&xl_lock);
	if (s->area)
		return 0;
	s->area = vmalloc_user(s->area_size);
	return s->area ? 0 : -ENOMEM;
}

/**
 * xl_area_alloc() - carve a zeroed, cache-aligned block out of a session's area.
 * @s: the session
 * @bytes: size of the block
 * @off: its offset in the area (what user space adds to its mapping)
 *
 * Blocks live as long as the session (the area is freed at its release).
 * Caller holds xl_lock. Returns the block or NULL when the area is full.
 */
void *xl_area_alloc(struct xl_session *s, size_t bytes, u64 *off)
{
	size_t start;

	if (xl_area_ensure(s))
		return NULL;
	start = ALIGN(s->area_used, SMP_CACHE_BYTES);
	if (start > s->area_size || bytes > s->area_size - start)
		return NULL;
	s->area_used = start + bytes;
	*off = start;
	return s->area + start;
}

/* ---- admission ---- */

static void xl_path_defaults(struct xlane_attach *a)
{
	if (!a->port)
		a->port = XLANE_DEFAULT_PORT;
	if (!a->link_bps)
		a->link_bps = 1000000000ull;
	if (!a->share_pct)
		a->share_pct = 50;
	if (!a->links)
		a->links = 2;
	if (!a->hop_ns)
		a->hop_ns = 5000;
	if (!a->hop_jitter_ns)
		a->hop_jitter_ns = 2000;
	if (!a->tx_ns)
		a->tx_ns = tx_ns;
	if (!a->rx_ns)
		a->rx_ns = 2000;
	if (!a->engine_pct)
		a->engine_pct = 50;
	if (!a->mtu)
		a->mtu = 1514;
}

static void xl_path_from(struct xlane_path *p, const struct xlane_attach *a)
{
	p->link_bps = a->link_bps;
	p->share_pct = a->share_pct;
	p->links = a->links;
	p->hop_ns = a->hop_ns;
	p->hop_jitter_ns = a->hop_jitter_ns;
	p->tx_ns = a->tx_ns;
	p->rx_ns = a->rx_ns;
	p->engine_pct = a->engine_pct;
	p->mtu = a->mtu;
}

static void xl_demand_of(struct xlane_demand *d, const struct xlane_request *r)
{
	d->loadsize = r->loadsize;
	d->period_us = r->period_us;
	d->prio = r->prio;
}

struct xl_plan {
	struct xl_lane *lane[XL_MAX_LANES + 1];
	struct xlane_demand d[XL_MAX_LANES + 1];
	struct xlane_grant g[XL_MAX_LANES + 1];
	u32 n;
};

/* The namespace's lanes, in the order they were granted. */
static void xl_plan_collect(struct xl_plan *pl, struct xl_net *xn)
{
	struct xl_lane *l;

	lockdep_assert_held(&xl_lock);
	pl->n = 0;
	list_for_each_entry(l, &xl_lanes, node) {
		if (l->xn != xn || pl->n >= XL_MAX_LANES)
			continue;
		pl->lane[pl->n] = l;
		xl_demand_of(&pl->d[pl->n], &l->req);
		pl->n++;
	}
}

static void xl_res_of(struct xlane_resources *r, const struct xlane_grant *g)
{
	r->loadsize = g->loadsize;
	r->period_us = g->period_us;
	r->min_latency_ns = g->min_latency_ns;
	r->max_jitter_ns = g->max_jitter_ns;
}

/*
 * Installs the grants of a plan that fits: lanes whose grant changed get
 * it and, except `quiet` (whose owner learns it from its own call), a
 * bandwidthChanged upcall with reason TE.
 */
static void xl_plan_commit(struct xl_plan *pl, struct xl_lane *quiet)
{
	struct xlane_resources r;
	u32 i;

	for (i = 0; i < pl->n; i++) {
		struct xl_lane *l = pl->lane[i];

		if (!l)
			continue;
		xl_res_of(&r, &pl->g[i]);
		if (!memcmp(&r, &l->res, sizeof(r)))
			continue;
		l->res = r;
		WRITE_ONCE(l->loadsize, r.loadsize);
		WRITE_ONCE(l->period_ns, (u64)r.period_us * NSEC_PER_USEC);
		if (l != quiet && l->owner)
			xl_event(l->owner, XLANE_EV_CHANGED, l->id, XLANE_REASON_TE, &r);
	}
}

static int xl_resolve(struct net_device *dev, __be32 ip, u8 *mac)
{
	struct neighbour *n;
	int i, err = -EHOSTUNREACH;

	if (ipv4_is_multicast(ip)) {
		ip_eth_mc_map(ip, mac);
		return 0;
	}
	if (ipv4_is_lbcast(ip)) {
		eth_broadcast_addr(mac);
		return 0;
	}
	n = __neigh_lookup(&arp_tbl, &ip, dev, 1);
	if (IS_ERR_OR_NULL(n))
		return n ? PTR_ERR(n) : -ENOMEM;
	/* The controller may wait for ARP; the engine never does. */
	for (i = 0; i < 100; i++) {
		if (READ_ONCE(n->nud_state) & NUD_VALID) {
			neigh_ha_snapshot(mac, n, dev);
			err = 0;
			break;
		}
		neigh_event_send(n, NULL);
		usleep_range(10000, 20000);
	}
	neigh_release(n);
	return err;
}

/**
 * xl_lane_add() - admit a lane and start it (bandwidth request of List. 1).
 * @s: the requesting session (owner of the lane and its R-X ring)
 * @kind: a data lane fed by its R-X ring, or X-FD's heartbeat lane
 * @req: the request
 * @slots: R-X ring slots (data lanes)
 * @refusal: set to an enum xlane_refusal when admission says no
 *
 * Caller holds xl_lock. Returns the lane or an ERR_PTR: -ENOSPC when the
 * model refuses (the other lanes are unchanged), -ENETDOWN when the
 * namespace is not attached, -EHOSTUNREACH when the receiver does not
 * resolve.
 */
struct xl_lane *xl_lane_add(struct xl_session *s, enum xl_lane_kind kind,
			    const struct xlane_request *req, u32 slots, u32 *refusal)
{
	struct xl_net *xn = s->xn;
	struct xl_plan *pl;
	struct xl_lane *lane;
	struct xlane_ring *ring;
	u32 slot_size;
	int verdict, err;

	lockdep_assert_held(&xl_lock);
	if (!xn->attached)
		return ERR_PTR(-ENETDOWN);
	if (!slots)
		slots = 64;
	if (slots & (slots - 1) || slots > 4096)
		return ERR_PTR(-EINVAL);
	pl = kzalloc(sizeof(*pl), GFP_KERNEL);
	lane = kzalloc(sizeof(*lane), GFP_KERNEL);
	if (!pl || !lane) {
		err = -ENOMEM;
		goto fail;
	}
	xl_plan_collect(pl, xn);
	if (pl->n >= XL_MAX_LANES) {
		err = -EMFILE;
		goto fail;
	}
	xl_demand_of(&pl->d[pl->n], req);
	pl->lane[pl->n] = NULL;
	verdict = xlane_model_grants(&xn->path, pl->d, pl->n + 1, pl->g);
	if (verdict != XLANE_FITS) {
		*refusal = verdict;
		err = verdict == XLANE_BAD_REQUEST ? -EINVAL : -ENOSPC;
		goto fail;
	}
	err = xl_resolve(xn->dev, req->ip, lane->dst_mac);
	if (err)
		goto fail;
	if (kind == XL_LANE_DATA) {
		slot_size = xlane_ring_slot_size(XLANE_MAX_LOADSIZE);
		ring = xl_area_alloc(s, xlane_ring_bytes(slots, slot_size), &lane->ring_off);
		if (!ring) {
			err = -ENOMEM;
			goto fail;
		}
		xlane_ring_init(ring, slots, slot_size);
		xlane_cons_init(&lane->rx, ring, slots, slot_size);
	}
	lane->xn = xn;
	lane->owner = s;
	lane->owner_pid = s->pid;
	lane->kind = kind;
	lane->id = ++xn->next_lane_id;
	lane->req = *req;
	xl_res_of(&lane->res, &pl->g[pl->n]);
	lane->loadsize = lane->res.loadsize;
	lane->period_ns = (u64)lane->res.period_us * NSEC_PER_USEC;
	lane->next_due = ktime_get_ns() + lane->period_ns;
	xl_plan_commit(pl, NULL);
	list_add_tail(&lane->sess_node, &s->lanes);
	list_add_tail_rcu(&lane->node, &xl_lanes);
	xn->nlanes++;
	kfree(pl);
	xl_engine_kick();
	return lane;
fail:
	kfree(pl);
	kfree(lane);
	return ERR_PTR(err);
}

/**
 * xl_lane_remove() - stop a lane; the engine forgets it after a grace period.
 * @lane: the lane
 * @reason: told to the owner in a bandwidthTerminated upcall, or U32_MAX
 *          for none (the owner asked, or is going away)
 *
 * The other lanes' grants are recomputed (they may only tighten). Caller
 * holds xl_lock. The R-X ring stays in the owner's area until the session
 * ends, so the engine may finish a send from it.
 */
void xl_lane_remove(struct xl_lane *lane, u32 reason)
{
	struct xl_net *xn = lane->xn;
	struct xl_plan *pl;

	lockdep_assert_held(&xl_lock);
	list_del_rcu(&lane->node);
	list_del(&lane->sess_node);
	xn->nlanes--;
	if (reason != U32_MAX && lane->owner)
		xl_event(lane->owner, XLANE_EV_TERMINATED, lane->id, reason, NULL);
	if (xn->fd.lane == lane)
		xn->fd.lane = NULL;
	kfree_rcu(lane, rcu);

	pl = kzalloc(sizeof(*pl), GFP_KERNEL);
	if (!pl)
		return;	/* grants stay as they were: looser than needed, still kept */
	xl_plan_collect(pl, xn);
	if (xlane_model_grants(&xn->path, pl->d, pl->n, pl->g) == XLANE_FITS)
		xl_plan_commit(pl, NULL);
	kfree(pl);
}

static int xl_lane_change(struct xl_session *s, struct xl_lane *lane,
			  const struct xlane_request *req, u32 *refusal)
{
	struct xl_plan *pl;
	int verdict, err = 0;
	u32 i;

	pl = kzalloc(sizeof(*pl), GFP_KERNEL);
	if (!pl)
		return -ENOMEM;
	xl_plan_collect(pl, lane->xn);
	for (i = 0; i < pl->n; i++)
		if (pl->lane[i] == lane)
			xl_demand_of(&pl->d[i], req);
	verdict = xlane_model_grants(&lane->xn->path, pl->d, pl->n, pl->g);
	if (verdict != XLANE_FITS) {
		*refusal = verdict;
		err = verdict == XLANE_BAD_REQUEST ? -EINVAL : -ENOSPC;
	} else {
		/* the receiver stays: a lane's destination is fixed */
		lane->req.loadsize = req->loadsize;
		lane->req.period_us = req->period_us;
		lane->req.prio = req->prio;
		lane->req.flags = req->flags;
		xl_plan_commit(pl, lane);
	}
	kfree(pl);
	return err;
}

/* BW_UNUSED: slow down reclaimable lanes the engine found idle. */
static void xl_reclaim_fn(struct work_struct *work)
{
	struct xl_lane *l, *tmp;
	struct xlane_request req;
	u32 refusal;

	mutex_lock(&xl_lock);
	list_for_each_entry_safe(l, tmp, &xl_lanes, node) {
		if (!READ_ONCE(l->reclaim_queued))
			continue;
		req = l->req;
		if (req.period_us <= XLANE_MAX_PERIOD_US / 2) {
			req.period_us *= 2;
			if (!xl_lane_change(l->owner, l, &req, &refusal) && l->owner)
				xl_event(l->owner, XLANE_EV_CHANGED, l->id,
					 XLANE_REASON_BW_UNUSED, &l->res);
		}
		WRITE_ONCE(l->reclaim_queued, false);
	}
	mutex_unlock(&xl_lock);
}

static DECLARE_WORK(xl_reclaim_work, xl_reclaim_fn);

/**
 * xl_reclaim_request() - ask the controller to slow down an idle lane.
 * @lane: a lane with XLANE_REQ_RECLAIM that was idle for unused_periods
 *
 * Called by the engine; the work runs on a housekeeping CPU (system_wq is
 * unbound work kept off isolated CPUs).
 */
void xl_reclaim_request(struct xl_lane *lane)
{
	WRITE_ONCE(lane->reclaim_queued, true);
	queue_work(system_unbound_wq, &xl_reclaim_work);
}

/* ---- attach / detach ---- */

static void xl_listener_remove(struct xl_net *xn, unsigned int i)
{
	struct xl_listener *l = rcu_dereference_protected(xn->listeners[i],
							   lockdep_is_held(&xl_lock));

	RCU_INIT_POINTER(xn->listeners[i], NULL);
	kfree_rcu(l, rcu);
}

static void xl_detach(struct xl_net *xn, u32 reason)
{
	struct xl_lane *l, *tmp;

	lockdep_assert_held(&xl_lock);
	if (!xn->attached)
		return;
	xl_fd_stop(xn);
	list_for_each_entry_safe(l, tmp, &xl_lanes, node)
		if (l->xn == xn)
			xl_lane_remove(l, reason);
	WRITE_ONCE(xn->attached, false);
	/* The engine and the receive path use ->dev under RCU only. */
	synchronize_rcu();
	netdev_put(xn->dev, &xn->dev_tracker);
	xn->dev = NULL;
	xn->ifindex = 0;
}

static int xl_attach(struct xl_net *xn, struct xlane_attach *a)
{
	struct xl_plan *pl;
	struct net_device *dev;
	struct xlane_path path;
	__be32 src = a->src_ip;
	int verdict;

	lockdep_assert_held(&xl_lock);
	xl_path_defaults(a);
	xl_path_from(&path, a);
	if (!xlane_path_valid(&path))
		return -EINVAL;
	if (xn->attached && xn->ifindex != a->ifindex)
		return -EBUSY;	/* detach first */
	if (xn->attached) {
		if (a->port != xn->port || (a->src_ip && a->src_ip != xn->src_ip))
			return -EBUSY;
		/* a new path: keep what fits, in the order granted (TE) */
		pl = kzalloc(sizeof(*pl), GFP_KERNEL);
		if (!pl)
			return -ENOMEM;
		xn->path = path;
		for (;;) {
			xl_plan_collect(pl, xn);
			verdict = xlane_model_grants(&path, pl->d, pl->n, pl->g);
			if (verdict == XLANE_FITS || !pl->n)
				break;
			xl_lane_remove(pl->lane[pl->n - 1], XLANE_REASON_TE);
		}
		xl_plan_commit(pl, NULL);
		kfree(pl);
		xn->cfg = *a;
		xn->cfg.src_ip = xn->src_ip;
		xn->cfg.node_id = xn->node_id;
		return 0;
	}
	dev = netdev_get_by_index(xn->net, a->ifindex, &xn->dev_tracker, GFP_KERNEL);
	if (!dev)
		return -ENODEV;
	if (dev->type != ARPHRD_ETHER) {
		netdev_put(dev, &xn->dev_tracker);
		return -EPROTONOSUPPORT;
	}
	if (!src)
		src = inet_select_addr(dev, 0, RT_SCOPE_UNIVERSE);
	if (!src) {
		netdev_put(dev, &xn->dev_tracker);
		return -EADDRNOTAVAIL;
	}
	xn->dev = dev;
	xn->ifindex = a->ifindex;
	xn->src_ip = src;
	xn->node_id = a->node_id ? a->node_id : ntohl(src);
	xn->port = a->port;
	xn->path = path;
	xn->cfg = *a;
	xn->cfg.src_ip = src;
	xn->cfg.node_id = xn->node_id;
	WRITE_ONCE(xn->attached, true);
	return 0;
}

static int xl_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct xl_net *xn;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	xn = xl_net(dev_net(dev));
	mutex_lock(&xl_lock);
	if (xn->attached && xn->dev == dev)
		xl_detach(xn, XLANE_REASON_DETACHED);
	mutex_unlock(&xl_lock);
	return NOTIFY_DONE;
}

static struct notifier_block xl_netdev_nb = {
	.notifier_call = xl_netdev_event,
};

/* ---- /dev/xlane ---- */

static bool xl_admin(struct xl_session *s)
{
	return ns_capable(s->net->user_ns, CAP_NET_ADMIN);
}

static int xl_open(struct inode *inode, struct file *file)
{
	struct xl_session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->net = get_net(current->nsproxy->net_ns);
	s->xn = xl_net(s->net);
	s->pid = task_tgid_vnr(current);
	s->area_size = XLANE_AREA_SIZE;
	INIT_LIST_HEAD(&s->lanes);
	spin_lock_init(&s->ev_lock);
	init_waitqueue_head(&s->wq);
	file->private_data = s;
	return 0;
}

static int xl_release(struct inode *inode, struct file *file)
{
	struct xl_session *s = file->private_data;
	struct xl_net *xn = s->xn;
	struct xl_lane *l, *tmp;
	struct xl_listener *li;
	unsigned int i;

	mutex_lock(&xl_lock);
	if (xn->fd.owner == s)
		xl_fd_stop(xn);
	list_for_each_entry_safe(l, tmp, &s->lanes, sess_node)
		xl_lane_remove(l, U32_MAX);
	for (i = 0; i < XL_LISTEN_PORTS; i++) {
		li = rcu_dereference_protected(xn->listeners[i], lockdep_is_held(&xl_lock));
		if (li && li->owner == s)
			xl_listener_remove(xn, i);
	}
	mutex_unlock(&xl_lock);
	/* No engine loop or receive path still sees this session's rings. */
	synchronize_rcu();
	vfree(s->area);
	put_net(s->net);
	kfree(s);
	return 0;
}

static struct xl_lane *xl_lane_find(struct xl_session *s, u32 id)
{
	struct xl_lane *l;

	list_for_each_entry(l, &s->lanes, sess_node)
		if (l->id == id && l->kind == XL_LANE_DATA)
			return l;
	return NULL;
}

static long xl_ioc_lane(struct xl_session *s, unsigned int cmd, void __user *uarg)
{
	struct xlane_lane_req r;
	struct xl_lane *lane;
	long err = 0;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	r.refusal = 0;
	mutex_lock(&xl_lock);
	if (cmd == XLANE_IOC_LANE_REQUEST) {
		lane = xl_lane_add(s, XL_LANE_DATA, &r.req, r.slots, &r.refusal);
		if (IS_ERR(lane)) {
			err = PTR_ERR(lane);
		} else {
			r.lane = lane->id;
			r.res = lane->res;
			r.ring_off = lane->ring_off;
		}
	} else {
		lane = xl_lane_find(s, r.lane);
		if (!lane) {
			err = -ENOENT;
		} else {
			r.req.ip = lane->req.ip;
			r.req.port = lane->req.port;
			err = xl_lane_change(s, lane, &r.req, &r.refusal);
			r.res = lane->res;
			r.ring_off = lane->ring_off;
		}
	}
	mutex_unlock(&xl_lock);
	/* the refusal reason goes back even when the call fails */
	if ((!err || err == -ENOSPC) && copy_to_user(uarg, &r, sizeof(r)))
		return -EFAULT;
	return err;
}

static long xl_ioc_listen(struct xl_session *s, void __user *uarg)
{
	struct xl_net *xn = s->xn;
	struct xlane_listen a;
	struct xl_listener *li = NULL, *cur;
	struct xlane_ring *ring;
	unsigned int i, free_slot = XL_LISTEN_PORTS;
	long err = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!a.slots)
		a.slots = 1024;
	if (!a.max_len)
		a.max_len = 256;
	if (!a.port || a.max_len > XLANE_MAX_LOADSIZE ||
	    (a.slots & (a.slots - 1)) || a.slots > XLANE_RING_MAX_SLOTS)
		return -EINVAL;
	mutex_lock(&xl_lock);
	for (i = 0; i < XL_LISTEN_PORTS; i++) {
		cur = rcu_dereference_protected(xn->listeners[i], lockdep_is_held(&xl_lock));
		if (cur && cur->port == a.port) {
			err = -EADDRINUSE;
			goto out;
		}
		if (!cur && free_slot == XL_LISTEN_PORTS)
			free_slot = i;
	}
	if (free_slot == XL_LISTEN_PORTS) {
		err = -EMFILE;
		goto out;
	}
	li = kzalloc(sizeof(*li), GFP_KERNEL);
	if (!li) {
		err = -ENOMEM;
		goto out;
	}
	i = xlane_ring_slot_size(sizeof(struct xlane_rx_msg) + a.max_len);
	ring = xl_area_alloc(s, xlane_ring_bytes(a.slots, i), &a.ring_off);
	if (!ring) {
		kfree(li);
		err = -ENOMEM;
		goto out;
	}
	xlane_ring_init(ring, a.slots, i);
	xlane_prod_init(&li->prod, ring, a.slots, i);
	spin_lock_init(&li->lock);
	li->owner = s;
	li->port = a.port;
	li->max_len = a.max_len;
	li->ring_off = a.ring_off;
	rcu_assign_pointer(xn->listeners[free_slot], li);
out:
	mutex_unlock(&xl_lock);
	if (!err && copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return err;
}

static void xl_info(struct xl_net *xn, struct xlane_info *in)
{
	unsigned int i;
	struct xl_lane *l;

	memset(in, 0, sizeof(*in));
	mutex_lock(&xl_lock);
	in->attached = xn->attached;
	in->ifindex = xn->ifindex;
	in->src_ip = xn->src_ip;
	in->node_id = xn->node_id;
	in->port = xn->port;
	in->engine_cpu = xl_engine_cpu();
	in->lanes = xn->nlanes;
	for (i = 0; i < XL_LISTEN_PORTS; i++)
		if (rcu_access_pointer(xn->listeners[i]))
			in->listeners++;
	in->path = xn->cfg;
	list_for_each_entry(l, &xl_lanes, node)
		if (l->xn == xn && xn->path.link_bps)
			in->bw_used_ppm += div64_u64(xlane_frame_bytes(l->res.loadsize) *
						     8 * 1000000ull * 1000000ull,
						     (u64)l->res.period_us * xn->path.link_bps);
	mutex_unlock(&xl_lock);
	in->tx_packets = atomic64_read(&xn->tx_packets);
	in->tx_errors = atomic64_read(&xn->tx_errors);
	in->rx_packets = atomic64_read(&xn->rx_packets);
	in->rx_chunks = atomic64_read(&xn->rx_chunks);
	in->rx_bad = atomic64_read(&xn->rx_bad);
	in->rx_foreign = atomic64_read(&xn->rx_foreign);
	in->rx_ring_full = atomic64_read(&xn->rx_ring_full);
	xl_engine_stats(in);
}

static long xl_ioc_lanes(struct xl_session *s, void __user *uarg)
{
	struct xlane_lane_info *info;
	struct xlane_lanes a;
	struct xl_lane *l;
	u32 n = 0, room;
	long err = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	room = min_t(u32, a.count, XL_MAX_LANES);
	info = kcalloc(XL_MAX_LANES, sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	mutex_lock(&xl_lock);
	list_for_each_entry(l, &xl_lanes, node) {
		if (l->xn != s->xn)
			continue;
		if (n < room) {
			info[n].lane = l->id;
			info[n].owner_pid = l->owner_pid;
			info[n].req = l->req;
			info[n].res = l->res;
			info[n].sent = READ_ONCE(l->sent);
			info[n].msgs = READ_ONCE(l->msgs);
			info[n].policed = READ_ONCE(l->policed);
			info[n].late = READ_ONCE(l->late);
			info[n].idle_periods = READ_ONCE(l->idle_periods);
		}
		n++;
	}
	mutex_unlock(&xl_lock);
	if (copy_to_user(u64_to_user_ptr(a.lanes), info, min(n, room) * sizeof(*info)))
		err = -EFAULT;
	a.count = n;
	if (!err && copy_to_user(uarg, &a, sizeof(a)))
		err = -EFAULT;
	kfree(info);
	return err;
}

static long xl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct xl_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct xlane_fd_start fds;
	struct xlane_attach at;
	struct xlane_info *in;
	long err = 0;
	u32 v;

	switch (cmd) {
	case XLANE_IOC_INFO:
		in = kmalloc(sizeof(*in), GFP_KERNEL);
		if (!in)
			return -ENOMEM;
		xl_info(s->xn, in);
		if (copy_to_user(uarg, in, sizeof(*in)))
			err = -EFAULT;
		kfree(in);
		return err;
	case XLANE_IOC_LANES:
		return xl_ioc_lanes(s, uarg);
	}

	if (!xl_admin(s))
		return -EPERM;
	switch (cmd) {
	case XLANE_IOC_ATTACH:
		if (copy_from_user(&at, uarg, sizeof(at)))
			return -EFAULT;
		mutex_lock(&xl_lock);
		err = xl_attach(s->xn, &at);
		mutex_unlock(&xl_lock);
		return err;
	case XLANE_IOC_DETACH:
		mutex_lock(&xl_lock);
		if (s->xn->attached)
			xl_detach(s->xn, XLANE_REASON_DETACHED);
		else
			err = -ENOTCONN;
		mutex_unlock(&xl_lock);
		return err;
	case XLANE_IOC_SESSION:
		if (get_user(v, (u32 __user *)uarg))
			return -EFAULT;
		if (v < PAGE_SIZE || v > XLANE_AREA_MAX)
			return -EINVAL;
		mutex_lock(&xl_lock);
		if (s->area)
			err = -EBUSY;
		else
			s->area_size = PAGE_ALIGN(v);
		mutex_unlock(&xl_lock);
		return err;
	case XLANE_IOC_LANE_REQUEST:
	case XLANE_IOC_LANE_CHANGE:
		return xl_ioc_lane(s, cmd, uarg);
	case XLANE_IOC_LANE_RELEASE: {
		struct xl_lane *lane;

		if (get_user(v, (u32 __user *)uarg))
			return -EFAULT;
		mutex_lock(&xl_lock);
		lane = xl_lane_find(s, v);
		if (lane)
			xl_lane_remove(lane, U32_MAX);
		else
			err = -ENOENT;
		mutex_unlock(&xl_lock);
		return err;
	}
	case XLANE_IOC_LISTEN:
		return xl_ioc_listen(s, uarg);
	case XLANE_IOC_FD_START:
		if (copy_from_user(&fds, uarg, sizeof(fds)))
			return -EFAULT;
		mutex_lock(&xl_lock);
		err = xl_fd_start(s, &fds);
		mutex_unlock(&xl_lock);
		if (!err && copy_to_user(uarg, &fds, sizeof(fds)))
			err = -EFAULT;
		return err;
	case XLANE_IOC_FD_STOP:
		mutex_lock(&xl_lock);
		if (s->xn->fd.owner == s)
			xl_fd_stop(s->xn);
		else
			err = -ENOENT;
		mutex_unlock(&xl_lock);
		return err;
	}
	return -ENOTTY;
}

static bool xl_has_event(struct xl_session *s)
{
	return READ_ONCE(s->ev_head) != READ_ONCE(s->ev_tail);
}

static ssize_t xl_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
	struct xl_session *s = file->private_data;
	struct xlane_event ev;
	size_t done = 0;
	int err;

	if (len < sizeof(ev))
		return -EINVAL;
	if (!xl_has_event(s)) {
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(s->wq, xl_has_event(s));
		if (err)
			return err;
	}
	while (len - done >= sizeof(ev)) {
		spin_lock_irq(&s->ev_lock);
		if (s->ev_head == s->ev_tail) {
			spin_unlock_irq(&s->ev_lock);
			break;
		}
		ev = s->ev[s->ev_tail % XL_EVENTS];
		s->ev_tail++;
		spin_unlock_irq(&s->ev_lock);
		if (copy_to_user(buf + done, &ev, sizeof(ev)))
			return done ? done : -EFAULT;
		done += sizeof(ev);
	}
	return done;
}

static __poll_t xl_poll(struct file *file, poll_table *wait)
{
	struct xl_session *s = file->private_data;

	poll_wait(file, &s->wq, wait);
	return xl_has_event(s) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int xl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct xl_session *s = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	int err;

	if (vma->vm_pgoff == XLANE_MMAP_FD_TABLE >> PAGE_SHIFT) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vm_flags_clear(vma, VM_MAYWRITE);
		if (len > PAGE_ALIGN(s->xn->fd.tab_bytes))
			return -EINVAL;
		return remap_vmalloc_range(vma, s->xn->fd.tab, 0);
	}
	if (vma->vm_pgoff)
		return -EINVAL;
	mutex_lock(&xl_lock);
	err = xl_area_ensure(s);
	if (!err && len > s->area_size)
		err = -EINVAL;
	if (!err)
		err = remap_vmalloc_range(vma, s->area, 0);
	mutex_unlock(&xl_lock);
	return err;
}

static const struct file_operations xl_fops = {
	.owner = THIS_MODULE,
	.open = xl_open,
	.release = xl_release,
	.unlocked_ioctl = xl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = xl_read,
	.poll = xl_poll,
	.mmap = xl_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice xl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = XLANE_DEV_NAME,
	.fops = &xl_fops,
	.mode = 0666,	/* reading is for everyone; ioctls check CAP_NET_ADMIN */
};

/* ---- namespaces ---- */

static int __net_init xl_net_init(struct net *net)
{
	struct xl_net *xn = xl_net(net);
	int err;

	xn->net = net;
	err = xl_fd_init(xn);
	if (err)
		return err;
	mutex_lock(&xl_lock);
	list_add_tail_rcu(&xn->node, &xl_nets);
	mutex_unlock(&xl_lock);
	return 0;
}

static void __net_exit xl_net_exit(struct net *net)
{
	struct xl_net *xn = xl_net(net);

	mutex_lock(&xl_lock);
	xl_detach(xn, XLANE_REASON_DETACHED);
	list_del_rcu(&xn->node);
	mutex_unlock(&xl_lock);
	synchronize_rcu();
	xl_fd_free(xn);
}

static struct pernet_operations xl_net_ops = {
	.init = xl_net_init,
	.exit = xl_net_exit,
	.id = &xl_net_id,
	.size = sizeof(struct xl_net),
};

static int __init xl_init(void)
{
	int err;

	xl_spin_ns = spin_us * NSEC_PER_USEC;
	err = register_pernet_subsys(&xl_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&xl_netdev_nb);
	if (err)
		goto err_net;
	err = xl_engine_start(cpu);
	if (err)
		goto err_nb;
	err = xl_rx_register();
	if (err)
		goto err_engine;
	err = misc_register(&xl_misc);
	if (err)
		goto err_engine;
	pr_info("engine on CPU %d, /dev/%s ready\n", xl_engine_cpu(), XLANE_DEV_NAME);
	return 0;
err_engine:
	xl_engine_stop();
err_nb:
	unregister_netdevice_notifier(&xl_netdev_nb);
err_net:
	unregister_pernet_subsys(&xl_net_ops);
	return err;
}

/*
 * Unload: no session is open (each holds a module reference through the
 * file) and no XDP program that calls bpf_xlane_rx() is loaded (it holds
 * one through its kfunc BTF), so no lane or listener is left; namespaces
 * are detached by the pernet exit.
 */
static void __exit xl_exit(void)
{
	misc_deregister(&xl_misc);
	xl_engine_stop();
	unregister_netdevice_notifier(&xl_netdev_nb);
	unregister_pernet_subsys(&xl_net_ops);
	flush_work(&xl_reclaim_work);
}

module_init(xl_init);
module_exit(xl_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("X-Lane: bounded periodic messages on an isolated core, with X-FD");
