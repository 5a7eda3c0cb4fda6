/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the XPS handlers' parsers (xps/resp.h, xps/http.h) share: they run
 * in BPF programs, under the verifier, and in user space (libxps, the host
 * unit tests), so they use no libc and nothing from the kernel but types.
 */
#ifndef _XPS_PARSE_H
#define _XPS_PARSE_H

#include "xps.h"

#if !defined(__KERNEL__) && !defined(__bpf__)
#include <sys/cdefs.h>		/* __always_inline */
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the XPS parsers pack bytes into words little-endian"
#endif

/*
 * Makes the compiler read memory again after this point. In BPF the
 * parsers keep their state in a map value, whose contents the verifier
 * does not track: values read back from it are unknown, so paths that
 * differ only in those values merge instead of multiplying.
 */
static __always_inline void xps_forget(void)
{
	__asm__ __volatile__("" : : : "memory");
}

/* x, computed so that the compiler cannot split a test of it in parts. */
static __always_inline __u64 xps_opaque(__u64 x)
{
	__asm__ __volatile__("" : "+r"(x));
	return x;
}

/*
 * XPS_REPEAT(n): a loop of at most n turns that keeps its state in memory.
 * In BPF an open-coded iterator: the verifier checks the body until its
 * states converge, not once per turn.
 */
#if defined(__bpf__) && defined(bpf_repeat)
#define XPS_REPEAT(n)	bpf_repeat(n)
#else
#define XPS_REPEAT(n)	for (unsigned int xps_turn_ = 0; xps_turn_ < (n); xps_turn_++)
#endif

#endif /* _XPS_PARSE_H */
