"""NetworkPolicies compiled to one nftables table per node (pure: the lab's enforcer applies it).


What each node gets (``table inet labkit-netpol``, replaced by one ``nft -f`` transaction):

* a ``forward`` chain at the filter priority, so it sees packets *after* kube-proxy's DNAT
  (prerouting/output nat): a policy works through a Service, on the real pod IP;
* ``ct state established,related accept`` first: the enforcer is stateful, replies to an allowed
  connection pass, and a connection that was established survives a later policy;
* self traffic (a pod to its own IP, e.g. through its own Service) is accepted;
* ``ingress_isolated`` / ``egress_isolated``: the node's pods that some policy selects for that
  direction; a packet to (from) such a pod is dropped unless its
  ``pod . peer . protocol . port`` is in ``ingress_allow`` (``egress_allow``).

The allow sets are compiled from the engine's resolved policies (``labkit.netpol.resolved``), so
the lab enforces exactly what ``labkit.reachability`` predicts: selector peers become pod
addresses, ipBlocks become address ranges (``except`` cut out), ports become ranges (``endPort``
inclusive, named ports resolved on each destination pod, protocol kept: TCP, UDP, SCTP). nftables
refuses overlapping elements in an interval set, so each pod's allowed (peer range x port range)
rectangles are first made disjoint (``disjoint``): a few elements per pod and rule, not one rule
per policy. Only the pods of the node are keys, so each node's table stays small.

Node traffic is not filtered: the node's own connections to its pods leave by ``output`` (never
``forward``), which is the "node-to-local-pod traffic is allowed" of the API. Pod-to-node traffic
(``input``) is not filtered either, as in kube-network-policies.

Bridge flavors (``bridge``, ``flannel``): pods of a node share ``cni0`` and reach each other at
layer 2, switched by the bridge, as on a real flannel node. The node loads ``br_netfilter`` with
``bridge-nf-call-iptables=1`` (kubeadm's preflight requires it; ``dataplane.build`` sets it in each
node's namespace, where the sysctl is per namespace), so bridged IPv4 packets traverse the inet
hooks and conntrack: the ``forward`` chain above filters same-node pairs too, statefully, and the
replies of a same-node Service connection are un-DNATed on their way across the bridge.

The enforcer that loads these tables into the nodes is ``labkit.embedded.policy``.
"""
from __future__ import annotations

import functools
import heapq
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .engine import Engine
from .model import EGRESS, INGRESS, PROTOCOLS, IPBlock, Namespace, NetworkPolicy, Pod, Port
from .objects import namespace_from_object, pod_from_object
from .parse import parse_policy
from .resolved import ResolvedPolicy, ResolvedRule, resolve
from .selector import LabelSelector


class _Node(Protocol):
    @property
    def name(self) -> str: ...


class _Nodes(Protocol):
    """What ``node_rules`` needs of a lab's spec (``labkit.embedded.topology.LabSpec``)."""

    def node_plans(self) -> Sequence[_Node]: ...


TABLE = "labkit-netpol"
ALL_ADDRESSES = (0, 2 ** 32 - 1)
ALL_PORTS = (0, 65535)
NFT_PROTOCOL = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}

Rect = tuple[int, int, int, int]   # peer address range (lo, hi) x port range (lo, hi), inclusive


# --- pure: rectangles --------------------------------------------------------------------------
def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping, non-adjacent ranges covering the same values."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def disjoint(rects: Iterable[Rect]) -> list[Rect]:
    """The union of ``rects`` as disjoint rectangles (nftables refuses overlapping elements).

    A sweep along the address axis: cut at every rectangle edge; on each slice merge the port
    ranges of the rectangles covering it; join neighbouring slices that have the same ports.
    """
    rects = sorted(set(rects))
    cuts = sorted({r[0] for r in rects} | {r[1] + 1 for r in rects})
    out: list[Rect] = []
    pending: tuple[int, int, list[tuple[int, int]]] | None = None
    active: list[tuple[int, int, int]] = []     # heap of (address hi, port lo, port hi)
    i = 0
    for lo, nxt in zip(cuts, cuts[1:]):
        while i < len(rects) and rects[i][0] <= lo:
            heapq.heappush(active, (rects[i][1], rects[i][2], rects[i][3]))
            i += 1
        while active and active[0][0] < lo:
            heapq.heappop(active)
        hi = nxt - 1
        ports = merge_ranges((plo, phi) for _, plo, phi in active)
        if pending and ports and pending[2] == ports and pending[1] + 1 == lo:
            pending = (pending[0], hi, ports)
            continue
        if pending:
            out.extend((pending[0], pending[1], plo, phi) for plo, phi in pending[2])
        pending = (lo, hi, ports) if ports else None
    if pending:
        out.extend((pending[0], pending[1], plo, phi) for plo, phi in pending[2])
    return out


