// SPDX-License-Identifier: GPL-2.0
/*
 * xps: TCP fast-path extension framework ("Taming latency in data center
 * applications", ch. 3) on the kernel's fast-path hook
 * (<net/tcp_fastpath.h>).
 *
 * Handlers are eBPF struct_ops maps of type "xps_handler"
 * (include/xps/xps.h). The module keeps them in a predicate table, runs
 * the one a connection's payload selects (L4 predicate, then the L7
 * composability value), and applies its verdict: reply (TX), drop, reset
 * or pass to the application.
 *
 * Ordering fence. A reply from the fast path must never overtake a reply
 * the application still owes. The hook only lets the module take payload
 * when the application has read everything before it. After the module
 * has passed input to the application, a connection stays on the slow
 * path until the application has written since that input was passed and
 * the peer had received all of it when it sent the new payload (its ACK
 * covers write_seq), with nothing of the application's left unsent. For
 * request/response clients that wait for a reply before the next request
 * this is exact. A pipelining client of an application that writes one
 * reply in several pieces more than a round trip apart could see a fast
 * reply between those pieces; handlers for such applications set
 * XPS_F_STRICT, which keeps a connection on the slow path for good once
 * anything was passed.
 *
 * Write fences (see include/xps/xps.h) keep a handler's cache coherent
 * with the application. Every in-order payload of a selected connection
 * is seen here, taken or not (the hook also offers what it does not let
 * us take), so every write the application can apply passes a handler
 * first. A payload the handler cannot parse (the connection is out of
 * step, or the module saw a gap in the stream) is fenced for all slots.
 * A fence stays pending until the application has read the payload
 * (copied_seq), is held while a handler says the application applies it
 * later (transactions), and retires at the latest when the connection is
 * destroyed.
 *
 * Write-through. A fence that bpf_xps_fence_write_through() turns into
 * the connection's write-through fence stays pending until the
 * application's reply instead: the hook's send side (->sent()) sees the
 * application's next write on the connection. If it starts with the reply
 * the handler named ("+OK\r\n"), the fence retires as usual and the slot's
 * token becomes the one the kfunc returned, with which the handler stamped
 * the value it stored. If the reply is anything else, or the connection
 * ends, or the write position went by unseen, the fence is voided: the
 * generation moves on before the fence retires, so that token never
 * becomes current.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/hash.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rhashtable.h>
#include <linux/sched/clock.h>
#include <linux/sched/cputime.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_fastpath.h>

#include <xps/xps.h>

struct xps_stats {
	u64 calls;
	u64 tx;
	u64 drop;
	u64 pass;
	u64 reset;
	u64 refused;
	u64 unsync;
	u64 fenced;
	u64 yielded;			/* passed: the owner was starved */
	u64 write_through;		/* fences waiting for a reply */
	u64 cpu_ns;
	u64 charged_ns;			/* cpu_ns charged to the owner */
	u64 pending_ns;			/* not yet: less than a tick */
};

/* An attached handler: the struct_ops data plus what the module keeps. */
struct xps_h {
	struct list_head node;		/* xps_handlers, RCU */
	struct xps_handler __rcu *ops;	/* struct_ops kdata; update swaps it */
	struct xps_handler pred;	/* predicate, name: never change */
	struct xps_stats __percpu *stats;
	struct pid *owner;		/* pred.owner_pid's process, or NULL */
	struct kobject kobj;
};

struct xps_fence {
	struct list_head node;		/* xps_conn.fences */
	u32 slot;			/* < XPS_SLOTS or XPS_SLOT_ALL */
	u32 end_seq;			/* retires once copied_seq reaches it */
	u32 serial;			/* order of addition on the conn */
	bool held;			/* end_seq not known yet */
	/* A write-through fence (xps_conn.wt): the reply it waits for. */
	u32 expect_seq;			/* where the reply starts */
	u8 confirm_len;
	u8 confirm[XPS_CONFIRM_MAX];
};

/* Per-connection state, keyed by the socket, alive until ->destroy(). */
struct xps_conn {
	struct rhash_head rh;
	struct sock *sk;
	struct rcu_head rcu;
	u64 state;			/* xps_md.state */
	u64 msgs;			/* payloads taken */
	u32 next_seq;			/* where the next payload must start */
	u32 resync_seq;			/* step regained at this payload start */
	u32 pass_wseq;			/* write_seq when input was last passed */
	bool unsync;			/* handler cannot parse the stream */
	bool resync;			/* resync_seq is valid */
	bool passed;			/* application may owe replies */
	bool ever_passed;		/* for XPS_F_STRICT */
	bool owing;			/* counted in *owed */
	atomic_t *owed;			/* the bucket of sk's port */
	bool hold;			/* new fences are held */
	bool hold_forever;		/* nothing retires before destroy */
	/* Under xps_fence_lock: */
	u32 fence_serial;
	struct list_head fences;
	struct list_head pending_node;	/* on xps_pending while fences exist */
	struct xps_fence spare;		/* fence for all slots if kmalloc fails */
	struct xps_fence *wt;		/* write-through fence, or NULL */
};

/* One handle() call; per CPU, the hook runs with bottom halves off. */
struct xps_run {
	struct xps_md md;		/* first: kfuncs container_of() it */
	struct xps_conn *conn;
	struct xps_h *h;
	struct sk_buff *skb;
	struct sk_buff *reply_skb;	/* built in rcv, sent in consumed */
	u32 end_seq;
	u32 mark;			/* conn's fence_serial before handle() */
	u32 reply_len;
	u32 need;
	bool partial;
	u8 reply[XPS_REPLY_MAX];
};

/* Allocated at load: too big for the module's static per-CPU area. */
static struct xps_run __percpu *xps_runs;

static LIST_HEAD(xps_handlers);		/* RCU readers, xps_mutex writers */
static DEFINE_MUTEX(xps_mutex);
static bool xps_hooked;			/* provider registered (xps_mutex) */
static const struct btf *xps_btf;

static struct rhashtable xps_conns;
static const struct rhashtable_params xps_conn_params = {
	.key_len = sizeof(struct sock *),
	.key_offset = offsetof(struct xps_conn, sk),
	.head_offset = offsetof(struct xps_conn, rh),
	.automatic_shrinking = true,
};

static atomic_t xps_nconns = ATOMIC_INIT(0);

/*
 * Fence state. A token is (global generation << 32 | slot generation)
 * and zero while a fence on the slot (or on all slots) is pending.
 * Writers raise the pending count before they bump the generation
 * (smp_mb__after_atomic()), readers read the generation before the
 * count (smp_rmb()): a reader that sees the new generation also sees the
 * pending fence, so a token taken while a write is in flight is either
 * zero or the old one, which the bump already invalidated.
 */
