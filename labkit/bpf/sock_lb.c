// SPDX-License-Identifier: GPL-2.0
/*
 * kubenet-lab: a socket-level load balancer for ClusterIP Services (`labkit up --service-proxy ebpf`).
 *
 * What Cilium's kube-proxy replacement does at the socket layer, reduced to what the lab needs.
 * Read alongside cilium/cilium bpf/bpf_sock.c: sock4_connect -> __sock4_xlate_fwd (service lookup
 * in the services map by (ClusterIP, port), backend slot chosen at random for TCP and by socket
 * cookie for UDP, backend looked up by id, destination rewritten before the kernel routes
 * anything), sock4_sendmsg (the same for unconnected UDP), sock4_recvmsg / sock4_getpeername
 * (__sock4_xlate_rev: the reverse map keyed by socket cookie + backend gives the ClusterIP back,
 * so a DNS resolver sees its answer come from 10.96.0.10). The map layout follows Cilium's
 * lb4_key / lb4_service / lb4_backend (lib/common.h): slot 0 of a service is its "master" entry
 * holding the backend count, slots 1..count name one backend id each.
 *
 * Where the lab departs from Cilium:
 * - Every node of the lab shares one kernel, so the programs cannot simply act on the root cgroup
 *   as Cilium does on a real node: each node's programs act only on sockets whose network
 *   namespace is one of that node's (its own and its pods'), listed by netns cookie in
 *   `lab_netns` (Cilium uses the netns cookie too, for its host-namespace-only mode).
 * - IPv4, TCP and UDP only; no session affinity, no Maglev, no NodePort / ExternalIP / HostPort
 *   wildcard lookups (the lab leaves NodePort to nftables), no health-check sockets, no metrics.
 * - The protocol is part of the key (Cilium's older maps kept it 0), so a UDP and a TCP port of
 *   the same number are two services, as in the API.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#define SYS_PROCEED 1

struct lb4_key {
	__u32 address;      /* ClusterIP, network byte order */
	__u16 dport;        /* service port, network byte order */
	__u16 backend_slot; /* 0: the service's master entry; 1..count: one backend each */
	__u8 proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};

struct lb4_service {
	__u32 backend_id;    /* in a backend slot: the backend's id in lb4_backends */
	__u16 count;         /* in the master slot: how many backend slots follow */
	__u16 rev_nat_index; /* the service's id in lb4_reverse_nat */
};

struct lb4_backend {
	__u32 address; /* pod IP, network byte order */
	__u16 port;    /* target port, network byte order */
	__u8 proto;
	__u8 pad;
};

struct lb4_reverse_nat {
	__u32 address;
	__u16 port;
	__u16 pad;
};

struct ipv4_revnat_tuple {
	__u64 cookie;  /* the socket's cookie */
	__u32 address; /* backend */
	__u16 port;
	__u16 pad;
};

struct ipv4_revnat_entry {
	__u32 address; /* ClusterIP */
	__u16 port;
	__u16 rev_nat_index;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lb4_key);
	__type(value, struct lb4_service);
} lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct lb4_backend);
} lb4_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u16);
	__type(value, struct lb4_reverse_nat);
} lb4_reverse_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ipv4_revnat_tuple);
	__type(value, struct ipv4_revnat_entry);
} lb4_reverse_sk SEC(".maps");

/* The network namespaces (by cookie) of this node and of its pods: the only sockets translated. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} lab_netns SEC(".maps");

static __always_inline int in_this_node(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_netns_cookie(ctx);

	return bpf_map_lookup_elem(&lab_netns, &cookie) != 0;
}

static __always_inline int xlate_fwd(struct bpf_sock_addr *ctx, int udp_only)
{
	__u32 proto = ctx->protocol;
	struct lb4_key key = {};
	struct lb4_service *svc, *slot;
	struct lb4_backend *backend;
	__u32 backend_id;
	__u64 pick;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	if (udp_only && proto != IPPROTO_UDP)
		return 0;
	if (!in_this_node(ctx))
		return 0;
	key.address = ctx->user_ip4;
	key.dport = (__u16)ctx->user_port;
	key.proto = (__u8)proto;
	svc = bpf_map_lookup_elem(&lb4_services, &key);
	if (!svc || svc->count == 0)
		return 0; /* not a ClusterIP, or no endpoint: the connection goes on untouched */
	/* Cilium's sock_select_slot(): random for TCP, the socket cookie for UDP (a UDP socket keeps
	 * its backend, so its replies can be translated back). */
	pick = proto == IPPROTO_TCP ? bpf_get_prandom_u32() : bpf_get_socket_cookie(ctx);
	key.backend_slot = (__u16)(pick % svc->count) + 1;
	slot = bpf_map_lookup_elem(&lb4_services, &key);
	if (!slot)
		return 0;
	backend_id = slot->backend_id;
	backend = bpf_map_lookup_elem(&lb4_backends, &backend_id);
	if (!backend)
		return 0;
	if (proto == IPPROTO_UDP) {
		struct ipv4_revnat_tuple rkey = {};
		struct ipv4_revnat_entry rval = {};

		rkey.cookie = bpf_get_socket_cookie(ctx);
		rkey.address = backend->address;
		rkey.port = backend->port;
		rval.address = key.address;
		rval.port = key.dport;
		rval.rev_nat_index = svc->rev_nat_index;
		bpf_map_update_elem(&lb4_reverse_sk, &rkey, &rval, BPF_ANY);
	}
	ctx->user_ip4 = backend->address;
	ctx->user_port = (__u32)backend->port;
	return 0;
}

static __always_inline int xlate_rev(struct bpf_sock_addr *ctx)
{
	struct ipv4_revnat_tuple rkey = {};
	struct ipv4_revnat_entry *rval;

	if (!in_this_node(ctx))
		return 0;
	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.address = ctx->user_ip4;
	rkey.port = (__u16)ctx->user_port;
	rval = bpf_map_lookup_elem(&lb4_reverse_sk, &rkey);
	if (!rval)
		return 0;
	ctx->user_ip4 = rval->address;
	ctx->user_port = (__u32)rval->port;
	return 0;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	xlate_fwd(ctx, 0);
	return SYS_PROCEED;
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	xlate_fwd(ctx, 1);
	return SYS_PROCEED;
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	xlate_rev(ctx);
	return SYS_PROCEED;
}

char _license[] SEC("license") = "GPL";
