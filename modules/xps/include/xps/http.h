/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP/1.1 request parser of the XPS HTTP handler (bpf/xps_http.bpf.c),
 * shared with the host unit tests. Header-only, no libc, bounded loops:
 * the same code runs under the BPF verifier.
 *
 * It finds where each request of a payload ends (request line, header
 * fields, the empty line, then Content-Length bytes of body) and its
 * method, which is all the handler needs to answer or reset it. Like
 * xps/resp.h it reads the payload through a window the caller fills and
 * is driven one step at a time:
 *
 *	xps_http_init(&p, total);
 *	for (;;) {
 *		ev = xps_http_step(&p, win);
 *		if (ev & XPS_HTTP_EV_REFILL)	load [p.want, ...) into win,
 *						xps_http_window(&p, p.want, n)
 *		if (ev & XPS_HTTP_EV_REQ)	a whole request: p.method,
 *						p.mname, p.req_len
 *		if (ev & XPS_HTTP_EV_STOP)	stop
 *	}
 *
 * A step handles the start of a request, one header line, or up to
 * XPS_HTTP_SCAN bytes of a long line. It needs XPS_HTTP_LOOK bytes (or
 * up to the end of the payload) in the window at a line start, and asks
 * for a refill otherwise.
 *
 * Only what nginx surely answers like any other request of its method is
 * accepted: HTTP/1.1, origin-form target, exactly one valid Host, CRLF
 * line ends, no obsolete line folding, at most one Content-Length.
 * Transfer-Encoding (chunked bodies), "Connection: close", HTTP/1.0,
 * oversized lines or header blocks are UNSUPPORTED, broken syntax is
 * MALFORMED: the handler passes both to the server, and since the end of
 * such a request is unknown, stops looking at the connection.
 */
#ifndef _XPS_HTTP_H
#define _XPS_HTTP_H

#include "parse.h"

#define XPS_HTTP_WIN		2048U	/* window size, a power of two */
#define XPS_HTTP_LOOK		128U	/* bytes a line start needs */
#define XPS_HTTP_SCAN		64U	/* bytes of a line scanned per step */
#define XPS_HTTP_BACK		16U	/* bytes kept before the scan point */
#define XPS_HTTP_METHOD_MAX	16U	/* longest method looked up */
#define XPS_HTTP_LINE_MAX	8192U	/* longest line (nginx: 8k buffers) */
#define XPS_HTTP_HDR_MAX	16384U	/* longest request head */
#define XPS_HTTP_CLEN_MAX	999999999999999ULL	/* 15 digits */

/* xps_http_step() events */
#define XPS_HTTP_EV_REQ		0x01U	/* a whole request */
#define XPS_HTTP_EV_END		0x02U	/* the payload ended after one */
#define XPS_HTTP_EV_PARTIAL	0x04U	/* it ends inside one: need */
#define XPS_HTTP_EV_MALFORMED	0x08U	/* broken syntax: why */
#define XPS_HTTP_EV_UNSUPPORTED	0x10U	/* not for the fast path: why */
#define XPS_HTTP_EV_REFILL	0x20U	/* load the window from want */
#define XPS_HTTP_EV_STOP	0x1eU	/* END, PARTIAL, MALFORMED, UNSUPPORTED */

enum xps_http_method_id {
	XPS_HTTP_M_OTHER = 0,
	XPS_HTTP_M_GET,
	XPS_HTTP_M_HEAD,
	XPS_HTTP_M_POST,
	XPS_HTTP_M_PUT,
	XPS_HTTP_M_DELETE,
	XPS_HTTP_M_CONNECT,
	XPS_HTTP_M_OPTIONS,
	XPS_HTTP_M_TRACE,
	XPS_HTTP_M_PATCH,
};