static u32 *xps_slot_gen;
static atomic_t *xps_slot_pending;
static u32 xps_all_gen = 1;
static atomic_t xps_all_pending = ATOMIC_INIT(0);
static atomic_t xps_nfences = ATOMIC_INIT(0);
static atomic_t xps_nwt = ATOMIC_INIT(0);	/* conns with a wt fence */
static atomic64_t xps_wt_confirmed = ATOMIC64_INIT(0);
static atomic64_t xps_wt_voided = ATOMIC64_INIT(0);
static DEFINE_SPINLOCK(xps_fence_lock);
static LIST_HEAD(xps_pending);		/* conns with fences */
static bool xps_poisoned;		/* a payload went unfenced */

static struct kobject *xps_kobj, *xps_handlers_kobj;

static u32 xps_gen_next(u32 gen)
{
	return gen + 1 ? gen + 1 : 1;
}

/* Under xps_fence_lock. */
static void xps_fence_add(struct xps_conn *c, u32 slot, u32 end_seq)
{
	struct xps_fence *f = kmalloc(sizeof(*f), GFP_ATOMIC);

	if (!f) {
		/* The spare fences everything, up to the latest payload. */
		f = &c->spare;
		if (!list_empty(&f->node)) {
			f->end_seq = end_seq;
			f->held |= c->hold;
			return;
		}
		slot = XPS_SLOT_ALL;
	}
	f->slot = slot;
	f->end_seq = end_seq;
	f->serial = ++c->fence_serial;
	f->held = c->hold;
	if (list_empty(&c->fences))
		list_add_tail(&c->pending_node, &xps_pending);
	list_add_tail(&f->node, &c->fences);
	atomic_inc(&xps_nfences);
	if (slot == XPS_SLOT_ALL) {
		atomic_inc(&xps_all_pending);
		/* Pending before the new generation: see xps_token(). */
		smp_mb__after_atomic();
		WRITE_ONCE(xps_all_gen, xps_gen_next(xps_all_gen));
	} else {
		atomic_inc(&xps_slot_pending[slot]);
		/* Pending before the new generation: see xps_token(). */
		smp_mb__after_atomic();
		WRITE_ONCE(xps_slot_gen[slot], xps_gen_next(xps_slot_gen[slot]));
	}
}

/* Under xps_fence_lock. */
static void xps_fence_retire(struct xps_conn *c, struct xps_fence *f)
{
	if (f == c->wt) {
		c->wt = NULL;
		atomic_dec(&xps_nwt);
	}
	list_del_init(&f->node);
	if (f->slot == XPS_SLOT_ALL)
		atomic_dec(&xps_all_pending);
	else
		atomic_dec(&xps_slot_pending[f->slot]);
	atomic_dec(&xps_nfences);
	if (f != &c->spare)
		kfree(f);
	if (list_empty(&c->fences))
		list_del_init(&c->pending_node);
}

/*
 * Retire the connection's write-through fence (always on one slot) as a
 * write that was not confirmed: the generation it would have left current
 * moves on first, and only then does the pending count drop (xps_token()
 * reads them in the other order too). Under xps_fence_lock.
 */
static void xps_wt_void(struct xps_conn *c)
{
	struct xps_fence *f = c->wt;

	WRITE_ONCE(xps_slot_gen[f->slot], xps_gen_next(xps_slot_gen[f->slot]));
	/* New generation before the pending count drops: see xps_token(). */
	smp_mb__before_atomic();
	atomic64_inc(&xps_wt_voided);
	xps_fence_retire(c, f);
}

/* A fence whose write will never be confirmed. Under xps_fence_lock. */
static void xps_fence_drop(struct xps_conn *c, struct xps_fence *f)
{
	if (f == c->wt)
		xps_wt_void(c);
	else
		xps_fence_retire(c, f);
}

/*
 * Retire the fences whose payload the application has read; a
 * write-through fence waits for its reply (xps_sent()). Under
 * xps_fence_lock, which keeps c->sk alive: ->destroy() unlinks c under it.
 */
static void xps_conn_retire(struct xps_conn *c)
{
	u32 copied = READ_ONCE(tcp_sk(c->sk)->copied_seq);
	struct xps_fence *f, *tmp;

	if (c->hold_forever)
		return;
	list_for_each_entry_safe(f, tmp, &c->fences, node)
		if (!f->held && f != c->wt && !before(copied, f->end_seq))
			xps_fence_retire(c, f);
}

static void xps_retire_all(void)
{
	struct xps_conn *c, *tmp;

	spin_lock_bh(&xps_fence_lock);
	list_for_each_entry_safe(c, tmp, &xps_pending, pending_node)
		xps_conn_retire(c);
	spin_unlock_bh(&xps_fence_lock);
}

static u64 xps_token(u32 slot)
{
	u32 all, gen;

	if (slot >= XPS_SLOTS || READ_ONCE(xps_poisoned))
		return 0;
	all = READ_ONCE(xps_all_gen);
	gen = READ_ONCE(xps_slot_gen[slot]);
	/* Generations before pending counts: pairs with xps_fence_add(). */
	smp_rmb();
	if (atomic_read(&xps_all_pending) ||
	    atomic_read(&xps_slot_pending[slot]))
		return 0;
	/*
	 * And again after them: xps_wt_void() moves the generation on
	 * before its fence stops counting, so a reader that saw the count
	 * drop sees the new generation here, and not the token of a write
	 * that was never confirmed.
	 */
	smp_rmb();
	if (READ_ONCE(xps_all_gen) != all ||
	    READ_ONCE(xps_slot_gen[slot]) != gen)
		return 0;
	return (u64)all << 32 | gen;
}

/* ---- predicate table -------------------------------------------------- */

static bool xps_addr_any(const u8 *a)
{
	return !memchr_inv(a, 0, 16);
}

static void xps_sk_addrs(const struct sock *sk, struct in6_addr *l,
			 struct in6_addr *r)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		*l = sk->sk_v6_rcv_saddr;
		*r = sk->sk_v6_daddr;
		return;
	}
#endif
	ipv6_addr_set_v4mapped(sk->sk_rcv_saddr, l);
	ipv6_addr_set_v4mapped(sk->sk_daddr, r);
}

static bool xps_l4_match(const struct xps_handler *p, const struct sock *sk,
			 bool v6, const struct in6_addr *l,
			 const struct in6_addr *r)
{
	if (p->lport && p->lport != sk->sk_num)
		return false;
	if (p->rport && p->rport != ntohs(sk->sk_dport))
		return false;
	if ((p->flags & XPS_F_IPV4) && v6)
		return false;
	if ((p->flags & XPS_F_IPV6) && !v6)
		return false;
	if (!xps_addr_any(p->laddr) && memcmp(p->laddr, l, 16))
		return false;
	if (!xps_addr_any(p->raddr) && memcmp(p->raddr, r, 16))
		return false;
	return true;
}

