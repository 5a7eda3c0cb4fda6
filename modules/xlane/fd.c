// SPDX-License-Identifier: GPL-2.0
/*
 * X-FD: a heartbeat failure detector living in X-Lane (paper §5.1).
 *
 * The application that starts X-FD gets a liveness counter in its R-X
 * area and increments it (libxlane does so every T/3). Every period T the
 * engine reads it and, if it moved since the last heartbeat, multicasts a
 * heartbeat on X-FD's lane; an application that stops moving its counter
 * stops its host's heartbeats. Receivers stamp each heartbeat in the XDP
 * path and record it in the alive table, which any process of the
 * namespace maps read-only. The engine suspects a peer whose last
 * heartbeat is older than T + L and reports, in the owner's X-R event
 * ring, when a peer joins, is suspected, or recovers. A stall of the
 * engine longer than L / 2 does not count as a peer's silence
 * (xl_fd_stalled()).
 *
 * Who writes what in the table: the receive path appends peers (under
 * peer_lock, publishing npeers with a release store after the entry is
 * initialised) and writes a peer's liveness fields; the engine alone
 * writes ->state and the suspicion counters, and alone produces events.
 * Readers of the mapping see each field atomically, not a snapshot of an
 * entry.
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/vmalloc.h>
#include <net/ip.h>

#include "xlane.h"

int xl_fd_init(struct xl_net *xn)
{
	struct xl_fd *fd = &xn->fd;

	fd->tab_bytes = PAGE_ALIGN(sizeof(struct xlane_fd_table));
	fd->tab = vmalloc_user(fd->tab_bytes);
	if (!fd->tab)
		return -ENOMEM;
	fd->tab->magic = XLANE_FD_TABLE_MAGIC;
	fd->stop_gp = get_completed_synchronize_rcu();
	spin_lock_init(&fd->peer_lock);
	return 0;
}

void xl_fd_free(struct xl_net *xn)
{
	vfree(xn->fd.tab);
	xn->fd.tab = NULL;
}

/**
 * xl_fd_start() - join the namespace's X-FD group.
 * @s: the session of the application whose liveness X-FD reports
 * @arg: group, T and L in; the lane's grant and the offsets of the
 *       liveness counter and event ring in the session's area out
 *
 * Caller holds xl_lock. -EBUSY when X-FD already runs in the namespace.
 */
int xl_fd_start(struct xl_session *s, struct xlane_fd_start *arg)
{
	struct xl_net *xn = s->xn;
	struct xl_fd *fd = &xn->fd;
	struct xlane_request req = {};
	struct xlane_ring *ring;
	struct xl_lane *lane;
	u32 slots = arg->slots ? arg->slots : 256, slot_size, refusal = 0;
	u64 *counter;

	lockdep_assert_held(&xl_lock);
	if (fd->active)
		return -EBUSY;
	if (!ipv4_is_multicast(arg->group) || !arg->threshold_us ||
	    arg->period_us < XLANE_MIN_PERIOD_US || arg->period_us > XLANE_MAX_PERIOD_US ||
	    (slots & (slots - 1)) || slots > 65536)
		return -EINVAL;
	counter = xl_area_alloc(s, SMP_CACHE_BYTES, &arg->counter_off);
	slot_size = xlane_ring_slot_size(sizeof(struct xlane_fd_event));
	ring = counter ? xl_area_alloc(s, xlane_ring_bytes(slots, slot_size),
				       &arg->events_off) : NULL;
	if (!ring)
		return -ENOMEM;
	xlane_ring_init(ring, slots, slot_size);

	req.loadsize = xlane_chunk_wire_len(sizeof(struct xlane_fd_beat));
	req.period_us = arg->period_us;
	req.ip = arg->group;
	req.prio = 0;
	lane = xl_lane_add(s, XL_LANE_FD, &req, 0, &refusal);
	if (IS_ERR(lane))
		return PTR_ERR(lane);
	arg->lane = lane->id;
	arg->res = lane->res;

	/* no round of the previous run still reads what is reset below */
	cond_synchronize_rcu(fd->stop_gp);
	spin_lock_bh(&fd->peer_lock);
	memset(fd->tab->peers, 0, sizeof(fd->tab->peers));
	WRITE_ONCE(fd->tab->npeers, 0);
	spin_unlock_bh(&fd->peer_lock);
	fd->tab->period_ns = (u64)arg->period_us * NSEC_PER_USEC;
	fd->tab->threshold_ns = (u64)arg->threshold_us * NSEC_PER_USEC;
	fd->tab->self_node = xn->node_id;
	fd->owner = s;
	fd->lane = lane;
	fd->counter = counter;
	fd->last_counter = U64_MAX;
	fd->period_ns = fd->tab->period_ns;
	fd->threshold_ns = fd->tab->threshold_ns;
	xlane_prod_init(&fd->events, ring, slots, slot_size);
	WRITE_ONCE(fd->tab->active, 1);
	/* the engine and receive path read the fields above after this */
	smp_store_release(&fd->active, true);
	return 0;
}