/* Why a request was MALFORMED or UNSUPPORTED (p->why). */
enum xps_http_why {
	XPS_HTTP_WHY_NONE = 0,
	XPS_HTTP_WHY_METHOD,	/* not [A-Z_-]+, or longer than 16 */
	XPS_HTTP_WHY_LEADING,	/* empty line before the request line */
	XPS_HTTP_WHY_TARGET,	/* not "/...", spaces or non-ASCII in it */
	XPS_HTTP_WHY_VERSION,	/* not "HTTP/1.1" */
	XPS_HTTP_WHY_HTTP10,	/* "HTTP/1.0" */
	XPS_HTTP_WHY_CRLF,	/* bare CR or LF */
	XPS_HTTP_WHY_CTL,	/* control character */
	XPS_HTTP_WHY_FOLD,	/* obsolete line folding */
	XPS_HTTP_WHY_NAME,	/* header name with a non-token character */
	XPS_HTTP_WHY_COLON,	/* header line without ':' */
	XPS_HTTP_WHY_CLEN,	/* bad Content-Length */
	XPS_HTTP_WHY_CLEN_DUP,	/* two Content-Length */
	XPS_HTTP_WHY_TE,	/* Transfer-Encoding */
	XPS_HTTP_WHY_CLOSE,	/* Connection: close */
	XPS_HTTP_WHY_HOST,	/* no Host, two, or a bad one */
	XPS_HTTP_WHY_LONG,	/* line or head too long */
};

/* Parser phases */
#define XPS_HTTP_P_START	0	/* at a request */
#define XPS_HTTP_P_REQLINE	1	/* scanning the request line */
#define XPS_HTTP_P_HDR		2	/* at a header line (or the end) */
#define XPS_HTTP_P_LINE		3	/* scanning a header line */
#define XPS_HTTP_P_VALUE	4	/* at a header value we read */

/* Header fields whose value is read */
#define XPS_HTTP_H_OTHER	0
#define XPS_HTTP_H_CLEN		1
#define XPS_HTTP_H_CONN		2
#define XPS_HTTP_H_HOST		3

struct xps_http_parser {
	/* input */
	__u32 pos;	/* next byte */
	__u32 total;	/* payload bytes */
	__u32 base;	/* payload offset of window byte 0 */
	__u32 wlen;	/* bytes in the window */
	__u32 want;	/* EV_REFILL: load the window from here */
	/* the request being parsed (or the last one, after EV_REQ) */
	__u32 phase;	/* XPS_HTTP_P_* */
	__u32 req_off;	/* where it starts */
	__u32 req_len;	/* EV_REQ: its bytes, body included */
	__u32 method;	/* enum xps_http_method_id */
	__u32 mlen;	/* method bytes */
	__u64 mname[2];	/* the method as sent, zero-padded */
	__u64 w[3];	/* a field name, lower case (scratch) */
	__u64 clen;	/* Content-Length (0 if none) */
	__u64 acc;	/* value being read */
	__u32 vst;	/* its reader's state */
	__u32 vres;	/* its reader's result */
	__u32 vend;	/* where its CR is */
	__u32 vflag;
	__u32 vi;	/* its next byte (from scan) */
	__u32 has_clen;
	__u32 hosts;	/* Host fields */
	/* the line being parsed */
	__u32 line_off;	/* where it starts */
	__u32 scan;	/* next byte to scan */
	__u32 hkind;	/* XPS_HTTP_H_* (P_VALUE) */
	__u32 crs;	/* CR seen on it */
	__u32 sps;	/* spaces and tabs */
	__u32 ctls;	/* control characters (not HT, CR) */
	__u32 highs;	/* bytes >= 0x80 */
	__u32 colons;	/* ':' (header names we did not see whole) */
	__u32 need_colon;
	/* the last step */
	__u32 ev;	/* XPS_HTTP_EV_* */
	/* EV_PARTIAL: bytes after the payload until the request ends */
	__u32 need;	/* 0 if unknown */
	__u32 why;	/* enum xps_http_why */
};

/* The window, as a type (BPF global functions need their arguments' size). */
struct xps_http_win {
	__u8 b[XPS_HTTP_WIN];
};

/* A name we look for, zero-padded, as words. */
struct xps_http_name {
	union {
		char name[24];
		__u64 w[3];
	};
	__u32 id;
};

/* The methods with an id (HTTP methods are case-sensitive). */
#define XPS_HTTP_NMETHODS	9U
static const struct xps_http_name xps_http_method_names[XPS_HTTP_NMETHODS] = {
	{ { "GET" }, XPS_HTTP_M_GET },
	{ { "HEAD" }, XPS_HTTP_M_HEAD },
	{ { "POST" }, XPS_HTTP_M_POST },
	{ { "PUT" }, XPS_HTTP_M_PUT },
	{ { "DELETE" }, XPS_HTTP_M_DELETE },
	{ { "CONNECT" }, XPS_HTTP_M_CONNECT },
	{ { "OPTIONS" }, XPS_HTTP_M_OPTIONS },
	{ { "TRACE" }, XPS_HTTP_M_TRACE },
	{ { "PATCH" }, XPS_HTTP_M_PATCH },
};