static bool xps_same_l4(const struct xps_handler *a,
			const struct xps_handler *b)
{
	return a->lport == b->lport && a->rport == b->rport &&
	       (a->flags & (XPS_F_IPV4 | XPS_F_IPV6)) ==
	       (b->flags & (XPS_F_IPV4 | XPS_F_IPV6)) &&
	       !memcmp(a->laddr, b->laddr, 16) &&
	       !memcmp(a->raddr, b->raddr, 16);
}

/*
 * The handler for this payload: among those whose L4 predicate selects
 * the socket, a sub-handler whose L7 value is at its offset, else the one
 * without an L7 value. *l4 says whether any predicate selected it.
 * RCU read side.
 */
static struct xps_h *xps_lookup(const struct sock *sk,
				const struct sk_buff *skb, bool *l4)
{
	struct xps_h *h, *plain = NULL;
	struct in6_addr l, r;
	u8 val[XPS_L7_MAX];
	bool v6;

	xps_sk_addrs(sk, &l, &r);
	v6 = sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&r);
	*l4 = false;
	list_for_each_entry_rcu(h, &xps_handlers, node) {
		const struct xps_handler *p = &h->pred;

		if (!xps_l4_match(p, sk, v6, &l, &r))
			continue;
		*l4 = true;
		if (!p->l7_len) {
			if (!plain)
				plain = h;
			continue;
		}
		if (skb->len >= p->l7_off + p->l7_len &&
		    !skb_copy_bits(skb, p->l7_off, val, p->l7_len) &&
		    !memcmp(val, p->l7_value, p->l7_len))
			return h;
	}
	return plain;
}

/* ---- the hook --------------------------------------------------------- */

static struct xps_conn *xps_conn_get(struct sock *sk, struct sk_buff *skb)
{
	struct xps_conn *c;

	c = rhashtable_lookup(&xps_conns, &sk, xps_conn_params);
	if (c)
		return c;
	c = kzalloc(sizeof(*c), GFP_ATOMIC);
	if (!c)
		return NULL;
	c->sk = sk;
	INIT_LIST_HEAD(&c->fences);
	INIT_LIST_HEAD(&c->pending_node);
	INIT_LIST_HEAD(&c->spare.node);
	c->next_seq = TCP_SKB_CB(skb)->seq;
	/* Bytes arrived before we saw the connection (it predates the
	 * first handler, or Fast Open data went by): we cannot know where
	 * a message starts.
	 */
	c->unsync = tcp_sk(sk)->bytes_received != 0;
	if (rhashtable_insert_fast(&xps_conns, &c->rh, xps_conn_params)) {
		kfree(c);
		return NULL;
	}
	atomic_inc(&xps_nconns);
	return c;
}

/* The application may still owe a reply to input we passed to it. */
static bool xps_owed(struct xps_conn *c, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!c->passed)
		return false;
	if (tp->write_seq == c->pass_wseq ||
	    before(TCP_SKB_CB(skb)->ack_seq, tp->write_seq) ||
	    !tcp_write_queue_empty(sk))
		return true;
	c->passed = false;
	return false;
}

/*
 * Yielding to a starved application. Kernel answers run in softirq, ahead
 * of every task on the CPU. When clients keep a CPU busy with requests the
 * handler answers, the requests it passes (Redis's SETs) wait for the
 * application, which runs only when softirq lets it; and as the clients
 * whose requests were answered come straight back, that can be never.
 * So while the owner (xps_handler.owner_pid) owes a reply and its main
 * thread has waited in a runqueue for longer than yield_us, payloads that
 * could be answered are passed instead (XPS_MD_PASS_ONLY | XPS_MD_YIELD).
 * Their clients then wait for the application too, which ends the flood
 * that starves it; once it runs, answers resume.
 *
 * The wait is the scheduler's own: sched_info.last_queued is set when the
 * task is queued runnable and cleared when it gets a CPU (or sleeps).
 * It is read without the runqueue lock and compared with local_clock(),
 * the clock rq_clock() follows: a torn or stale read costs one payload a
 * yield it did not need, or an answer while yielding, never order
 * (c->passed fences each connection). Without CONFIG_SCHED_INFO nothing
 * yields.
 *
 * What is owed is counted per application, which is the connection's
 * local port hashed into xps_owing (two ports in one bucket only yield
 * together). A connection owes from a pass to the application's next
 * write on it (c->owing, changed with the socket owned or bh-locked).
 */
static unsigned int yield_us = 2000;
module_param(yield_us, uint, 0644);
MODULE_PARM_DESC(yield_us,
		 "pass instead of answering while the owner owes a reply and has waited this long for a CPU (us; 0: never)");

#define XPS_OWED_BITS	6

static atomic_t xps_owing[1 << XPS_OWED_BITS];

/* The count of connections owing a reply on @sk's port. */
static atomic_t *xps_owing_of(const struct sock *sk)
{
	return &xps_owing[hash_32(sk->sk_num, XPS_OWED_BITS)];
}

/* A pass: the application owes a reply on @c. */
static void xps_owe(struct xps_conn *c, struct sock *sk)
{
	if (c->owing)
		return;
	c->owed = xps_owing_of(sk);
	c->owing = true;
	atomic_inc(c->owed);
}

/*
 * The application wrote on @c (socket owned), or @c is being freed, when
 * its socket may be gone already: c->owed, not c->sk.
 */
static void xps_repaid(struct xps_conn *c)
{
	if (!c->owing)
		return;
	c->owing = false;
	atomic_dec(c->owed);
}

/* Pass what could be answered: see "Yielding" above. Under RCU. */
static bool xps_yield(struct xps_h *h, struct sock *sk)
{
#ifdef CONFIG_SCHED_INFO
	s64 limit = (s64)READ_ONCE(yield_us) * NSEC_PER_USEC;
	struct task_struct *p;
	u64 queued;

	if (!limit || !h->owner || !atomic_read(xps_owing_of(sk)))
		return false;
	p = pid_task(h->owner, PIDTYPE_TGID);
	if (!p)
		return false;
	queued = READ_ONCE(p->sched_info.last_queued);
	return queued && (s64)(local_clock() - queued) > limit;
#else
	return false;
#endif
}

/* Charge @ns to the owner's process; under RCU. */
static void xps_charge_owner(struct xps_h *h, struct xps_stats *s, u64 ns)
{
	struct task_struct *p = pid_task(h->owner, PIDTYPE_TGID);

	if (!p)
		return;		/* the owner has exited */
	account_work_for(p, ns);
	s->charged_ns += ns;
}

