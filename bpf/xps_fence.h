/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Context of bpf/xps_fence.bpf.c's SYSCALL program xps_fence_token_prog:
 * user space (libxps' cache filler) runs it with BPF_PROG_TEST_RUN,
 * ctx_in = a struct xps_fence_ctx with slot set; the kernel copies the
 * context back into ctx_in, with token filled in. Included by the program
 * after vmlinux.h and by C++ code.
 */
#ifndef XPS_FENCE_H
#define XPS_FENCE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/*
 * slot: in, below XPS_SLOTS; token: out, bpf_xps_fence_token(slot), 0
 * while a write to the slot is pending, or for a bad slot.
 */
struct xps_fence_ctx {
	__u32 slot;
	__u32 pad;
	__u64 token;
};

#endif /* XPS_FENCE_H */
