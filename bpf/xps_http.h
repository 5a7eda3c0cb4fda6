/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP handler's method table (bpf/xps_http.bpf.c): the contract with
 * user space (libxps, xpsctl). Included by the handler after vmlinux.h and
 * by C++ code.
 *
 *   xps_http_methods  HASH  struct xps_http_method -> struct xps_http_action
 *
 * The key is the method as the client sends it (methods are
 * case-sensitive), zero-padded; a method not in the table, or with
 * XPS_HTTP_PASS, goes to the server. User space sets the defaults (the
 * paper's Fig. 3.2: POST -> REPLY 405, PUT -> RESET, nginx's 444).
 * The kernel cuts the map name to 15 characters (xps_http_method).
 */
#ifndef XPS_HTTP_BPF_H
#define XPS_HTTP_BPF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XPS_HTTP_METHOD_LEN	16	/* key bytes: methods of up to 15 */
#define XPS_HTTP_METHODS_MAX	64	/* xps_http_methods max_entries */

struct xps_http_method {
	char name[XPS_HTTP_METHOD_LEN];
};

/*
 * xps_http_action.action: XPS_HTTP_PASS, to the server; XPS_HTTP_REPLY,
 * answer "HTTP/1.1 <status> <reason>" without a body and keep the
 * connection; XPS_HTTP_RESET, reset the connection (nginx's 444);
 * XPS_HTTP_DROP, swallow the request and answer nothing.
 */
#define XPS_HTTP_PASS	0
#define XPS_HTTP_REPLY	1
#define XPS_HTTP_RESET	2
#define XPS_HTTP_DROP	3

struct xps_http_action {
	__u32 action;		/* XPS_HTTP_* */
	__u32 status;		/* XPS_HTTP_REPLY: 200 .. 599 */
};

/* Per-connection state in xps_md.state (as the Redis handler's). */
#define XPS_HTTP_ST_SEQ		0xffffffffULL	/* next payload's seq */
#define XPS_HTTP_ST_VALID	0x100000000ULL	/* ST_SEQ is set */
#define XPS_HTTP_ST_TAINT	0x800000000ULL	/* never answer again */

#endif /* XPS_HTTP_BPF_H */
