/* SPDX-License-Identifier: GPL-2.0 */
/*
 * X-Lane bridges: single-producer/single-consumer rings in memory shared
 * between the module and a process (mmap of /dev/xlane).
 *
 * Layout: a struct xlane_ring header (XLANE_RING_HDR bytes), then `slots`
 * slots of `slot_size` bytes; each slot starts with a struct xlane_slot.
 * head (written by the producer) and tail (written by the consumer) are
 * free-running 64-bit counts on their own cache lines; slot i lives at
 * index i & (slots - 1).
 *
 * Ordering: the producer fills a slot, then publishes it with a release
 * store of head; the consumer reads head with an acquire load before it
 * reads the slot, and hands the slot back with a release store of tail
 * after it has finished reading it; the producer reads tail with an
 * acquire load before it reuses a slot.
 *
 * Trust: either side may be a buggy or hostile process. Each side keeps
 * its own index and its copy of the geometry in private memory
 * (struct xlane_prod / struct xlane_cons) and never re-reads them from the
 * shared header; what it reads from the other side (tail or head, a slot's
 * length) is checked before use. A consumer that stops reading only makes
 * the ring full: the producer drops and counts, it never waits.
 */
#ifndef XLANE_RING_H
#define XLANE_RING_H

#include "compat.h"

#define XLANE_RING_MAGIC	0x58524e47u	/* "XRNG" */
#define XLANE_RING_HDR		192u
#define XLANE_RING_MAX_SLOTS	0x100000u

struct xlane_ring {
	__u32 magic;
	__u32 slots;		/* a power of two */
	__u32 slot_size;	/* bytes per slot, header included, multiple of 8 */
	__u32 flags;
	__u64 dropped;		/* producer: messages dropped, ring full */
	__u64 bad;		/* consumer: inconsistent indexes or lengths seen */
	__u64 rsvd[4];
	__u64 head;		/* producer: messages published */
	__u64 pad_head[7];
	__u64 tail;		/* consumer: messages consumed */
	__u64 pad_tail[7];
};

struct xlane_slot {
	__u32 len;		/* payload bytes after this header */
	__u32 type;		/* meaning depends on the ring */
};

#define XLANE_SLOT_HDR		((__u32)sizeof(struct xlane_slot))

/* Bytes a ring of `slots` slots of `slot_size` bytes occupies. */
static inline size_t xlane_ring_bytes(__u32 slots, __u32 slot_size)
{
	return XLANE_RING_HDR + (size_t)slots * slot_size;
}

/* Slot size for payloads of up to `max_len` bytes. */
static inline __u32 xlane_ring_slot_size(__u32 max_len)
{
	return (XLANE_SLOT_HDR + max_len + 7u) & ~7u;
}

/* Initialises the shared header. -EINVAL on a bad geometry. */
static inline int xlane_ring_init(struct xlane_ring *r, __u32 slots, __u32 slot_size)
{
	if (!slots || (slots & (slots - 1)) || slots > XLANE_RING_MAX_SLOTS ||
	    slot_size < XLANE_SLOT_HDR || (slot_size & 7))
		return -EINVAL;
	memset(r, 0, XLANE_RING_HDR);
	r->slots = slots;
	r->slot_size = slot_size;
	r->magic = XLANE_RING_MAGIC;
	return 0;
}

static inline struct xlane_slot *xlane_ring_slot(struct xlane_ring *r, __u32 slots,
						 __u32 slot_size, __u64 idx)
{
	return (struct xlane_slot *)((unsigned char *)r + XLANE_RING_HDR +
				     (size_t)(idx & (slots - 1)) * slot_size);
}

/* Producer side: private index and geometry. */
struct xlane_prod {
	struct xlane_ring *r;
	__u64 head;
	__u32 slots;
	__u32 slot_size;
	__u64 dropped;
};

/* Consumer side: private index and geometry. */
struct xlane_cons {
	struct xlane_ring *r;
	__u64 tail;
	__u32 slots;
	__u32 slot_size;
	__u64 bad;
};

/*
 * Attach to a ring whose geometry the caller knows (the module: it made
 * the ring; a process: it read the geometry once, after the module
 * initialised it). Starts at the shared index, so a process may reattach.
 */