/* The header fields we read or refuse, lower case. */
#define XPS_HTTP_H_TE		4	/* Transfer-Encoding: refused */
#define XPS_HTTP_NFIELDS	4U
static const struct xps_http_name xps_http_field_names[XPS_HTTP_NFIELDS] = {
	{ { "content-length" }, XPS_HTTP_H_CLEN },
	{ { "connection" }, XPS_HTTP_H_CONN },
	{ { "host" }, XPS_HTTP_H_HOST },
	{ { "transfer-encoding" }, XPS_HTTP_H_TE },
};

/* "HTTP/1.1" and "HTTP/1.0" as words. */
#define XPS_HTTP_W_11		0x312e312f50545448ULL
#define XPS_HTTP_W_10		0x302e312f50545448ULL
/* The last five bytes of a word that ends in "close". */
#define XPS_HTTP_W_CLOSE	0x636c6f7365ULL
#define XPS_HTTP_W5		0xffffffffffULL

/* The id of the name whose words are w0 w1 w2 in table t of n, or 0. */
static __always_inline __u32 xps_http_find(const struct xps_http_name *t,
					   __u32 n, __u64 w0, __u64 w1,
					   __u64 w2)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		__u64 d = (t[i].w[0] ^ w0) | (t[i].w[1] ^ w1) |
			  (t[i].w[2] ^ w2);

		if (!xps_opaque(d))
			return t[i].id;
	}
	return 0;
}

/* The method id of the method whose bytes, zero-padded, are m0 m1. */
static __always_inline __u32 xps_http_method_of(__u64 m0, __u64 m1)
{
	return xps_http_find(xps_http_method_names, XPS_HTTP_NMETHODS, m0, m1, 0);
}

/* The method id of [m, m + len) (case-sensitive, as HTTP methods are). */
static inline __u32 xps_http_method_id(const void *m, __u32 len)
{
	const unsigned char *s = (const unsigned char *)m;
	__u64 w[2] = { 0, 0 };
	__u32 i;

	if (!len || len > XPS_HTTP_METHOD_MAX)
		return XPS_HTTP_M_OTHER;
	for (i = 0; i < len; i++) {
		if (!s[i])
			return XPS_HTTP_M_OTHER;
		w[i / 8] |= (__u64)s[i] << (8 * (i % 8));
	}
	return xps_http_method_of(w[0], w[1]);
}

static inline void xps_http_init(struct xps_http_parser *p, __u32 total)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->total = total;
}

/* The window now holds payload bytes [base, base + wlen). */
static inline void xps_http_window(struct xps_http_parser *p, __u32 base,
				   __u32 wlen)
{
	p->base = base;
	p->wlen = wlen;
}

static __always_inline __u32 xps_http_at(const struct xps_http_parser *p,
					 const __u8 *win, __u32 off)
{
	return win[(off - p->base) & (XPS_HTTP_WIN - 1)];
}

/* Whether [lo, lo + n) is in the window. */
static __always_inline int xps_http_has(const struct xps_http_parser *p,
					__u32 lo, __u32 n)
{
	return lo >= p->base && lo - p->base <= p->wlen &&
	       n <= p->wlen - (lo - p->base);
}

static __always_inline __u32 xps_http_ret(struct xps_http_parser *p, __u32 ev,
					  __u32 why)
{
	p->ev = ev;
	p->why = why;
	return ev;
}

static __always_inline __u32 xps_http_refill(struct xps_http_parser *p,
					     __u32 lo)
{
	p->want = lo;
	return xps_http_ret(p, XPS_HTTP_EV_REFILL, XPS_HTTP_WHY_NONE);
}

/* A header name character (RFC 9110 tchar). */
static __always_inline int xps_http_tchar(__u32 c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return 1;
	}
	return 0;
}

