"""The lab's Multus-like step (pure parts): the annotation's forms, the config run, the status."""
from __future__ import annotations

import json

from labkit.embedded.multus import attachment_config, requested, status_entry


def pod(annotation):
    return {"metadata": {"name": "p", "namespace": "team", "annotations": {"k8s.v1.cni.cncf.io/networks": annotation}}}


def test_annotation_forms_as_multus_parses_them():
    assert requested(pod("a, other/b@eth7, c")) == [("team", "a", "net1"), ("other", "b", "eth7"),
                                                    ("team", "c", "net3")]
    assert requested(pod('[{"name": "a"}, {"name": "b", "namespace": "x", "interface": "m0"}]')) == [
        ("team", "a", "net1"), ("x", "b", "m0")]
    assert requested({"metadata": {"name": "p"}}) == []


def test_config_uses_the_labs_second_uplink_and_ipam_dir():
    nad = {"metadata": {"name": "mv"}, "spec": {"config": json.dumps(
        {"cniVersion": "0.3.1", "type": "macvlan", "master": "ens5", "ipam": {"type": "host-local",
                                                                                 "subnet": "192.168.100.0/24"}})}}
    conf = attachment_config(nad, "lab1")
    assert conf["master"] == "eth1" and conf["name"] == "mv"
    assert conf["ipam"]["dataDir"].endswith("/lab1/multus-ipam")


def test_status_entry_from_a_cni_result():
    result = {"interfaces": [{"name": "net1", "mac": "aa:bb:cc:dd:ee:ff", "sandbox": "/run/netns/x"}],
              "ips": [{"address": "192.168.100.2/24", "interface": 0}]}
    assert status_entry("team/mv", "net1", result) == {
        "name": "team/mv", "interface": "net1", "ips": ["192.168.100.2"], "mac": "aa:bb:cc:dd:ee:ff", "dns": {}}
    assert status_entry("kindnet", "eth0", {}, default=True)["default"] is True
