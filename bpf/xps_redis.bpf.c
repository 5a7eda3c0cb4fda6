// SPDX-License-Identifier: GPL-2.0
/*
 * xps_redis: Redis GET answered from a kernel cache that stays coherent
 * with the unmodified redis-server (paper 001, §3.3). Attached to the
 * Redis port (6379 unless the loader changes the predicate), it sees
 * every in-order payload a client sends before Redis does.
 *
 * A payload of whole GETs of database 0 whose cache entries are valid is
 * answered here ("$<len>\r\n<value>\r\n" each) and never reaches Redis.
 * Everything else goes to Redis, after the handler has told the module
 * what it may write: the key slots of writes, everything for commands it
 * cannot bound, held fences for transactions. An entry is valid only
 * while the fence token it was filled with is current, so no GET answered
 * here returns a value older than a write Redis has acknowledged. GETs
 * that missed are reported to user space, which fills the cache
 * (libxps' filler: it takes the slot's token with bpf/xps_fence.bpf.c
 * first, then asks Redis). A plain "SET key value" that starts a payload
 * stores its value here at once, served from Redis's "+OK" on
 * (bpf_xps_fence_write_through()). The logic is in xps_redis_core.h,
 * shared with the host unit tests; the maps are described in xps_redis.h.
 *
 * Loading needs the xps module (struct_ops type and kfuncs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xps_api.h"
#include "xps_redis.h"
#include <xps/resp.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XPS_REDIS_ENTRIES);
	__type(key, struct xps_redis_key);
	__type(value, struct xps_redis_val);
} xps_redis_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XPS_REDIS_MISSES_SIZE);
} xps_redis_misses SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xps_redis_conf);
} xps_redis_conf SEC(".maps");

#define XR_LOAD(md, off, buf, n)	bpf_xps_load(md, off, buf, n)
#define XR_REPLY(md, buf, n)		bpf_xps_reply(md, buf, n)
#define XR_PARTIAL(md, need)		bpf_xps_partial(md, need)
#ifndef XPS_REDIS_INCOHERENT
#define XR_FENCE(md, slot)		bpf_xps_fence_write(md, slot)
#define XR_FENCE_WT(md, slot, ok, n)	\
	bpf_xps_fence_write_through(md, slot, ok, n)
#define XR_HOLD(md, how)		bpf_xps_hold(md, how)
#else
/*
 * Test build only (build/bpf/xps_redis_incoherent.bpf.o): writes fence one
 * fixed slot instead of their keys' (the calls stay, so the verifier's work
 * does not change), so entries outlive the writes that change their keys. The
 * stale-read kselftest attaches it to show that it notices.
 */
#define XR_FENCE(md, slot)		bpf_xps_fence_write(md, XPS_SLOTS - 1 + 0 * (slot))
/* No write-through: a SET's fence stays the (misplaced) plain one. */
#define XR_FENCE_WT(md, slot, ok, n)	0ULL
#define XR_HOLD(md, how)		bpf_xps_hold(md, how)
#endif
#define XR_TOKEN(slot)			bpf_xps_fence_token(slot)
#define XR_SET_STATE(md, state)		bpf_xps_set_state(md, state)
#define XR_NOW_MS()			bpf_xps_realtime_ms()
#define XR_LOOKUP(key)							\
	((struct xps_redis_val *)bpf_map_lookup_elem(&xps_redis_cache, key))
#define XR_STORE(key, val)						\
	bpf_map_update_elem(&xps_redis_cache, key, val, BPF_ANY)
#define XR_MISS(key)							\
	bpf_ringbuf_output(&xps_redis_misses, key,			\
			   sizeof(struct xps_redis_miss), 0)
#define XR_FOR(i, from, to)		bpf_for(i, from, to)
#define XR_STEP(sc)			xps_redis_parse(&(sc)->p, &(sc)->win)

/*
 * One parser step, as a global function: the verifier checks it once, for
 * any parser state, instead of once per path of the handler that calls it.
 */
__noinline int xps_redis_parse(struct xps_resp_parser *p,
			       struct xps_resp_win *w)
{
	if (!p || !w)
		return XPS_RESP_EV_MALFORMED;
	return xps_resp_step(p, w->b);
}

#include "xps_redis_core.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xps_redis_scratch);
} xps_redis_scr SEC(".maps");

SEC("struct_ops/xps_redis_handle")
int BPF_PROG(xps_redis_handle, struct xps_md *md)
{
	struct xps_redis_scratch *sc;
	struct xps_redis_conf *conf;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&xps_redis_scr, &zero);
	if (!sc) {
		/* Cannot look: fence all, and stop following the stream. */
		bpf_xps_fence_write(md, XPS_SLOT_ALL);
		bpf_xps_partial(md, 0);
		return XPS_PASS;
	}
	conf = bpf_map_lookup_elem(&xps_redis_conf, &zero);
	return xps_redis_run(md, sc, conf);
}

SEC(".struct_ops.link")
struct xps_handler xps_redis = {
	.handle = (void *)xps_redis_handle,
	.name = "redis",
	.lport = 6379,
};

char LICENSE[] SEC("license") = "GPL";