static inline void xlane_prod_init(struct xlane_prod *p, struct xlane_ring *r,
				   __u32 slots, __u32 slot_size)
{
	p->r = r;
	p->slots = slots;
	p->slot_size = slot_size;
	p->head = xl_read_once(r->head);
	p->dropped = 0;
}

static inline void xlane_cons_init(struct xlane_cons *c, struct xlane_ring *r,
				   __u32 slots, __u32 slot_size)
{
	c->r = r;
	c->slots = slots;
	c->slot_size = slot_size;
	c->tail = xl_read_once(r->tail);
	c->bad = 0;
}

/* Largest payload a slot of this ring carries. */
static inline __u32 xlane_ring_max_len(__u32 slot_size)
{
	return slot_size - XLANE_SLOT_HDR;
}

/*
 * A slot for a payload of `len` bytes, or NULL when the ring is full (or
 * the consumer's tail is nonsense, which is treated as full) or the payload
 * does not fit a slot. The caller fills the returned payload area, then
 * calls xlane_prod_commit(). NULL counts a drop.
 */
static inline void *xlane_prod_reserve(struct xlane_prod *p, __u32 len)
{
	__u64 tail = xl_load_acquire(&p->r->tail);

	if (len > xlane_ring_max_len(p->slot_size) ||
	    tail > p->head || p->head - tail >= p->slots) {
		p->dropped++;
		xl_write_once(p->r->dropped, p->dropped);
		return NULL;
	}
	return xlane_ring_slot(p->r, p->slots, p->slot_size, p->head) + 1;
}

/* Publishes the slot returned by the last xlane_prod_reserve(). */
static inline void xlane_prod_commit(struct xlane_prod *p, __u32 len, __u32 type)
{
	struct xlane_slot *s = xlane_ring_slot(p->r, p->slots, p->slot_size, p->head);

	s->len = len;
	s->type = type;
	p->head++;
	xl_store_release(&p->r->head, p->head);
}

/* Copies one message in; 0, or -ENOSPC when full, -EMSGSIZE when too long. */
static inline int xlane_prod_push(struct xlane_prod *p, const void *data, __u32 len,
				  __u32 type)
{
	void *dst;

	if (len > xlane_ring_max_len(p->slot_size)) {
		p->dropped++;
		xl_write_once(p->r->dropped, p->dropped);
		return -EMSGSIZE;
	}
	dst = xlane_prod_reserve(p, len);
	if (!dst)
		return -ENOSPC;
	memcpy(dst, data, len);
	xlane_prod_commit(p, len, type);
	return 0;
}

/* Messages published but not yet consumed, as the producer sees it. */
static inline __u64 xlane_prod_used(const struct xlane_prod *p)
{
	__u64 tail = xl_load_acquire(&p->r->tail);

	return tail > p->head ? 0 : p->head - tail;
}

/*
 * The oldest unconsumed message (its payload; *len and *type filled), or
 * NULL when the ring is empty. A head that runs backwards or further than
 * the ring, or a length larger than a slot, is counted in ->bad; a bad
 * length consumes the slot (the message is lost, the ring goes on), a bad
 * head reads as empty.
 */
static inline const void *xlane_cons_peek(struct xlane_cons *c, __u32 *len, __u32 *type)
{
	const struct xlane_slot *s;
	__u64 head;
	__u32 l;

	for (;;) {
		head = xl_load_acquire(&c->r->head);
		if (head == c->tail)
			return NULL;
		if (head < c->tail || head - c->tail > c->slots) {
			c->bad++;
			xl_write_once(c->r->bad, c->bad);
			return NULL;
		}
		s = xlane_ring_slot(c->r, c->slots, c->slot_size, c->tail);
		l = xl_read_once(s->len);
		if (l <= xlane_ring_max_len(c->slot_size))
			break;
		c->bad++;
		xl_write_once(c->r->bad, c->bad);
		c->tail++;
		xl_store_release(&c->r->tail, c->tail);
	}
	*len = l;
	*type = xl_read_once(s->type);
	return s + 1;
}

/* Hands the slot returned by the last xlane_cons_peek() back. */
static inline void xlane_cons_release(struct xlane_cons *c)
{
	c->tail++;
	xl_store_release(&c->r->tail, c->tail);
}

#endif /* XLANE_RING_H */