/*
 * Handler time, from the hook (bottom halves off, so this CPU's stats are
 * ours). As in the paper, it is charged to the owning process a tick's
 * worth at a time: account_work_for() takes the owner's runqueue lock.
 */
static void xps_charge(struct xps_h *h, u64 ns)
{
	struct xps_stats *s = this_cpu_ptr(h->stats);

	s->cpu_ns += ns;
	if (!h->owner)
		return;
	s->pending_ns += ns;
	if (s->pending_ns < TICK_NSEC)
		return;
	xps_charge_owner(h, s, s->pending_ns);
	s->pending_ns = 0;
}

static enum tcp_fastpath_verdict xps_rcv(struct sock *sk, struct sk_buff *skb,
					 bool may_take)
{
	struct xps_run *run = this_cpu_ptr(xps_runs);
	u32 seq = TCP_SKB_CB(skb)->seq, end = TCP_SKB_CB(skb)->end_seq;
	struct xps_fence *f, *tmp;
	struct xps_handler *ops;
	u32 mark;
	struct xps_conn *c;
	bool l4, take, yield, in_step;
	struct xps_h *h;
	u64 t0;
	int ret;

	h = xps_lookup(sk, skb, &l4);
	if (!l4) {
		/* A connection no predicate selects any more keeps its
		 * state (fences included) until it is destroyed.
		 */
		return TCP_FASTPATH_PASS;
	}
	c = xps_conn_get(sk, skb);
	if (!c) {
		/* Nowhere to record this payload's fences: no cache entry
		 * can be trusted again until the handlers are reloaded.
		 */
		WRITE_ONCE(xps_poisoned, true);
		return TCP_FASTPATH_PASS;
	}

	spin_lock(&xps_fence_lock);
	xps_conn_retire(c);
	/*
	 * The application wrote past where the reply was expected and
	 * xps_sent() did not see it start there (it saw the write only in
	 * part, as when tcp_sendmsg_locked() let the backlog in while it
	 * waited for memory): no confirmation can come any more.
	 */
	if (c->wt && after(READ_ONCE(tcp_sk(sk)->write_seq), c->wt->expect_seq))
		xps_wt_void(c);
	in_step = seq == c->next_seq && !c->unsync;
	if (c->unsync && c->resync && seq == c->resync_seq) {
		c->unsync = false;
		c->resync = false;
		in_step = seq == c->next_seq;
	}
	if (!in_step || !h) {
		/* Unparsable here (out of step, or no handler for this L7
		 * value): fence everything it could write.
		 */
		c->unsync |= !in_step;
		xps_fence_add(c, XPS_SLOT_ALL, end);
		spin_unlock(&xps_fence_lock);
		c->next_seq = end;
		if (h)
			this_cpu_inc(h->stats->unsync);
		goto pass;
	}
	mark = c->fence_serial;
	spin_unlock(&xps_fence_lock);
	c->next_seq = end;

	rcu_read_lock();
	ops = rcu_dereference(h->ops);
	take = may_take && !xps_owed(c, sk, skb);
	if (take && (h->pred.flags & XPS_F_STRICT) && c->ever_passed)
		take = false;
	yield = take && xps_yield(h, sk);
	if (yield) {
		take = false;
		this_cpu_inc(h->stats->yielded);
	}

	run->md.len = skb->len;
	run->md.flags = sk->sk_family == AF_INET6 ? XPS_MD_IPV6 : 0;
	if (!take)
		run->md.flags |= XPS_MD_PASS_ONLY;
	if (yield)
		run->md.flags |= XPS_MD_YIELD;
	run->md.lport = sk->sk_num;
	run->md.rport = ntohs(sk->sk_dport);
	run->md.seq = seq;
	run->md.cookie = atomic64_read(&sk->sk_cookie);
	run->md.conn_msgs = c->msgs;
	run->md.state = c->state;
	run->conn = c;
	run->h = h;
	run->skb = skb;
	run->end_seq = end;
	run->mark = mark;
	run->reply_len = 0;
	run->reply_skb = NULL;
	run->partial = false;
	run->need = 0;

	t0 = local_clock();
	ret = ops->handle(&run->md);
	xps_charge(h, local_clock() - t0);
	this_cpu_inc(h->stats->calls);
	rcu_read_unlock();
	run->conn = NULL;

	if (run->partial) {
		c->unsync = true;
		c->resync = run->need != 0;
		c->resync_seq = end + run->need;
	}
	if (!take || run->partial ||
	    (ret != XPS_TX && ret != XPS_DROP && ret != XPS_RESET))
		goto pass_counted;

	if (ret == XPS_TX && !run->reply_len)
		ret = XPS_DROP;	/* answered with nothing */
	if (ret == XPS_TX) {
		int err;

		run->reply_skb = tcp_fastpath_alloc_reply(sk, run->reply,
							  run->reply_len, &err);
		if (!run->reply_skb) {
			this_cpu_inc(h->stats->refused);
			goto pass_counted;
		}
	}

	/* Taken: the application never sees this payload, so what it
	 * fenced cannot be applied.
	 */
	spin_lock(&xps_fence_lock);
	list_for_each_entry_safe(f, tmp, &c->fences, node)
		if ((s32)(f->serial - mark) > 0)
			xps_fence_drop(c, f);
	spin_unlock(&xps_fence_lock);
	c->msgs++;
	switch (ret) {
	case XPS_TX:
		this_cpu_inc(h->stats->tx);
		return TCP_FASTPATH_CONSUME;
	case XPS_DROP:
		this_cpu_inc(h->stats->drop);
		return TCP_FASTPATH_CONSUME;
	default:
		this_cpu_inc(h->stats->reset);
		return TCP_FASTPATH_RESET;
	}

pass_counted:
	this_cpu_inc(h->stats->pass);
pass:
	xps_owe(c, sk);
	c->passed = true;
	c->ever_passed = true;
	c->pass_wseq = tcp_sk(sk)->write_seq;
	return TCP_FASTPATH_PASS;
}

static void xps_consumed(struct sock *sk)
{
	struct xps_run *run = this_cpu_ptr(xps_runs);

	if (run->reply_skb) {
		tcp_fastpath_send_reply(sk, run->reply_skb);
		run->reply_skb = NULL;
	}
}

/*
 * The application wrote to a connection (->sent()): the reply a
 * write-through fence waits for, if this write starts where it was
 * expected. Socket owned by the caller, so no ->rcv() runs meanwhile.
 */
