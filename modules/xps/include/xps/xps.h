/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XPS: the contract between the xps module, its eBPF handlers and user
 * space (libxps, xpsctl). Included by the module, by bpf/ handlers (after
 * vmlinux.h) and by C++ code.
 *
 * A handler is a struct_ops map of type "xps_handler". Its data members
 * are its predicate; its one operation, handle(), is run by the module
 * from the TCP fast-path hook (<net/tcp_fastpath.h>) for in-order payload
 * of a connection the predicate selects, and only when the application
 * has read everything before that payload and owes no reply
 * (see "Ordering fence" in modules/xps/xps.c).
 *
 * handle() sees the whole payload of one segment (md->len bytes, read
 * with bpf_xps_load()) and returns a verdict for all of it:
 *
 *   XPS_TX     every message in the payload is answered: the replies are
 *              the bytes given to bpf_xps_reply(), in order
 *   XPS_DROP   every message is dropped without an answer
 *   XPS_RESET  the connection is reset (RST, ECONNRESET to the server)
 *   XPS_PASS   the payload goes to the application untouched
 *
 * Verdicts other than PASS are allowed only when the payload is a whole
 * number of messages; anything partial, unknown or mixed is PASSed. A
 * handler that PASSes a payload ending inside a message says so with
 * bpf_xps_partial(); the connection is then out of step (its later
 * payloads are PASSed without calling the handler) until a payload
 * starts where that message ends, if the handler could say where.
 *
 * Write fences keep a cache in a handler's maps coherent with the
 * server: a handler calls bpf_xps_fence_write(md, slot) for a payload
 * that may change the data hashed to slot (XPS_SLOT_ALL: any data); the
 * slot then stays "pending" until the application has read that payload
 * (or the connection is gone), and its generation changes. A cache entry
 * stores bpf_xps_fence_token(slot) taken before its value was fetched
 * from the server; it is valid only while the token is unchanged and
 * non-zero (zero means: a write to the slot is still pending).
 */
#ifndef _XPS_XPS_H
#define _XPS_XPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XPS_NAME_LEN	16
#define XPS_L7_MAX	8	/* longest L7 composability value */
#define XPS_REPLY_MAX	16384	/* reply bytes per payload */
#define XPS_SLOTS	65536	/* write-fence slots */
#define XPS_SLOT_ALL	0xffffffffU
#define XPS_CONFIRM_MAX	8	/* bpf_xps_fence_write_through() reply */

enum xps_verdict {
	XPS_PASS = 0,
	XPS_TX = 1,
	XPS_DROP = 2,
	XPS_RESET = 3,
};

/*
 * xps_md.flags: XPS_MD_IPV6, the socket is AF_INET6 (v4-mapped too);
 * XPS_MD_PASS_ONLY, the payload is PASSed whatever the verdict (ordering
 * fence, or the application has unread input): only fence its writes;
 * XPS_MD_YIELD, with XPS_MD_PASS_ONLY: passed only because the owner is
 * starved of CPU (the module's yield_us). The connection owes nothing, so
 * the application's next write on it is the reply to this payload, and
 * bpf_xps_fence_write_through() may be used.
 */
#define XPS_MD_IPV6		0x1U
#define XPS_MD_PASS_ONLY	0x2U
#define XPS_MD_YIELD		0x4U

/*
 * True when the application owes no reply from before the payload of
 * @flags (not PASS_ONLY, or PASS_ONLY only to yield): its next write on the
 * connection is then the reply to this payload (SET write-through).
 */
#define XPS_MD_OWES_NOTHING(flags) \
	(((flags) & (XPS_MD_PASS_ONLY | XPS_MD_YIELD)) != XPS_MD_PASS_ONLY)

/* Read-only context of one handle() call. */
struct xps_md {
	__u32 len;		/* payload bytes offered */
	__u32 flags;		/* XPS_MD_* */
	__u16 lport;		/* local port, host order */
	__u16 rport;		/* remote port, host order */
	__u32 seq;		/* TCP sequence number of the first byte */
	__u64 cookie;		/* socket cookie (as SO_COOKIE) */
	__u64 conn_msgs;	/* payloads taken before on this connection */
	__u64 state;		/* per-connection handler state */
};

/* bpf_xps_hold() */
#define XPS_HOLD_OFF		0
#define XPS_HOLD_ON		1
#define XPS_HOLD_FOREVER	2

/*
 * xps_handler.flags: XPS_F_STRICT, once anything was PASSed on a
 * connection, PASS all its input; XPS_F_IPV4 / XPS_F_IPV6, only
 * connections of that family.
 */
#define XPS_F_STRICT	0x1U
#define XPS_F_IPV4	0x2U
#define XPS_F_IPV6	0x4U

/*
 * The struct_ops type. Predicate fields at zero are wildcards. Addresses
 * are IPv6 or IPv4-mapped IPv6 (::ffff:a.b.c.d), network order.
 *
 * L7 composability: handlers with the same L4 predicate and l7_len > 0
 * are sub-handlers; the module reads l7_len bytes at l7_off of the
 * payload and runs the sub-handler whose l7_value matches, else the one
 * handler of that predicate with l7_len == 0, else PASSes.
 */
struct xps_handler {
	int (*handle)(struct xps_md *md);
	char name[XPS_NAME_LEN];	/* unique, [a-z0-9_-] */
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;			/* host order */
	__u16 rport;
	__u32 flags;			/* XPS_F_* */
	__u16 l7_off;
	__u16 l7_len;
	__u8 l7_value[XPS_L7_MAX];
	__u32 owner_pid;		/* process charged with handler time */
};

#endif /* _XPS_XPS_H */