def ip_block_ranges(block: IPBlock) -> list[tuple[int, int]]:
    """``cidr`` minus its ``except`` blocks as IPv4 address ranges (IPv6 blocks match nothing here)."""
    net = ipaddress.ip_network(block.cidr, strict=False)
    if net.version != 4:
        return []
    ranges = [(int(net.network_address), int(net.broadcast_address))]
    for text in block.excepts:
        cut = ipaddress.ip_network(text, strict=False)
        if cut.version != 4:
            continue
        clo, chi = int(cut.network_address), int(cut.broadcast_address)
        kept = []
        for lo, hi in ranges:
            if chi < lo or clo > hi:
                kept.append((lo, hi))
                continue
            if lo < clo:
                kept.append((lo, clo - 1))
            if chi < hi:
                kept.append((chi + 1, hi))
        ranges = kept
    return ranges


def _ip(pod: Pod) -> int | None:
    return _ipv4(pod.ip) if pod.ip else None


@functools.lru_cache(maxsize=65536)
def _ipv4(text: str) -> int | None:
    addr = ipaddress.ip_address(text)
    return int(addr) if addr.version == 4 else None


def port_ranges(ports: Sequence[Port], dst: Pod | None) -> list[tuple[str, int, int]]:
    """``(protocol, lo, hi)`` a rule's ports allow towards ``dst`` (no ports: everything).

    A named port resolves on the destination pod, for the entry's protocol; with no destination
    pod (an address outside the cluster) or no such port, it allows nothing.
    """
    if not ports:
        return [(proto, *ALL_PORTS) for proto in PROTOCOLS]
    out = []
    for p in ports:
        if p.port is None:
            out.append((p.protocol, *ALL_PORTS))
        elif isinstance(p.port, str):
            number = dst.resolve_port(p.port, p.protocol) if dst is not None else None
            if number is not None:
                out.append((p.protocol, number, number))
        else:
            out.append((p.protocol, p.port, p.end_port if p.end_port is not None else p.port))
    return out


# --- pure: what one node enforces ----------------------------------------------------------
@dataclass
class NodeRules:
    """The content of one node's table: isolated pods and allowed (pod, peer, proto, port) boxes."""

    local: list[str] = field(default_factory=list)
    isolated: dict[str, list[str]] = field(default_factory=lambda: {INGRESS: [], EGRESS: []})
    allow: dict[str, dict[tuple[str, str], list[Rect]]] = field(
        default_factory=lambda: {INGRESS: {}, EGRESS: {}})

    def element_count(self) -> int:
        return sum(len(r) for d in self.allow.values() for r in d.values())


def compile_node(resolved: Sequence[ResolvedPolicy], all_pods: Sequence[Pod], local: Iterable[str]) -> NodeRules:
    """What the node hosting the pods ``local`` (``ns/name`` keys) must enforce."""
    local = set(local)
    rules = NodeRules(local=sorted({str(p.ip) for p in all_pods if p.key in local and _ip(p) is not None},
                                   key=_sort_ip))
    boxes: dict[str, dict[tuple[str, str], list[Rect]]] = {INGRESS: {}, EGRESS: {}}
    isolated: dict[str, set[str]] = {INGRESS: set(), EGRESS: set()}
    addressed = [p for p in all_pods if _ip(p) is not None]
    for rp in resolved:
        for pod in rp.selected:
            if pod.key not in local or _ip(pod) is None:
                continue
            for direction in rp.directions:
                isolated[direction].add(str(pod.ip))
                for rule in rp.rules(direction):
                    add = _ingress_boxes if direction == INGRESS else _egress_boxes
                    for proto, rect in add(rule, pod, addressed):
                        boxes[direction].setdefault((str(pod.ip), proto), []).append(rect)
    for direction in (INGRESS, EGRESS):
        rules.isolated[direction] = sorted(isolated[direction], key=_sort_ip)
        rules.allow[direction] = {key: disjoint(rects) for key, rects in sorted(
            boxes[direction].items(), key=lambda kv: (_sort_ip(kv[0][0]), kv[0][1]))}
    return rules


