"""The likeliest wrong answers get a message that says what was found and what is expected, in both
languages: an object made in the wrong namespace or under another name, a Service whose selector
misses the pods' labels, a policy in a namespace where no pod of the exercise runs. The checks'
pure halves on recorded facts; none of these facts passes."""
import pytest

from labkit.exercises import judges, policies, services

from .test_judges_services_policies import EXPOSED, NODEPORT, everything_open, matrix

HELLO_GONE = {"pod": "nb00/hello", "exists": False, "phase": None, "node": None, "ip": None}


def reasons(result):
    assert not result.ok
    return " ".join(result.reasons)


# --- pods: 00.0, 01.x, 02.4 ---------------------------------------------------------------------------------
def test_a_pod_made_in_default_names_both_namespaces():
    facts = dict(HELLO_GONE, elsewhere=["default"], close=[])
    en = reasons(judges.pod_running(facts, None, "en"))
    assert en == ("there is no pod hello in namespace nb00, but there is one in default: the exercise looks in "
                  "nb00 (`-n nb00`, or `namespace: nb00` in the manifest)")
    fr = reasons(judges.pod_running(facts, None, "fr"))
    assert fr.startswith("il n'y a pas de pod hello dans le namespace nb00, mais il y en a un dans default : "
                         "l'exercice regarde dans nb00")


def test_a_pod_under_another_name_is_named():
    facts = dict(HELLO_GONE, elsewhere=[], close=["helo"])
    assert "but there is nb00/helo: the exercise looks for the name hello" in reasons(
        judges.pod_running(facts, None, "en"))
    assert "mais il y a nb00/helo : l'exercice cherche le nom hello" in reasons(judges.pod_running(facts, None, "fr"))


def test_no_look_alike_keeps_the_plain_message():
    assert "there is no pod nb00/hello yet" in reasons(judges.pod_running(dict(HELLO_GONE, elsewhere=[], close=[]),
                                                                          None, "en"))
    assert "there is no pod nb00/hello yet" in reasons(judges.pod_running(HELLO_GONE, None, "en"))


def test_the_other_pod_checks_name_the_wrong_namespace_too():
    pinned = dict(HELLO_GONE, pod="nb01/pinned", elsewhere=["default"], close=[])
    on_node = dict(pinned, wanted="kubenet-worker", known=True, nodes=["kubenet-worker"], cidr=None)
    assert "in namespace nb01, but there is one in default" in reasons(judges.pod_on_node(on_node, None, "en"))
    assert "in namespace nb01, but there is one in default" in reasons(judges.pod_ip(dict(pinned, own=[]),
                                                                                     "10.244.1.2", "en"))
    assert "in namespace nb01" in reasons(judges.host_veth(dict(pinned, peer_index=None, host=None), "veth1", "en"))


@pytest.mark.parametrize("close, names, expected", [
    ("hello", ["helo", "web", "hello-world"], ["helo", "hello-world"]),
    ("pinned", ["talker", "web"], []),             # the notebook's own pods are not a typo of the answer
    ("web-np", ["web", "client"], []),
])
def test_close_names(close, names, expected):
    assert services.close_names(close, names) == expected


# --- services: 03.1, 03.3 ------------------------------------------------------------------------------------
def test_a_service_in_the_wrong_namespace():
    facts = dict(EXPOSED, service_exists=False, service_look={"elsewhere": ["default"], "close": []})
    en = reasons(services.judge_exposed(facts, None, "en"))
    assert "there is no Service hello in namespace nb03, but there is one in default" in en
    fr = reasons(services.judge_exposed(facts, None, "fr"))
    assert "il n'y a pas de Service hello dans le namespace nb03, mais il y en a un dans default" in fr


def test_a_service_under_another_name():
    facts = dict(NODEPORT, service_exists=False, service_look={"elsewhere": [], "close": ["web-np2"]})
    assert "but there is nb03/web-np2: the exercise looks for the name web-np" in reasons(
        services.judge_node_port(facts, None, "en"))