static void xps_sent(struct sock *sk, const struct iov_iter *from, u32 seq,
		     size_t len)
{
	u8 buf[XPS_CONFIRM_MAX];
	struct xps_fence *f;
	struct xps_conn *c;
	size_t n;

	if (!atomic_read(xps_owing_of(sk)) && !atomic_read(&xps_nwt))
		return;
	c = rhashtable_lookup(&xps_conns, &sk, xps_conn_params);
	if (!c)
		return;
	xps_repaid(c);
	if (!READ_ONCE(c->wt))
		return;
	spin_lock_bh(&xps_fence_lock);
	f = c->wt;
	if (!f || !after(seq + (u32)len, f->expect_seq)) {
		/* Older bytes, written before the request came. */
		spin_unlock_bh(&xps_fence_lock);
		return;
	}
	n = 0;
	if (seq == f->expect_seq && len >= f->confirm_len)
		n = tcp_fastpath_peek(from, buf, f->confirm_len);
	if (n && n == f->confirm_len && !memcmp(buf, f->confirm, n)) {
		atomic64_inc(&xps_wt_confirmed);
		xps_fence_retire(c, f);
	} else {
		xps_wt_void(c);
	}
	spin_unlock_bh(&xps_fence_lock);
}

static void xps_conn_free(struct xps_conn *c)
{
	struct xps_fence *f, *tmp;

	spin_lock_bh(&xps_fence_lock);
	list_for_each_entry_safe(f, tmp, &c->fences, node)
		xps_fence_drop(c, f);
	spin_unlock_bh(&xps_fence_lock);
	xps_repaid(c);
	atomic_dec(&xps_nconns);
	kfree_rcu(c, rcu);
}

static void xps_destroy(struct sock *sk)
{
	struct xps_conn *c;

	c = rhashtable_lookup(&xps_conns, &sk, xps_conn_params);
	if (!c || rhashtable_remove_fast(&xps_conns, &c->rh, xps_conn_params))
		return;
	xps_conn_free(c);
}

static const struct tcp_fastpath_ops xps_fastpath_ops = {
	.rcv = xps_rcv,
	.consumed = xps_consumed,
	.destroy = xps_destroy,
	.sent = xps_sent,
};

/*
 * The provider is registered only while a handler is attached, so that
 * without handlers the hook is a static branch not taken.
 */
static int xps_hook_get(void)
{
	int err;

	lockdep_assert_held(&xps_mutex);
	if (xps_hooked)
		return 0;
	err = tcp_fastpath_register(&xps_fastpath_ops);
	if (!err)
		xps_hooked = true;
	return err;
}

static void xps_conn_free_one(void *ptr, void *arg)
{
	xps_conn_free(ptr);
}

static void xps_hook_put(void)
{
	lockdep_assert_held(&xps_mutex);
	if (!xps_hooked || !list_empty(&xps_handlers))
		return;
	tcp_fastpath_unregister(&xps_fastpath_ops);
	xps_hooked = false;
	/* No callback runs any more: forget every connection. */
	rhashtable_free_and_destroy(&xps_conns, xps_conn_free_one, NULL);
	WARN_ON(rhashtable_init(&xps_conns, &xps_conn_params));
	WRITE_ONCE(xps_poisoned, false);
}

/* ---- kfuncs ----------------------------------------------------------- */

__bpf_kfunc_start_defs();

/**
 * bpf_xps_load - copy payload bytes
 * @md: the handler's context
 * @off: offset in the payload
 * @buf: destination
 * @buf__sz: bytes to copy
 *
 * Return: @buf__sz, or -EINVAL when the range is not inside the payload.
 */
__bpf_kfunc int bpf_xps_load(struct xps_md *md, u32 off, void *buf,
			     u32 buf__sz)
{
	struct xps_run *run = container_of(md, struct xps_run, md);

	if (!run->conn || off > md->len || buf__sz > md->len - off)
		return -EINVAL;
	if (skb_copy_bits(run->skb, off, buf, buf__sz))
		return -EINVAL;
	return buf__sz;
}

/**
 * bpf_xps_reply - append to the reply of this payload
 * @md: the handler's context
 * @buf: bytes
 * @buf__sz: number of bytes
 *
 * Return: 0, or -ENOSPC beyond XPS_REPLY_MAX bytes in all.
 */
__bpf_kfunc int bpf_xps_reply(struct xps_md *md, const void *buf, u32 buf__sz)
{
	struct xps_run *run = container_of(md, struct xps_run, md);

	if (!run->conn)
		return -EINVAL;
	if (buf__sz > XPS_REPLY_MAX - run->reply_len)
		return -ENOSPC;
	memcpy(run->reply + run->reply_len, buf, buf__sz);
	run->reply_len += buf__sz;
	return 0;
}

/**
 * bpf_xps_partial - the payload ends inside a message
 * @md: the handler's context
 * @need: bytes after the payload until the message ends, 0 if unknown
 */
__bpf_kfunc void bpf_xps_partial(struct xps_md *md, u32 need)
{
	struct xps_run *run = container_of(md, struct xps_run, md);

	run->partial = true;
	run->need = need;
}

/**
 * bpf_xps_fence_write - the payload may change data of a slot
 * @md: the handler's context
 * @slot: slot below XPS_SLOTS, or XPS_SLOT_ALL
 */
__bpf_kfunc void bpf_xps_fence_write(struct xps_md *md, u32 slot)
{
	struct xps_run *run = container_of(md, struct xps_run, md);
	struct xps_conn *c = run->conn;

	if (!c)
		return;
	if (slot >= XPS_SLOTS)
		slot = XPS_SLOT_ALL;
	spin_lock(&xps_fence_lock);
	xps_fence_add(c, slot, run->end_seq);
	spin_unlock(&xps_fence_lock);
	this_cpu_inc(run->h->stats->fenced);
}

/**
 * bpf_xps_fence_write_through - let the reply confirm a fenced write
 * @md: the handler's context
 * @slot: slot below XPS_SLOTS, which this call fenced with
 *	bpf_xps_fence_write() for the payload's first message
 * @ok: the start of the reply that says the write was applied ("+OK\r\n")
 * @ok__sz: its length, 1 to XPS_CONFIRM_MAX
 *
 * Makes the fence this call took on @slot wait for the application's next
 * write on this connection, instead of for the application to read the
 * payload. If that write starts with @ok the fence retires as usual; if
 * not, or if the connection ends first, it is voided. The returned token
 * is then the slot's current one exactly from the confirmation until the
 * next write to the slot is fenced: a value the handler stores with it now
 * is served only once the application has applied it, and only while it
 * is still the latest.
 *
 * For that the write must be the payload's first message, which the
 * handler knows; the application must owe nothing before this payload (no
 * XPS_MD_PASS_ONLY, unless with XPS_MD_YIELD), so that its next write is
 * the reply; and no other write to the slot, nor to all slots, may be
 * pending, so that none the application applies later is older. Otherwise, or when the connection
 * already waits for a reply or holds its fences, nothing changes.
 *
 * Return: the token the slot gets with the confirmation, or 0.
 */
