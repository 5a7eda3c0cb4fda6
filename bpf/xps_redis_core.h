/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Redis GET handler's logic (bpf/xps_redis.bpf.c), written against a
 * small environment so that the host unit tests run the very same code
 * with the module's kfuncs and the maps replaced by fakes. The includer
 * defines, before including this file:
 *
 *   XR_LOAD(md, off, buf, n)   bpf_xps_load(): < 0 on error
 *   XR_REPLY(md, buf, n)       bpf_xps_reply(): != 0 on error
 *   XR_PARTIAL(md, need)       bpf_xps_partial()
 *   XR_FENCE(md, slot)         bpf_xps_fence_write()
 *   XR_FENCE_WT(md, slot, ok, n) bpf_xps_fence_write_through(): token or 0
 *   XR_TOKEN(slot)             bpf_xps_fence_token()
 *   XR_HOLD(md, how)           bpf_xps_hold()
 *   XR_SET_STATE(md, state)    bpf_xps_set_state()
 *   XR_NOW_MS()                bpf_xps_realtime_ms()
 *   XR_LOOKUP(key)             xps_redis_cache lookup: value pointer or NULL
 *   XR_STORE(key, val)         xps_redis_cache update (any flags)
 *   XR_MISS(key)               emit struct xps_redis_miss (same layout as key)
 *   XR_FOR(i, from, to)        a bounded loop (bpf_for() in BPF)
 *
 * and may define XR_STEP(sc), one parser step (BPF: a global function,
 * which the verifier checks once on its own, so that the parser's paths
 * do not multiply with the handler's).
 *
 * What it does with one payload (everything runs in command order):
 *
 * - It parses every command (xps/resp.h). When every one is a GET of a
 *   database-0 key whose cache entry is valid - its token is non-zero and
 *   equals the slot's current fence token, it has not expired by
 *   CLOCK_REALTIME (with a millisecond to spare) - every GET is answered
 *   with the entry's value, and the verdict is TX.
 * - Otherwise the payload is PASSed, and each command's effect on the
 *   data is announced to the module first: writes fence their keys' slots
 *   (all slots in a database other than 0, with writes_global, or when
 *   the keys are not known), MULTI holds the connection's fences until
 *   EXEC or DISCARD release them, SELECT records the database, blocking
 *   commands and CLIENT fence everything for the connection's lifetime,
 *   unknown commands fence everything. GETs that missed are reported to
 *   user space (xps_redis_misses) so that it can fill the cache.
 * - Write-through: when a payload starts with a plain "SET key value"
 *   (nothing else owed on the connection, see the conf), its fence waits
 *   for Redis's "+OK" (bpf_xps_fence_write_through()), and the value is
 *   stored now with the token that fence gives the slot on confirmation.
 *   So the next GET of the key is answered here without a trip through
 *   user space, and never before Redis has applied the SET.
 * - A payload ending inside a command is reported (bpf_xps_partial());
 *   the module fences everything the rest of that command's bytes could
 *   do, so only the command's effect on the connection is applied here.
 *   Anything it cannot follow (inline commands, broken RESP, too many
 *   elements) is fenced for all slots and ends the fast path for the
 *   connection.
 *
 * Per connection (xps_md.state, XPS_REDIS_ST_*) it keeps where the next
 * payload must start, the database, MULTI, and whether the connection is
 * "tainted": a connection that subscribed, blocked, changed how it is
 * answered, or whose input was not all seen here, is never answered from
 * the kernel again; its writes are still fenced.
 */
#ifndef XPS_REDIS_CORE_H
#define XPS_REDIS_CORE_H

#include <xps/xps.h>
#include <xps/resp.h>

#include "xps_redis.h"

/* Steps (array headers and bulk strings) looked at per payload. */
#define XPS_REDIS_STEPS		8192

/* A command that ended: what write-through asks of the first one. */
struct xps_redis_cmdrec {
	__u32 spec;
	__u32 argc;
	__u32 val_off, val_len;		/* its last element */
	__u32 slot;			/* of key */
	__u32 pad;
	__u64 tag;
	struct xps_redis_key key;	/* its last key, len ~0 if none */
};

/* Per-CPU scratch of one handle() call (too big for the BPF stack). */
struct xps_redis_scratch {
	struct xps_resp_parser p;
	struct xps_redis_key key;	/* also the miss record */
	__u64 state;			/* the connection's state, as it goes */
	__u64 now_ms;			/* CLOCK_REALTIME, 0 until read */
	__u64 tag;			/* xps_resp_tag() of key */
	__u32 tx;			/* every command so far answered */
	__u32 answered;			/* GETs answered */
	__u32 all;			/* XPS_SLOT_ALL fenced for it */
	__u32 broken;			/* lost track of the payload */
	__u32 enabled;			/* xps_redis_conf */
	__u32 writes_global;
	__u32 write_through;		/* may the first command be one */
	__u32 cmds;			/* commands ended so far */
	__u32 slot;			/* of key */
	/*
	 * Every command, as it ends, is recorded in cmd[0] if it is the
	 * payload's first and in cmd[1] otherwise, without a branch: what
	 * write-through needs is looked at once, after the parse, and the
	 * verifier's work in the loop does not grow.
	 */
	struct xps_redis_cmdrec cmd[2];
	char hdr[16];			/* "$<len>\r\n" */
	char crlf[8];
	char ok[8];			/* "+OK\r\n" */
	struct xps_redis_val val;	/* a write-through's entry */
	struct xps_resp_win win;
};

#ifndef XR_STEP
#define XR_STEP(sc)	xps_resp_step(&(sc)->p, (sc)->win.b)
#endif

#define XR_READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))

#define XR_NO_KEY	0xffffffffU	/* xps_redis_key.len: none loaded */

static __always_inline void xps_redis_fence_all(struct xps_md *md,
						struct xps_redis_scratch *sc)
{
	if (!sc->all) {
		XR_FENCE(md, XPS_SLOT_ALL);
		sc->all = 1;
	}
}

/* Lost track of the connection's input: fence all, answer no more. */
static __always_inline void xps_redis_taint(struct xps_md *md,
					    struct xps_redis_scratch *sc)
{
	xps_redis_fence_all(md, sc);
	sc->state |= XPS_REDIS_ST_TAINT;
	sc->tx = 0;
}

/*
 * The current argument (a key of at most XPS_REDIS_KEY_MAX bytes) into
 * sc->key, zero-padded; returns its write-fence slot.
 */
static __always_inline __u32 xps_redis_key_load(struct xps_redis_scratch *sc)
{
	__u32 off = sc->p.arg_off, len = sc->p.arg_len;
	__u32 h = XPS_RESP_FNV_BASIS, i;
	__u64 tag = XPS_RESP_FNV64_BASIS;

	__builtin_memset(&sc->key, 0, sizeof(sc->key));
	sc->key.len = len;
	for (i = 0; i < XPS_REDIS_KEY_MAX; i++) {
		__u32 c;

		if (i >= len)
			break;
		c = xps_resp_at(&sc->p, sc->win.b, off + i);
		sc->key.key[i] = (char)c;
		h = xps_resp_fnv(h, c);
		tag = xps_resp_fnv64(tag, c);
	}
	sc->tag = tag;
	sc->slot = h & (XPS_SLOTS - 1);
	return sc->slot;
}

/* A key the current command writes. */
static __always_inline void xps_redis_write_key(struct xps_md *md,
						struct xps_redis_scratch *sc)
{
	__u32 slot;

	if (sc->all)
		return;
	if (sc->writes_global || (sc->state & XPS_REDIS_ST_DB)) {
		xps_redis_fence_all(md, sc);
		return;
	}
	/* Longer keys are never cached. */
	if (sc->p.arg_len > XPS_REDIS_KEY_MAX)
		return;
	slot = xps_redis_key_load(sc);
	XR_FENCE(md, slot);
}

/*
 * After a clean parse (@whole): if the payload's first command was
 * "SET key value" with a value that fits, its key's fence waits for
 * Redis's +OK, and the value is stored under the token that gives the
 * slot. The module says no (token 0) unless that is sound.
 */
static __always_inline void xps_redis_wt(struct xps_md *md,
					 struct xps_redis_scratch *sc,
					 bool whole)
{
	struct xps_redis_cmdrec *r = &sc->cmd[0];
	__u32 vlen = r->val_len;
	__u64 token;

	if (!whole || !sc->write_through || !sc->cmds || r->argc != 3 ||
	    xps_resp_spec_id(r->spec) != XPS_RESP_ID_SET ||
	    r->key.len > XPS_REDIS_KEY_MAX || vlen > XPS_REDIS_VAL_MAX)
		return;
	token = XR_FENCE_WT(md, r->slot, sc->ok, 5);
	if (!token)
		return;
	sc->val.token = token ^ r->tag;
	sc->val.expire_ms = 0;		/* SET without options drops a TTL */
	sc->val.len = vlen;
	sc->val.hits = 0;
	vlen &= 2 * XPS_REDIS_VAL_MAX - 1;	/* a bound the verifier keeps */
	if (vlen > XPS_REDIS_VAL_MAX)
		return;
	if (vlen && XR_LOAD(md, r->val_off, sc->val.data, vlen) < 0)
		return;
	/* Not stored (map full): the confirmation validates nothing. */
	XR_STORE(&r->key, &sc->val);
}

/* "$<n>\r\n" into sc->hdr (n <= 999); returns its length. */
static __always_inline __u32 xps_redis_bulk_hdr(struct xps_redis_scratch *sc,
						__u32 n)
{
	char *h = sc->hdr;

	h[0] = '$';
	if (n >= 100) {
		h[1] = '0' + n / 100;
		h[2] = '0' + n / 10 % 10;
		h[3] = '0' + n % 10;
		h[4] = '\r';
		h[5] = '\n';
		return 6;
	}
	if (n >= 10) {
		h[1] = '0' + n / 10;
		h[2] = '0' + n % 10;
		h[3] = '\r';
		h[4] = '\n';
		return 5;
	}
	h[1] = '0' + n;
	h[2] = '\r';
	h[3] = '\n';
	return 4;
}

/* The key of a whole "GET key": answer it from the cache, or report it. */
static __always_inline void xps_redis_get_key(struct xps_md *md,
					      struct xps_redis_scratch *sc)
{
	struct xps_redis_val *val;
	__u64 token, exp;
	__u32 slot, vlen, hl;

	if (!sc->enabled ||
	    (sc->state & (XPS_REDIS_ST_DB | XPS_REDIS_ST_MULTI |
			  XPS_REDIS_ST_TAINT)) ||
	    sc->p.arg_len > XPS_REDIS_KEY_MAX) {
		sc->tx = 0;
		return;
	}
	slot = xps_redis_key_load(sc);
	val = XR_LOOKUP(&sc->key);
	if (!val)
		goto miss;
	/* Stored: the fence token XORed with the key's tag (xps_resp_tag()). */
	token = XR_READ_ONCE(val->token);
	exp = XR_TOKEN(slot);
	if (!exp || (token ^ sc->tag) != exp)
		goto miss;
	exp = XR_READ_ONCE(val->expire_ms);
	if (exp) {
		if (!sc->now_ms)
			sc->now_ms = XR_NOW_MS();
		if (sc->now_ms + 1 >= exp)
			goto miss;
	}
	vlen = XR_READ_ONCE(val->len);
	if (vlen > XPS_REDIS_VAL_MAX)
		goto miss;
	__sync_fetch_and_add(&val->hits, 1);
	if (!sc->tx)
		return;
	/* The reply is sent only with TX: a failure below means PASS. */
	hl = xps_redis_bulk_hdr(sc, vlen);
	if (XR_REPLY(md, sc->hdr, hl) ||
	    (vlen && XR_REPLY(md, val->data, vlen)) ||
	    XR_REPLY(md, sc->crlf, 2)) {
		sc->tx = 0;
		return;
	}
	/* Replaced while it was copied: the copy may be torn. */
	if (XR_READ_ONCE(val->token) != token) {
		sc->tx = 0;
		return;
	}
	sc->answered++;
	return;
miss:
	sc->tx = 0;
	if (sc->key.len)
		XR_MISS(&sc->key);
}

/*
 * What a command of class @cls does to the connection and the fences:
 * @keys_known, its written keys were fenced one by one; @to_db0, it is a
 * SELECT of database 0.
 */
static __always_inline void xps_redis_effect(struct xps_md *md,
					     struct xps_redis_scratch *sc,
					     __u32 cls, bool keys_known,
					     bool to_db0)
{
	switch (cls) {
	case XPS_RESP_C_WRITE:
		/* No key where it should be: Redis refuses it, but... */
		if (!keys_known)
			xps_redis_fence_all(md, sc);
		break;
	case XPS_RESP_C_ALL:
		xps_redis_fence_all(md, sc);
		break;
	case XPS_RESP_C_MULTI:
		sc->state |= XPS_REDIS_ST_MULTI;
		XR_HOLD(md, XPS_HOLD_ON);
		break;
	case XPS_RESP_C_EXEC:
		sc->state &= ~XPS_REDIS_ST_MULTI;
		XR_HOLD(md, XPS_HOLD_OFF);
		break;
	case XPS_RESP_C_SELECT:
		/* Inside MULTI it switches at EXEC, if at all. */
		if (to_db0 && !(sc->state & XPS_REDIS_ST_MULTI))
			sc->state &= ~XPS_REDIS_ST_DB;
		else
			sc->state |= XPS_REDIS_ST_DB;
		break;
	case XPS_RESP_C_BLOCK:
		xps_redis_taint(md, sc);
		XR_HOLD(md, XPS_HOLD_FOREVER);
		break;
	case XPS_RESP_C_CONN:
		xps_redis_taint(md, sc);
		break;
	}
}

/* Record the command that ended (struct xps_redis_cmdrec), branch-free. */
static __always_inline void xps_redis_record(struct xps_redis_scratch *sc)
{
	__u32 n = sc->cmds;
	struct xps_redis_cmdrec *r = &sc->cmd[((n | (0U - n)) >> 31) & 1];

	r->spec = sc->p.spec;
	r->argc = sc->p.argc;
	r->val_off = sc->p.arg_off;
	r->val_len = sc->p.arg_len;
	r->slot = sc->slot;
	r->tag = sc->tag;
	r->key = sc->key;
	/* The next command has no key until one is loaded. */
	sc->key.len = XR_NO_KEY;
}

/* A command ended. */
static __always_inline void xps_redis_cmd(struct xps_md *md,
					  struct xps_redis_scratch *sc)
{
	__u32 cls = xps_resp_effective(&sc->p, 1);

	if (cls != XPS_RESP_C_GET || sc->p.argc != 2)
		sc->tx = 0;
	xps_redis_record(sc);
	xps_redis_effect(md, sc, cls, sc->p.nkeys,
			 sc->p.cflags & XPS_RESP_CF_SEL0);
	sc->cmds++;
}

/*
 * The payload ends inside a command. The module fences all slots for
 * the rest of its bytes, so only what it does to the connection matters
 * here, and the keys it writes that are already known. A SELECT cut short
 * counts as one of another database.
 */
static __always_inline void xps_redis_partial(struct xps_md *md,
					      struct xps_redis_scratch *sc)
{
	struct xps_resp_parser *p = &sc->p;

	sc->tx = 0;
	if (!p->seen) {
		/* Could be anything, MULTI included. */
		xps_redis_taint(md, sc);
		XR_HOLD(md, XPS_HOLD_FOREVER);
		return;
	}
	xps_redis_effect(md, sc, xps_resp_effective(p, 0),
			 xps_resp_keys_seen(p), false);
}

/* Load the window the parser asks for; 0 or -1. */
static __always_inline int xps_redis_refill(struct xps_md *md,
					    struct xps_redis_scratch *sc)
{
	__u32 want = sc->p.want, n;

	if (want > sc->p.total)
		return -1;
	n = sc->p.total - want;
	if (n > XPS_RESP_WIN)
		n = XPS_RESP_WIN;
	n &= 2 * XPS_RESP_WIN - 1;	/* a bound the verifier keeps */
	if (n && XR_LOAD(md, want, sc->win.b, n) < 0)
		return -1;
	xps_resp_window(&sc->p, want, n);
	return 0;
}

/* handle(): the verdict for one payload. */
static __always_inline int xps_redis_run(struct xps_md *md,
					 struct xps_redis_scratch *sc,
					 const struct xps_redis_conf *conf)
{
	__u64 state = md->state;
	__u32 seq = md->seq, len = md->len, ev, next;
	int i;

	xps_resp_init(&sc->p, len);
	sc->state = state;
	sc->now_ms = 0;
	sc->tx = 1;
	sc->answered = 0;
	sc->all = 0;
	sc->broken = 0;
	sc->enabled = conf ? conf->enabled : 0;
	sc->writes_global = conf ? conf->writes_global : 1;
	sc->cmds = 0;
	sc->key.len = XR_NO_KEY;
	sc->cmd[0].spec = XPS_RESP_SPEC_UNKNOWN;
	sc->crlf[0] = '\r';
	sc->crlf[1] = '\n';
	sc->ok[0] = '+';
	sc->ok[1] = 'O';
	sc->ok[2] = 'K';
	sc->ok[3] = '\r';
	sc->ok[4] = '\n';
	if (!sc->enabled || (md->flags & XPS_MD_PASS_ONLY))
		sc->tx = 0;
	/* Only where Redis's next write is the reply to this payload's first
	 * command, and GETs are answered from the cache at all.
	 */
	sc->write_through = conf && conf->write_through && sc->enabled &&
			    !sc->writes_global &&
			    XPS_MD_OWES_NOTHING(md->flags) &&
			    !(state & (XPS_REDIS_ST_DB | XPS_REDIS_ST_MULTI |
				       XPS_REDIS_ST_TAINT));
	if ((state & XPS_REDIS_ST_VALID) &&
	    (__u32)(state & XPS_REDIS_ST_SEQ) != seq) {
		/* Input went by unseen: MULTI, SELECT, anything. */
		xps_redis_taint(md, sc);
		XR_HOLD(md, XPS_HOLD_FOREVER);
	}

	XR_FOR(i, 0, XPS_REDIS_STEPS) {
		xps_forget();
		ev = XR_STEP(sc);
		if (ev & XPS_RESP_EV_REFILL) {
			if (xps_redis_refill(md, sc)) {
				sc->broken = 1;
				break;
			}
			continue;
		}
		if (ev & XPS_RESP_EV_KEY) {
			if (xps_resp_spec_class(sc->p.spec) == XPS_RESP_C_GET)
				xps_redis_get_key(md, sc);
			else
				xps_redis_write_key(md, sc);
		}
		if (ev & XPS_RESP_EV_CMD)
			xps_redis_cmd(md, sc);
		if (ev & XPS_RESP_EV_STOP)
			break;
	}
	xps_forget();

	ev = sc->p.ev;
	next = seq + len;
	if (sc->broken || !(ev & XPS_RESP_EV_STOP) ||
	    (ev & (XPS_RESP_EV_MALFORMED | XPS_RESP_EV_INLINE))) {
		/* Where its commands end is unknown from here on. */
		xps_redis_taint(md, sc);
		XR_PARTIAL(md, 0);
	} else if (ev & XPS_RESP_EV_PARTIAL) {
		xps_redis_partial(md, sc);
		next += sc->p.need;
		XR_PARTIAL(md, sc->p.need);
	}
	xps_redis_wt(md, sc, !sc->broken && (ev & XPS_RESP_EV_STOP) &&
		     !(ev & (XPS_RESP_EV_MALFORMED | XPS_RESP_EV_INLINE)));
	XR_SET_STATE(md, (sc->state & ~XPS_REDIS_ST_SEQ) |
		     XPS_REDIS_ST_VALID | next);
	if ((ev & XPS_RESP_EV_END) && sc->tx && sc->answered)
		return XPS_TX;
	return XPS_PASS;
}

#endif /* XPS_REDIS_CORE_H */
