"""Every observe/judge exercise's judge on recorded facts: right, wrong, partial and missing answers.

The facts below are what ``labkit.exercises.observe`` read from real labs (kindnet, flannel,
kube-proxy iptables, the policy probe); the judges are pure, so no lab and no root are needed.
"""
import pytest

from labkit.exercises import judges
from labkit.exercises.core import REGISTRY, predict
from labkit.exercises import registry  # noqa: F401  (fills REGISTRY)

DEVICE = {"node": "kubenet-worker", "pod": "nb02/b1", "ip": "10.244.2.3",
          "route": {"dst": "10.244.2.0/24", "gateway": "172.18.0.4", "dev": "eth0", "type": "unicast"},
          "devices": {"lo": "-", "eth0": "veth", "veth1a2b3c4d": "veth", "veth5e6f7a8b": "veth"}}
ROUTE_OK = {"node": "kubenet-worker", "cidr": "10.244.2.0/24", "owner": "kubenet-worker2", "owner_ip": "172.18.0.4",
            "route": {"dst": "10.244.2.0/24", "gateway": "172.18.0.4", "dev": "eth0", "type": "unicast"},
            "src": "nb02/a1", "dst": "nb02/b1", "reached": True, "error": ""}
PROBS = {"service": "nb03/web", "mode": "iptables", "expected": 5, "chain": "KUBE-SVC-ABC",
         "probabilities": [0.2, 0.25, 0.33333333349, 0.5, 1.0]}
SELECTOR_OK = {"service": "nb03/shop", "exists": True, "selector": {"app": "web"}, "matching": ["web-1", "web-2"],
               "endpoints": ["10.244.1.4", "10.244.2.5"], "url": "http://10.96.0.20:80/", "answered_by": "web-1",
               "error": ""}
PODS = ["nb04-front/front", "nb04-ops/prometheus", "nb04-ops/shell", "nb04/api", "nb04/metrics", "nb04/web"]
OPEN = ["nb04-front/front", "nb04-ops/prometheus", "nb04-ops/shell"]        # no policy selects them
# after exercises 1-2 and the OR policy of exercise 3 (what the probe saw on a lab)
REACH = {"port": 80, "pods": PODS,
         "allowed": [[s, d] for d in OPEN for s in PODS if s != d]
         + [["nb04-front/front", "nb04/web"]]
         + [[s, "nb04/api"] for s in ("nb04-ops/prometheus", "nb04-ops/shell", "nb04/metrics")]}
RIGHT = {"nb04/web": {"nb04-front/front"}, "nb04/api": {"nb04-ops/prometheus", "nb04-ops/shell", "nb04/metrics"},
         "nb04/metrics": set(), "nb04-front/front": "*", "nb04-ops/prometheus": "*",
         "nb04-ops/shell": set(PODS) - {"nb04-ops/shell"}}
DNS_OK = {"pod": "nb04-front/front", "name": "web.nb04.svc.cluster.local", "resolved": ["10.96.0.44"], "error": "",
          "other": "nb04-ops/shell", "reaches_other": False}
CALICO = {"cni": "calico", "mode": "vxlan", "evidence": ["2 cali* veths", "192.168.9.64/26 via ... dev vxlan.calico"]}


def verdict(judge, facts, answer, lang="en"):
    result = judge(facts, answer, lang)
    return result.ok, " ".join(result.reasons)


# --- 02.5: the device towards another node's pod ------------------------------------------------------
def test_device_right():
    ok, text = verdict(judges.device_towards, DEVICE, "eth0")
    assert ok and "leaves kubenet-worker by eth0" in text


@pytest.mark.parametrize("answer, words", [
    ("veth1a2b3c4d", "leads to a pod of kubenet-worker itself"),          # a local pod's veth
    ("flannel.1", "there is no device flannel.1"),                        # not on this node
    ("lo", "the longest prefix wins"),                                    # exists, but is not the route's
])
def test_device_wrong(answer, words):
    ok, text = verdict(judges.device_towards, DEVICE, answer)
    assert not ok and words in text


def test_device_missing_and_no_route():
    assert "no answer yet" in verdict(judges.device_towards, DEVICE, None)[1]
    assert "aucune route" in verdict(judges.device_towards, dict(DEVICE, route=None), "eth0", "fr")[1]


def test_device_partial_notation_is_accepted():
    assert verdict(judges.device_towards, DEVICE, " eth0@if12 ")[0]


# --- 02.6: the route restored -------------------------------------------------------------------------
def test_route_restored_right():
    ok, text = verdict(judges.route_restored, ROUTE_OK, None)
    assert ok and "via 172.18.0.4" in text