/* The start of a request: method, SP, the target's first byte. */
static __always_inline __u32 xps_http_start(struct xps_http_parser *p,
					    const __u8 *win, __u32 pos,
					    __u32 look)
{
	__u64 m0 = 0, m1 = 0;
	__u32 i, c = 0;

	for (i = 0; i <= XPS_HTTP_METHOD_MAX; i++) {
		if (i >= look)
			return xps_http_ret(p, XPS_HTTP_EV_PARTIAL,
					    XPS_HTTP_WHY_NONE);
		c = xps_http_at(p, win, pos + i);
		if (c == ' ')
			break;
		if (i == XPS_HTTP_METHOD_MAX)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_METHOD);
		if ((c < 'A' || c > 'Z') && c != '_' && c != '-') {
			if (!i && (c == '\r' || c == '\n'))
				return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
						    XPS_HTTP_WHY_LEADING);
			return xps_http_ret(p, XPS_HTTP_EV_MALFORMED,
					    XPS_HTTP_WHY_METHOD);
		}
		if (i < 8)
			m0 |= (__u64)c << (8 * i);
		else
			m1 |= (__u64)c << (8 * (i - 8));
	}
	if (!i)
		return xps_http_ret(p, XPS_HTTP_EV_MALFORMED,
				    XPS_HTTP_WHY_METHOD);
	if (i + 1 >= look)
		return xps_http_ret(p, XPS_HTTP_EV_PARTIAL, XPS_HTTP_WHY_NONE);
	if (xps_http_at(p, win, pos + i + 1) != '/')
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
				    XPS_HTTP_WHY_TARGET);
	p->mname[0] = m0;
	p->mname[1] = m1;
	p->mlen = i;
	/* How the words were made no longer matters to the verifier. */
	xps_forget();
	p->method = xps_http_method_of(p->mname[0], p->mname[1]);
	p->req_off = pos;
	p->line_off = pos;
	p->scan = pos + i + 1;
	p->clen = 0;
	p->has_clen = 0;
	p->hosts = 0;
	p->crs = 0;
	p->sps = 0;
	p->ctls = 0;
	p->highs = 0;
	p->colons = 0;
	p->need_colon = 0;
	p->phase = XPS_HTTP_P_REQLINE;
	return xps_http_ret(p, 0, XPS_HTTP_WHY_NONE);
}

/* Scan up to XPS_HTTP_SCAN bytes of the current line for its LF. */
static __always_inline __u32 xps_http_scan(struct xps_http_parser *p,
					   const __u8 *win)
{
	__u32 scan = p->scan, lo, n, i, q, found = 0;
	__u32 crs = 0, sps = 0, ctls = 0, highs = 0, colons = 0;
	__u64 v;

	n = p->total - scan;
	if (n > XPS_HTTP_SCAN)
		n = XPS_HTTP_SCAN;
	if (!n)
		return xps_http_ret(p, XPS_HTTP_EV_PARTIAL, XPS_HTTP_WHY_NONE);
	lo = scan - p->line_off > XPS_HTTP_BACK ? scan - XPS_HTTP_BACK :
						  p->line_off;
	if (!xps_http_has(p, lo, scan + n - lo))
		return xps_http_refill(p, lo);
	for (i = 0; i < XPS_HTTP_SCAN; i++) {
		__u32 c;

		if (i >= n)
			break;
		c = xps_http_at(p, win, scan + i);
		if (c == '\n') {
			found = 1;
			break;
		}
		if (c == '\r')
			crs++;
		else if (c == ' ' || c == '\t')
			sps++;
		else if (c == ':')
			colons++;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			ctls++;
		else if (c >= 0x80)
			highs++;
	}
	p->crs += crs;
	p->sps += sps;
	p->ctls += ctls;
	p->highs += highs;
	p->colons += colons;
	p->scan = scan + i;
	xps_forget();
	if (!found) {
		if (p->scan - p->line_off > XPS_HTTP_LINE_MAX)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_LONG);
		return xps_http_ret(p, 0, XPS_HTTP_WHY_NONE);
	}

	/* The line is [line_off, q]: q is its LF, q - 1 >= lo. */
	q = p->scan;
	if (p->crs != 1 || xps_http_at(p, win, q - 1) != '\r')
		return xps_http_ret(p, XPS_HTTP_EV_MALFORMED, XPS_HTTP_WHY_CRLF);
	if (p->ctls)
		return xps_http_ret(p, XPS_HTTP_EV_MALFORMED, XPS_HTTP_WHY_CTL);
	if (p->phase == XPS_HTTP_P_REQLINE) {
		/* "METHOD SP target SP HTTP/1.1 CR LF", target from scan. */
		if (q < p->line_off + p->mlen + 12)
			return xps_http_ret(p, XPS_HTTP_EV_MALFORMED,
					    XPS_HTTP_WHY_VERSION);
		if (p->sps != 1 || p->highs)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_TARGET);
		if (xps_http_at(p, win, q - 10) != ' ')
			return xps_http_ret(p, XPS_HTTP_EV_MALFORMED,
					    XPS_HTTP_WHY_VERSION);
		v = 0;
		for (i = 0; i < 8; i++)
			v |= (__u64)xps_http_at(p, win, q - 9 + i) << (8 * i);
		if (v == XPS_HTTP_W_10)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_HTTP10);
		if (v != XPS_HTTP_W_11)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_VERSION);
	} else if (p->need_colon && !p->colons) {
		return xps_http_ret(p, XPS_HTTP_EV_MALFORMED,
				    XPS_HTTP_WHY_COLON);
	}
	p->pos = q + 1;
	p->phase = XPS_HTTP_P_HDR;
	if (p->pos - p->req_off > XPS_HTTP_HDR_MAX)
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
				    XPS_HTTP_WHY_LONG);
	return xps_http_ret(p, 0, XPS_HTTP_WHY_NONE);
}

