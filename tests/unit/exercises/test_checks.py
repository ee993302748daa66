"""The exercise checks end to end without a lab: ``check`` runs an exercise's observe on a fake
cluster that answers with recorded node output, then its judge; the tables and the pure helpers
of the Services exercises read recorded fixtures. Each case has a right answer, a wrong one, a
malformed one, and French.
"""
import json
from pathlib import Path

import pytest

from labkit.errors import BadInput
from labkit.exercises import core, observe, pods, reveal, services

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
IPROUTE = FIXTURES / "iproute"
IPTABLES_SAVE = (FIXTURES / "kubeproxy" / "kernel-iptables-save-TestOverall.txt").read_text()


class RecordedNode:
    """A node seam (``.name``, ``.run``) that prints what a kindnet worker printed."""

    def __init__(self, name: str, prefix: str = "kindnet-worker") -> None:
        self.name = name
        self.prefix = prefix
        self.commands: list[list[str]] = []

    def run(self, argv):
        self.commands.append(list(argv))
        if argv[:3] == ["ip", "-j", "route"]:
            return (IPROUTE / f"{self.prefix}-route.json").read_text()
        if argv[:2] == ["ip", "-j"]:          # addr or link: the same records
            return (IPROUTE / f"{self.prefix}-addr.json").read_text()
        raise AssertionError(f"unexpected command {argv}")


class RecordedCluster:
    """What ``observe`` needs of a cluster: ``.node(name)`` (short or full name)."""

    def __init__(self) -> None:
        self.worker = RecordedNode("kubenet-worker")

    def node(self, name: str) -> RecordedNode:
        assert name in ("worker", "kubenet-worker"), name
        return self.worker


POD_ON_WORKER2 = {"metadata": {"namespace": "nb02", "name": "b1"},
                  "spec": {"nodeName": "kubenet-worker2"},
                  "status": {"phase": "Running", "podIP": "10.244.2.3"}}


@pytest.fixture
def lab(monkeypatch):
    """A recorded cluster whose API shows ``nb02/b1`` on worker2; progress recorded in a list."""
    pods_by_key = {"nb02/b1": POD_ON_WORKER2}

    def read_pod(cluster, key):
        if key not in pods_by_key:
            raise core.NotObserved("obs.no_pod", pod=key)
        return pods_by_key[key]

    monkeypatch.setattr(observe, "_pod", read_pod)
    solved: list[str] = []
    monkeypatch.setattr(reveal, "record", solved.append)
    monkeypatch.setattr(core, "_SEALED", {})
    return RecordedCluster(), solved


# --- check(): observe on the recorded node, then the judge ---------------------------------------
def test_right_prediction_passes_and_is_recorded(lab):
    cluster, solved = lab
    assert core.predict("02.5", "eth0", lang="en").sealed
    result = core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="en")
    assert result.ok, result.text()
    assert "10.244.2.0/24 via 172.18.0.4 dev eth0" in result.text()
    assert solved == ["02.5"]
    assert ["ip", "-j", "route", "show"] in cluster.worker.commands     # read on the node, not guessed


def test_wrong_prediction_names_the_local_pod_veth(lab):
    cluster, solved = lab
    core.predict("02.5", "veth9db8110b", lang="en")
    result = core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="en")
    assert not result.ok and solved == []
    assert "veth9db8110b" in result.text()


def test_malformed_predictions_are_not_sealed_and_an_unknown_device_is_refused(lab):
    cluster, _ = lab
    assert not core.predict("02.5", "", lang="en").sealed
    assert not core.predict("02.5", {"device": None}, lang="en").sealed
    missing = core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="en")
    assert not missing.ok and "no prediction was recorded for exercise 02.5" in missing.text()
    core.predict("02.5", "cni0", lang="en")
    unknown = core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="en")
    assert not unknown.ok and "cni0" in unknown.text()


def test_french_verdicts(lab):
    cluster, _ = lab
    note = core.predict("02.5", "eth0", lang="fr")
    assert "Prédiction enregistrée" in str(note) and "02.5" in note._repr_html_()
    result = core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="fr")
    assert result.ok and result.lang == "fr"
    assert result.text() != core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="en").text()


def test_what_cannot_be_observed_is_a_verdict_in_the_learners_language(lab):
    cluster, solved = lab
    core.predict("02.5", "eth0", lang="en")
    en = core.check("02.5", cluster=cluster, node="worker", pod="nb02/zz", lang="en")
    fr = core.check("02.5", cluster=cluster, node="worker", pod="nb02/zz", lang="fr")
    assert not en.ok and not fr.ok and solved == []
    assert "nb02/zz" in en.text() and "nb02/zz" in fr.text() and en.text() != fr.text()


