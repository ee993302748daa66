"""Cluster DNS: what CoreDNS's ``kubernetes`` plugin answers, from the lab's API objects.

The lab runs CoreDNS-shaped pods (``kube-system/coredns``, behind the ``kube-dns`` Service at
10.96.0.10, as kind does); the echo responder hands their port 53 to ``ClusterDNS``. Records
(the Kubernetes DNS specification): ``svc.ns.svc.cluster.local`` A (the ClusterIP, or one A per
ready endpoint for a headless Service), ``_port._proto.svc.ns.svc.cluster.local`` SRV for named
ports, ``a-b-c-d.ns.pod.cluster.local`` A for pods. The lab has no upstream resolver: other
names are NXDOMAIN. Answering is pure (``answer(bytes) -> bytes``) once given the objects.

Header flags as CoreDNS sets them: answers from the ``kubernetes`` plugin are authoritative
without RA (coredns/coredns plugin/kubernetes/handler.go sets ``m.Authoritative = true`` only;
``qr,aa,rd`` in CoreDNS's own logs; RA is not set since coredns/coredns#2408, which
is why BIND's ``nslookup`` prints ";; Got recursion not available" against real clusters too,
coredns/coredns#2857, #3835). Names outside the cluster domain go to ``forward`` on a real
cluster, whose upstream answers carry RA and no AA: the lab answers them NXDOMAIN that way.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

DOMAIN = "cluster.local"
TTL = 5     # CoreDNS kubernetes plugin's default
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"


@dataclass
class DnsObjects:
    services: list[dict] = field(default_factory=list)
    endpointslices: list[dict] = field(default_factory=list)
    pods: list[dict] = field(default_factory=list)
    namespaces: list[dict] | None = None     # None: unknown, every namespace is taken to exist


class ClusterDNS:
    def __init__(self, objects: Callable[[], DnsObjects], domain: str = DOMAIN) -> None:
        self.objects = objects
        self.domain = dns.name.from_text(domain)

    def answer(self, wire: bytes) -> bytes:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - garbage in: no answer, like a real server
            return b""
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.flags &= ~dns.flags.RA
        if query.question and not query.question[0].name.is_subdomain(self.domain):
            response.flags = (response.flags & ~dns.flags.AA) | dns.flags.RA   # as forwarded
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        records, exists = self.lookup(question.name, question.rdtype)
        if not exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        for rrset in records:
            response.answer.append(rrset)
        return response.to_wire()

    def lookup(self, name: dns.name.Name, rdtype: int) -> tuple[list[dns.rrset.RRset], bool]:
        """The records for ``name`` of type ``rdtype``, and whether the name exists at all."""
        if not name.is_subdomain(self.domain):
            return [], False
        labels = [l.decode().lower() for l in name.relativize(self.domain).labels]
        objs = self.objects()
        if len(labels) >= 3 and labels[-1] == "svc":
            return self._service(name, labels[:-1], rdtype, objs)
        if len(labels) == 3 and labels[-1] == "pod":
            return self._pod(name, labels[0], labels[1], rdtype, objs)
        if len(labels) == 2 and labels[-1] in ("svc", "pod"):
            # "<namespace>.svc.cluster.local": NODATA if the namespace exists, else NXDOMAIN
            # (coredns plugin/kubernetes/kubernetes.go Records / findServices, namespaceExposed)
            return [], objs.namespaces is None or any(
                (n.get("metadata") or {}).get("name") == labels[0] for n in objs.namespaces)
        return [], labels in (["svc"], ["pod"])

    def _service(self, name, labels, rdtype, objs):
        port_label = proto_label = None
        if len(labels) == 4 and labels[0].startswith("_") and labels[1].startswith("_"):
            port_label, proto_label = labels[0][1:], labels[1][1:]
            labels = labels[2:]
        if len(labels) != 2:
            return [], False
        svc_name, namespace = labels
        svc = next((s for s in objs.services if s["metadata"]["name"] == svc_name
                    and s["metadata"].get("namespace") == namespace), None)
        if svc is None:
            return [], False
        spec = svc.get("spec", {})
        target = dns.name.from_text(f"{svc_name}.{namespace}.svc", self.domain)
        if port_label is not None:
            if rdtype not in (dns.rdatatype.SRV, dns.rdatatype.ANY):
                return [], True
            rrs = [dns.rrset.from_text(name, TTL, "IN", "SRV", f"0 100 {p['port']} {target}")
                   for p in spec.get("ports", [])
                   if p.get("name", "").lower() == port_label and p.get("protocol", "TCP").lower() == proto_label]
            return rrs, bool(rrs)
        if rdtype not in (dns.rdatatype.A, dns.rdatatype.ANY):
            return [], True
        cluster_ip = spec.get("clusterIP")
        if cluster_ip and cluster_ip != "None":
            return [dns.rrset.from_text(name, TTL, "IN", "A", cluster_ip)], True
        ips = sorted({a for s in objs.endpointslices
                      if s["metadata"].get("namespace") == namespace
                      and s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == svc_name
                      for ep in s.get("endpoints") or []
                      if (ep.get("conditions") or {}).get("ready", True)
                      for a in ep.get("addresses", [])}, key=ipaddress.ip_address)
        if not ips:
            return [], True
        return [dns.rrset.from_text_list(name, TTL, "IN", "A", ips)], True

    def _pod(self, name, dashed, namespace, rdtype, objs):
        ip = dashed.replace("-", ".")
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            return [], False
        known = any(p.get("status", {}).get("podIP") == ip and p["metadata"].get("namespace") == namespace
                    for p in objs.pods)
        if not known:
            return [], False
        if rdtype not in (dns.rdatatype.A, dns.rdatatype.ANY):
            return [], True
        return [dns.rrset.from_text(name, TTL, "IN", "A", ip)], True


def resolv_conf(namespace: str, nameserver: str, domain: str = DOMAIN) -> str:
    """A pod's ``/etc/resolv.conf`` with the kubelet's usual search path (ClusterFirst policy)."""
    return (f"search {namespace}.svc.{domain} svc.{domain} {domain}\n"
            f"nameserver {nameserver}\noptions ndots:5\n")


def coredns_objects(dns_ip: str) -> list[tuple[str, dict]]:
    """The Deployment and Service kind creates for cluster DNS (trimmed to what the lab uses)."""
    labels = {"k8s-app": "kube-dns"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {"replicas": 2, "selector": {"matchLabels": dict(labels)}, "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                                     {"key": "CriticalAddonsOnly", "operator": "Exists"}],
                     "nodeSelector": {"kubernetes.io/os": "linux"},
                     "containers": [{"name": "coredns", "image": COREDNS_IMAGE, "ports": [
                         {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                         {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                         {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]}]}}}}
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "labels": {**labels, "kubernetes.io/name": "CoreDNS"}},
        "spec": {"clusterIP": dns_ip, "selector": dict(labels), "ports": [
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}
    return [("apps/deployments", deployment), ("core/services", service)]