__bpf_kfunc u64 bpf_xps_fence_write_through(struct xps_md *md, u32 slot,
					    const void *ok, u32 ok__sz)
{
	struct xps_run *run = container_of(md, struct xps_run, md);
	struct xps_conn *c = run->conn;
	struct xps_fence *f, *mine = NULL;
	u64 token = 0;

	if (!c || slot >= XPS_SLOTS || !ok__sz || ok__sz > XPS_CONFIRM_MAX ||
	    !XPS_MD_OWES_NOTHING(md->flags))
		return 0;
	spin_lock(&xps_fence_lock);
	if (c->wt || c->hold || c->hold_forever || READ_ONCE(xps_poisoned) ||
	    atomic_read(&xps_all_pending) ||
	    atomic_read(&xps_slot_pending[slot]) != 1)
		goto out;
	/* The one pending fence on the slot must be this call's. */
	list_for_each_entry(f, &c->fences, node) {
		if ((s32)(f->serial - run->mark) > 0 && f->slot == slot &&
		    f != &c->spare) {
			mine = f;
			break;
		}
	}
	if (!mine)
		goto out;
	/*
	 * The application owes nothing and has nothing unsent: its next
	 * byte is the reply's first. A write fenced on the slot after ours
	 * and already read was read before ours, so it is older: the token
	 * is whatever the generations are now.
	 */
	mine->expect_seq = READ_ONCE(tcp_sk(c->sk)->write_seq);
	mine->confirm_len = ok__sz;
	memcpy(mine->confirm, ok, ok__sz);
	c->wt = mine;
	atomic_inc(&xps_nwt);
	/* Generations only change under xps_fence_lock. */
	token = (u64)xps_all_gen << 32 | xps_slot_gen[slot];
	this_cpu_inc(run->h->stats->write_through);
out:
	spin_unlock(&xps_fence_lock);
	return token;
}

/**
 * bpf_xps_fence_token - validity token of a slot's data
 * @slot: slot below XPS_SLOTS
 *
 * Outside a handler (from the cache filler's syscall program) this first
 * retires the fences of payloads the application has read.
 *
 * Return: non-zero token, or 0 while a write to the slot is pending.
 */
__bpf_kfunc u64 bpf_xps_fence_token(u32 slot)
{
	u64 token = xps_token(slot);

	/* Inside a handler the scan would cost every packet. */
	if (!token && !this_cpu_ptr(xps_runs)->conn) {
		xps_retire_all();
		token = xps_token(slot);
	}
	return token;
}

/**
 * bpf_xps_set_state - store per-connection handler state
 * @md: the handler's context
 * @state: value seen as md->state by the next call on this connection
 */
__bpf_kfunc void bpf_xps_set_state(struct xps_md *md, u64 state)
{
	struct xps_run *run = container_of(md, struct xps_run, md);

	if (run->conn)
		run->conn->state = state;
}

/**
 * bpf_xps_hold - hold or release this connection's write fences
 * @md: the handler's context
 * @how: XPS_HOLD_ON, XPS_HOLD_OFF or XPS_HOLD_FOREVER
 */
__bpf_kfunc void bpf_xps_hold(struct xps_md *md, u32 how)
{
	struct xps_run *run = container_of(md, struct xps_run, md);
	struct xps_conn *c = run->conn;
	struct xps_fence *f;

	if (!c)
		return;
	spin_lock(&xps_fence_lock);
	switch (how) {
	case XPS_HOLD_ON:
		c->hold = true;
		break;
	case XPS_HOLD_FOREVER:
		c->hold_forever = true;
		break;
	default:
		c->hold = false;
		list_for_each_entry(f, &c->fences, node) {
			if (f->held) {
				f->held = false;
				f->end_seq = run->end_seq;
			}
		}
		break;
	}
	spin_unlock(&xps_fence_lock);
}

/**
 * bpf_xps_realtime_ms - CLOCK_REALTIME in milliseconds
 *
 * Return: milliseconds since the epoch.
 */
__bpf_kfunc u64 bpf_xps_realtime_ms(void)
{
	return div_u64(ktime_get_real_ns(), NSEC_PER_MSEC);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(xps_handler_kfunc_ids)
BTF_ID_FLAGS(func, bpf_xps_load, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_reply, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_partial, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_fence_write, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_fence_write_through, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_fence_token)
BTF_ID_FLAGS(func, bpf_xps_set_state, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_hold, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_xps_realtime_ms)
BTF_KFUNCS_END(xps_handler_kfunc_ids)

BTF_KFUNCS_START(xps_syscall_kfunc_ids)
BTF_ID_FLAGS(func, bpf_xps_fence_token)
BTF_ID_FLAGS(func, bpf_xps_realtime_ms)
BTF_KFUNCS_END(xps_syscall_kfunc_ids)

/* Handler kfuncs are for xps handlers only, not other struct_ops. */
static int xps_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (!btf_id_set8_contains(&xps_handler_kfunc_ids, kfunc_id))
		return 0;
	return prog->aux->attach_btf == xps_btf ? 0 : -EACCES;
}

static const struct btf_kfunc_id_set xps_handler_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &xps_handler_kfunc_ids,
	.filter = xps_kfunc_filter,
};

static const struct btf_kfunc_id_set xps_syscall_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &xps_syscall_kfunc_ids,
};

/* ---- sysfs ------------------------------------------------------------ */

struct xps_stat_attr {
	struct kobj_attribute attr;
	size_t off;			/* of the u64 in struct xps_stats */
};

static ssize_t xps_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct xps_h *h = container_of(kobj, struct xps_h, kobj);
	size_t off = container_of(attr, struct xps_stat_attr, attr)->off;
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *(u64 *)((u8 *)per_cpu_ptr(h->stats, cpu) + off);
	return sysfs_emit(buf, "%llu\n", sum);
}

static struct xps_stat_attr xps_stat_attrs[] = {
	{ __ATTR(calls, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, calls) },
	{ __ATTR(tx, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, tx) },
	{ __ATTR(drop, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, drop) },
	{ __ATTR(pass, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, pass) },
	{ __ATTR(reset, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, reset) },
	{ __ATTR(refused, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, refused) },
	{ __ATTR(unsync, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, unsync) },
	{ __ATTR(fenced, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, fenced) },
	{ __ATTR(yielded, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, yielded) },
	{ __ATTR(write_through, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, write_through) },
	{ __ATTR(cpu_ns, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, cpu_ns) },
	{ __ATTR(charged_ns, 0444, xps_stat_show, NULL),
	  offsetof(struct xps_stats, charged_ns) },
};

static ssize_t lport_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  container_of(kobj, struct xps_h, kobj)->pred.lport);
}