/* At a line of the head: a header field, or the empty line that ends it. */
static __always_inline __u32 xps_http_hdr(struct xps_http_parser *p,
					  const __u8 *win, __u32 pos,
					  __u32 look)
{
	__u64 h0 = 0, h1 = 0, h2 = 0, end;
	__u32 i, c, kind;

	if (!look)
		return xps_http_ret(p, XPS_HTTP_EV_PARTIAL, XPS_HTTP_WHY_NONE);
	c = xps_http_at(p, win, pos);
	if (c == '\r') {
		if (look < 2)
			return xps_http_ret(p, XPS_HTTP_EV_PARTIAL,
					    XPS_HTTP_WHY_NONE);
		if (xps_http_at(p, win, pos + 1) != '\n')
			return xps_http_ret(p, XPS_HTTP_EV_MALFORMED,
					    XPS_HTTP_WHY_CRLF);
		/* The head ends; the body is Content-Length bytes. */
		if (p->hosts != 1)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_HOST);
		end = (__u64)pos + 2 + p->clen;
		if (end > p->total) {
			p->need = end - p->total > 0xffffffffULL ?
				  0 : (__u32)(end - p->total);
			return xps_http_ret(p, XPS_HTTP_EV_PARTIAL,
					    XPS_HTTP_WHY_NONE);
		}
		p->pos = (__u32)end;
		p->req_len = (__u32)end - p->req_off;
		p->phase = XPS_HTTP_P_START;
		return xps_http_ret(p, XPS_HTTP_EV_REQ, XPS_HTTP_WHY_NONE);
	}
	if (c == ' ' || c == '\t')
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
				    XPS_HTTP_WHY_FOLD);

	/* The name, lower-cased, as far as it can be one we read. */
	for (i = 0; i < 18; i++) {
		if (i >= look)
			return xps_http_ret(p, XPS_HTTP_EV_PARTIAL,
					    XPS_HTTP_WHY_NONE);
		c = xps_http_at(p, win, pos + i);
		if (c == ':')
			break;
		if (!xps_http_tchar(c))
			return xps_http_ret(p, c == '\n' || c == '\r' ?
					    XPS_HTTP_EV_MALFORMED :
					    XPS_HTTP_EV_UNSUPPORTED,
					    c == '\n' || c == '\r' ?
					    XPS_HTTP_WHY_COLON :
					    XPS_HTTP_WHY_NAME);
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (i < 8)
			h0 |= (__u64)c << (8 * i);
		else if (i < 16)
			h1 |= (__u64)c << (8 * (i - 8));
		else
			h2 |= (__u64)c << (8 * (i - 16));
	}
	if (!i)
		return xps_http_ret(p, XPS_HTTP_EV_MALFORMED, XPS_HTTP_WHY_NAME);
	p->w[0] = h0;
	p->w[1] = h1;
	p->w[2] = h2;
	xps_forget();
	kind = xps_http_find(xps_http_field_names, XPS_HTTP_NFIELDS, p->w[0],
			     p->w[1], p->w[2]);
	if (kind == XPS_HTTP_H_TE)
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED, XPS_HTTP_WHY_TE);
	p->line_off = pos;
	p->scan = pos + i + (i < 18);
	p->crs = 0;
	p->sps = 0;
	p->ctls = 0;
	p->highs = 0;
	p->colons = 0;
	p->need_colon = i == 18;
	p->hkind = kind;
	p->phase = kind == XPS_HTTP_H_OTHER ? XPS_HTTP_P_LINE :
					      XPS_HTTP_P_VALUE;
	return xps_http_ret(p, 0, XPS_HTTP_WHY_NONE);
}