@pytest.mark.parametrize("change, words", [
    ({"route": None, "reached": False}, "still has no route to 10.244.2.0/24"),
    ({"route": {"dst": "10.244.2.0/24", "type": "unreachable"}, "reached": False}, "still of type unreachable"),
    ({"route": {"dst": "10.244.2.0/24", "gateway": "172.18.0.3", "dev": "eth0", "type": "unicast"}, "reached": False},
     "goes via 172.18.0.3"),
    ({"route": {"dst": "10.244.2.0/24", "dev": "eth0", "type": "unicast"}, "reached": False},
     "has no `via`: 10.244.2.0/24 is the pod CIDR of"),
])
def test_route_restored_wrong(change, words):
    ok, text = verdict(judges.route_restored, dict(ROUTE_OK, **change), None)
    assert not ok and words in text


def test_route_restored_partial_right_route_but_no_packet():
    ok, text = verdict(judges.route_restored, dict(ROUTE_OK, reached=False, error="exit 28"), None, "fr")
    assert not ok and "la route a l'air juste" in text and "exit 28" in text


# --- 03.2: the probabilities for 5 endpoints ----------------------------------------------------------
@pytest.mark.parametrize("answer", [[0.2, 0.25, 0.3333, 0.5, 1], ["1/5", "1/4", "1/3", "1/2"], (0.2, 0.25, 1 / 3, 0.5)])
def test_probabilities_right(answer):
    ok, text = verdict(judges.sep_probabilities, PROBS, answer)
    assert ok and "1/5" in text


def test_probabilities_in_french_numbers():
    ok, text = verdict(judges.sep_probabilities, PROBS, [0.2, 0.25, 0.3333, 0.5, 1], "fr")
    assert ok and "0,2 ; 0,25 ; 0,3333 ; 0,5 ; 1" in text and "0.25" not in text
    ok, text = verdict(judges.sep_probabilities, PROBS, [0.2, 0.2, 0.2, 0.2, 0.2], "fr")
    assert not ok and "0,2" in text and "0,25" in text and "0.2" not in text


def test_probabilities_wrong_is_the_naive_even_split():
    ok, text = verdict(judges.sep_probabilities, PROBS, [0.2, 0.2, 0.2, 0.2, 0.2])
    assert not ok and "jump 2: you predicted 0.2, kube-proxy wrote 0.25" in text and "jump 1" not in text
    assert "1 / (endpoints still left)" in text


def test_probabilities_partial_and_malformed():
    ok, text = verdict(judges.sep_probabilities, PROBS, [0.2, 0.25, 0.5], "fr")
    assert not ok and "vous avez prédit 3 valeur(s)" in text
    assert "not a list of numbers" in verdict(judges.sep_probabilities, PROBS, ["a fifth"])[1]
    assert "no answer yet" in verdict(judges.sep_probabilities, PROBS, None)[1]


def test_probabilities_before_the_scaling_is_not_judged():
    ok, text = verdict(judges.sep_probabilities, dict(PROBS, probabilities=[1 / 3, 0.5, 1.0]), [0.2, 0.25, 0.33, 0.5])
    assert not ok and "has 3 endpoint rule(s), not 5" in text


# --- 03.4: the selector that matched nothing ------------------------------------------------------------
def test_selector_right():
    ok, text = verdict(judges.selector_fixed, SELECTOR_OK, None)
    assert ok and "answered from web-1" in text


@pytest.mark.parametrize("change, words", [
    ({"exists": False}, "there is no Service nb03/shop any more"),
    ({"selector": {"app": "wbe"}, "matching": [], "endpoints": []}, "(app=wbe) still matches no running pod"),
    ({"selector": {}}, "has no selector"),
])
def test_selector_wrong(change, words):
    ok, text = verdict(judges.selector_fixed, dict(SELECTOR_OK, **change), None)
    assert not ok and words in text


def test_selector_partial_matching_pods_but_no_answer_yet():
    assert "is still empty" in verdict(judges.selector_fixed, dict(SELECTOR_OK, endpoints=[]), None)[1]
    ok, text = verdict(judges.selector_fixed, dict(SELECTOR_OK, answered_by=None, error="exit 28"), None, "fr")
    assert not ok and "n'a pas répondu (exit 28)" in text


# --- 04.3: the whole reachability matrix, predicted -------------------------------------------------------
def test_matrix_right():
    ok, text = verdict(judges.reach_matrix, REACH, RIGHT)
    assert ok and "all 30 cells of the matrix (19 connection(s) allowed on port 80)" in text


