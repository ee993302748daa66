"""Reading Namespaces, Pods and NetworkPolicies from YAML files."""
from __future__ import annotations

import textwrap

import pytest

from labkit.errors import BadInput
from labkit.netpol import InvalidPolicy, ManifestError, load_manifests, parse_manifests, reachability

LAB = textwrap.dedent("""\
    apiVersion: v1
    kind: Namespace
    metadata: {name: x, labels: {ns: x}}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: a, namespace: x, labels: {pod: a}}
    spec:
      containers:
      - name: c
        ports:
        - {name: serve-80-tcp, containerPort: 80}
        - {name: dns, containerPort: 53, protocol: UDP}
    status: {podIP: 10.244.1.7}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: b, namespace: x, labels: {pod: b}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: ignored}
    ---
    apiVersion: v1
    kind: List
    items:
    - apiVersion: v1
      kind: Pod
      metadata: {name: a, namespace: y, labels: {pod: a}}
    - apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: deny, namespace: x}
      spec:
        podSelector: {matchLabels: {pod: a}}
        egress: []
    """)


def test_documents_lists_and_defaults(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(LAB)
    namespaces, pods, policies = load_manifests([path])
    assert [n.name for n in namespaces] == ["x", "y"]
    assert namespaces[0].labels == {"ns": "x", "kubernetes.io/metadata.name": "x"}
    assert namespaces[1].labels == {"kubernetes.io/metadata.name": "y"}  # referenced, not declared
    assert [p.key for p in pods] == ["x/a", "x/b", "y/a"]
    a = pods[0]
    assert a.ip == "10.244.1.7" and a.resolve_port("serve-80-tcp", "TCP") == 80 and a.resolve_port("dns", "UDP") == 53
    assert a.resolve_port("dns", "TCP") is None
    # egress: [] without policyTypes is defaulted to a default-deny *ingress* policy
    assert [(p.key, p.policy_types) for p in policies] == [("x/deny", ("Ingress",))]


def test_pods_without_ip_get_deterministic_distinct_addresses(tmp_path):
    _, pods, _ = parse_manifests(LAB)
    ips = {p.key: p.ip for p in pods}
    assert ips == {"x/a": "10.244.1.7", "x/b": "10.244.1.1", "y/a": "10.244.2.1"}
    assert parse_manifests(LAB)[1] == pods


def test_assigned_address_skips_one_in_use():
    text = LAB.replace("10.244.1.7", "10.244.1.1")
    ips = {p.key: p.ip for p in parse_manifests(text)[1]}
    assert ips["x/a"] == "10.244.1.1" and ips["x/b"] == "10.244.1.2"


def test_several_files_add_up(tmp_path):
    (tmp_path / "a.yaml").write_text("kind: Pod\nmetadata: {name: a, namespace: x}\n")
    (tmp_path / "b.yaml").write_text("kind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {}\n")
    namespaces, pods, policies = load_manifests([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    r = reachability(namespaces, pods, policies, 80)
    assert r.pods == ("x/a",) and r.ingress.allowed("x/a", "x/a")


def _error(text: str) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_manifests(text, "lab.yaml")
    assert info.value.exit_code == 2
    return info.value


@pytest.mark.parametrize("text, expected", [
    ("kind: Pod\nmetadata: {namespace: x}\n", "lab.yaml, document 1: metadata.name: a name is required"),
    ("---\nkind: Pod\nmetadata: {name: a}\n---\n- 1\n", "lab.yaml, document 2: <root>: must be an object"),
    ("metadata: {name: a}\n", "lab.yaml, document 1: kind: every document needs a kind"),
    ("kind: Pod\nmetadata: {name: a, labels: {v: 1}}\n", "lab.yaml, document 1: metadata.labels.v: label values"),
    ("kind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.300}\n",
     "lab.yaml, document 1: status.podIP: 10.0.0.300 is not an IP address"),
    ("kind: Pod\nmetadata: {name: a}\nspec: {containers: [{ports: [{containerPort: 0}]}]}\n",
     "lab.yaml, document 1: spec.containers[0].ports[0].containerPort: 0 is not a port number"),
    ("kind: Pod\nmetadata: {name: a}\nspec: {containers: [{ports: [{containerPort: 80, protocol: ICMP}]}]}\n",
     "lab.yaml, document 1: spec.containers[0].ports[0].protocol: ICMP is not TCP"),
    ("kind: List\nitems:\n- {kind: Pod, metadata: {name: a}}\n- {kind: Pod, metadata: {name: a}}\n",
     "lab.yaml, document 1: items[1].metadata.name: Pod default/a is defined twice"),
])
def test_manifest_errors_name_file_document_and_field(text, expected):
    assert str(_error(text)).startswith(expected)


def test_invalid_policy_in_a_list_names_the_item():
    text = ("kind: NetworkPolicyList\nitems:\n- kind: NetworkPolicy\n  metadata: {name: p, namespace: x}\n"
            "  spec: {ingress: [{from: [{}]}]}\n")
    err = _error(text)
    assert isinstance(err, InvalidPolicy)
    assert str(err) == ("lab.yaml, document 1, items[0]: NetworkPolicy p is invalid: "
                        "spec.ingress[0].from[0]: Required value: must specify a peer")


def test_yaml_syntax_error_gives_line_and_column():
    err = _error("kind: Pod\nmetadata: {name: a\n")
    assert str(err).startswith("lab.yaml: not valid YAML (line ")
    assert err.message("fr").startswith("lab.yaml : YAML invalide (ligne ")


def test_missing_file(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_manifests([tmp_path / "nope.yaml"])


def test_errors_in_french():
    err = _error("kind: Pod\nmetadata: {namespace: x}\n")
    assert isinstance(err, ManifestError)
    assert err.message("fr") == "lab.yaml, document 1 : metadata.name : le nom est obligatoire"
