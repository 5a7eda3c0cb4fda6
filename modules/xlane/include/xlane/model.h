/* SPDX-License-Identifier: GPL-2.0 */
/*
 * X-Lane admission and grant model.
 *
 * A lane is a promise: one packet of at most `loadsize` chunk bytes every
 * `period` µs, delivered within [min_latency, min_latency + max_jitter].
 * The model derives both numbers from a description of the path
 * (struct xlane_path), whose constants are calibrated on the machine
 * (`make bench-xlane` prints the measured values to feed back), and refuses
 * a set of lanes it cannot keep its promises for.
 *
 * Path: the engine core sends (tx_ns per packet, not preemptible by other
 * lanes once started), the packet crosses `links` store-and-forward links
 * of link_bps each (hop_ns latency and hop_jitter_ns jitter per link),
 * strict-priority queues give lane packets precedence over best-effort
 * traffic but cannot preempt a best-effort frame already on the wire (up
 * to `mtu` bytes), and the receiver timestamps after rx_ns.
 *
 * For lane i of priority p_i (0 is the highest):
 *   frame_i      = Ethernet/IPv4/UDP/X-Lane headers + loadsize_i + 24
 *                  (preamble, inter-frame gap, FCS)
 *   min_latency  = tx_ns + links * (hop_ns + ser(frame_i)) + rx_ns
 *   max_jitter   = E_i + links * (hop_jitter_ns + ser(mtu) + Q_i)
 *   E_i          = tx_ns * #(lanes j != i with p_j <= p_i)
 *                  + tx_ns if any lane has p_j > p_i (one lower-priority
 *                  packet the engine may have started)
 *   Q_i          = sum of ser(frame_j) over lanes j != i with p_j <= p_i
 *                  (in the worst case they are all queued ahead)
 * Admission holds when, over all lanes,
 *   sum(frame_j * 8 / period_j) <= link_bps * share_pct / 100
 *   sum(tx_ns / period_j)       <= engine_pct / 100
 *   max_jitter_i < period_i  for every i (a late packet must not run into
 *                                          its lane's next one)
 * Adding a lane can widen the jitter of the others; the caller compares
 * old and new grants and tells the owners (bandwidthChanged, reason TE).
 */
#ifndef XLANE_MODEL_H
#define XLANE_MODEL_H

#include "compat.h"

#define XLANE_FRAME_OVERHEAD	(14u + 20u + 8u + 40u + 24u)
#define XLANE_PRIO_LEVELS	4u
#define XLANE_MIN_PERIOD_US	10u
#define XLANE_MAX_PERIOD_US	10000000u
#define XLANE_MAX_LOADSIZE	(1472u - 40u)

struct xlane_path {
	__u64 link_bps;
	__u32 share_pct;
	__u32 links;
	__u32 hop_ns;
	__u32 hop_jitter_ns;
	__u32 tx_ns;
	__u32 rx_ns;
	__u32 engine_pct;
	__u32 mtu;
};

struct xlane_demand {
	__u32 loadsize;		/* chunk bytes per period */
	__u32 period_us;
	__u32 prio;		/* 0 (highest) .. XLANE_PRIO_LEVELS - 1 */
};

struct xlane_grant {
	__u32 loadsize;
	__u32 period_us;
	__s64 min_latency_ns;
	__s64 max_jitter_ns;
};

/* Why a set of lanes was refused. */
enum xlane_refusal {
	XLANE_FITS = 0,
	XLANE_BAD_REQUEST,	/* a demand out of range */
	XLANE_NO_BANDWIDTH,	/* the links' X-Lane share is exceeded */
	XLANE_NO_ENGINE,	/* the engine core's share is exceeded */
	XLANE_NO_JITTER,	/* some lane's jitter bound reaches its period */
};

static inline __u64 xlane_frame_bytes(__u32 loadsize)
{
	return XLANE_FRAME_OVERHEAD + loadsize;
}

