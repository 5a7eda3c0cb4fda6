// SPDX-License-Identifier: GPL-2.0
/*
 * xlane lane engine: one kthread, bound to the isolated CPU, sends every
 * lane's packet at its granted period.
 *
 * Each round picks the lane to serve next: among lanes already due the
 * highest priority (sub-lane) wins, else the earliest deadline. If that
 * deadline is further away than spin_us, the engine waits for it in one
 * of two ways:
 *
 *  - polling (poll=1, and poll=-1 on an isolated CPU): it runs the next
 *    round at once, so X-FD deadlines are checked continuously and no
 *    round depends on a timer interrupt arriving on time. It still sleeps
 *    whenever another task is runnable on its CPU (a per-CPU kworker or
 *    ksoftirqd), as KVM's halt polling does, so that work is not starved
 *    by a SCHED_FIFO loop;
 *  - sleeping (poll=0, and poll=-1 on a shared CPU): on an absolute
 *    hrtimer until spin_us before the deadline, so the core idles (and,
 *    under emulation, gives its host thread back) between periods.
 *
 * The last spin_us it spins with interrupts masked, so the send starts at
 * the deadline and not when an interrupt is done.
 *
 * Bounded work: one round sends at most one packet (at most loadsize
 * bytes of chunks copied from the lane's R-X ring, with interrupts
 * masked), then checks X-FD deadlines (at most XLANE_FD_MAX_PEERS entries
 * per namespace). Messages beyond a lane's grant are dropped (policed)
 * after interrupts are enabled again. The hand-off to the device
 * (dev_queue_xmit()) runs with interrupts enabled, as it must.
 *
 * RCU: a round runs in one read-side section; cond_resched() between
 * rounds reports the quiescent state a nohz_full CPU owes (no tick does
 * it for us there).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/hrtimer.h>
#include <linux/ip.h>
#include <linux/kthread.h>
#include <linux/pkt_sched.h>
#include <linux/rcupdate.h>
#include <linux/sched/isolation.h>
#include <linux/sched/stat.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/ip.h>

#include "xlane.h"

static struct task_struct *xl_engine;
static int xl_cpu = -1;
static u64 eng_loops, eng_late, cost_max, cost_sum, cost_n;
static u64 eng_stalls, eng_stolen, eng_max_stall, eng_masked_gap_max;

static unsigned int stall_us = 1000;
module_param(stall_us, uint, 0444);
MODULE_PARM_DESC(stall_us, "a round starting this much later than planned counts as a stall");

static int poll = -1;
module_param(poll, int, 0444);
MODULE_PARM_DESC(poll, "1: the engine polls between rounds; 0: it sleeps on a timer; -1: polls on an isolated CPU");
static bool xl_poll;

int xl_engine_cpu(void)
{
	return xl_cpu;
}

void xl_engine_stats(struct xlane_info *in)
{
	u64 n = READ_ONCE(cost_n);

	in->engine_loops = READ_ONCE(eng_loops);
	in->engine_late = READ_ONCE(eng_late);
	in->tx_cost_max_ns = READ_ONCE(cost_max);
	in->tx_cost_avg_ns = n ? div64_u64(READ_ONCE(cost_sum), n) : 0;
	in->engine_stalls = READ_ONCE(eng_stalls);
	in->engine_stolen_ns = READ_ONCE(eng_stolen);
	in->engine_max_stall_ns = READ_ONCE(eng_max_stall);
	in->engine_masked_gap_max_ns = READ_ONCE(eng_masked_gap_max);
	in->engine_flags = xl_poll ? XLANE_ENGINE_POLL : 0;
}

/* Control path: a lane was added or changed; look at the schedule again. */
void xl_engine_kick(void)
{
	if (xl_engine)
		wake_up_process(xl_engine);
}

static bool xl_lane_has_work(struct xl_lane *l)
{
	if (l->kind == XL_LANE_FD)
		return true;	/* fd.c decides at send time */
	return xl_load_acquire(&l->rx.r->head) != l->rx.tail;
}

/*
 * Fills the packet from the lane's R-X ring; returns chunks, *over if
 * policed. *queued is how far the producer had published when the period
 * began: only those messages can be over this period's grant.
 */
static u32 xl_fill_data(struct xl_lane *l, struct xlane_enc *enc, bool *over, u64 *queued)
{
	u32 budget = READ_ONCE(l->loadsize), n = 0, len, type, wire;
	const void *msg;

	*queued = xl_load_acquire(&l->rx.r->head);
	while (l->rx.tail < *queued && (msg = xlane_cons_peek(&l->rx, &len, &type))) {
		wire = xlane_chunk_wire_len(len);
		if (wire > READ_ONCE(l->loadsize)) {
			/* a message larger than the grant never fits */
			l->policed++;
			*over = true;
			xlane_cons_release(&l->rx);
			continue;
		}
		if (wire > budget || xlane_enc_chunk(enc, XLANE_SVC_DATA, l->req.port, msg, len))
			break;
		xlane_cons_release(&l->rx);
		budget -= wire;
		l->msgs++;
		n++;
	}
	return n;
}