def test_a_deployment_in_the_wrong_namespace():
    facts = dict(EXPOSED, deployment_exists=False, pods=[], labels={},
                 deployment_look={"elsewhere": ["default"], "close": []})
    assert "there is no Deployment hello in namespace nb03, but there is one in default" in reasons(
        services.judge_exposed(facts, None, "en"))


def test_a_selector_that_misses_says_the_pods_labels():
    facts = dict(EXPOSED, selector={"app": "helo"})
    assert ("the selector of Service hello (app=helo) matches none of the pods of hello, whose labels are "
            "app=hello") in reasons(services.judge_exposed(facts, None, "en"))
    assert "dont les étiquettes sont app=hello" in reasons(services.judge_exposed(facts, None, "fr"))


def test_wrong_port_and_target_port_say_found_and_expected():
    text = reasons(services.judge_exposed(dict(EXPOSED, ports=[{"port": 80, "targetPort": 80}]), None, "en"))
    assert "listens on port(s) 80, expected 8080" in text
    text = reasons(services.judge_exposed(dict(EXPOSED, ports=[{"port": 8080, "targetPort": 8080}]), None, "fr"))
    assert "renvoie vers le targetPort 8080, mais les pods répondent sur le 80" in text


# --- policies: 04.1, 04.2, 04.4 -----------------------------------------------------------------------------
def test_a_default_deny_made_in_default():
    facts = matrix(everything_open(), policy_namespaces=["default"], isolated=[], policies=["default/deny-all"])
    en = reasons(policies.judge_default_deny(facts, None, "en"))
    assert "there is no NetworkPolicy in namespace nb04 yet" in en
    assert ("NetworkPolicy default/deny-all is in namespace default, where no pod of this exercise runs: a policy "
            "selects pods of its own namespace only; create it in nb04") in en
    fr = reasons(policies.judge_default_deny(facts, None, "fr"))
    assert "la NetworkPolicy default/deny-all est dans le namespace default" in fr and "créez-la dans nb04" in fr


def test_an_allow_made_in_default_is_named():
    base = [(s, d) for s, d in everything_open() if not d.startswith("nb04/")]
    facts = matrix(base, dst="nb04/web", from_namespace="nb04-front", other_port=8080,
                   policies=["nb04/deny-all", "default/allow-front"])
    text = reasons(policies.judge_allow_from_namespace(facts, None, "en"))
    assert "cannot reach nb04/web" in text and "default/allow-front is in namespace default" in text
    assert "nb04/deny-all" not in text


def test_policies_of_the_exercise_namespaces_are_not_called_misplaced():
    facts = matrix(everything_open(), dst="nb04/api", expected=["nb04-ops/prometheus"],
                   policies=["nb04/deny-all", "nb04-front/x", "kube-system/y"])
    assert "where no pod of this exercise runs" not in reasons(policies.judge_and_or(facts, None, "en"))


def test_a_dns_allow_made_in_default_is_named():
    facts = {"pod": "nb04-front/front", "name": "web.nb04.svc.cluster.local", "resolved": [], "error": "timed out",
             "other": "nb04-ops/shell", "reaches_other": False,
             "policies": ["default/allow-dns", "nb04/deny-all", "nb04-front/deny-egress"],
             "pod_namespaces": ["kube-system", "nb04", "nb04-front", "nb04-ops"]}
    text = reasons(judges.dns_allowed(facts, None, "en"))
    assert "still cannot resolve" in text and "default/allow-dns is in namespace default" in text
    assert "create it in nb04-front" in text and "nb04/deny-all" not in text
    assert "la NetworkPolicy default/allow-dns est dans le namespace default" in reasons(
        judges.dns_allowed(facts, None, "fr"))
    assert "default/allow-dns" not in reasons(judges.dns_allowed(dict(facts, policies=[]), None, "en"))