/*
 * Caller holds xl_lock. Does not wait: an engine round or a receive path
 * that saw ->active before the store below may still use ->counter, ->tab
 * and ->events for the rest of its RCU read-side section. xl_fd_start()
 * waits for that grace period before it reuses them, and xl_release()
 * waits for one before it frees the area they point into. So N namespaces
 * stopping at once (a benchmark's end) do not serialise N grace periods
 * under xl_lock.
 */
void xl_fd_stop(struct xl_net *xn)
{
	struct xl_fd *fd = &xn->fd;

	lockdep_assert_held(&xl_lock);
	if (!fd->active)
		return;
	WRITE_ONCE(fd->active, false);
	WRITE_ONCE(fd->tab->active, 0);
	fd->stop_gp = get_state_synchronize_rcu();
	if (fd->lane)
		xl_lane_remove(fd->lane, U32_MAX);
	fd->lane = NULL;
	fd->owner = NULL;
}

/*
 * Engine: the heartbeat of this period, if the application moved its
 * counter since the last one.
 */
bool xl_fd_beat_payload(struct xl_net *xn, struct xlane_fd_beat *beat)
{
	struct xl_fd *fd = &xn->fd;
	u64 c;

	/* pairs with the release in xl_fd_start(): the fields are set */
	if (!smp_load_acquire(&fd->active))
		return false;
	c = READ_ONCE(*fd->counter);
	if (c == fd->last_counter) {
		WRITE_ONCE(fd->tab->beats_skipped, fd->tab->beats_skipped + 1);
		return false;
	}
	fd->last_counter = c;
	beat->counter = cpu_to_be64(c);
	beat->period_us = cpu_to_be32(div_u64(fd->period_ns, NSEC_PER_USEC));
	beat->rsvd = 0;
	WRITE_ONCE(fd->tab->beats_tx, fd->tab->beats_tx + 1);
	return true;
}

static struct xlane_fd_peer *xl_fd_peer(struct xl_fd *fd, u32 node, __be32 ip)
{
	struct xlane_fd_table *tab = fd->tab;
	struct xlane_fd_peer *p;
	/* pairs with the release below: entries below npeers are initialised */
	u32 i, n = smp_load_acquire(&tab->npeers);

	for (i = 0; i < n; i++)
		if (tab->peers[i].node == node)
			return &tab->peers[i];
	spin_lock(&fd->peer_lock);
	n = tab->npeers;
	for (i = 0; i < n; i++)
		if (tab->peers[i].node == node)
			break;
	p = NULL;
	if (i < n) {
		p = &tab->peers[i];
	} else if (n < XLANE_FD_MAX_PEERS) {
		p = &tab->peers[n];
		memset(p, 0, sizeof(*p));
		p->node = node;
		p->ip = ip;
		/* publish the initialised entry to lock-free readers */
		smp_store_release(&tab->npeers, n + 1);
	}
	spin_unlock(&fd->peer_lock);
	return p;
}

/* Receive path: a heartbeat from @pkt's node. */
void xl_fd_rx(struct xl_net *xn, const struct xlane_pkt *pkt, __be32 saddr,
	      const void *data, u32 len, u64 rx_ns)
{
	struct xl_fd *fd = &xn->fd;
	struct xlane_fd_beat beat;
	struct xlane_fd_peer *p;
	u64 lat;

	/* pairs with the release in xl_fd_start() */
	if (!smp_load_acquire(&fd->active))
		return;
	if (len < sizeof(beat)) {
		atomic64_inc(&xn->rx_bad);
		return;
	}
	memcpy(&beat, data, sizeof(beat));
	p = xl_fd_peer(fd, pkt->node, saddr);
	if (!p) {
		atomic64_inc(&xn->rx_foreign);
		return;
	}
	lat = rx_ns > pkt->tx_ns ? rx_ns - pkt->tx_ns : 0;
	WRITE_ONCE(p->counter, be64_to_cpu(beat.counter));
	WRITE_ONCE(p->beats, p->beats + 1);
	WRITE_ONCE(p->last_latency_ns, lat);
	if (lat > p->max_latency_ns)
		WRITE_ONCE(p->max_latency_ns, lat);
	WRITE_ONCE(fd->stolen_at[p - fd->tab->peers], READ_ONCE(fd->stolen));
	/*
	 * Pairs with the acquire in xl_fd_check(): an engine that sees this
	 * beat's time also sees the credit it restarts from. Otherwise it
	 * could pair the new time with the credit of the beat before and
	 * count a stall the peer had already answered.
	 */
	smp_store_release(&p->last_alive_ns, rx_ns);
	WRITE_ONCE(fd->tab->beats_rx, fd->tab->beats_rx + 1);
}