static struct kobj_attribute xps_attr_lport = __ATTR_RO(lport);

static ssize_t owner_pid_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  container_of(kobj, struct xps_h, kobj)->pred.owner_pid);
}

static struct kobj_attribute xps_attr_owner_pid = __ATTR_RO(owner_pid);

static struct attribute *xps_h_attrs[] = {
	&xps_stat_attrs[0].attr.attr, &xps_stat_attrs[1].attr.attr,
	&xps_stat_attrs[2].attr.attr, &xps_stat_attrs[3].attr.attr,
	&xps_stat_attrs[4].attr.attr, &xps_stat_attrs[5].attr.attr,
	&xps_stat_attrs[6].attr.attr, &xps_stat_attrs[7].attr.attr,
	&xps_stat_attrs[8].attr.attr, &xps_stat_attrs[9].attr.attr,
	&xps_stat_attrs[10].attr.attr, &xps_stat_attrs[11].attr.attr,
	&xps_attr_lport.attr, &xps_attr_owner_pid.attr, NULL,
};

static_assert(ARRAY_SIZE(xps_stat_attrs) == 12, "list every counter above");
ATTRIBUTE_GROUPS(xps_h);

static void xps_h_release(struct kobject *kobj)
{
	struct xps_h *h = container_of(kobj, struct xps_h, kobj);

	free_percpu(h->stats);
	put_pid(h->owner);
	kfree(h);
}

static const struct kobj_type xps_h_ktype = {
	.release = xps_h_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = xps_h_groups,
};

static ssize_t conns_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&xps_nconns));
}

static struct kobj_attribute xps_attr_conns = __ATTR_RO(conns);

static ssize_t fences_pending_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&xps_nfences));
}

static struct kobj_attribute xps_attr_fences_pending =
	__ATTR_RO(fences_pending);

static ssize_t write_through_confirmed_show(struct kobject *kobj,
					    struct kobj_attribute *attr,
					    char *buf)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&xps_wt_confirmed));
}

static struct kobj_attribute xps_attr_wt_confirmed =
	__ATTR_RO(write_through_confirmed);

static ssize_t write_through_voided_show(struct kobject *kobj,
					 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&xps_wt_voided));
}

static struct kobj_attribute xps_attr_wt_voided =
	__ATTR_RO(write_through_voided);

static struct attribute *xps_global_attrs[] = {
	&xps_attr_conns.attr, &xps_attr_fences_pending.attr,
	&xps_attr_wt_confirmed.attr, &xps_attr_wt_voided.attr, NULL,
};

static const struct attribute_group xps_global_group = {
	.attrs = xps_global_attrs,
};

/* ---- struct_ops ------------------------------------------------------- */

static int xps_st_init(struct btf *btf)
{
	xps_btf = btf;
	return 0;
}

static bool xps_st_is_valid_access(int off, int size, enum bpf_access_type type,
				   const struct bpf_prog *prog,
				   struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

static int xps_st_btf_struct_access(struct bpf_verifier_log *log,
				    const struct bpf_reg_state *reg, int off,
				    int size)
{
	return -EACCES;	/* the context is read-only */
}

static const struct bpf_func_proto *
xps_st_get_func_proto(enum bpf_func_id func_id, const struct bpf_prog *prog)
{
	return bpf_base_func_proto(func_id, prog);
}

static const struct bpf_verifier_ops xps_st_verifier_ops = {
	.get_func_proto = xps_st_get_func_proto,
	.is_valid_access = xps_st_is_valid_access,
	.btf_struct_access = xps_st_btf_struct_access,
};

static int xps_st_init_member(const struct btf_type *t,
			      const struct btf_member *member,
			      void *kdata, const void *udata)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;
	struct xps_handler *k = kdata;
	const struct xps_handler *u = udata;

	if (moff == offsetof(struct xps_handler, handle))
		return 0;	/* the program: the core fills it */
	/* Data members are copied as a whole, once. */
	if (moff == offsetof(struct xps_handler, name)) {
		memcpy((u8 *)k + moff, (const u8 *)u + moff,
		       sizeof(*k) - moff);
	}
	return 1;
}