def test_a_pod_on_the_same_node_is_not_observed(lab, monkeypatch):
    cluster, _ = lab
    local = json.loads(json.dumps(POD_ON_WORKER2))
    local["spec"]["nodeName"] = "kubenet-worker"
    monkeypatch.setattr(observe, "_pod", lambda cluster, key: local)
    core.predict("02.5", "eth0", lang="en")
    result = core.check("02.5", cluster=cluster, node="worker", pod="nb02/b1", lang="en")
    assert not result.ok and "kubenet-worker" in result.text()


def test_unknown_exercise_is_bad_input_in_both_languages():
    with pytest.raises(BadInput) as err:
        core.check("99.9", cluster=object(), lang="en")
    assert err.value.key == "ex.unknown" and "99.9" in str(err.value)
    assert "ex.exercise('99.9', observe, judge)" in err.value.message("en")      # says how to declare it
    assert "s'enregistre avec ex.exercise('99.9'" in err.value.message("fr")


# --- the tables of notebooks 01-02, from a node or pod seam ---------------------------------------
def test_routes_table_in_both_languages():
    node = RecordedNode("kubenet-worker")
    en, fr = pods.routes_table(node, lang="en"), pods.routes_table(node, lang="fr")
    assert en.title == "kubenet-worker" and len(en.rows) == 6
    assert ["10.244.2.0/24", "172.18.0.4", "eth0"] == en.rows[4][:3]
    assert en.rows == fr.rows and en.columns != fr.columns
    assert "10.244.2.0/24" in str(en) and "<table>" in en._repr_html_()


def test_interfaces_table_from_a_seam_or_parsed_records():
    node = RecordedNode("kubenet-worker")
    table = pods.interfaces_table(node, lang="en")
    assert [r[0] for r in table.rows] == ["lo", "eth0", "veth9db8110b", "vethd1070518"]
    assert node.commands == [["ip", "-j", "-d", "addr", "show"]]
    assert pods.interfaces_table([], lang="fr").rows == []         # a parsed list is taken as is


def test_table_html_escapes_names():
    table = pods.Table("<b>", ["a"], [["<script>"]])
    assert "<script>" not in table._repr_html_() and "&lt;script&gt;" in table._repr_html_()


# --- the Services exercises' pure helpers -----------------------------------------------------------
def test_svc_chain_rules_reads_the_probabilities_of_the_chain():
    chain, probabilities = services.svc_chain_rules(IPTABLES_SAVE, "ns4/svc4")
    assert chain is not None and chain.startswith("KUBE-SVC-")
    assert probabilities and probabilities[-1] == 1.0
    assert all(0 < p <= 1 for p in probabilities)
    assert services.svc_chain_rules(IPTABLES_SAVE, "nope/none") == (None, [])


def test_selector_matching_and_ready_endpoints():
    assert services.matches({"app": "web"}, {"app": "web", "tier": "x"})
    assert not services.matches({"app": "web"}, {"app": "db"})
    assert not services.matches({}, {"app": "web"})                  # no selector selects nothing
    slices = [
        {"metadata": {"labels": {"kubernetes.io/service-name": "web"}},
         "endpoints": [{"addresses": ["10.244.1.4"], "conditions": {"ready": True}},
                       {"addresses": ["10.244.2.5"], "conditions": {"ready": False}},
                       {"addresses": ["10.244.2.6"]}]},
        {"metadata": {"labels": {"kubernetes.io/service-name": "other"}},
         "endpoints": [{"addresses": ["10.244.1.9"]}]},
        {"metadata": {}, "endpoints": None},
    ]
    assert services.ready_endpoints(slices, "web") == {"10.244.1.4", "10.244.2.6"}
    assert services.ready_endpoints([], "web") == set()


def test_running_keeps_running_pods_with_an_ip_not_being_deleted():
    def pod(name, phase="Running", ip="10.244.1.2", deleting=False):
        meta = {"name": name, **({"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {})}
        return {"metadata": meta, "status": {"phase": phase, **({"podIP": ip} if ip else {})}}

    pods_ = [pod("a"), pod("b", phase="Pending"), pod("c", ip=None), pod("d", deleting=True), {"metadata": {"name": "e"}}]
    assert [p["metadata"]["name"] for p in services.running(pods_)] == ["a"]


def test_routes_table_names_a_route_type_as_ip_route_does():
    """Notebook 02 marks worker2's pod CIDR unreachable: the table read "10.244.2.0/24 - - global", a route
    to nowhere; `ip route` prints "unreachable 10.244.2.0/24"."""
    import json

    class Broken(RecordedNode):
        def run(self, argv):
            routes = json.loads(super().run(argv))
            if argv[:3] == ["ip", "-j", "route"]:
                for r in routes:
                    if r.get("dst") == "10.244.2.0/24":
                        r.clear()
                        r.update({"type": "unreachable", "dst": "10.244.2.0/24", "flags": []})
            return json.dumps(routes)

    rows = pods.routes_table(Broken("kubenet-worker"), lang="en").rows
    assert ["unreachable 10.244.2.0/24", "-", "-"] == rows[4][:3], rows
    assert rows[0][0] == "default" and not any(r[0].startswith("unicast") for r in rows)