/*
 * The readers of the values we look at. Each scans from p->scan, within n
 * bytes, for the CR that ends the value, and leaves its result in p->vres:
 * 0 good (p->vend is at the CR), 1 bad, 2 no CR within n, 3 (Connection)
 * "close". Their state is in *p, so the loops converge in the verifier.
 */
#define XPS_HTTP_V_OK		0
#define XPS_HTTP_V_BAD		1
#define XPS_HTTP_V_NOCR		2
#define XPS_HTTP_V_CLOSE	3

/* The next byte of the value, or -1 at n (no CR before it). */
static __always_inline int xps_http_vbyte(struct xps_http_parser *p,
					  const __u8 *win, __u32 n)
{
	__u32 i = p->vi;

	if (i >= n)
		return -1;
	p->vi = i + 1;
	if (xps_http_at(p, win, p->scan + i) == '\r')
		p->vend = p->scan + i;
	return (int)xps_http_at(p, win, p->scan + i);
}

/* Content-Length: OWS 1*15DIGIT OWS. */
static __always_inline void xps_http_clen(struct xps_http_parser *p,
					  const __u8 *win, __u32 n)
{
	int c;

	p->acc = 0;
	p->vi = 0;
	p->vst = 0;	/* 0: leading OWS, 1: digits, 2: trailing OWS */
	p->vres = XPS_HTTP_V_NOCR;
	XPS_REPEAT(XPS_HTTP_LOOK) {
		c = xps_http_vbyte(p, win, n);
		if (c < 0)
			break;
		if (c == '\r') {
			p->vres = p->vst ? XPS_HTTP_V_OK : XPS_HTTP_V_BAD;
			break;
		}
		if (c == ' ' || c == '\t') {
			if (p->vst == 1)
				p->vst = 2;
			continue;
		}
		if (c < '0' || c > '9' || p->vst == 2 ||
		    p->acc > XPS_HTTP_CLEN_MAX / 10) {
			p->vres = XPS_HTTP_V_BAD;
			break;
		}
		p->acc = p->acc * 10 + (c - '0');
		p->vst = 1;
	}
	xps_forget();
	if (p->vres == XPS_HTTP_V_OK)
		p->clen = p->acc;
}

/* Connection: "close" (any case) anywhere in it. */
static __always_inline void xps_http_conn(struct xps_http_parser *p,
					  const __u8 *win, __u32 n)
{
	int c;

	p->acc = 0;
	p->vi = 0;
	p->vflag = 0;
	p->vres = XPS_HTTP_V_NOCR;
	XPS_REPEAT(XPS_HTTP_LOOK) {
		c = xps_http_vbyte(p, win, n);
		if (c < 0)
			break;
		if (c == '\r') {
			p->vres = p->vflag ? XPS_HTTP_V_CLOSE : XPS_HTTP_V_OK;
			break;
		}
		if (c < 0x20 && c != '\t') {
			p->vres = XPS_HTTP_V_BAD;
			break;
		}
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		p->acc = (p->acc << 8 | (__u32)c) & XPS_HTTP_W5;
		if (p->acc == XPS_HTTP_W_CLOSE)
			p->vflag = 1;
	}
	xps_forget();
}

/* Host: OWS host[:port] OWS, of [A-Za-z0-9.:-], no leading or double dot. */
static __always_inline void xps_http_host(struct xps_http_parser *p,
					  const __u8 *win, __u32 n)
{
	int c;

	p->vi = 0;
	p->vst = 0;	/* as in xps_http_clen() */
	p->vflag = 1;	/* the last byte was a dot (or none yet) */
	p->vres = XPS_HTTP_V_NOCR;
	XPS_REPEAT(XPS_HTTP_LOOK) {
		c = xps_http_vbyte(p, win, n);
		if (c < 0)
			break;
		if (c == '\r') {
			p->vres = p->vst ? XPS_HTTP_V_OK : XPS_HTTP_V_BAD;
			break;
		}
		if (c == ' ' || c == '\t') {
			if (p->vst == 1)
				p->vst = 2;
			continue;
		}
		if (p->vst == 2 || (c == '.' && p->vflag) ||
		    ((c < 'a' || c > 'z') && (c < 'A' || c > 'Z') &&
		     (c < '0' || c > '9') && c != '-' && c != ':' &&
		     c != '.')) {
			p->vres = XPS_HTTP_V_BAD;
			break;
		}
		p->vflag = c == '.';
		p->vst = 1;
	}
	xps_forget();
}