static int xps_name_ok(const char *name)
{
	int i;

	if (!name[0] || strnlen(name, XPS_NAME_LEN) == XPS_NAME_LEN)
		return -EINVAL;
	for (i = 0; name[i]; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-')
			return -EINVAL;
	return 0;
}

static int xps_st_validate(void *kdata)
{
	const struct xps_handler *k = kdata;

	if (!k->handle || xps_name_ok(k->name) || k->l7_len > XPS_L7_MAX ||
	    (k->flags & ~(XPS_F_STRICT | XPS_F_IPV4 | XPS_F_IPV6)) ||
	    (k->flags & XPS_F_IPV4 && k->flags & XPS_F_IPV6))
		return -EINVAL;
	return 0;
}

static struct xps_h *xps_find(const char *name)
{
	struct xps_h *h;

	lockdep_assert_held(&xps_mutex);
	list_for_each_entry(h, &xps_handlers, node)
		if (!strncmp(h->pred.name, name, XPS_NAME_LEN))
			return h;
	return NULL;
}

static int xps_st_reg(void *kdata, struct bpf_link *link)
{
	struct xps_handler *k = kdata;
	struct xps_h *h, *o;
	int err;

	err = xps_st_validate(kdata);
	if (err)
		return err;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->stats = alloc_percpu(struct xps_stats);
	if (!h->stats) {
		kfree(h);
		return -ENOMEM;
	}
	h->pred = *k;
	h->pred.handle = NULL;
	RCU_INIT_POINTER(h->ops, k);
	kobject_init(&h->kobj, &xps_h_ktype);
	if (k->owner_pid) {
		/* In the attaching process's pid namespace; a process, not a thread. */
		h->owner = find_get_pid(k->owner_pid);
		rcu_read_lock();
		err = h->owner && pid_task(h->owner, PIDTYPE_TGID) ? 0 : -ESRCH;
		rcu_read_unlock();
		if (err) {
			pr_info("handler %s: owner %u is not a process\n",
				k->name, k->owner_pid);
			kobject_put(&h->kobj);
			return err;
		}
	}

	mutex_lock(&xps_mutex);
	err = -EEXIST;
	if (xps_find(k->name))
		goto unlock;
	/* Sub-handlers of one L4 predicate share one L7 offset and length,
	 * and no two handlers of a predicate share a value.
	 */
	list_for_each_entry(o, &xps_handlers, node) {
		if (!xps_same_l4(&o->pred, k))
			continue;
		err = -EINVAL;
		if (o->pred.l7_len && k->l7_len &&
		    (o->pred.l7_off != k->l7_off || o->pred.l7_len != k->l7_len))
			goto unlock;
		err = -EEXIST;
		if (o->pred.l7_len == k->l7_len &&
		    !memcmp(o->pred.l7_value, k->l7_value, k->l7_len))
			goto unlock;
	}
	err = kobject_add(&h->kobj, xps_handlers_kobj, "%s", k->name);
	if (err)
		goto unlock;
	err = xps_hook_get();
	if (err) {
		kobject_del(&h->kobj);
		goto unlock;
	}
	list_add_tail_rcu(&h->node, &xps_handlers);
	mutex_unlock(&xps_mutex);
	pr_info("handler %s attached (port %u)\n", k->name, k->lport);
	return 0;

unlock:
	mutex_unlock(&xps_mutex);
	kobject_put(&h->kobj);
	return err;
}

/* What is pending on each CPU goes to the owner at detach. */
static void xps_charge_rest(struct xps_h *h)
{
	u64 ns = 0;
	int cpu;

	if (!h->owner)
		return;
	for_each_possible_cpu(cpu) {
		struct xps_stats *s = per_cpu_ptr(h->stats, cpu);

		ns += s->pending_ns;
		s->pending_ns = 0;
	}
	if (!ns)
		return;
	/* Detached: no CPU updates these stats any more. */
	rcu_read_lock();
	xps_charge_owner(h, per_cpu_ptr(h->stats, cpumask_first(cpu_possible_mask)), ns);
	rcu_read_unlock();
}

static struct xps_h *xps_find_ops(void *kdata)
{
	struct xps_h *h;

	list_for_each_entry(h, &xps_handlers, node)
		if (rcu_access_pointer(h->ops) == kdata)
			return h;
	return NULL;
}

static void xps_st_unreg(void *kdata, struct bpf_link *link)
{
	struct xps_h *h;

	mutex_lock(&xps_mutex);
	h = xps_find_ops(kdata);
	if (WARN_ON_ONCE(!h)) {
		mutex_unlock(&xps_mutex);
		return;
	}
	list_del_rcu(&h->node);
	/* No packet runs the handler after this; its program may go. */
	synchronize_rcu();
	xps_hook_put();
	xps_charge_rest(h);
	mutex_unlock(&xps_mutex);
	pr_info("handler %s detached\n", h->pred.name);
	kobject_del(&h->kobj);
	kobject_put(&h->kobj);
}

static int xps_st_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct xps_handler *k = kdata;
	struct xps_h *h;
	int err;

	err = xps_st_validate(kdata);
	if (err)
		return err;
	mutex_lock(&xps_mutex);
	h = xps_find_ops(old_kdata);
	err = -ENOENT;
	if (!h)
		goto unlock;
	/* Same handler, new program: name and predicate must not change. */
	err = -EINVAL;
	if (strncmp(h->pred.name, k->name, XPS_NAME_LEN) ||
	    !xps_same_l4(&h->pred, k) || h->pred.l7_off != k->l7_off ||
	    h->pred.l7_len != k->l7_len ||
	    memcmp(h->pred.l7_value, k->l7_value, XPS_L7_MAX) ||
	    h->pred.flags != k->flags)
		goto unlock;
	rcu_assign_pointer(h->ops, k);
	synchronize_rcu();
	err = 0;
unlock:
	mutex_unlock(&xps_mutex);
	return err;
}

/* CFI stubs: the signatures the struct_ops trampolines are checked with. */
static int xps_handle_stub(struct xps_md *md)
{
	return XPS_PASS;
}

static struct xps_handler xps_stubs = {
	.handle = xps_handle_stub,
};

static struct bpf_struct_ops xps_handler_st_ops = {
	.verifier_ops = &xps_st_verifier_ops,
	.init = xps_st_init,
	.init_member = xps_st_init_member,
	.validate = xps_st_validate,
	.reg = xps_st_reg,
	.unreg = xps_st_unreg,
	.update = xps_st_update,
	.cfi_stubs = &xps_stubs,
	.name = "xps_handler",
	.owner = THIS_MODULE,
};

/* ---- module ----------------------------------------------------------- */

static int __init xps_init(void)
{
	int err;

	BUILD_BUG_ON(XPS_SLOTS & (XPS_SLOTS - 1));
	xps_slot_gen = vmalloc_array(XPS_SLOTS, sizeof(*xps_slot_gen));
	xps_slot_pending = vzalloc(array_size(XPS_SLOTS,
					      sizeof(*xps_slot_pending)));
	if (!xps_slot_gen || !xps_slot_pending) {
		err = -ENOMEM;
		goto free;
	}
	memset32(xps_slot_gen, 1, XPS_SLOTS);
	xps_runs = alloc_percpu(struct xps_run);
	if (!xps_runs) {
		err = -ENOMEM;
		goto free;
	}
	err = rhashtable_init(&xps_conns, &xps_conn_params);
	if (err)
		goto free;
	err = -ENOMEM;
	xps_kobj = kobject_create_and_add("xps", kernel_kobj);
	if (!xps_kobj)
		goto ht;
	xps_handlers_kobj = kobject_create_and_add("handlers", xps_kobj);
	if (!xps_handlers_kobj)
		goto kobj;
	err = sysfs_create_group(xps_kobj, &xps_global_group);
	if (err)
		goto handlers;

	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&xps_handler_kfunc_set) ?:
	      register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
					&xps_syscall_kfunc_set) ?:
	      register_bpf_struct_ops(&xps_handler_st_ops, xps_handler);
	if (err) {
		pr_err("cannot register the xps_handler struct_ops: %d\n", err);
		goto group;
	}
	return 0;

group:
	sysfs_remove_group(xps_kobj, &xps_global_group);
handlers:
	kobject_put(xps_handlers_kobj);
kobj:
	kobject_put(xps_kobj);
ht:
	rhashtable_destroy(&xps_conns);
free:
	free_percpu(xps_runs);
	vfree(xps_slot_pending);
	vfree(xps_slot_gen);
	return err;
}

static void __exit xps_exit(void)
{
	/* Attached handlers hold a module reference: none is left. */
	mutex_lock(&xps_mutex);
	WARN_ON(!list_empty(&xps_handlers) || xps_hooked);
	mutex_unlock(&xps_mutex);
	sysfs_remove_group(xps_kobj, &xps_global_group);
	kobject_put(xps_handlers_kobj);
	kobject_put(xps_kobj);
	rhashtable_free_and_destroy(&xps_conns, xps_conn_free_one, NULL);
	rcu_barrier();	/* kfree_rcu() of connections */
	free_percpu(xps_runs);
	vfree(xps_slot_pending);
	vfree(xps_slot_gen);
}

module_init(xps_init);
module_exit(xps_exit);
MODULE_DESCRIPTION("XPS: TCP fast-path handlers in eBPF");
MODULE_LICENSE("GPL");