def _peer_ranges(rule: ResolvedRule) -> list[tuple[int, int]]:
    if rule.all_peers:
        return [ALL_ADDRESSES]
    out = [(ip, ip) for ip in (_ip(p) for p in rule.pods) if ip is not None]
    for block in rule.ip_blocks:
        out.extend(ip_block_ranges(block))
    return out


def _ingress_boxes(rule: ResolvedRule, dst: Pod, _pods: Sequence[Pod]) -> Iterable[tuple[str, Rect]]:
    peers = _peer_ranges(rule)
    for proto, plo, phi in port_ranges(rule.ports, dst):
        for lo, hi in peers:
            yield proto, (lo, hi, plo, phi)


def _egress_boxes(rule: ResolvedRule, _src: Pod, pods: Sequence[Pod]) -> Iterable[tuple[str, Rect]]:
    """Numbered ports hold for every peer address; a named port only towards the peer pods
    that declare it (each with its own number), as the engine resolves it."""
    numbered = [p for p in rule.ports if not isinstance(p.port, str)]
    named = [p for p in rule.ports if isinstance(p.port, str)]
    peers = _peer_ranges(rule)
    if numbered or not rule.ports:
        for proto, plo, phi in port_ranges(numbered, None):
            for lo, hi in peers:
                yield proto, (lo, hi, plo, phi)
    if named:
        for pod in _pods_within(rule, pods, peers):
            ip = _ip(pod)
            if ip is None:
                continue
            for proto, plo, phi in port_ranges(named, pod):
                yield proto, (ip, ip, plo, phi)


def _pods_within(rule: ResolvedRule, pods: Sequence[Pod], peers: list[tuple[int, int]]) -> list[Pod]:
    if rule.all_peers:
        return list(pods)
    ips = [(p, _ip(p)) for p in pods]
    return [p for p, ip in ips if ip is not None and any(lo <= ip <= hi for lo, hi in peers)]


def _sort_ip(ip: str) -> int:
    return int(ipaddress.ip_address(ip))


