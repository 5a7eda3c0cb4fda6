/* SPDX-License-Identifier: GPL-2.0 */
/*
 * X-Lane wire format: the UDP payload of a lane packet.
 *
 *   struct xlane_wire_hdr   (40 bytes, CRC-32 over itself with crc = 0)
 *   chunk 0 .. nchunks-1:   struct xlane_wire_chunk (8 bytes)
 *                           data (len bytes, zero-padded to 4)
 *                           __be32 CRC-32 over chunk header, data and
 *                           padding, seeded with the packet's sequence
 *                           number and the chunk's index
 *
 * Several small messages share one packet (the paper's chunks, §4.1); each
 * chunk carries its own check, so a flipped bit costs the chunks it hits,
 * and a chunk copied into another packet or position fails its check. The
 * header check guards the fields that locate the chunks. A CRC detects
 * accidents, not attackers: packets from senders that are not lane peers
 * are refused by the receiver's tables, not by the codec.
 *
 * Everything is big-endian on the wire and read with memcpy, so the codec
 * works at any alignment (the payload follows a 42-byte Ethernet/IPv4/UDP
 * header).
 */
#ifndef XLANE_CODEC_H
#define XLANE_CODEC_H

#include "compat.h"

#define XLANE_WIRE_MAGIC	0x584cu		/* "XL" */
#define XLANE_WIRE_VERSION	1u
#define XLANE_WIRE_MAX		1472u		/* UDP payload in a 1500-byte MTU */
#define XLANE_WIRE_MAX_CHUNKS	64u

/* Chunk services. */
enum xlane_service {
	XLANE_SVC_DATA = 1,	/* a lane message for the listener on ->port */
	XLANE_SVC_FD = 2,	/* an X-FD heartbeat (struct xlane_fd_beat) */
};

struct xlane_wire_hdr {
	__be16 magic;
	__u8 version;
	__u8 nchunks;
	__be32 node;		/* sender's node id */
	__be32 lane;		/* sender's lane id */
	__be16 len;		/* bytes after this header */
	__be16 flags;
	__be64 seq;		/* per-lane packet sequence number */
	__be64 tx_ns;		/* sender's CLOCK_MONOTONIC at transmission */
	__be32 crc;
	__be32 rsvd;
};

struct xlane_wire_chunk {
	__be16 len;		/* data bytes */
	__u8 service;		/* enum xlane_service */
	__u8 flags;
	__be16 port;		/* XLANE_SVC_DATA: destination listener */
	__be16 rsvd;
};

/* X-FD heartbeat payload. */
struct xlane_fd_beat {
	__be64 counter;		/* the application's liveness counter */
	__be32 period_us;	/* the sender's heartbeat period T */
	__be32 rsvd;
};

#define XLANE_WIRE_HDR		((__u32)sizeof(struct xlane_wire_hdr))
#define XLANE_WIRE_CHUNK	((__u32)sizeof(struct xlane_wire_chunk))

/* Wire bytes a chunk of `len` data bytes takes. */
static inline __u32 xlane_chunk_wire_len(__u32 len)
{
	return XLANE_WIRE_CHUNK + ((len + 3u) & ~3u) + 4u;
}

static inline __u32 xlane_chunk_seed(__u64 seq, __u32 idx)
{
	return (__u32)seq ^ (__u32)(seq >> 32) ^ (idx * 0x9e3779b9u);
}

struct xlane_enc {
	unsigned char *buf;
	__u32 cap;
	__u32 off;
	__u32 nchunks;
	__u64 seq;
	struct xlane_wire_hdr hdr;
};

/* Starts a packet in buf (cap bytes). -ENOSPC when not even a header fits. */
static inline int xlane_enc_begin(struct xlane_enc *e, void *buf, __u32 cap,
				  __u32 node, __u32 lane, __u64 seq)
{
	if (cap < XLANE_WIRE_HDR)
		return -ENOSPC;
	e->buf = (unsigned char *)buf;
	e->cap = cap > XLANE_WIRE_MAX ? XLANE_WIRE_MAX : cap;
	e->off = XLANE_WIRE_HDR;
	e->nchunks = 0;
	e->seq = seq;
	memset(&e->hdr, 0, sizeof(e->hdr));
	e->hdr.magic = xl_htobe16(XLANE_WIRE_MAGIC);
	e->hdr.version = XLANE_WIRE_VERSION;
	e->hdr.node = xl_htobe32(node);
	e->hdr.lane = xl_htobe32(lane);
	e->hdr.seq = xl_htobe64(seq);
	return 0;
}

/* Bytes of data a next chunk may still carry (0 when none fits). */
static inline __u32 xlane_enc_room(const struct xlane_enc *e)
{
	__u32 left = e->cap - e->off;

	if (e->nchunks >= XLANE_WIRE_MAX_CHUNKS || left < XLANE_WIRE_CHUNK + 4u)
		return 0;
	return (left - XLANE_WIRE_CHUNK - 4u) & ~3u;
}