def test_matrix_wrong_is_the_and_reading():
    ok, text = verdict(judges.reach_matrix, REACH, dict(RIGHT, **{"nb04/api": {"nb04-ops/prometheus"}}))
    assert not ok and "28 of the 30 cells of the matrix are right" in text
    assert "nb04-ops/shell reached nb04/api, you predicted it would not" in text and "nb04/metrics reached" in text


def test_matrix_wrong_everyone_reaches_everyone_in_french():
    ok, text = verdict(judges.reach_matrix, REACH, {d: "*" for d in PODS}, "fr")
    assert not ok and "19 des 30 cases de la matrice sont justes" in text
    assert "nb04-ops/prometheus a été bloqué, vous aviez prédit qu'il joindrait nb04/metrics" in text
    assert "autres cases fausses" in text                      # 11 wrong cells: the list is cut


def test_matrix_partial_a_column_left_empty():
    ok, text = verdict(judges.reach_matrix, REACH, dict(RIGHT, **{"nb04/metrics": None}))
    assert not ok and "25 of the 30 cells" in text and "who reaches nb04/metrics? Its entry is still `None`" in text


def test_matrix_malformed_and_missing():
    assert "is not one of the exercise's pods" in verdict(judges.reach_matrix, REACH, dict(RIGHT, **{"nb04/api2": "*"}))[1]
    assert "is not one of the exercise's pods" in verdict(judges.reach_matrix, REACH, dict(RIGHT, **{"nb04/web": {"x/y"}}))[1]
    assert "not a set of pods" in verdict(judges.reach_matrix, REACH, dict(RIGHT, **{"nb04/web": {"front"}}))[1]
    assert "is not a dict" in verdict(judges.reach_matrix, REACH, {"nb04-ops/shell"})[1]
    assert "no answer yet" in verdict(judges.reach_matrix, REACH, None)[1]
    # a pod reaching itself is not a cell: writing it does no harm
    assert verdict(judges.reach_matrix, REACH, dict(RIGHT, **{"nb04/metrics": {"nb04/metrics"}}))[0]


# --- 04.5: DNS after a default-deny egress --------------------------------------------------------------
def test_dns_right():
    ok, text = verdict(judges.dns_allowed, DNS_OK, None)
    assert ok and "resolves web.nb04.svc.cluster.local (10.96.0.44)" in text


def test_dns_wrong_the_deny_was_removed():
    ok, text = verdict(judges.dns_allowed, dict(DNS_OK, reaches_other=True), None)
    assert not ok and "keep the egress deny" in text


def test_dns_still_blocked():
    ok, text = verdict(judges.dns_allowed, dict(DNS_OK, resolved=[], error="connection timed out"), None, "fr")
    assert not ok and "n'arrive toujours pas à résoudre" in text and "connection timed out" in text


# --- 05: which stack -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer", ["calico vxlan", "Calico (VXLAN)", ("calico", "vxlan")])
def test_stack_right(answer):
    assert verdict(judges.stack, CALICO, answer)[0]


def test_stack_hostgw_spellings():
    facts = {"cni": "flannel", "mode": "host-gw", "evidence": []}
    assert verdict(judges.stack, facts, "flannel hostgw")[0] and verdict(judges.stack, facts, "flannel, host_gw")[0]


def test_stack_partial_wrong_missing():
    ok, text = verdict(judges.stack, CALICO, "calico", "fr")
    assert not ok and "bonne CNI (calico)" in text
    ok, text = verdict(judges.stack, CALICO, "flannel vxlan")
    assert not ok and "not flannel vxlan" in text
    assert "no answer yet" in verdict(judges.stack, CALICO, "")[1]
    assert "no CNI" in verdict(judges.stack, {"cni": None, "mode": None}, "calico")[1]


# --- the machinery -------------------------------------------------------------------------------------------
def test_registered_exercises_and_predictions():
    assert {"00.0", "01.1", "01.2", "01.3", "02.4", "02.5", "02.6", "02.7", "03.2", "03.4", "04.3", "04.5", "05.1",
            "05.2", "05.3"} <= set(REGISTRY)
    assert {k for k, e in REGISTRY.items() if e.prediction} == {"02.5", "03.2", "04.3"}