/* The value of a field we read, within XPS_HTTP_LOOK of its line start. */
static __always_inline __u32 xps_http_value(struct xps_http_parser *p,
					    const __u8 *win)
{
	__u32 look = p->total - p->line_off, n, r, q, why;

	if (look > XPS_HTTP_LOOK)
		look = XPS_HTTP_LOOK;
	if (!xps_http_has(p, p->line_off, look))
		return xps_http_refill(p, p->line_off);
	n = p->line_off + look - p->scan;	/* bytes from scan in look */
	switch (p->hkind) {
	case XPS_HTTP_H_CLEN:
		if (p->has_clen)
			return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
					    XPS_HTTP_WHY_CLEN_DUP);
		p->has_clen = 1;
		xps_http_clen(p, win, n);
		why = XPS_HTTP_WHY_CLEN;
		break;
	case XPS_HTTP_H_CONN:
		xps_http_conn(p, win, n);
		why = XPS_HTTP_WHY_CLOSE;
		break;
	default:
		p->hosts++;
		xps_http_host(p, win, n);
		why = XPS_HTTP_WHY_HOST;
		break;
	}
	r = p->vres;
	if (r == XPS_HTTP_V_NOCR) {
		/* No CR in the look-ahead: the payload ends, or too long. */
		if (p->line_off + look >= p->total)
			return xps_http_ret(p, XPS_HTTP_EV_PARTIAL,
					    XPS_HTTP_WHY_NONE);
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED, why);
	}
	if (r == XPS_HTTP_V_BAD && p->hkind == XPS_HTTP_H_CONN)
		why = XPS_HTTP_WHY_CTL;
	if (r != XPS_HTTP_V_OK)
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED, why);
	/* p->vend is at the CR: the LF must follow. */
	q = p->vend + 1;
	if (q >= p->line_off + look) {
		if (q >= p->total)
			return xps_http_ret(p, XPS_HTTP_EV_PARTIAL,
					    XPS_HTTP_WHY_NONE);
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
				    XPS_HTTP_WHY_LONG);
	}
	if (xps_http_at(p, win, q) != '\n')
		return xps_http_ret(p, XPS_HTTP_EV_MALFORMED, XPS_HTTP_WHY_CRLF);
	if (p->hosts > 1)
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
				    XPS_HTTP_WHY_HOST);
	p->pos = q + 1;
	p->phase = XPS_HTTP_P_HDR;
	if (p->pos - p->req_off > XPS_HTTP_HDR_MAX)
		return xps_http_ret(p, XPS_HTTP_EV_UNSUPPORTED,
				    XPS_HTTP_WHY_LONG);
	return xps_http_ret(p, 0, XPS_HTTP_WHY_NONE);
}

/*
 * One step. Returns XPS_HTTP_EV_* (also in p->ev); 0 means "go on".
 */
static __always_inline __u32 xps_http_step(struct xps_http_parser *p,
					   const __u8 *win)
{
	__u32 pos = p->pos, phase = p->phase, look;

	p->ev = 0;
	p->need = 0;
	p->why = XPS_HTTP_WHY_NONE;
	if (phase == XPS_HTTP_P_REQLINE || phase == XPS_HTTP_P_LINE)
		return xps_http_scan(p, win);
	if (phase == XPS_HTTP_P_VALUE)
		return xps_http_value(p, win);
	if (phase == XPS_HTTP_P_START && pos >= p->total)
		return xps_http_ret(p, XPS_HTTP_EV_END, XPS_HTTP_WHY_NONE);
	look = pos < p->total ? p->total - pos : 0;
	if (look > XPS_HTTP_LOOK)
		look = XPS_HTTP_LOOK;
	if (!xps_http_has(p, pos, look))
		return xps_http_refill(p, pos);
	if (phase == XPS_HTTP_P_START)
		return xps_http_start(p, win, pos, look);
	return xps_http_hdr(p, win, pos, look);
}

#endif /* _XPS_HTTP_H */
