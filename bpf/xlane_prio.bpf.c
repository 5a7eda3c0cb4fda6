// SPDX-License-Identifier: GPL-2.0
/*
 * xlane_prio: the classifier of the strict-priority "switches" of the X-Lane
 * test topology (paper 000, section 4.2: the controller dedicates the highest
 * priority queue of every switch port to X-Lane).
 *
 * A cls_bpf filter in direct-action mode on a `prio` qdisc: lane packets go
 * to band 0, everything else to band 1. A lane packet is an IPv4 or IPv6
 * UDP packet (first fragment) to the lane port (7400 unless configured), or
 * any IPv4/IPv6 packet whose DSCP is EF (tos/tclass 0xb8) unless that is
 * turned off. The band is returned through skb->tc_classid (class minor =
 * band + 1), which prio_classify() takes as the class, with TC_ACT_OK.
 *
 * Configuration: the array map "xlane_prio_cfg" (see xlane_prio.h); zero
 * fields take the defaults. scripts/xlane-topo.sh loads one instance,
 * pins it and attaches it to every port (`tc filter ... bpf object-pinned`),
 * so one map update configures the whole topology.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlane_prio.h"

/* vmlinux.h has the types, not the uapi macros. */
#define XP_ETH_HLEN	14
#define XP_ETH_P_IP	0x0800
#define XP_ETH_P_IPV6	0x86DD
#define XP_IPPROTO_UDP	17
#define XP_IP_OFFSET	0x1FFF
#define XP_TC_ACT_OK	0

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlane_prio_cfg);
} xlane_prio_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLANE_PRIO_NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} xlane_prio_stats SEC(".maps");

static __always_inline int classify(struct __sk_buff *skb, __u32 stat, __u32 band)
{
	__u64 *count = bpf_map_lookup_elem(&xlane_prio_stats, &stat);

	/* Per-CPU value: plain increment. */
	if (count)
		(*count)++;
	skb->tc_classid = band + 1;
	return XP_TC_ACT_OK;
}

/* Reads the UDP destination port at offset @l4; 0 if there is none. */
static __always_inline __u16 udp_dport(struct __sk_buff *skb, __u32 l4)
{
	__be16 dport;

	if (bpf_skb_load_bytes(skb, l4 + 2, &dport, sizeof(dport)))
		return 0;
	return bpf_ntohs(dport);
}

SEC("tc")
int xlane_prio(struct __sk_buff *skb)
{
	struct xlane_prio_cfg *cfg;
	__u32 key = 0;
	__u16 port = XLANE_PRIO_DEFAULT_PORT, dport = 0;
	__u8 dscp = XLANE_PRIO_DEFAULT_DSCP, flags = 0, tos = 0;

	cfg = bpf_map_lookup_elem(&xlane_prio_cfg, &key);
	if (cfg) {
		if (cfg->port)
			port = cfg->port;
		if (cfg->dscp)
			dscp = cfg->dscp;
		flags = cfg->flags;
	}

	if (skb->protocol == bpf_htons(XP_ETH_P_IP)) {
		struct iphdr ip;
		__u32 ihl;

		if (bpf_skb_load_bytes(skb, XP_ETH_HLEN, &ip, sizeof(ip)))
			goto other;
		tos = ip.tos;
		ihl = (*(__u8 *)&ip & 0x0f) * 4;
		if (ihl >= sizeof(ip) && ip.protocol == XP_IPPROTO_UDP &&
		    !(ip.frag_off & bpf_htons(XP_IP_OFFSET)))
			dport = udp_dport(skb, XP_ETH_HLEN + ihl);
	} else if (skb->protocol == bpf_htons(XP_ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		__u8 *b = (__u8 *)&ip6;

		if (bpf_skb_load_bytes(skb, XP_ETH_HLEN, &ip6, sizeof(ip6)))
			goto other;
		/* Traffic class: low nibble of byte 0, high nibble of byte 1. */
		tos = (__u8)((b[0] & 0x0f) << 4 | b[1] >> 4);
		/* No extension headers: lane traffic never carries them. */
		if (ip6.nexthdr == XP_IPPROTO_UDP)
			dport = udp_dport(skb, XP_ETH_HLEN + sizeof(ip6));
	} else {
		goto other;
	}

	if (dport == port)
		return classify(skb, XLANE_PRIO_ST_PORT, XLANE_PRIO_BAND_LANE);
	if (!(flags & XLANE_PRIO_F_NO_DSCP) && (tos >> 2) == dscp)
		return classify(skb, XLANE_PRIO_ST_DSCP, XLANE_PRIO_BAND_LANE);
other:
	return classify(skb, XLANE_PRIO_ST_OTHER, XLANE_PRIO_BAND_OTHER);
}

char LICENSE[] SEC("license") = "GPL";
