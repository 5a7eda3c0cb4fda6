/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an XPS handler (struct_ops "xps_handler", see
 * modules/xps/include/xps/xps.h) can call: kfuncs of the xps module,
 * resolved against its BTF at load time. Include after vmlinux.h and
 * <bpf/bpf_helpers.h>.
 */
#ifndef XPS_API_H
#define XPS_API_H

#include <xps/xps.h>

/*
 * Copy buf__sz payload bytes from offset off into buf. Returns buf__sz,
 * or -EINVAL when [off, off + buf__sz) is not inside the payload.
 */
extern int bpf_xps_load(struct xps_md *md, __u32 off, void *buf,
			__u32 buf__sz) __ksym;

/*
 * Append buf__sz bytes to this payload's reply (sent only if handle()
 * returns XPS_TX). Returns 0, or -ENOSPC past XPS_REPLY_MAX bytes.
 */
extern int bpf_xps_reply(struct xps_md *md, const void *buf,
			 __u32 buf__sz) __ksym;

/*
 * The payload (to be PASSed) ends inside a message; need > 0 says how
 * many bytes after the payload the message ends, 0 that it is unknown.
 */
extern void bpf_xps_partial(struct xps_md *md, __u32 need) __ksym;

/*
 * The payload may change the data hashed to slot (< XPS_SLOTS) or, with
 * XPS_SLOT_ALL, any data: bump the generation and keep the slot pending
 * until the application has read this payload.
 */
extern void bpf_xps_fence_write(struct xps_md *md, __u32 slot) __ksym;

/*
 * The payload's first message wrote slot, which this call fenced with
 * bpf_xps_fence_write(), and its reply starts with the ok__sz
 * (<= XPS_CONFIRM_MAX) bytes at ok when the write is applied ("+OK\r\n"):
 * that fence then stays pending until the application's next write on
 * the connection, and is voided (the generation moves on) unless that
 * write starts with them. Returns the token the slot gets with the
 * confirmation, for the value the handler stores now; 0, and the fence
 * unchanged, when the write cannot be confirmed this way
 * (XPS_MD_PASS_ONLY without XPS_MD_YIELD, another write to the slot
 * pending, ...).
 */
extern __u64 bpf_xps_fence_write_through(struct xps_md *md, __u32 slot,
					 const void *ok, __u32 ok__sz) __ksym;

/*
 * Token of slot (< XPS_SLOTS): non-zero and unchanged as long as no write
 * to the slot (or to all slots) was fenced since it was taken and none is
 * pending. Also callable from BPF_PROG_TYPE_SYSCALL programs, so that a
 * user-space filler can take it before fetching a value.
 */
extern __u64 bpf_xps_fence_token(__u32 slot) __ksym;

/*
 * Per-connection handler state: md->state is what the last call stored
 * (0 on a new connection).
 */
extern void bpf_xps_set_state(struct xps_md *md, __u64 state) __ksym;

/*
 * Hold this connection's pending write fences (XPS_HOLD_ON), e.g. while
 * a transaction queues writes the server applies only later; release
 * them (XPS_HOLD_OFF): they then end where this payload ends; or hold
 * them for the connection's lifetime (XPS_HOLD_FOREVER), for input the
 * server may apply at a time nobody can see (after a blocking command).
 */
extern void bpf_xps_hold(struct xps_md *md, __u32 how) __ksym;

/* CLOCK_REALTIME in milliseconds (the clock Redis expiries use). */
extern __u64 bpf_xps_realtime_ms(void) __ksym;

#endif /* XPS_API_H */
