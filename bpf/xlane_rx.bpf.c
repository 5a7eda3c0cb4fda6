// SPDX-License-Identifier: GPL-2.0
/*
 * xlane_rx: the receive side of X-Lane (paper 000, §4.3), the earliest point
 * a lane packet can be seen. The program takes the optimistic receive
 * timestamp before it looks at the packet, classifies IPv4/UDP traffic to the
 * namespace's lane port and hands those packets, with the timestamp, to the
 * xlane module (kfunc bpf_xlane_rx(), which decodes, delivers to the X-R
 * bridges and returns the XDP verdict). Everything else, including IPv4
 * fragments, VLAN stacks deeper than one tag and IPv6, passes on unchanged.
 *
 * lane_port (host order) is read-only data set by xlanectl before loading.
 * Loading needs the module: the kfunc is resolved against its BTF, and the
 * loaded program holds a reference on the module until it is detached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlane_rx.h"

/* vmlinux.h carries types, not the uapi macros. */
#define XLANE_ETH_P_IP		0x0800
#define XLANE_ETH_P_8021Q	0x8100
#define XLANE_IPPROTO_UDP	17
#define XLANE_IP_MF		0x2000
#define XLANE_IP_OFFSET		0x1FFF

struct xlane_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* UDP destination port of lane traffic, host order (set before load). */
const volatile __u16 lane_port = 7400;

extern int bpf_xlane_rx(struct xdp_md *ctx, __u64 rx_ns) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlane_rx_counters);
} xlane_rx_stats SEC(".maps");

/* The UDP header of an unfragmented IPv4 packet at @l3, or NULL. */
static __always_inline struct udphdr *ipv4_udp(void *l3, void *data_end)
{
	struct iphdr *ip = l3;
	__u32 ihl;

	if ((void *)(ip + 1) > data_end)
		return NULL;
	/* First byte: version (high nibble), header length in words (low). */
	if ((*(__u8 *)ip >> 4) != 4)
		return NULL;
	ihl = (*(__u8 *)ip & 0x0f) * 4;
	if (ihl < sizeof(*ip))
		return NULL;
	if (ip->protocol != XLANE_IPPROTO_UDP)
		return NULL;
	/* Lane packets are never fragmented; leave fragments to the stack. */
	if (ip->frag_off & bpf_htons(XLANE_IP_MF | XLANE_IP_OFFSET))
		return NULL;
	if (l3 + ihl + sizeof(struct udphdr) > data_end)
		return NULL;
	return l3 + ihl;
}

SEC("xdp")
int xlane_rx(struct xdp_md *ctx)
{
	__u64 rx_ns = bpf_ktime_get_ns();
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlane_rx_counters *stats;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u32 key = 0;
	__u16 proto;
	void *l3;

	stats = bpf_map_lookup_elem(&xlane_rx_stats, &key);
	if (stats)
		stats->seen++;	/* per-CPU value: plain increments suffice */

	if ((void *)(eth + 1) > data_end)
		goto pass;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(XLANE_ETH_P_8021Q)) {
		struct xlane_vlan_hdr *vlan = l3;

		if ((void *)(vlan + 1) > data_end)
			goto pass;
		proto = vlan->encapsulated_proto;
		l3 = vlan + 1;
	}
	if (proto != bpf_htons(XLANE_ETH_P_IP))
		goto pass;
	udp = ipv4_udp(l3, data_end);
	if (!udp || udp->dest != bpf_htons(lane_port))
		goto pass;

	if (stats)
		stats->lane++;
	return bpf_xlane_rx(ctx, rx_ns);

pass:
	if (stats)
		stats->passed++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