/*
 * What was queued at the start of the period and did not fit its grant is
 * over the grant: drop it. Messages published since wait for the next one.
 */
static void xl_police(struct xl_lane *l, bool *over, u64 queued)
{
	u32 len, type, i;

	for (i = 0; i < l->rx.slots && l->rx.tail < queued &&
	     xlane_cons_peek(&l->rx, &len, &type); i++) {
		xlane_cons_release(&l->rx);
		l->policed++;
		*over = true;
	}
}

static void xl_xmit(struct xl_lane *l, struct net_device *dev, struct sk_buff *skb)
{
	struct xl_net *xn = l->xn;
	struct udphdr *uh;
	struct iphdr *iph;
	struct ethhdr *eth;
	u32 len = skb->len;

	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = htons(xn->port);
	uh->dest = htons(xn->port);
	uh->len = htons(len + sizeof(*uh));
	uh->check = 0;	/* the X-Lane header and chunks carry their own checks */

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = 0xb8;	/* DSCP EF */
	iph->tot_len = htons(skb->len);
	iph->id = 0;
	iph->frag_off = htons(IP_DF);
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = xn->src_ip;
	iph->daddr = l->req.ip;
	ip_send_check(iph);

	eth = skb_push(skb, ETH_HLEN);
	skb_reset_mac_header(skb);
	ether_addr_copy(eth->h_dest, l->dst_mac);
	ether_addr_copy(eth->h_source, dev->dev_addr);
	eth->h_proto = htons(ETH_P_IP);

	skb->protocol = htons(ETH_P_IP);
	skb->dev = dev;
	skb->priority = TC_PRIO_INTERACTIVE;	/* band 0 of a default prio qdisc */
	if (dev_queue_xmit(skb))
		atomic64_inc(&xn->tx_errors);
	else
		atomic64_inc(&xn->tx_packets);
}

/* Serves lane @l, due at l->next_due (at most spin_us from now). */
static void xl_lane_fire(struct xl_lane *l)
{
	struct xl_net *xn = l->xn;
	struct net_device *dev = READ_ONCE(xn->dev);
	u64 due = l->next_due, period = READ_ONCE(l->period_ns), t0, tx, now;
	u64 gap = 0;
	struct xlane_fd_beat beat;
	struct xlane_enc enc;
	struct sk_buff *skb = NULL;
	unsigned long flags;
	bool over = false;
	u64 queued = 0;
	u32 n = 0, len, hlen;

	if (!dev)
		return;
	hlen = LL_RESERVED_SPACE(dev) + sizeof(struct iphdr) + sizeof(struct udphdr);
	if (xl_lane_has_work(l)) {
		skb = alloc_skb(hlen + XLANE_WIRE_MAX, GFP_ATOMIC | __GFP_NOWARN);
		if (skb)
			skb_reserve(skb, hlen);
		else
			atomic64_inc(&xn->tx_errors);
	}

	local_irq_save(flags);
	/*
	 * Spin to the deadline with interrupts masked. Nothing in the guest
	 * can take the CPU meanwhile, so the longest gap between two clock
	 * reads here is time the CPU itself did not run (under emulation,
	 * the host held the vCPU): jitter no kernel path is to blame for.
	 */
	for (t0 = ktime_get_ns(); (s64)(t0 - due) < 0; t0 = tx) {
		cpu_relax();
		tx = ktime_get_ns();
		if (tx - t0 > gap)
			gap = tx - t0;
	}
	if (skb) {
		xlane_enc_begin(&enc, skb->data, XLANE_WIRE_MAX, xn->node_id, l->id, l->seq);
		if (l->kind == XL_LANE_DATA)
			n = xl_fill_data(l, &enc, &over, &queued);
		else if (xl_fd_beat_payload(xn, &beat) &&
			 !xlane_enc_chunk(&enc, XLANE_SVC_FD, 0, &beat, sizeof(beat)))
			n = 1;
	}
	tx = ktime_get_ns();
	len = n ? xlane_enc_finish(&enc, tx) : 0;
	local_irq_restore(flags);
	if (gap > eng_masked_gap_max)
		WRITE_ONCE(eng_masked_gap_max, gap);

	/* the next deadline: keep the phase unless a whole period was lost */
	if (t0 - due > period) {
		l->late++;
		WRITE_ONCE(eng_late, eng_late + 1);
		l->next_due = t0 + period;
	} else {
		l->next_due = due + period;
	}

	if (l->kind == XL_LANE_DATA && skb)
		xl_police(l, &over, queued);
	if (over && t0 - l->exceeded_at > NSEC_PER_SEC) {
		l->exceeded_at = t0;
		if (l->owner)
			xl_event(l->owner, XLANE_EV_CHANGED, l->id, XLANE_REASON_BW_EXCEEDED,
				 &l->res);
	}

	if (!n) {
		kfree_skb(skb);
		l->idle_periods++;
		if (++l->idle_run == xl_unused_periods && (l->req.flags & XLANE_REQ_RECLAIM))
			xl_reclaim_request(l);
		return;
	}
	l->idle_run = 0;
	l->seq++;
	l->sent++;
	skb_put(skb, len);
	xl_xmit(l, dev, skb);

	now = ktime_get_ns() - t0;
	WRITE_ONCE(cost_sum, cost_sum + now);
	WRITE_ONCE(cost_n, cost_n + 1);
	if (now > cost_max)
		WRITE_ONCE(cost_max, now);
}

