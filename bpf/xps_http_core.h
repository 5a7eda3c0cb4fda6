/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP handler's logic (bpf/xps_http.bpf.c), written against a small
 * environment so that the host unit tests run the same code with fakes
 * for the module's kfuncs and the method table. The includer defines:
 *
 *   XH_LOAD(md, off, buf, n)   bpf_xps_load(): < 0 on error
 *   XH_REPLY(md, buf, n)       bpf_xps_reply(): != 0 on error
 *   XH_PARTIAL(md, need)       bpf_xps_partial()
 *   XH_SET_STATE(md, state)    bpf_xps_set_state()
 *   XH_LOOKUP(key)             xps_http_methods lookup: action or NULL
 *   XH_FOR(i, from, to)        a bounded loop (bpf_for() in BPF)
 *
 * and may define XH_STEP(sc), one parser step (BPF: a global function).
 *
 * A payload is handled in the kernel only when it is a whole number of
 * requests (xps/http.h) and every one's method has an action other than
 * PASS:
 *
 *   any RESET           XPS_RESET: the connection is reset, and the
 *                       requests before the one that asked for it are
 *                       not answered either
 *   all DROP            XPS_DROP
 *   all REPLY           XPS_TX: one response per request, in order
 *   DROP mixed with     XPS_PASS: a client matches responses to requests
 *   REPLY               by order, so a swallowed one would shift them
 *
 * Anything else goes to the server. What the parser cannot follow (chunked
 * bodies, "Connection: close", HTTP/1.0, malformed requests) ends the
 * handler's look at the connection: it reports the payload as partial
 * with no known end, so the module stops offering it.
 */
#ifndef XPS_HTTP_CORE_H
#define XPS_HTTP_CORE_H

#include <xps/xps.h>
#include <xps/http.h>

#include "xps_http.h"

/* Steps (request starts, lines, 64-byte scans) looked at per payload. */
#define XPS_HTTP_STEPS		8192
#define XPS_HTTP_RESP_MAX	128	/* a response we build */

/* Per-CPU scratch of one handle() call. */
struct xps_http_scratch {
	struct xps_http_parser p;
	struct xps_http_method key;
	__u32 reqs;		/* whole requests */
	__u32 pass;		/* one has no action (or PASS) */
	__u32 reset;		/* one asks for RESET */
	__u32 drops;		/* DROP requests */
	__u32 replies;		/* REPLY requests answered */
	__u32 broken;		/* lost track of the payload */
	__u32 resp_status;	/* status resp holds (0: none) */
	__u32 resp_len;
	char resp[XPS_HTTP_RESP_MAX];
	struct xps_http_win win;
};

#ifndef XH_STEP
#define XH_STEP(sc)	xps_http_step(&(sc)->p, (sc)->win.b)
#endif

/* Copy string literal s to b + off; returns the offset after it. */
#define XH_PUT(b, off, s)						\
	({								\
		__u32 __o = (off), __i;					\
									\
		for (__i = 0; __i < sizeof(s) - 1; __i++)		\
			(b)[__o + __i] = (s)[__i];			\
		__o + (__u32)sizeof(s) - 1;				\
	})

/* The reason phrase of status into b + off; returns the offset after it. */
static __always_inline __u32 xps_http_reason(char *b, __u32 off, __u32 status)
{
	switch (status) {
	case 200: return XH_PUT(b, off, "OK");
	case 201: return XH_PUT(b, off, "Created");
	case 202: return XH_PUT(b, off, "Accepted");
	case 204: return XH_PUT(b, off, "No Content");
	case 301: return XH_PUT(b, off, "Moved Permanently");
	case 302: return XH_PUT(b, off, "Found");
	case 304: return XH_PUT(b, off, "Not Modified");
	case 400: return XH_PUT(b, off, "Bad Request");
	case 401: return XH_PUT(b, off, "Unauthorized");
	case 403: return XH_PUT(b, off, "Forbidden");
	case 404: return XH_PUT(b, off, "Not Found");
	case 405: return XH_PUT(b, off, "Method Not Allowed");
	case 408: return XH_PUT(b, off, "Request Timeout");
	case 410: return XH_PUT(b, off, "Gone");
	case 411: return XH_PUT(b, off, "Length Required");
	case 413: return XH_PUT(b, off, "Content Too Large");
	case 414: return XH_PUT(b, off, "URI Too Long");
	case 415: return XH_PUT(b, off, "Unsupported Media Type");
	case 429: return XH_PUT(b, off, "Too Many Requests");
	case 431: return XH_PUT(b, off, "Request Header Fields Too Large");
	case 500: return XH_PUT(b, off, "Internal Server Error");
	case 501: return XH_PUT(b, off, "Not Implemented");
	case 502: return XH_PUT(b, off, "Bad Gateway");
	case 503: return XH_PUT(b, off, "Service Unavailable");
	case 504: return XH_PUT(b, off, "Gateway Timeout");
	}
	return off;	/* the phrase may be empty */
}

/*
 * "HTTP/1.1 <status> <reason>\r\n[Content-Length: 0\r\n]\r\n" into
 * sc->resp; returns its length. status is 200 .. 599.
 */