# --- pure: the nft transaction -------------------------------------------------------------
def _addr(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def _range(lo: int, hi: int, fmt: Callable[[int], str] = str) -> str:
    return fmt(lo) if lo == hi else f"{fmt(lo)}-{fmt(hi)}"


def _elements(allow: dict[tuple[str, str], list[Rect]]) -> list[str]:
    return [f"{ip} . {_range(r[0], r[1], _addr)} . {NFT_PROTOCOL[proto]} . {_range(r[2], r[3])}"
            for (ip, proto), rects in allow.items() for r in rects]


def _set(name: str, kind: str, elements: list[str], interval: bool = False) -> list[str]:
    lines = [f"\tset {name} {{", f"\t\ttype {kind}"]
    if interval:
        lines.append("\t\tflags interval")
    if elements:
        lines.append("\t\telements = { " + ",\n\t\t\t".join(elements) + " }")
    return lines + ["\t}"]


def render(rules: NodeRules) -> str:
    """One ``nft -f`` transaction that replaces this lab's tables in a node (atomically)."""
    key = "ipv4_addr . ipv4_addr . inet_proto . inet_service"
    lines = [f"table inet {TABLE}", f"delete table inet {TABLE}", f"table inet {TABLE} {{"]
    lines += _set("ingress_isolated", "ipv4_addr", rules.isolated[INGRESS])
    lines += _set("egress_isolated", "ipv4_addr", rules.isolated[EGRESS])
    lines += _set("ingress_allow", key, _elements(rules.allow[INGRESS]), interval=True)
    lines += _set("egress_allow", key, _elements(rules.allow[EGRESS]), interval=True)
    # A pod's traffic to its own address passes; only an isolated pod needs the exception, so
    # only isolated pods are listed: with no policy, pods coming and going change no byte of
    # the table and the enforcer has nothing to load (``PolicyEnforcer`` compares the text).
    isolated = set(rules.isolated[INGRESS]) | set(rules.isolated[EGRESS])
    lines += _set("self", "ipv4_addr . ipv4_addr",
                  [f"{ip} . {ip}" for ip in rules.local if ip in isolated])
    lines += [
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        "\t\tct state established,related accept",
        "\t\tip saddr . ip daddr @self accept",
        "\t\tip saddr @egress_isolated ip saddr . ip daddr . meta l4proto . th dport != @egress_allow "
        'counter drop comment "egress: no policy rule allows it"',
        "\t\tip daddr @ingress_isolated ip daddr . ip saddr . meta l4proto . th dport != @ingress_allow "
        'counter drop comment "ingress: no policy rule allows it"',
        "\t}", "}"]
    return "\n".join(lines) + "\n"


# --- the controller --------------------------------------------------------------------------
@dataclass
class PolicyObjects:
    """What the enforcer reads from the API: dicts as the API returns them."""

    namespaces: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    policies: list[dict[str, Any]]


Report = Callable[[dict[str, Any], BaseException], None]


class FailedClosed(Exception):
    """What is reported for a policy that cannot be compiled: it is enforced closed."""

    event_key = "reliability.event.policy_closed"
    event_reason = "PolicyFailedClosed"

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(f"{type(cause).__name__}: {cause}")


def _ignore(_obj: dict[str, Any], _exc: BaseException) -> None:
    return None


def fail_closed(obj: Any) -> NetworkPolicy:
    """The stand-in for a policy that cannot be compiled: it isolates, and allows nothing.

    It selects what the policy's ``podSelector`` selects, or every pod of its namespace when the
    selector cannot be read either, for the directions its ``policyTypes`` name (both when they
    cannot be read). Failing open (dropping the policy) would let through what the learner meant
    to block; failing closed blocks more, visibly, until the policy is fixed.
    """
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    spec = obj.get("spec") if isinstance(obj, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    try:
        selector = LabelSelector.from_dict(spec.get("podSelector"))
        known = {"In", "NotIn", "Exists", "DoesNotExist"}
        if any(r.operator not in known for r in selector.match_expressions):
            selector = LabelSelector()
    except Exception:  # noqa: BLE001 - unreadable selector: every pod of the namespace
        selector = LabelSelector()
    types = spec.get("policyTypes")
    if not (isinstance(types, list) and types and all(t in (INGRESS, EGRESS) for t in types)):
        types = [INGRESS, EGRESS]
    return NetworkPolicy(namespace=str(meta.get("namespace") or "default"),
                         name=str(meta.get("name") or "?"), pod_selector=selector,
                         policy_types=tuple(dict.fromkeys(types)))


def model_objects(objs: PolicyObjects, report: Report = _ignore
                  ) -> tuple[list[Namespace], list[Pod], list[NetworkPolicy]]:
    """The engine's namespaces, pods and policies, one object at a time.

    An object that cannot be read is reported; a namespace or pod is then left out, a policy is
    replaced by its ``fail_closed`` stand-in.
    """
    def each(items: list[dict[str, Any]], convert: Callable[[dict[str, Any]], Any]) -> list[Any]:
        out = []
        for obj in items:
            try:
                value = convert(obj)
            except Exception as exc:  # noqa: BLE001 - one object's failure stays its own
                report(obj, exc)
                continue
            if value is not None:
                out.append(value)
        return out

    def policy(obj: dict[str, Any]) -> NetworkPolicy:
        try:
            meta = obj.get("metadata") or {}
            return parse_policy(obj, namespace=str(meta.get("namespace") or "default"))
        except Exception as exc:  # noqa: BLE001 - fail closed, and say so
            report(obj, FailedClosed(exc))
            return fail_closed(obj)

    namespaces = sorted(each(objs.namespaces, namespace_from_object), key=lambda n: n.name)
    pods = sorted(each(objs.pods, pod_from_object), key=lambda p: (p.namespace, p.name))
    policies = sorted(each(objs.policies, policy), key=lambda p: (p.namespace, p.name))
    return namespaces, pods, policies


def node_rules(spec: _Nodes, objs: PolicyObjects, report: Report = _ignore) -> dict[str, NodeRules]:
    """Every node's rules for the current objects (pure: the enforcer applies them)."""
    namespaces, pods, policies = model_objects(objs, report)
    engine = Engine(namespaces, pods, policies)
    resolved = resolve(engine)
    where: dict[str, set[str]] = {}
    for obj in objs.pods:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        pod_spec = obj.get("spec") if isinstance(obj, dict) else None
        node = pod_spec.get("nodeName") if isinstance(pod_spec, dict) else None
        if node and isinstance(meta, dict):
            where.setdefault(node, set()).add(f"{meta.get('namespace') or 'default'}/{meta.get('name')}")
    return {node.name: compile_node(resolved, engine.pods, where.get(node.name, ()))
            for node in spec.node_plans()}