static void xl_fd_event(struct xl_fd *fd, struct xlane_fd_peer *p, u32 type,
			u64 now, u64 alive, u64 credit)
{
	struct xlane_fd_event *ev = xlane_prod_reserve(&fd->events, sizeof(*ev));

	WRITE_ONCE(p->state, type);
	if (!ev)
		return;	/* counted in the ring's ->dropped; the table has it */
	ev->ns = now;
	ev->last_alive_ns = alive;
	ev->node = p->node;
	ev->ip = p->ip;
	ev->type = type;
	ev->credit_us = min_t(u64, div_u64(credit, NSEC_PER_USEC), U32_MAX);
	xlane_prod_commit(&fd->events, sizeof(*ev), XLANE_MSG_FD_EVENT);
}

/**
 * xl_fd_stalled() - the engine lost its core for a while; credit X-FD.
 * @xn: the namespace
 * @t: how long, in ns (a round that began, or ran, that much too late)
 *
 * A detector that was not running cannot have heard a heartbeat, and in
 * the test topology, where every host's engine is the same thread, no
 * heartbeat was sent either: a stall delays a live peer's next beat by up
 * to @t (a beat that fell due in it goes out in the first round after).
 * X-FD moves every peer's deadline by @t, but only for a stall longer
 * than L / 2. With a shorter stall s, a live peer is suspected only if
 * its own delay g makes s + g > L, so g > L / 2: the peer was half way to
 * suspect by itself. Crediting short stalls as well would push every
 * detection of a real failure past T + L by the sum of the stalls in its
 * window (1-2 % of L under emulation, where the host takes a vCPU for
 * milliseconds at a time).
 *
 * Engine context only (the one writer of ->stolen).
 */
void xl_fd_stalled(struct xl_net *xn, u64 t)
{
	struct xl_fd *fd = &xn->fd;

	/* pairs with the release in xl_fd_start(): ->threshold_ns is set */
	if (!smp_load_acquire(&fd->active) || t <= fd->threshold_ns / 2)
		return;
	WRITE_ONCE(fd->stolen, fd->stolen + t);
}

/**
 * xl_fd_check() - the engine's suspicion round for one namespace.
 * @xn: the namespace
 * @now: CLOCK_MONOTONIC
 *
 * Return: the next time a live peer may become suspect (0: none), so the
 * engine wakes up for it.
 */
u64 xl_fd_check(struct xl_net *xn, u64 now)
{
	struct xl_fd *fd = &xn->fd;
	struct xlane_fd_table *tab = fd->tab;
	u64 next = 0, alive, deadline, credit, stolen = fd->stolen;
	u32 i, n;

	/* pairs with the release in xl_fd_start() */
	if (!smp_load_acquire(&fd->active))
		return 0;
	/* pairs with the release in xl_fd_peer() */
	n = smp_load_acquire(&tab->npeers);
	for (i = 0; i < n; i++) {
		struct xlane_fd_peer *p = &tab->peers[i];
		u32 st = READ_ONCE(p->state);

		/* pairs with the release in xl_fd_rx() */
		alive = smp_load_acquire(&p->last_alive_ns);
		if (!alive)
			continue;
		/* a long stall of the engine is not the peer's silence */
		credit = stolen - READ_ONCE(fd->stolen_at[i]);
		deadline = alive + fd->period_ns + fd->threshold_ns + credit;
		if (!st) {
			xl_fd_event(fd, p, XLANE_FD_JOINED, now, alive, credit);
			st = XLANE_FD_JOINED;
		}
		if (st != XLANE_FD_SUSPECTED && now > deadline) {
			WRITE_ONCE(p->suspicions, p->suspicions + 1);
			WRITE_ONCE(tab->suspicions, tab->suspicions + 1);
			xl_fd_event(fd, p, XLANE_FD_SUSPECTED, now, alive, credit);
			continue;
		}
		if (st == XLANE_FD_SUSPECTED) {
			if (now > deadline)
				continue;
			WRITE_ONCE(tab->recoveries, tab->recoveries + 1);
			xl_fd_event(fd, p, XLANE_FD_RECOVERED, now, alive, credit);
		}
		if (!next || deadline + 1 < next)
			next = deadline + 1;
	}
	return next;
}
