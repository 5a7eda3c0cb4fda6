/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Redis GET handler's maps (bpf/xps_redis.bpf.c): the contract with
 * user space (libxps' cache filler, xpsctl). Included by the handler after
 * vmlinux.h and by C++ code.
 *
 *   xps_redis_cache   HASH   struct xps_redis_key -> struct xps_redis_val
 *                            the cached values of database 0, filled by
 *                            user space, each stamped with the write-fence
 *                            token of its key's slot (xps_resp_slot())
 *                            taken before the value was read from Redis
 *   xps_redis_misses  RINGBUF struct xps_redis_miss: keys GETs of database
 *                            0 missed (absent, stale or expired entry)
 *   xps_redis_conf    ARRAY  one struct xps_redis_conf
 *
 * Map names are cut to 15 characters in the kernel (xps_redis_misse);
 * libbpf and pinned paths use the full names.
 */
#ifndef XPS_REDIS_H
#define XPS_REDIS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define XPS_REDIS_KEY_MAX	64	/* longest cached key */
#define XPS_REDIS_VAL_MAX	512	/* longest cached value */
#define XPS_REDIS_ENTRIES	65536	/* xps_redis_cache max_entries */
#define XPS_REDIS_MISSES_SIZE	(256 * 1024)	/* ring buffer bytes */

/* Key of xps_redis_cache: the key's bytes, zero-padded. */
struct xps_redis_key {
	__u32 len;
	char key[XPS_REDIS_KEY_MAX];
};

/*
 * token: bpf_xps_fence_token(slot) taken before the value was fetched
 * (0: not valid); expire_ms: absolute unix milliseconds (PEXPIRETIME),
 * 0 for none.
 */
struct xps_redis_val {
	__u64 token;
	__u64 expire_ms;
	__u32 len;		/* bytes of data (<= XPS_REDIS_VAL_MAX) */
	__u32 hits;		/* GETs that found it valid (statistics) */
	char data[XPS_REDIS_VAL_MAX];
};

/* A record of xps_redis_misses: same layout as struct xps_redis_key. */
struct xps_redis_miss {
	__u32 len;
	char key[XPS_REDIS_KEY_MAX];
};

/*
 * The one entry of xps_redis_conf, all zero after load (nothing served).
 * writes_global: every write fences all keys, for a Redis that may evict
 * any key on a write (maxmemory with an eviction policy); enabled: answer
 * GETs from the cache; write_through: a plain "SET key value" stores its
 * value in the cache, to be served once Redis has answered +OK
 * (bpf_xps_fence_write_through()), for a Redis that applies commands in
 * the order it reads them (no threaded reads).
 */
struct xps_redis_conf {
	__u32 writes_global;
	__u32 enabled;
	__u32 write_through;
};

/*
 * Per-connection state the handler keeps in xps_md.state: the sequence
 * number the next payload must start at, and what the connection did.
 */
#define XPS_REDIS_ST_SEQ	0xffffffffULL	/* next payload's seq */
#define XPS_REDIS_ST_VALID	0x100000000ULL	/* ST_SEQ is set */
#define XPS_REDIS_ST_DB		0x200000000ULL	/* database not (surely) 0 */
#define XPS_REDIS_ST_MULTI	0x400000000ULL	/* inside MULTI */
#define XPS_REDIS_ST_TAINT	0x800000000ULL	/* never answer again */

#endif /* XPS_REDIS_H */
