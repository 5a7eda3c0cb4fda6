// SPDX-License-Identifier: GPL-2.0
/*
 * canary_xdp: the smallest useful XDP program, used as a canary that the
 * BPF toolchain (clang, libbpf, bpftool skeletons, CO-RE against the kernel's
 * BTF) and the kernel's XDP path work. It counts every packet and the IPv4 or
 * IPv6 UDP packets among them, and always passes the packet on.
 *
 * Loaded, attached and read by userspace/tools/canaryctl.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "canary_xdp.h"

/* vmlinux.h carries types, not the uapi macros. */
#define CANARY_ETH_P_IP		0x0800
#define CANARY_ETH_P_IPV6	0x86DD
#define CANARY_ETH_P_8021Q	0x8100
#define CANARY_ETH_P_8021AD	0x88A8
#define CANARY_IP_MF		0x2000
#define CANARY_IP_OFFSET	0x1FFF
#define CANARY_NEXTHDR_HOP	0
#define CANARY_NEXTHDR_UDP	17
#define CANARY_NEXTHDR_ROUTING	43
#define CANARY_NEXTHDR_FRAGMENT	44
#define CANARY_NEXTHDR_DEST	60
#define CANARY_MAX_VLAN		2
#define CANARY_MAX_EXTHDR	4

struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;	/* in 8-byte units, not counting the first 8 bytes */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct canary_stats);
} canary_stats SEC(".maps");

/* True if a complete UDP header starts at @l4. */
static __always_inline bool udp_header_fits(void *l4, void *data_end)
{
	return l4 + sizeof(struct udphdr) <= data_end;
}

static __always_inline bool ipv4_is_udp(void *l3, void *data_end)
{
	struct iphdr *ip = l3;
	__u32 ihl;

	if ((void *)(ip + 1) > data_end)
		return false;
	/* First byte: version (high nibble), header length in words (low). */
	ihl = (*(__u8 *)ip & 0x0f) * 4;
	if (ihl < sizeof(*ip))
		return false;
	if (ip->protocol != CANARY_NEXTHDR_UDP)
		return false;
	/* Only the first fragment carries the UDP header. */
	if (ip->frag_off & bpf_htons(CANARY_IP_OFFSET))
		return false;
	return udp_header_fits(l3 + ihl, data_end);
}

static __always_inline bool ipv6_is_udp(void *l3, void *data_end)
{
	struct ipv6hdr *ip6 = l3;
	void *cursor;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return false;
	next = ip6->nexthdr;
	cursor = ip6 + 1;

#pragma unroll
	for (i = 0; i < CANARY_MAX_EXTHDR; i++) {
		struct ipv6_ext *ext = cursor;

		if (next == CANARY_NEXTHDR_UDP)
			break;
		if (next != CANARY_NEXTHDR_HOP && next != CANARY_NEXTHDR_ROUTING &&
		    next != CANARY_NEXTHDR_DEST && next != CANARY_NEXTHDR_FRAGMENT)
			return false;
		if ((void *)(ext + 1) > data_end)
			return false;
		if (next == CANARY_NEXTHDR_FRAGMENT) {
			/* Fixed 8 bytes; only offset 0 carries the UDP header. */
			__be16 *frag_off = cursor + 2;

			if ((void *)(frag_off + 1) > data_end)
				return false;
			if (*frag_off & bpf_htons(0xFFF8))
				return false;
			next = ext->nexthdr;
			cursor += 8;
		} else {
			next = ext->nexthdr;
			cursor += ((__u32)ext->hdrlen + 1) * 8;
		}
	}
	if (next != CANARY_NEXTHDR_UDP)
		return false;
	return udp_header_fits(cursor, data_end);
}

SEC("xdp")
int canary_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct canary_stats *stats;
	void *l3;
	__u16 proto;
	__u32 key = 0;
	int i;

	stats = bpf_map_lookup_elem(&canary_stats, &key);
	if (!stats)
		return XDP_PASS;

	/* Per-CPU value: no other CPU writes it, plain increments suffice. */
	stats->packets++;
	stats->bytes += data_end - data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
	l3 = eth + 1;

#pragma unroll
	for (i = 0; i < CANARY_MAX_VLAN; i++) {
		struct vlan_tag *vlan = l3;

		if (proto != bpf_htons(CANARY_ETH_P_8021Q) &&
		    proto != bpf_htons(CANARY_ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		proto = vlan->encapsulated_proto;
		l3 = vlan + 1;
	}

	if ((proto == bpf_htons(CANARY_ETH_P_IP) && ipv4_is_udp(l3, data_end)) ||
	    (proto == bpf_htons(CANARY_ETH_P_IPV6) && ipv6_is_udp(l3, data_end)))
		stats->udp_packets++;

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
