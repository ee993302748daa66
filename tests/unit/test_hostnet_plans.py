"""Containment plans (pure): which ranges a lab refuses on the host, and how the sweep finds them."""
from labkit.embedded import dataplane, hostnet
from labkit.embedded.topology import HostNetwork, LabSpec

HOST = [HostNetwork("0.0.0.0/0", "default route"), HostNetwork("192.0.2.0/24", "eth0")]


def test_every_lab_range_is_refused_tagged_with_the_lab_name():
    spec = LabSpec(name="alpha")
    cmds = hostnet.refuse_commands(spec, hostnet.refused_ranges(spec, HOST))
    metric = hostnet.refuse_metric("alpha")
    assert cmds == [f"route replace unreachable {c} metric {metric} proto {hostnet.REFUSE_PROTO}"
                    for c in ("172.18.0.0/16", "10.244.0.0/16", "10.96.0.0/16")]


def test_metrics_tell_labs_apart_and_stay_above_real_routes():
    a, b = hostnet.refuse_metric("kubenet"), hostnet.refuse_metric("kubenet2")
    assert a != b and min(a, b) > 1 << 30 and max(a, b) < 1 << 32


def test_without_host_routes_a_range_the_host_uses_is_left_to_the_host():
    spec = LabSpec(host_routes=False)
    hosts = HOST + [HostNetwork("10.96.0.0/12", "route via eth1")]
    assert hostnet.refused_ranges(spec, hosts) == ["172.18.0.0/16", "10.244.0.0/16"]


def test_the_sweep_recognises_only_its_own_refusals():
    m = hostnet.refuse_metric("kubenet")
    routes = [
        {"type": "unreachable", "dst": "10.96.0.0/16", "protocol": "111", "metric": m},
        {"type": "unreachable", "dst": "10.97.0.0/16", "protocol": "111", "metric": hostnet.refuse_metric("b")},
        {"type": "unreachable", "dst": "10.0.0.0/8", "protocol": "boot", "metric": m},
        {"dst": "10.244.0.0/24", "gateway": "172.18.0.2", "dev": "kubenet-host", "metric": m},
    ]
    assert hostnet.lab_refusals("kubenet", routes) == ["10.96.0.0/16"]


def test_the_host_reaches_clusterips_through_the_control_plane():
    spec = LabSpec()
    assert "route add 10.96.0.0/16 via 172.18.0.2 dev kubenet-host" in dataplane.host_commands(spec)
    assert dataplane.host_reaches(spec, "10.96.0.99")
    assert not dataplane.host_reaches(LabSpec(host_routes=False), "10.96.0.99")


def test_labkit_dns_prints_an_opt_in_stanza_for_cluster_local_only():
    from labkit import i18n
    from labkit.cli.dns import resolv_conf, stanza

    spec = LabSpec(name="alpha", service_cidr="10.97.0.0/16")
    text = stanza(spec)
    assert "sudo resolvectl dns alpha-host 10.97.0.10" in text
    assert "sudo resolvectl domain alpha-host '~cluster.local'" in text and "revert alpha-host" in text
    conf = resolv_conf(spec, "demo").splitlines()
    assert conf[1:] == ["nameserver 10.97.0.10", "search demo.svc.cluster.local svc.cluster.local cluster.local",
                        "options ndots:5"]
    i18n.set_language("fr")
    try:
        assert "rien n'a été modifié" in stanza(spec)
    finally:
        i18n.set_language("en")