/* Which of two lanes to serve first, at time @now. */
static bool xl_before(struct xl_lane *a, struct xl_lane *b, u64 now)
{
	bool ad = a->next_due <= now, bd = b->next_due <= now;

	if (ad != bd)
		return ad;
	if (ad && a->req.prio != b->req.prio)
		return a->req.prio < b->req.prio;
	return a->next_due < b->next_due;
}

static void xl_sleep_until(u64 t)
{
	ktime_t kt = ns_to_ktime(t);

	set_current_state(TASK_INTERRUPTIBLE);
	if (kthread_should_stop() || (s64)(t - ktime_get_ns()) <= 0) {
		__set_current_state(TASK_RUNNING);
		return;
	}
	schedule_hrtimeout_range(&kt, 0, HRTIMER_MODE_ABS);
}

/* A round that began, or ran, later than it could have: count the stall. */
static void xl_account_stall(u64 expected, u64 now)
{
	struct xl_net *xn;
	u64 t;

	if (now <= expected + (u64)stall_us * NSEC_PER_USEC)
		return;
	t = now - expected;
	WRITE_ONCE(eng_stalls, eng_stalls + 1);
	WRITE_ONCE(eng_stolen, eng_stolen + t);
	if (t > eng_max_stall)
		WRITE_ONCE(eng_max_stall, t);
	rcu_read_lock();
	list_for_each_entry_rcu(xn, &xl_nets, node)
		xl_fd_stalled(xn, t);
	rcu_read_unlock();
}

static int xl_engine_fn(void *unused)
{
	u64 planned = ktime_get_ns();

	while (!kthread_should_stop()) {
		struct xl_lane *l, *best = NULL;
		struct xl_net *xn;
		u64 now = ktime_get_ns(), next = now + NSEC_PER_SEC, t;
		bool fired = false;

		u64 start = now;

		xl_account_stall(planned, now);

		rcu_read_lock();
		list_for_each_entry_rcu(l, &xl_lanes, node) {
			if (!READ_ONCE(l->xn->attached))
				continue;
			if (!best || xl_before(l, best, now))
				best = l;
		}
		if (best && best->next_due <= now + xl_spin_ns) {
			start = max(now, best->next_due);
			xl_lane_fire(best);
			fired = true;
		} else if (best) {
			next = best->next_due;
		}
		now = ktime_get_ns();
		/* a round is microseconds of work: more was taken from us */
		xl_account_stall(start, now);
		list_for_each_entry_rcu(xn, &xl_nets, node) {
			t = xl_fd_check(xn, now);
			if (t && t < next)
				next = t;
		}
		rcu_read_unlock();
		WRITE_ONCE(eng_loops, eng_loops + 1);
		cond_resched();
		planned = ktime_get_ns();
		/* exact: the engine is bound to this CPU */
		if (xl_poll && single_task_running()) {
			/*
			 * A zero-length extended quiescent state, outside the
			 * read-side section: grace periods need not wait for
			 * cond_resched() to see RCU's urgent request, which on
			 * a nohz_full CPU with the tick stopped comes late (as
			 * osnoise's polling threads do it).
			 */
			local_irq_disable();
			rcu_momentary_eqs();
			local_irq_enable();
			continue;
		}
		if (!fired && next > planned + xl_spin_ns) {
			planned = next - xl_spin_ns;
			xl_sleep_until(planned);
		}
	}
	return 0;
}

static int xl_pick_cpu(int want)
{
	int c;

	if (want >= 0)
		return want < nr_cpu_ids && cpu_online(want) ? want : -EINVAL;
	for_each_online_cpu(c)
		if (!housekeeping_test_cpu(c, HK_TYPE_DOMAIN))
			return c;
	return cpumask_last(cpu_online_mask);
}

/**
 * xl_engine_start() - start the lane engine.
 * @want: the CPU, or -1 for the first isolated CPU (isolcpus=domain)
 *
 * The engine runs SCHED_FIFO; on an isolated CPU it is alone there.
 */
int xl_engine_start(int want)
{
	struct task_struct *t;
	int c = xl_pick_cpu(want);

	if (c < 0)
		return c;
	t = kthread_create(xl_engine_fn, NULL, "xlane/%d", c);
	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, c);
	sched_set_fifo(t);
	xl_poll = poll < 0 ? !housekeeping_test_cpu(c, HK_TYPE_DOMAIN) : poll;
	xl_cpu = c;
	xl_engine = t;
	wake_up_process(t);
	return 0;
}

void xl_engine_stop(void)
{
	if (xl_engine)
		kthread_stop(xl_engine);
	xl_engine = NULL;
}
