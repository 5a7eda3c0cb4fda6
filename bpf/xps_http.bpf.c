// SPDX-License-Identifier: GPL-2.0
/*
 * xps_http: HTTP method filtering for a web server (nginx) in the TCP
 * receive path (paper 001, §3.3 and Fig. 3.2). Attached to port 80 unless
 * the loader changes the predicate, it looks up the method of each
 * request of a payload in xps_http_methods (user space fills it: POST ->
 * answer 405, PUT -> reset as nginx's 444) and, when every request of the
 * payload has an action, carries it out in the kernel: the server never
 * wakes up for them. Everything else reaches the server untouched. The
 * logic is in xps_http_core.h, shared with the host unit tests; the
 * parser is xps/http.h.
 *
 * Loading needs the xps module (struct_ops type and kfuncs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xps_api.h"
#include "xps_http.h"
#include <xps/http.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XPS_HTTP_METHODS_MAX);
	__type(key, struct xps_http_method);
	__type(value, struct xps_http_action);
} xps_http_methods SEC(".maps");

/*
 * One parser step, as a global function: the verifier checks it once, for
 * any parser state, instead of once per path of the handler that calls it.
 */
__noinline int xps_http_parse(struct xps_http_parser *p,
			      struct xps_http_win *w)
{
	if (!p || !w)
		return XPS_HTTP_EV_MALFORMED;
	return xps_http_step(p, w->b);
}

#define XH_LOAD(md, off, buf, n)	bpf_xps_load(md, off, buf, n)
#define XH_REPLY(md, buf, n)		bpf_xps_reply(md, buf, n)
#define XH_PARTIAL(md, need)		bpf_xps_partial(md, need)
#define XH_SET_STATE(md, state)		bpf_xps_set_state(md, state)
#define XH_LOOKUP(key)							\
	((struct xps_http_action *)bpf_map_lookup_elem(&xps_http_methods, key))
#define XH_FOR(i, from, to)		bpf_for(i, from, to)
#define XH_STEP(sc)			xps_http_parse(&(sc)->p, &(sc)->win)

#include "xps_http_core.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xps_http_scratch);
} xps_http_scr SEC(".maps");

SEC("struct_ops/xps_http_handle")
int BPF_PROG(xps_http_handle, struct xps_md *md)
{
	struct xps_http_scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&xps_http_scr, &zero);
	if (!sc) {
		bpf_xps_partial(md, 0);
		return XPS_PASS;
	}
	return xps_http_run(md, sc);
}

SEC(".struct_ops.link")
struct xps_handler xps_http = {
	.handle = (void *)xps_http_handle,
	.name = "http",
	.lport = 80,
};

char LICENSE[] SEC("license") = "GPL";
