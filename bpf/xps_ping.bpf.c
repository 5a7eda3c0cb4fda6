// SPDX-License-Identifier: GPL-2.0
/*
 * xps_ping: a line-protocol heartbeat handler for XPS, and the handler the
 * kselftests use to drive every verdict and the write fences.
 *
 * One payload of whole lines ("\n"-terminated, at most PING_WINDOW bytes)
 * is handled when every line is one of:
 *
 *   PING      answered "+PONG\r\n" in the kernel (a heartbeat)
 *   DROP      dropped without an answer
 *   RESET     the connection is reset
 *   T <slot>  answered "+T <0|1>\r\n": whether the slot's fence token is
 *             non-zero (no write to it pending)
 *
 * A payload with any other line, a partial line or too many bytes goes to
 * the application; in it, "W <slot>" fences a write to slot (and
 * "W all" to every slot), "HOLD", "RELEASE" and "FOREVER" hold the
 * connection's fences (bpf_xps_hold()). A RESET line wins over the rest
 * of the payload.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xps_api.h"

#define PING_WINDOW	256

struct ping_scratch {
	char buf[PING_WINDOW];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ping_scratch);
} xps_ping_scratch SEC(".maps");

enum ping_op { PING_OP_BAD, PING_OP_PING, PING_OP_DROP, PING_OP_RESET, PING_OP_TOKEN, PING_OP_WRITE,
	       PING_OP_HOLD, PING_OP_RELEASE, PING_OP_FOREVER };

static bool word(const char *b, __u32 i, __u32 n, const char *w, __u32 wl)
{
	__u32 k;

	if (n != wl)
		return false;
	for (k = 0; k < wl && k < 8; k++)
		if (b[(i + k) & (PING_WINDOW - 1)] != w[k])
			return false;
	return true;
}

/* Line [i, i + n) without its "\n" (and "\r"); *arg gets "<slot>". */
static enum ping_op classify(const char *b, __u32 i, __u32 n, __u32 *arg)
{
	__u32 k, v = 0;

	if (n && b[(i + n - 1) & (PING_WINDOW - 1)] == '\r')
		n--;
	if (word(b, i, n, "PING", 4))
		return PING_OP_PING;
	if (word(b, i, n, "DROP", 4))
		return PING_OP_DROP;
	if (word(b, i, n, "RESET", 5))
		return PING_OP_RESET;
	if (word(b, i, n, "HOLD", 4))
		return PING_OP_HOLD;
	if (word(b, i, n, "RELEASE", 7))
		return PING_OP_RELEASE;
	if (word(b, i, n, "FOREVER", 7))
		return PING_OP_FOREVER;
	if (n < 3 || b[(i + 1) & (PING_WINDOW - 1)] != ' ')
		return PING_OP_BAD;
	if (word(b, i + 2, n - 2, "all", 3)) {
		*arg = XPS_SLOT_ALL;
		return b[i & (PING_WINDOW - 1)] == 'W' ? PING_OP_WRITE : PING_OP_BAD;
	}
	for (k = 2; k < n && k < 12; k++) {
		char c = b[(i + k) & (PING_WINDOW - 1)];

		if (c < '0' || c > '9')
			return PING_OP_BAD;
		v = v * 10 + (c - '0');
	}
	if (k != n || v >= XPS_SLOTS)
		return PING_OP_BAD;
	*arg = v;
	switch (b[i & (PING_WINDOW - 1)]) {
	case 'T':
		return PING_OP_TOKEN;
	case 'W':
		return PING_OP_WRITE;
	}
	return PING_OP_BAD;
}

struct ping_walk {
	struct xps_md *md;
	struct ping_scratch *s;
	__u32 len;
	__u32 start;		/* first byte of the current line */
	bool answer;		/* second pass: build replies */
	bool all_fast;
	bool reset;
	bool any;
	bool full;		/* reply buffer full */
};

/* bpf_loop() callback, one byte per call: classify each complete line. */
static long ping_byte(__u32 i, struct ping_walk *w)
{
	/* On the stack: kfunc memory arguments may not be read-only maps. */
	char pong[] = "+PONG\r\n";
	char tok[] = "+T 0\r\n";
	enum ping_op op;
	__u32 arg = 0;

	if (i >= w->len || i >= PING_WINDOW)
		return 1;
	if (w->s->buf[i & (PING_WINDOW - 1)] != '\n')
		return 0;
	op = classify(w->s->buf, w->start, i - w->start, &arg);
	w->start = i + 1;
	w->any = true;
	if (w->answer) {
		if (op == PING_OP_PING)
			w->full |= bpf_xps_reply(w->md, pong, sizeof(pong) - 1) != 0;
		else if (op == PING_OP_TOKEN) {
			tok[3] = bpf_xps_fence_token(arg) ? '1' : '0';
			w->full |= bpf_xps_reply(w->md, tok, sizeof(tok) - 1) != 0;
		}
		return 0;
	}
	switch (op) {
	case PING_OP_WRITE:
		bpf_xps_fence_write(w->md, arg);
		w->all_fast = false;
		break;
	case PING_OP_HOLD:
		bpf_xps_hold(w->md, XPS_HOLD_ON);
		w->all_fast = false;
		break;
	case PING_OP_RELEASE:
		bpf_xps_hold(w->md, XPS_HOLD_OFF);
		w->all_fast = false;
		break;
	case PING_OP_FOREVER:
		bpf_xps_hold(w->md, XPS_HOLD_FOREVER);
		w->all_fast = false;
		break;
	case PING_OP_RESET:
		w->reset = true;
		break;
	case PING_OP_BAD:
		w->all_fast = false;
		break;
	default:
		break;
	}
	return 0;
}

SEC("struct_ops/xps_ping_handle")
int BPF_PROG(xps_ping_handle, struct xps_md *md)
{
	struct ping_walk w = { .md = md, .all_fast = true };
	__u32 zero = 0, len = md->len;

	w.s = bpf_map_lookup_elem(&xps_ping_scratch, &zero);
	if (!w.s)
		return XPS_PASS;
	if (!len || len > PING_WINDOW) {
		/* Cannot see it all: whatever it writes, fence it all. */
		bpf_xps_fence_write(md, XPS_SLOT_ALL);
		return XPS_PASS;
	}
	if (bpf_xps_load(md, 0, w.s->buf, len) < 0)
		return XPS_PASS;
	w.len = len;

	/* First pass: fences and holds, and whether all lines are fast. */
	bpf_loop(PING_WINDOW, ping_byte, &w, 0);
	if (w.start != len) {
		/* Ends inside a line. */
		bpf_xps_partial(md, 0);
		return XPS_PASS;
	}
	if (!w.any || !w.all_fast || (md->flags & XPS_MD_PASS_ONLY))
		return XPS_PASS;
	if (w.reset)
		return XPS_RESET;

	/* Second pass: the answers (only DROP lines: none, a silent TX). */
	w.answer = true;
	w.start = 0;
	bpf_loop(PING_WINDOW, ping_byte, &w, 0);
	return w.full ? XPS_PASS : XPS_TX;
}

SEC(".struct_ops.link")
struct xps_handler xps_ping = {
	.handle = (void *)xps_ping_handle,
	.name = "ping",
	.lport = 7777,
};

char LICENSE[] SEC("license") = "GPL";