/* Serialisation time of `bytes` on one link, rounded up. */
static inline __u64 xlane_ser_ns(const struct xlane_path *p, __u64 bytes)
{
	return xl_div64(bytes * 8u * 1000000000ull + p->link_bps - 1, p->link_bps);
}

static inline int xlane_path_valid(const struct xlane_path *p)
{
	return p->link_bps >= 1000000ull && p->share_pct >= 1 && p->share_pct <= 100 &&
	       p->engine_pct >= 1 && p->engine_pct <= 100 && p->links >= 1 &&
	       p->links <= 16 && p->mtu >= 64 && p->mtu <= 65536;
}

static inline int xlane_demand_valid(const struct xlane_demand *d)
{
	return d->loadsize >= 1 && d->loadsize <= XLANE_MAX_LOADSIZE &&
	       d->period_us >= XLANE_MIN_PERIOD_US && d->period_us <= XLANE_MAX_PERIOD_US &&
	       d->prio < XLANE_PRIO_LEVELS;
}

/*
 * Grants for the n lanes in d[] on path p, into g[] (n entries), and
 * whether the set fits (enum xlane_refusal). g[] is filled even when the
 * set does not fit, so callers can say by how much.
 */
static inline int xlane_model_grants(const struct xlane_path *p,
				     const struct xlane_demand *d, __u32 n,
				     struct xlane_grant *g)
{
	__u64 bw_ppm = 0, eng_ppm = 0, bw_cap_ppm, eng_cap_ppm;
	int verdict = XLANE_FITS;
	__u32 i, j;

	if (!xlane_path_valid(p))
		return XLANE_BAD_REQUEST;
	for (i = 0; i < n; i++) {
		if (!xlane_demand_valid(&d[i]))
			return XLANE_BAD_REQUEST;
		/* bits per second * 1e6 / link_bps, summed as parts per million */
		bw_ppm += xl_div64(xlane_frame_bytes(d[i].loadsize) * 8u * 1000000ull *
				   1000000ull, (__u64)d[i].period_us * p->link_bps);
		eng_ppm += xl_div64((__u64)p->tx_ns * 1000000ull,
				    (__u64)d[i].period_us * 1000u);
	}
	bw_cap_ppm = (__u64)p->share_pct * 10000u;
	eng_cap_ppm = (__u64)p->engine_pct * 10000u;
	if (bw_ppm > bw_cap_ppm)
		verdict = XLANE_NO_BANDWIDTH;
	else if (eng_ppm > eng_cap_ppm)
		verdict = XLANE_NO_ENGINE;

	for (i = 0; i < n; i++) {
		__u64 frame = xlane_frame_bytes(d[i].loadsize);
		__u64 eng = 0, queue = 0;
		int lower = 0;

		for (j = 0; j < n; j++) {
			if (j == i)
				continue;
			if (d[j].prio <= d[i].prio) {
				eng += p->tx_ns;
				queue += xlane_ser_ns(p, xlane_frame_bytes(d[j].loadsize));
			} else {
				lower = 1;
			}
		}
		if (lower)
			eng += p->tx_ns;
		g[i].loadsize = d[i].loadsize;
		g[i].period_us = d[i].period_us;
		g[i].min_latency_ns = (__s64)((__u64)p->tx_ns + p->rx_ns +
					      (__u64)p->links *
					      (p->hop_ns + xlane_ser_ns(p, frame)));
		g[i].max_jitter_ns = (__s64)(eng + (__u64)p->links *
					     (p->hop_jitter_ns + xlane_ser_ns(p, p->mtu) + queue));
		if (verdict == XLANE_FITS &&
		    (__u64)g[i].max_jitter_ns >= (__u64)d[i].period_us * 1000u)
			verdict = XLANE_NO_JITTER;
	}
	return verdict;
}

#endif /* XLANE_MODEL_H */