/* Appends a chunk. -ENOSPC when it does not fit, -EINVAL when len > 65535. */
static inline int xlane_enc_chunk(struct xlane_enc *e, __u8 service, __u16 port,
				  const void *data, __u32 len)
{
	struct xlane_wire_chunk ch;
	unsigned char *p = e->buf + e->off;
	__u32 pad = ((len + 3u) & ~3u) - len;
	__u32 crc;
	__be32 bcrc;

	if (len > 0xffffu)
		return -EINVAL;
	/* Even an empty chunk needs room (xlane_enc_room() may say 0). */
	if (e->nchunks >= XLANE_WIRE_MAX_CHUNKS ||
	    xlane_chunk_wire_len(len) > e->cap - e->off)
		return -ENOSPC;
	ch.len = xl_htobe16((__u16)len);
	ch.service = service;
	ch.flags = 0;
	ch.port = xl_htobe16(port);
	ch.rsvd = 0;
	memcpy(p, &ch, sizeof(ch));
	if (len)
		memcpy(p + sizeof(ch), data, len);
	memset(p + sizeof(ch) + len, 0, pad);
	crc = xl_crc32(p, sizeof(ch) + len + pad, xlane_chunk_seed(e->seq, e->nchunks));
	bcrc = xl_htobe32(crc);
	memcpy(p + sizeof(ch) + len + pad, &bcrc, 4);
	e->off += xlane_chunk_wire_len(len);
	e->nchunks++;
	return 0;
}

/*
 * Closes the packet: stamps tx_ns (taken by the caller as late as it can)
 * and the header check. Returns the packet's length in bytes.
 */
static inline __u32 xlane_enc_finish(struct xlane_enc *e, __u64 tx_ns)
{
	e->hdr.nchunks = (__u8)e->nchunks;
	e->hdr.len = xl_htobe16((__u16)(e->off - XLANE_WIRE_HDR));
	e->hdr.tx_ns = xl_htobe64(tx_ns);
	e->hdr.crc = 0;
	e->hdr.crc = xl_htobe32(xl_crc32(&e->hdr, sizeof(e->hdr), 0));
	memcpy(e->buf, &e->hdr, sizeof(e->hdr));
	return e->off;
}

/* A parsed packet, fields in host order. */
struct xlane_pkt {
	__u32 node;
	__u32 lane;
	__u64 seq;
	__u64 tx_ns;
	__u32 nchunks;
	__u16 flags;
};

struct xlane_chunk {
	const unsigned char *data;
	__u32 len;
	__u8 service;
	__u16 port;
};

struct xlane_dec {
	const unsigned char *buf;
	__u32 end;
	__u32 off;
	__u32 idx;
	struct xlane_pkt pkt;
};

/*
 * Checks a packet's header. 0, or -EBADMSG: short, wrong magic or version,
 * a length that disagrees with the buffer, or a failed header check.
 */
static inline int xlane_dec_begin(struct xlane_dec *d, const void *buf, __u32 len)
{
	struct xlane_wire_hdr h;
	__u32 crc;

	if (len < XLANE_WIRE_HDR)
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (xl_be16toh(h.magic) != XLANE_WIRE_MAGIC || h.version != XLANE_WIRE_VERSION)
		return -EBADMSG;
	crc = xl_be32toh(h.crc);
	h.crc = 0;
	if (xl_crc32(&h, sizeof(h), 0) != crc)
		return -EBADMSG;
	if (XLANE_WIRE_HDR + (__u32)xl_be16toh(h.len) > len ||
	    h.nchunks > XLANE_WIRE_MAX_CHUNKS)
		return -EBADMSG;
	d->buf = (const unsigned char *)buf;
	d->end = XLANE_WIRE_HDR + xl_be16toh(h.len);
	d->off = XLANE_WIRE_HDR;
	d->idx = 0;
	d->pkt.node = xl_be32toh(h.node);
	d->pkt.lane = xl_be32toh(h.lane);
	d->pkt.seq = xl_be64toh(h.seq);
	d->pkt.tx_ns = xl_be64toh(h.tx_ns);
	d->pkt.nchunks = h.nchunks;
	d->pkt.flags = xl_be16toh(h.flags);
	return 0;
}

/*
 * The next chunk: 1 with *c filled (c->data points into the packet), 0 at
 * the end, -EBADMSG when a chunk runs past the packet, fails its check or
 * has non-zero padding;
 * decoding stops there (later chunks cannot be located safely).
 */
static inline int xlane_dec_next(struct xlane_dec *d, struct xlane_chunk *c)
{
	struct xlane_wire_chunk ch;
	__u32 len, wire, i;
	__be32 bcrc;

	if (d->idx >= d->pkt.nchunks)
		return 0;
	if (d->end - d->off < XLANE_WIRE_CHUNK + 4u)
		return -EBADMSG;
	memcpy(&ch, d->buf + d->off, sizeof(ch));
	len = xl_be16toh(ch.len);
	wire = xlane_chunk_wire_len(len);
	if (wire > d->end - d->off)
		return -EBADMSG;
	memcpy(&bcrc, d->buf + d->off + sizeof(ch) + ((len + 3u) & ~3u), 4);
	if (xl_crc32(d->buf + d->off, wire - 4u,
		     xlane_chunk_seed(d->pkt.seq, d->idx)) != (__u32)xl_be32toh(bcrc))
		return -EBADMSG;
	/* The check covers the padding too; zero padding is also required. */
	for (i = len; i < ((len + 3u) & ~3u); i++)
		if (d->buf[d->off + sizeof(ch) + i])
			return -EBADMSG;
	c->data = d->buf + d->off + sizeof(ch);
	c->len = len;
	c->service = ch.service;
	c->port = xl_be16toh(ch.port);
	d->off += wire;
	d->idx++;
	return 1;
}

#endif /* XLANE_CODEC_H */
