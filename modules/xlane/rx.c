// SPDX-License-Identifier: GPL-2.0
/*
 * xlane receive path: bpf_xlane_rx(), a kfunc for XDP programs.
 *
 * The XDP program (bpf/xlane_rx.bpf.c) takes the timestamp first thing,
 * recognises lane traffic by its UDP port and calls this with the frame.
 * Here the frame is parsed again (the program's checks are not trusted),
 * the packet and every chunk are checked, data chunks go to the X-R ring
 * of the listener of their port, X-FD heartbeats to the alive table. A
 * packet to the lane port is consumed (XDP_DROP) whatever its fate, and
 * counted: a bad check in rx_bad, a packet claiming our own address or
 * node, or a chunk for a port nobody listens on, in rx_foreign. Packets
 * of a namespace without an attached instance, or not for the lane port,
 * are passed on untouched.
 *
 * Context: XDP runs in softirq (or NAPI) context under rcu_read_lock();
 * listener rings take a per-listener spinlock, as receive paths of
 * several CPUs may deliver to one listener.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/netns/generic.h>
#include <net/ip.h>
#include <net/xdp.h>

#include "xlane.h"

static void xl_deliver(struct xl_net *xn, const struct xlane_pkt *pkt, __be32 saddr,
		       const struct xlane_chunk *c, u64 rx_ns)
{
	struct xl_listener *li = NULL, *cur;
	struct xlane_rx_msg *m;
	unsigned int i;

	for (i = 0; i < XL_LISTEN_PORTS; i++) {
		cur = rcu_dereference(xn->listeners[i]);
		if (cur && cur->port == c->port) {
			li = cur;
			break;
		}
	}
	if (!li || c->len > li->max_len) {
		atomic64_inc(&xn->rx_foreign);
		return;
	}
	spin_lock(&li->lock);
	m = xlane_prod_reserve(&li->prod, sizeof(*m) + c->len);
	if (m) {
		m->tx_ns = pkt->tx_ns;
		m->rx_ns = rx_ns;
		m->seq = pkt->seq;
		m->node = pkt->node;
		m->src_ip = saddr;
		m->lane = pkt->lane;
		m->port = c->port;
		m->len = c->len;
		memcpy(m + 1, c->data, c->len);
		xlane_prod_commit(&li->prod, sizeof(*m) + c->len, XLANE_MSG_DATA);
	}
	spin_unlock(&li->lock);
	if (!m)
		atomic64_inc(&xn->rx_ring_full);
}

__bpf_kfunc_start_defs();

/**
 * bpf_xlane_rx() - hand a lane packet to X-Lane.
 * @xdp_ctx: the XDP context of the frame
 * @rx_ns: the program's timestamp (bpf_ktime_get_ns()), taken before it
 *         parsed anything: the optimistic timestamp of the paper (§4.3.3)
 *
 * Return: XDP_DROP when the frame was lane traffic of this namespace
 * (delivered, or refused and counted), XDP_PASS otherwise.
 */
__bpf_kfunc int bpf_xlane_rx(struct xdp_md *xdp_ctx, u64 rx_ns)
{
	struct xdp_buff *xdp = (struct xdp_buff *)xdp_ctx;
	struct net_device *dev = xdp->rxq->dev;
	struct xl_net *xn = xl_net_of(dev_net(dev));
	void *data = xdp->data, *end = xdp->data_end;
	unsigned int off = ETH_HLEN, ulen;
	const struct ethhdr *eth = data;
	const struct iphdr *iph;
	const struct udphdr *uh;
	struct xlane_chunk c;
	struct xlane_dec d;
	__be16 proto;
	int r;

	if (!READ_ONCE(xn->attached) || dev->ifindex != READ_ONCE(xn->ifindex))
		return XDP_PASS;
	if (data + ETH_HLEN > end)
		return XDP_PASS;
	proto = eth->h_proto;
	if (proto == htons(ETH_P_8021Q)) {
		if (data + off + VLAN_HLEN > end)
			return XDP_PASS;
		proto = ((const struct vlan_hdr *)(data + off))->h_vlan_encapsulated_proto;
		off += VLAN_HLEN;
	}
	if (proto != htons(ETH_P_IP) || data + off + sizeof(*iph) > end)
		return XDP_PASS;
	iph = data + off;
	if (iph->version != 4 || iph->ihl < 5 || iph->protocol != IPPROTO_UDP ||
	    ip_is_fragment(iph) || data + off + iph->ihl * 4 + sizeof(*uh) > end)
		return XDP_PASS;
	off += iph->ihl * 4;
	uh = data + off;
	if (uh->dest != htons(READ_ONCE(xn->port)))
		return XDP_PASS;
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || data + off + ulen > end) {
		atomic64_inc(&xn->rx_bad);
		return XDP_DROP;
	}
	if (iph->saddr == READ_ONCE(xn->src_ip)) {
		atomic64_inc(&xn->rx_foreign);
		return XDP_DROP;
	}
	if (xlane_dec_begin(&d, data + off + sizeof(*uh), ulen - sizeof(*uh))) {
		atomic64_inc(&xn->rx_bad);
		return XDP_DROP;
	}
	if (d.pkt.node == READ_ONCE(xn->node_id)) {
		atomic64_inc(&xn->rx_foreign);
		return XDP_DROP;
	}
	atomic64_inc(&xn->rx_packets);
	while ((r = xlane_dec_next(&d, &c)) > 0) {
		atomic64_inc(&xn->rx_chunks);
		if (c.service == XLANE_SVC_DATA)
			xl_deliver(xn, &d.pkt, iph->saddr, &c, rx_ns);
		else if (c.service == XLANE_SVC_FD)
			xl_fd_rx(xn, &d.pkt, iph->saddr, c.data, c.len, rx_ns);
		else
			atomic64_inc(&xn->rx_foreign);
	}
	if (r < 0)
		atomic64_inc(&xn->rx_bad);
	return XDP_DROP;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(xl_kfunc_ids)
BTF_ID_FLAGS(func, bpf_xlane_rx)
BTF_KFUNCS_END(xl_kfunc_ids)

static const struct btf_kfunc_id_set xl_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &xl_kfunc_ids,
};

int xl_rx_register(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &xl_kfunc_set);
}
