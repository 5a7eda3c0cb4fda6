/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the X-Lane shared cores (ring.h, codec.h, model.h) need from their
 * environment, so that the same code runs in the module and, unchanged, in
 * user space (libxlane, xlanectl, the host unit tests).
 */
#ifndef XLANE_COMPAT_H
#define XLANE_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/crc32.h>
#include <linux/math64.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

/* ring.h documents what each acquire pairs with */
#define xl_load_acquire(p)	smp_load_acquire(p)
/* ring.h documents what each release pairs with */
#define xl_store_release(p, v)	smp_store_release(p, v)
#define xl_read_once(x)		READ_ONCE(x)
#define xl_write_once(x, v)	WRITE_ONCE(x, v)
#define xl_htobe16(x)		cpu_to_be16(x)
#define xl_htobe32(x)		cpu_to_be32(x)
#define xl_htobe64(x)		cpu_to_be64(x)
#define xl_be16toh(x)		be16_to_cpu(x)
#define xl_be32toh(x)		be32_to_cpu(x)
#define xl_be64toh(x)		be64_to_cpu(x)
#define xl_div64(a, b)		div64_u64(a, b)

/* Raw reflected CRC-32 (poly 0xedb88320), no pre- or post-inversion. */
static inline __u32 xl_crc32_raw(__u32 crc, const void *p, size_t len)
{
	return crc32_le(crc, p, len);
}
#else /* user space */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

#define xl_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define xl_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define xl_read_once(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define xl_write_once(x, v)	__atomic_store_n(&(x), v, __ATOMIC_RELAXED)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define xl_htobe16(x)		((__be16)__builtin_bswap16(x))
#define xl_htobe32(x)		((__be32)__builtin_bswap32(x))
#define xl_htobe64(x)		((__be64)__builtin_bswap64(x))
#define xl_be16toh(x)		((__u16)__builtin_bswap16((__u16)(x)))
#define xl_be32toh(x)		((__u32)__builtin_bswap32((__u32)(x)))
#define xl_be64toh(x)		((__u64)__builtin_bswap64((__u64)(x)))
#else
#define xl_htobe16(x)		((__be16)(x))
#define xl_htobe32(x)		((__be32)(x))
#define xl_htobe64(x)		((__be64)(x))
#define xl_be16toh(x)		((__u16)(x))
#define xl_be32toh(x)		((__u32)(x))
#define xl_be64toh(x)		((__u64)(x))
#endif
#define xl_div64(a, b)		((__u64)(a) / (__u64)(b))

/* The same raw CRC-32 as the kernel's crc32_le(), bit by bit. */
static inline __u32 xl_crc32_raw(__u32 crc, const void *p, size_t len)
{
	const unsigned char *b = (const unsigned char *)p;
	int k;

	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return crc;
}
#endif

/* The usual CRC-32 (as zlib's crc32()): inverted in and out. */
static inline __u32 xl_crc32(const void *p, size_t len, __u32 seed)
{
	return ~xl_crc32_raw(~seed, p, len);
}

#endif /* XLANE_COMPAT_H */