def test_a_prediction_check_without_a_sealed_prediction_is_not_yet():
    from labkit.exercises.core import _SEALED, check

    _SEALED.pop("03.2", None)
    result = check("03.2", [0.2], cluster=object(), lang="fr")     # the cluster is not even read
    assert not result.ok and "aucune prédiction n'a été enregistrée pour l'exercice 03.2" in str(result)
    assert "pas encore de prédiction" in str(predict("03.2", None, "probabilities", lang="fr"))
    template = dict.fromkeys(PODS)                                 # 04.3's cell as shipped: every entry None
    assert "no prediction yet: write it in `who_reaches`" in str(predict("04.3", template, "who_reaches", lang="en"))


# --- 00-02: pods --------------------------------------------------------------------------------------------
HELLO = {"pod": "nb00/hello", "exists": True, "phase": "Running", "node": "kubenet-worker", "ip": "10.244.1.7"}
PINNED = dict(HELLO, pod="nb01/pinned", wanted="kubenet-worker", known=True, cidr="10.244.1.0/24",
              nodes=["kubenet-control-plane", "kubenet-worker", "kubenet-worker2"], own=["10.244.1.7"])
TALKER = {"client": dict(HELLO, pod="nb01/talker", node="kubenet-worker2", ip="10.244.2.9"),
          "server": dict(HELLO, pod="nb01/web"), "seen": "10.244.2.9", "error": ""}
VETH = dict(HELLO, pod="nb02/a1", peer_index=7, host="veth1a2b3c4d")
TUNNEL = {"node": "fl-worker", "cidr": "10.244.0.0/24", "kind": "vxlan", "vxlan": {"id": 1, "port": 8472},
          "route": {"dst": "10.244.0.0/24", "gateway": "10.244.0.0", "dev": "flannel.1", "type": "unicast"}}


def test_pod_running_right_missing_pending():
    assert verdict(judges.pod_running, HELLO, None)[0]
    assert "there is no pod nb00/hello yet" in verdict(judges.pod_running, dict(HELLO, exists=False), None)[1]
    ok, text = verdict(judges.pod_running, dict(HELLO, phase="Pending", ip=None), None, "fr")
    assert not ok and "pas encore Running" in text


def test_pod_on_node_right_wrong_unknown():
    assert verdict(judges.pod_on_node, PINNED, None)[0]
    ok, text = verdict(judges.pod_on_node, dict(PINNED, node="kubenet-worker2"), None)
    assert not ok and "runs on kubenet-worker2, not on kubenet-worker" in text
    assert "there is no node worker9" in verdict(judges.pod_on_node, dict(PINNED, known=False, wanted="worker9"),
                                                 None)[1]


def test_pod_ip_right_wrong_missing_malformed():
    assert verdict(judges.pod_ip, PINNED, "10.244.1.7/24")[0]
    assert "is not on the eth0" in verdict(judges.pod_ip, PINNED, "10.244.1.8")[1]
    assert "`pinned_ip`" in verdict(judges.pod_ip, PINNED, None)[1]
    assert "`mon_ip`" in verdict(judges.pod_ip, dict(PINNED, variable="mon_ip"), None, "fr")[1]
    assert "is not an IP address" in verdict(judges.pod_ip, PINNED, "web")[1]


def test_no_nat_right_wrong_same_node_unreachable():
    assert verdict(judges.no_nat, TALKER, "10.244.2.9")[0]
    ok, text = verdict(judges.no_nat, TALKER, "172.18.0.3")          # the node's IP: what NAT would show
    assert not ok and "did not see 172.18.0.3" in text
    same = dict(TALKER, client=dict(TALKER["client"], node="kubenet-worker"))
    assert "both run on kubenet-worker" in verdict(judges.no_nat, same, "10.244.2.9")[1]
    assert "could not reach" in verdict(judges.no_nat, dict(TALKER, seen=None, error="exit 28"), "10.244.2.9")[1]


def test_host_veth_right_wrong_missing():
    assert verdict(judges.host_veth, VETH, "veth1a2b3c4d@if2")[0]
    assert "is not the host side" in verdict(judges.host_veth, VETH, "veth5e6f7a8b")[1]
    assert "no answer yet" in verdict(judges.host_veth, VETH, "  ")[1]
    assert "introuvable" in verdict(judges.host_veth, dict(VETH, host=None), "veth1a2b3c4d", "fr")[1]


def test_tunnel_right_uplink_wrong_missing():
    ok, text = verdict(judges.tunnel_device, TUNNEL, "flannel.1")
    assert ok and "VNI 1, UDP port 8472" in text
    assert "only once it is wrapped in UDP" in verdict(judges.tunnel_device, TUNNEL, "eth0")[1]
    assert "is not the device" in verdict(judges.tunnel_device, TUNNEL, "cni0")[1]
    assert "no answer yet" in verdict(judges.tunnel_device, TUNNEL, None)[1]
