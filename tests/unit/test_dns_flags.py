"""Cluster DNS header flags as CoreDNS sets them."""
import dns.flags
import dns.message
import dns.rcode

from labkit.embedded.dns import ClusterDNS, DnsObjects

SERVICE = {"metadata": {"name": "kubernetes", "namespace": "default"},
           "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443}]}}


def ask(name: str) -> dns.message.Message:
    server = ClusterDNS(lambda: DnsObjects(services=[SERVICE]))
    return dns.message.from_wire(server.answer(dns.message.make_query(name, "A").to_wire()))


def test_cluster_names_are_authoritative_without_recursion_available():
    reply = ask("kubernetes.default.svc.cluster.local")
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA
    assert reply.answer[0][0].address == "10.96.0.1"


def test_other_names_answer_as_forwarded_with_recursion_available():
    reply = ask("example.org")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.flags & dns.flags.RA and not reply.flags & dns.flags.AA


def test_a_namespace_name_is_nodata_if_it_exists_else_nxdomain():
    """What busybox nslookup's search through ``svc.cluster.local`` meets on a real cluster."""
    namespaces = [{"metadata": {"name": "default"}}]
    server = ClusterDNS(lambda: DnsObjects(services=[SERVICE], namespaces=namespaces))

    def rcode(name):
        return dns.message.from_wire(server.answer(dns.message.make_query(name, "A").to_wire())).rcode()
    assert rcode("default.svc.cluster.local") == dns.rcode.NOERROR
    assert rcode("hostnames.svc.cluster.local") == dns.rcode.NXDOMAIN
    assert rcode("nosuch.default.svc.cluster.local") == dns.rcode.NXDOMAIN
