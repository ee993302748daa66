"""A live diagram notices a new pod and redraws, without the kernel's help."""
import os
import shutil
import subprocess
import time

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.live import show

NAME = "tlive"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    yield labkit.connect(lab=NAME)
    lifecycle.down(NAME)


def test_live_view_redraws_after_kubectl_run(cluster, tmp_path):
    view = show("pods", cluster, lang="en")
    try:
        assert view.wait_for(lambda svg: "<svg" in svg, timeout=15), view.status.value
        first = view.redraws
        env = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=str(kubeconfig_file(NAME)))
        subprocess.run([shutil.which("kubectl"), "run", "newcomer", "--image=nginx"], env=env, check=True,
                       capture_output=True)
        assert view.wait_for(lambda svg: "newcomer" in svg, timeout=15), view.status.value
        assert view.redraws > first
        assert "updated at" in view.status.value
    finally:
        view.stop()
    deadline = time.monotonic() + 10                  # a redraw under way finishes first
    while view.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not view.running


def test_french_view_and_a_lost_cluster_is_said(cluster):
    view = show("overview", cluster, lang="fr")
    try:
        assert view.wait_for(lambda svg: "<svg" in svg, timeout=15)
        assert "mis à jour" in view.status.value
        from labkit.embedded.client import EmbeddedLab

        cidr = EmbeddedLab(NAME).spec.pod_cidr                # the lab's /16, not the nodes' union
        assert f"réseau des pods {cidr} :" in view.svg
        view._version = lambda: (_ for _ in ()).throw(ConnectionError("refused"))
        view._wake.set()              # what a lost cluster does to the view's watches: they break, it looks
        deadline = time.monotonic() + 30
        while "injoignable" not in view.status.value:
            assert time.monotonic() < deadline, view.status.value
            time.sleep(0.05)
    finally:
        view.stop()


def test_a_route_deleted_inside_a_node_leaves_the_live_view_and_comes_back(cluster):
    """Node state, not only API objects: `ip route del` in a node is seen (netlink), and its restoration."""
    import re

    view = show("pods", cluster, lang="en")
    worker = next(n for n in cluster.node_names() if n.endswith("-worker"))
    netns = cluster.node(worker).netns
    try:
        assert view.wait_for(lambda svg: f'id="route/{worker}/' in svg, timeout=15), view.status.value
        cidr = re.search(rf'id="route/{re.escape(worker)}/([0-9./]+)"', view.svg).group(1)
        gid = f'id="route/{worker}/{cidr}"'
        line = subprocess.run(["ip", "-n", netns, "route", "show", cidr], check=True, capture_output=True,
                              text=True).stdout.strip()
        assert line.startswith(cidr)
        subprocess.run(["ip", "-n", netns, "route", "del", cidr], check=True)
        try:
            assert view.wait_for(lambda svg: gid not in svg, timeout=10), "the deleted route is still drawn"
        finally:
            subprocess.run(["ip", "-n", netns, "route", "replace", *line.split()], check=True)
        assert view.wait_for(lambda svg: gid in svg, timeout=10), "the restored route is not drawn"
    finally:
        view.stop()


def test_a_pod_read_with_one_ip_batch_or_over_netlink_is_the_same_as_with_two_commands(cluster, monkeypatch):
    from labkit import cluster as cluster_mod
    from labkit import nodes
    from labkit.embedded.client import EmbeddedLab

    pods = EmbeddedLab(NAME).pods()
    assert pods, "the first test's pod is gone"
    for p in pods:
        access = nodes.NetnsAccess(f"{p['namespace']}/{p['name']}", p["netns"])
        monkeypatch.setattr(cluster_mod, "BATCHED_POD_READS", True)
        batched = cluster_mod.read_pod_network(access)
        monkeypatch.setattr(cluster_mod, "BATCHED_POD_READS", False)
        plain = cluster_mod.read_pod_network(access)
        assert batched is not None and batched.routes and batched.to_json() == plain.to_json()
        from labkit import rtnl_read

        assert rtnl_read.read_many([p["netns"]])[p["netns"]] is not None     # not ip's fallback
        netlink = cluster_mod.read_pods_over_netlink([access])   # in-process, no ip process
        assert [v.to_json() for v in netlink] == [plain.to_json()]
