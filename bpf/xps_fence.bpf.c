// SPDX-License-Identifier: GPL-2.0
/*
 * xps_fence: the write-fence token of a slot, for user space. A cache
 * filler takes the token of a key's slot (xps_resp_slot()) before it
 * reads the key's value from the server and stores it with the value; the
 * handler trusts the entry only while the token is still the slot's. The
 * token comes from the xps module's kfunc bpf_xps_fence_token(), which a
 * SYSCALL program can call; user space runs this one with
 * BPF_PROG_TEST_RUN and a struct xps_fence_ctx (xps_fence.h) as context.
 * The program returns 0, or -1 for a slot out of range (token 0).
 *
 * Loading needs the xps module (the kfunc is resolved against its BTF).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "xps_api.h"
#include "xps_fence.h"

SEC("syscall")
int xps_fence_token_prog(struct xps_fence_ctx *ctx)
{
	__u32 slot = ctx->slot;

	if (slot >= XPS_SLOTS) {
		ctx->token = 0;
		return -1;
	}
	ctx->token = bpf_xps_fence_token(slot);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