static __always_inline __u32 xps_http_response(struct xps_http_scratch *sc,
					       __u32 status)
{
	char *b = sc->resp;
	__u32 off;

	off = XH_PUT(b, 0, "HTTP/1.1 ");
	b[9] = '0' + status / 100;
	b[10] = '0' + status / 10 % 10;
	b[11] = '0' + status % 10;
	b[12] = ' ';
	off = xps_http_reason(b, 13, status);
	off = XH_PUT(b, off, "\r\n");
	/* 204 and 304 never carry a body, nor announce one. */
	if (status != 204 && status != 304)
		off = XH_PUT(b, off, "Content-Length: 0\r\n");
	return XH_PUT(b, off, "\r\n");
}

/* A whole request: its method's action. */
static __always_inline void xps_http_request(struct xps_md *md,
					     struct xps_http_scratch *sc)
{
	struct xps_http_action *act;
	__u32 action, status, n;

	sc->reqs++;
	__builtin_memcpy(sc->key.name, sc->p.mname, sizeof(sc->key.name));
	act = XH_LOOKUP(&sc->key);
	if (!act) {
		sc->pass = 1;
		return;
	}
	action = act->action;
	status = act->status;
	if (action == XPS_HTTP_RESET) {
		sc->reset = 1;
		return;
	}
	if (action == XPS_HTTP_DROP) {
		sc->drops++;
		return;
	}
	if (action != XPS_HTTP_REPLY || status < 200 || status > 599) {
		sc->pass = 1;
		return;
	}
	if (sc->pass || sc->reset)
		return;
	if (sc->resp_status != status) {
		sc->resp_len = xps_http_response(sc, status);
		sc->resp_status = status;
	}
	n = sc->resp_len;
	if (n > XPS_HTTP_RESP_MAX)
		n = XPS_HTTP_RESP_MAX;
	if (XH_REPLY(md, sc->resp, n)) {
		sc->pass = 1;
		return;
	}
	sc->replies++;
}

/* Load the window the parser asks for; 0 or -1. */
static __always_inline int xps_http_load_win(struct xps_md *md,
					     struct xps_http_scratch *sc)
{
	__u32 want = sc->p.want, n;

	if (want > sc->p.total)
		return -1;
	n = sc->p.total - want;
	if (n > XPS_HTTP_WIN)
		n = XPS_HTTP_WIN;
	n &= 2 * XPS_HTTP_WIN - 1;	/* a bound the verifier keeps */
	if (n && XH_LOAD(md, want, sc->win.b, n) < 0)
		return -1;
	xps_http_window(&sc->p, want, n);
	return 0;
}

/* handle(): the verdict for one payload. */
static __always_inline int xps_http_run(struct xps_md *md,
					struct xps_http_scratch *sc)
{
	__u64 state = md->state;
	__u32 seq = md->seq, len = md->len, ev, next = seq + len;
	int i;

	if ((state & XPS_HTTP_ST_TAINT) ||
	    ((state & XPS_HTTP_ST_VALID) &&
	     (__u32)(state & XPS_HTTP_ST_SEQ) != seq)) {
		/* Input went by unseen: requests may not start here. */
		XH_PARTIAL(md, 0);
		XH_SET_STATE(md, state | XPS_HTTP_ST_TAINT);
		return XPS_PASS;
	}
	xps_http_init(&sc->p, len);
	sc->reqs = 0;
	sc->pass = 0;
	sc->reset = 0;
	sc->drops = 0;
	sc->replies = 0;
	sc->broken = 0;
	sc->resp_status = 0;
	sc->resp_len = 0;

	XH_FOR(i, 0, XPS_HTTP_STEPS) {
		xps_forget();
		ev = XH_STEP(sc);
		if (ev & XPS_HTTP_EV_REFILL) {
			if (xps_http_load_win(md, sc)) {
				sc->broken = 1;
				break;
			}
			continue;
		}
		if (ev & XPS_HTTP_EV_REQ)
			xps_http_request(md, sc);
		if (ev & XPS_HTTP_EV_STOP)
			break;
	}
	xps_forget();

	ev = sc->p.ev;
	if (sc->broken || !(ev & XPS_HTTP_EV_STOP) ||
	    (ev & (XPS_HTTP_EV_MALFORMED | XPS_HTTP_EV_UNSUPPORTED))) {
		/* Where its requests end is unknown from here on. */
		XH_PARTIAL(md, 0);
		XH_SET_STATE(md, state | XPS_HTTP_ST_TAINT);
		return XPS_PASS;
	}
	if (ev & XPS_HTTP_EV_PARTIAL) {
		next += sc->p.need;
		XH_PARTIAL(md, sc->p.need);
	}
	XH_SET_STATE(md, (state & ~XPS_HTTP_ST_SEQ) | XPS_HTTP_ST_VALID |
		     next);
	if (!(ev & XPS_HTTP_EV_END) || !sc->reqs || sc->pass ||
	    (md->flags & XPS_MD_PASS_ONLY))
		return XPS_PASS;
	if (sc->reset)
		return XPS_RESET;
	if (sc->drops)
		return sc->replies ? XPS_PASS : XPS_DROP;
	return XPS_TX;
}

#endif /* XPS_HTTP_CORE_H */
