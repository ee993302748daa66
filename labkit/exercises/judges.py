"""The pure halves of the exercises: ``judge(facts, answer, lang) -> Result``.

Facts are what :mod:`labkit.exercises.observe` read from the cluster, as plain JSON-able dicts
(documented on each judge); the answer is what the learner wrote. Nothing here does I/O, so every
judge is unit-tested on recorded facts (right, wrong, partial, missing). A judge says what is
still wrong without handing out the answer.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from .. import i18n
from . import Result, failed, passed

MESSAGES = {
    # an object the check looks for is missing, but one like it exists (any check)
    "j.where.elsewhere": {
        "en": "there is no {kind} {name} in namespace {namespace}, but there is one in {found}: the exercise "
              "looks in {namespace} (`-n {namespace}`, or `namespace: {namespace}` in the manifest)",
        "fr": "il n'y a pas de {kind} {name} dans le namespace {namespace}, mais il y en a un dans {found} : "
              "l'exercice regarde dans {namespace} (`-n {namespace}`, ou `namespace: {namespace}` dans le "
              "manifeste)"},
    "j.where.close": {
        "en": "there is no {kind} {name} in namespace {namespace}, but there is {close}: the exercise looks for "
              "the name {name}",
        "fr": "il n'y a pas de {kind} {name} dans le namespace {namespace}, mais il y a {close} : l'exercice "
              "cherche le nom {name}"},
    "ex.pol.elsewhere": {
        "en": "NetworkPolicy {policy} is in namespace {found}, where no pod of this exercise runs: a policy "
              "selects pods of its own namespace only; create it in {namespace} (`kubectl apply -n {namespace} "
              "...`, or `namespace: {namespace}` in the manifest)",
        "fr": "la NetworkPolicy {policy} est dans le namespace {found}, où ne tourne aucun pod de l'exercice : "
              "une politique ne sélectionne que des pods de son propre namespace ; créez-la dans {namespace} "
              "(`kubectl apply -n {namespace} ...`, ou `namespace: {namespace}` dans le manifeste)"},
    "j.no_answer": {"en": "no answer yet: put it in `{variable}` in the cell above",
                    "fr": "pas encore de réponse : mettez-la dans `{variable}`, dans la cellule au-dessus"},
    # 02.5: the device towards another node's pod
    "j.dev.no_route": {"en": "node {node} has no route to {ip} at all", "fr": "le nœud {node} n'a aucune route vers {ip}"},
    "j.dev.unknown": {
        "en": "there is no device {answer} on node {node}: `ip link` (or the interfaces table) lists them",
        "fr": "il n'y a pas d'interface {answer} sur le nœud {node} : `ip link` (ou le tableau des "
              "interfaces) les liste"},
    "j.dev.local_pod": {
        "en": "{answer} leads to a pod of {node} itself, but {pod} runs on another node: which route of {node} "
              "contains {ip}?",
        "fr": "{answer} mène à un pod de {node} lui-même, mais {pod} tourne sur un autre nœud : quelle route de "
              "{node} contient {ip} ?"},
    "j.dev.wrong": {
        "en": "not {answer}: of the routes of {node} that contain {ip}, the longest prefix wins; read its `dev`",
        "fr": "pas {answer} : parmi les routes de {node} qui contiennent {ip}, le plus long préfixe l'emporte ; "
              "lisez son `dev`"},
    "j.dev.ok": {
        "en": "a packet to {pod} ({ip}) leaves {node} by {dev}, with `{route}`",
        "fr": "un paquet vers {pod} ({ip}) quitte {node} par {dev}, avec `{route}`"},
    # 02.7: restore the route
    "j.fix.route_missing": {
        "en": "node {node} still has no route to {cidr} (the pod CIDR of {owner}): `ip route add {cidr} via ...`",
        "fr": "le nœud {node} n'a toujours pas de route vers {cidr} (le CIDR de pods de {owner}) : "
              "`ip route add {cidr} via ...`"},
    "j.fix.route_type": {
        "en": "the route of {node} to {cidr} is still of type {type}: replace it (`ip route replace`)",
        "fr": "la route de {node} vers {cidr} est toujours de type {type} : remplacez-la (`ip route replace`)"},
    "j.fix.route_via": {
        "en": "the route of {node} to {cidr} goes via {via}, but {cidr} is the pod CIDR of {owner}: which address "
              "does the diagram show for that node?",
        "fr": "la route de {node} vers {cidr} passe par {via}, mais {cidr} est le CIDR de pods de {owner} : quelle "
              "adresse le schéma montre-t-il pour ce nœud ?"},
    "j.fix.route_no_via": {
        "en": "the route of {node} to {cidr} has no `via`: {cidr} is the pod CIDR of {owner}, reached through that "
              "node's address: which one does the diagram show?",
        "fr": "la route de {node} vers {cidr} n'a pas de `via` : {cidr} est le CIDR de pods de {owner}, joint par "
              "l'adresse de ce nœud : laquelle le schéma montre-t-il ?"},
    "j.fix.unreached": {
        "en": "the route looks right, but {src} still does not reach {dst} ({error})",
        "fr": "la route a l'air juste, mais {src} ne joint toujours pas {dst} ({error})"},
    "j.fix.route_ok": {
        "en": "{node} routes {cidr} via {via} ({owner}) again, and {src} reaches {dst}",
        "fr": "{node} route de nouveau {cidr} via {via} ({owner}), et {src} joint {dst}"},
    # 03.2: the probabilities for 5 endpoints
    "j.prob.not_numbers": {
        "en": "{answer!r} is not a list of numbers (e.g. `[0.5, 1.0]`; fractions such as `\"1/2\"` are fine)",
        "fr": "{answer!r} n'est pas une liste de nombres (par ex. `[0.5, 1.0]` ; des fractions comme `\"1/2\"` "
              "conviennent)"},
    "j.prob.not_iptables": {
        "en": "kube-proxy runs in {mode} mode here: there are no --probability rules to compare with",
        "fr": "kube-proxy tourne en mode {mode} ici : il n'y a pas de règles --probability à comparer"},
    "j.prob.count": {
        "en": "the chain of {service} has {actual} endpoint rule(s), not {expected}: scale first, then check",
        "fr": "la chaîne de {service} a {actual} règle(s) d'endpoint, pas {expected} : mettez à l'échelle "
              "d'abord, puis vérifiez"},
    "j.prob.length": {
        "en": "you predicted {count} value(s): there is one jump per endpoint ({expected} endpoints)",
        "fr": "vous avez prédit {count} valeur(s) : il y a un saut par endpoint ({expected} endpoints)"},
    "j.prob.wrong": {
        "en": "jump {index}: you predicted {answer}, kube-proxy wrote {actual}",
        "fr": "saut {index} : vous aviez prédit {answer}, kube-proxy a écrit {actual}"},
    "j.prob.why": {
        "en": "each rule is tried only when the ones above did not match: it takes 1 / (endpoints still left)",
        "fr": "chaque règle n'est essayée que si celles du dessus n'ont pas pris : elle vaut 1 / (endpoints "
              "restants)"},
    "j.prob.ok": {
        "en": "right: {values}; every endpoint gets 1/{count} of the new connections",
        "fr": "exact ({values}) : chaque endpoint reçoit 1/{count} des nouvelles connexions"},
    # 03.4: the selector that matches nothing
    "j.sel.no_service": {"en": "there is no Service {service} any more: fix it, do not delete it",
                         "fr": "il n'y a plus de Service {service} : réparez-le, ne le supprimez pas"},
    "j.sel.none": {"en": "Service {service} has no selector", "fr": "le Service {service} n'a pas de sélecteur"},
    "j.sel.nothing": {
        "en": "the selector of {service} ({selector}) still matches no running pod: compare it with "
              "`kubectl get pods --show-labels`",
        "fr": "le sélecteur de {service} ({selector}) ne correspond toujours à aucun pod en marche : comparez-le "
              "avec `kubectl get pods --show-labels`"},
    "j.sel.empty_slice": {
        "en": "the selector matches {count} pod(s) but the EndpointSlice of {service} is still empty: run the "
              "check again in a second",
        "fr": "le sélecteur désigne {count} pod(s) mais l'EndpointSlice de {service} est encore vide : relancez "
              "la vérification dans une seconde"},
    "j.sel.unanswered": {
        "en": "{url} did not answer ({error})", "fr": "{url} n'a pas répondu ({error})"},
    "j.sel.ok": {
        "en": "{service} selects {selector}: {count} endpoint(s), and {url} answered from {pod}",
        "fr": "{service} sélectionne {selector} : {count} endpoint(s), et {url} a répondu depuis {pod}"},
    # 04.3: the reachability matrix, predicted
    "j.mat.not_pods": {
        "en": "{answer!r} is not a set of pods (\"namespace/name\" strings)",
        "fr": "{answer!r} n'est pas un ensemble de pods (chaînes « namespace/nom »)"},
    "j.mat.unknown": {"en": "{pod} is not one of the exercise's pods ({pods})",
                      "fr": "{pod} n'est pas un des pods de l'exercice ({pods})"},
    "j.mat.missed": {"en": "{src} reached {dst}, you predicted it would not",
                     "fr": "{src} a joint {dst}, vous aviez prédit que non"},
    "j.mat.extra": {"en": "{src} was blocked, you predicted it would reach {dst}",
                    "fr": "{src} a été bloqué, vous aviez prédit qu'il joindrait {dst}"},
    "j.mat.not_grid": {
        "en": "`{variable}` is not a dict {{destination pod: the pods that reach it}} (see the cell above)",
        "fr": "`{variable}` n'est pas un dict {{pod de destination : les pods qui le joignent}} (voir la "
              "cellule au-dessus)"},
    "j.mat.column_missing": {
        "en": "who reaches {dst}? Its entry is still `None`: write a set of pods, `set()` for nobody, or `\"*\"` "
              "for every other pod",
        "fr": "qui joint {dst} ? Son entrée vaut encore `None` : écrivez un ensemble de pods, `set()` pour "
              "personne, ou `\"*\"` pour tous les autres pods"},
    "j.mat.score": {"en": "{right} of the {total} cells of the matrix are right",
                    "fr": "{right} des {total} cases de la matrice sont justes"},
    "j.mat.more": {"en": "… and {count} more wrong cells", "fr": "… et {count} autres cases fausses"},
    "j.mat.more_one": {"en": "… and 1 more wrong cell", "fr": "… et 1 autre case fausse"},
    "j.mat.ok": {"en": "right: all {total} cells of the matrix ({count} connection(s) allowed on port {port})",
                 "fr": "exact : les {total} cases de la matrice ({count} connexion(s) autorisée(s) sur le "
                       "port {port})"},
    # 04.5: DNS after a default-deny egress
    "j.dns.unresolved": {
        "en": "{pod} still cannot resolve {name} ({error}): its DNS queries go to the kube-dns pods on port 53",
        "fr": "{pod} n'arrive toujours pas à résoudre {name} ({error}) : ses requêtes DNS vont vers les pods "
              "kube-dns sur le port 53"},
    "j.dns.open": {
        "en": "{pod} now reaches {other} too: keep the egress deny, and allow DNS only",
        "fr": "{pod} joint maintenant {other} aussi : gardez le refus en sortie, et n'autorisez que le DNS"},
    "j.dns.ok": {
        "en": "{pod} resolves {name} ({ips}) and still cannot reach {other}: DNS only",
        "fr": "{pod} résout {name} ({ips}) et ne joint toujours pas {other} : le DNS seulement"},
    # 05: which stack?
    "j.stack.no_cni": {"en": "the recognition found no CNI on this node", "fr": "aucune CNI reconnue sur ce nœud"},
    "j.stack.wrong_cni": {
        "en": "not {answer}: look at the host-side veth names and the device of the routes to the other nodes' "
              "pod CIDRs",
        "fr": "pas {answer} : regardez le nom des veth côté hôte et l'interface des routes vers les CIDR de "
              "pods des autres nœuds"},
    "j.stack.mode": {
        "en": "right CNI ({cni}); now its mode: how do packets cross to another node (a tunnel device? plain "
              "routes via node IPs?)",
        "fr": "bonne CNI ({cni}) ; maintenant son mode : comment les paquets passent-ils vers un autre nœud "
              "(une interface tunnel ? de simples routes via les IP des nœuds ?)"},
    "j.stack.ok": {"en": "right: {cni} in {mode} mode ({evidence})", "fr": "exact : {cni} en mode {mode} ({evidence})"},
}


def look_alike(kind: str, key: str, facts: dict, lang: str) -> str | None:
    """What to say when ``kind`` ``namespace/name`` is missing and one like it exists: facts
    ``elsewhere`` (namespaces holding that name) and ``close`` (names of the namespace close to it),
    as :func:`labkit.exercises.services.look_alikes` reads them. None when there is none."""
    namespace, _, name = key.partition("/")
    if facts.get("elsewhere"):
        return i18n.t("j.where.elsewhere", lang, kind=kind, name=name, namespace=namespace,
                      found=", ".join(facts["elsewhere"]))
    if facts.get("close"):
        return i18n.t("j.where.close", lang, kind=kind, name=name, namespace=namespace,
                      close=", ".join(f"{namespace}/{c}" for c in facts["close"]))
    return None


SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


def misplaced(facts: dict, namespace: str, lang: str) -> list[str]:
    """Policies in a namespace where none of the exercise's pods runs (made without ``-n``?): they
    protect nothing here. Facts: ``pods`` (``namespace/name``, the exercise's) and ``policies``
    (``namespace/name``, every NetworkPolicy of the cluster)."""
    mine = {p.split("/", 1)[0] for p in facts.get("pods") or []} | set(SYSTEM_NAMESPACES)
    return [i18n.t("ex.pol.elsewhere", lang, policy=key, found=key.split("/", 1)[0], namespace=namespace)
            for key in facts.get("policies") or [] if key.split("/", 1)[0] not in mine][:4]


def _missing(answer: Any) -> bool:
    return answer is None or (isinstance(answer, (str, list, tuple, set, frozenset, dict)) and not answer)


def _no_answer(variable: str, lang: str) -> Result:
    return failed(i18n.t("j.no_answer", lang, variable=variable))


# --- 02.5 --------------------------------------------------------------------------------------------
def device_towards(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``node``, ``pod``, ``ip``, ``route`` (``{dst, gateway, dev}`` the kernel picks, or None),
    ``devices`` (name -> kind: ``veth``, ``vxlan``, ``bridge``...). answer: a device name."""
    if _missing(answer):
        return _no_answer(facts.get("variable", "device"), lang)
    name = str(answer).strip().split("@")[0]
    route, node, ip = facts.get("route"), facts["node"], facts["ip"]
    if route is None:
        return failed(i18n.t("j.dev.no_route", lang, node=node, ip=ip))
    if name == route["dev"]:
        return passed(i18n.t("j.dev.ok", lang, pod=facts["pod"], ip=ip, node=node, dev=name,
                             route=_describe(route)))
    devices = facts.get("devices") or {}
    if name not in devices:
        return failed(i18n.t("j.dev.unknown", lang, answer=name, node=node))
    if devices[name] == "veth" and name.startswith("veth"):
        return failed(i18n.t("j.dev.local_pod", lang, answer=name, node=node, pod=facts["pod"], ip=ip))
    return failed(i18n.t("j.dev.wrong", lang, answer=name, node=node, ip=ip))


def _describe(route: dict) -> str:
    parts: list[str] = [route["type"]] if route.get("type") not in (None, "unicast") else []
    parts.append(route["dst"])
    if route.get("gateway"):
        parts += ["via", route["gateway"]]
    if route.get("dev"):
        parts += ["dev", route["dev"]]
    return " ".join(parts)


# --- 02.7 --------------------------------------------------------------------------------------------
def route_restored(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``node``, ``cidr`` (another node's pod CIDR), ``owner`` (that node) and ``owner_ip`` (its
    InternalIP), ``route`` (the route of ``node`` whose destination is exactly ``cidr``, or None),
    ``src``/``dst`` (two pods) and ``reached``/``error`` (a real request between them). No answer:
    the fix is on the cluster."""
    node, cidr, owner, want = facts["node"], facts["cidr"], facts["owner"], facts["owner_ip"]
    route = facts.get("route")
    if route is None:
        return failed(i18n.t("j.fix.route_missing", lang, node=node, cidr=cidr, owner=owner))
    if route.get("type", "unicast") != "unicast":
        return failed(i18n.t("j.fix.route_type", lang, node=node, cidr=cidr, type=route["type"]))
    if not route.get("gateway"):
        return failed(i18n.t("j.fix.route_no_via", lang, node=node, cidr=cidr, owner=owner))
    if route.get("gateway") != want:
        return failed(i18n.t("j.fix.route_via", lang, node=node, cidr=cidr, via=route["gateway"], owner=owner))
    if not facts.get("reached"):
        return failed(i18n.t("j.fix.unreached", lang, src=facts["src"], dst=facts["dst"],
                             error=facts.get("error") or "-"))
    return passed(i18n.t("j.fix.route_ok", lang, node=node, cidr=cidr, via=want, owner=owner, src=facts["src"],
                         dst=facts["dst"]))


# --- 03.2 --------------------------------------------------------------------------------------------
def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float, Fraction)):
        return float(value)
    return float(Fraction(str(value).strip()))


def sep_probabilities(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``service``, ``mode`` (kube-proxy's), ``expected`` (the number of endpoints the
    prediction is about), ``probabilities`` (one per KUBE-SEP jump of the KUBE-SVC chain, in order,
    1.0 for the last, unconditional one). answer: the predicted values, the last 1.0 optional."""
    if _missing(answer):
        return _no_answer(facts.get("variable", "probabilities"), lang)
    try:
        values = [_number(v) for v in answer]
    except (TypeError, ValueError, ZeroDivisionError):
        return failed(i18n.t("j.prob.not_numbers", lang, answer=answer))
    if facts.get("mode") != "iptables":
        return failed(i18n.t("j.prob.not_iptables", lang, mode=facts.get("mode")))
    actual, expected = facts["probabilities"], facts["expected"]
    if len(actual) != expected:
        return failed(i18n.t("j.prob.count", lang, service=facts["service"], actual=len(actual), expected=expected))
    if len(values) == expected - 1:
        values.append(1.0)                  # the last jump has no --probability: it always matches
    if len(values) != expected:
        return failed(i18n.t("j.prob.length", lang, count=len(values), expected=expected))
    wrong = [i18n.t("j.prob.wrong", lang, index=i + 1, answer=i18n.number(v, ".4g", lang),
                    actual=i18n.number(a, ".4g", lang))
             for i, (v, a) in enumerate(zip(values, actual)) if abs(v - a) > 0.005]
    if wrong:
        return failed(*wrong, i18n.t("j.prob.why", lang))
    return passed(i18n.t("j.prob.ok", lang, values=_list_sep(lang).join(i18n.number(a, ".4g", lang) for a in actual),
                         count=expected))


def _list_sep(lang: str | None) -> str:
    """Between the items of a list in a sentence: "0,2 ; 0,25" in French (the comma is the decimal
    mark there), "0.2, 0.25" in English."""
    return " ; " if (lang or i18n.get_language()) == "fr" else ", "


# --- 03.4 --------------------------------------------------------------------------------------------
def selector_fixed(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``service``, ``exists``, ``selector`` (dict), ``matching`` (running pods it selects),
    ``endpoints`` (ready addresses in its EndpointSlices), ``url``, ``answered_by`` (the pod that
    answered a real request through the ClusterIP, or None) and ``error``."""
    service = facts["service"]
    if not facts.get("exists"):
        return failed(i18n.t("j.sel.no_service", lang, service=service))
    selector = facts.get("selector") or {}
    if not selector:
        return failed(i18n.t("j.sel.none", lang, service=service))
    text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    if not facts.get("matching"):
        return failed(i18n.t("j.sel.nothing", lang, service=service, selector=text))
    if not facts.get("endpoints"):
        return failed(i18n.t("j.sel.empty_slice", lang, service=service, count=len(facts["matching"])))
    if not facts.get("answered_by"):
        return failed(i18n.t("j.sel.unanswered", lang, url=facts.get("url"), error=facts.get("error") or "-"))
    return passed(i18n.t("j.sel.ok", lang, service=service, selector=text, count=len(facts["endpoints"]),
                         url=facts["url"], pod=facts["answered_by"]))


# --- 04.4 --------------------------------------------------------------------------------------------
def _pod_set(answer: Any) -> set[str] | None:
    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, Iterable) or isinstance(answer, dict):
        return None
    items = list(answer)
    if not all(isinstance(a, str) and "/" in a for a in items):
        return None
    return {a.strip() for a in items}


MAX_WRONG = 6               # wrong cells listed before "and N more"
EVERY_OTHER = "*"           # in a prediction: every other pod reaches this one


def reach_matrix(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``pods`` (every pod probed), ``allowed`` (``[src, dst]`` pairs whose connection completed,
    real packets) and ``port``. answer: the predicted matrix, column by column: ``{dst: sources}``
    for every pod, where sources is a set of ``"namespace/name"``, ``set()`` for nobody, or ``"*"`` for
    every other pod. A pod always reaches itself: the diagonal is not asked."""
    variable = facts.get("variable", "who_reaches")
    if answer is None:
        return _no_answer(variable, lang)
    if not isinstance(answer, dict):
        return failed(i18n.t("j.mat.not_grid", lang, variable=variable))
    pods, port = list(facts["pods"]), facts["port"]
    listed = ", ".join(sorted(pods))
    unknown = sorted(str(k) for k in answer if k not in pods)
    if unknown:
        return failed(*[i18n.t("j.mat.unknown", lang, pod=p, pods=listed) for p in unknown])
    allowed = {(s, d) for s, d in facts["allowed"]}
    right, missing, wrong = 0, [], []
    for dst in sorted(pods):
        value = answer.get(dst)
        if value is None:
            missing.append(i18n.t("j.mat.column_missing", lang, dst=dst))
            continue
        others = set(pods) - {dst}
        predicted = others if value == EVERY_OTHER else _pod_set(value)
        if predicted is None:
            return failed(i18n.t("j.mat.not_pods", lang, answer=value))
        strangers = sorted(predicted - set(pods))
        if strangers:
            return failed(*[i18n.t("j.mat.unknown", lang, pod=p, pods=listed) for p in strangers])
        predicted -= {dst}
        reached = {s for s in others if (s, dst) in allowed}
        wrong += [i18n.t("j.mat.missed", lang, src=s, dst=dst) for s in sorted(reached - predicted)]
        wrong += [i18n.t("j.mat.extra", lang, src=s, dst=dst) for s in sorted(predicted - reached)]
        right += len(others) - len(reached ^ predicted)
    total = len(pods) * (len(pods) - 1)
    if missing or wrong:
        shown = wrong[:MAX_WRONG] + ([i18n.t("j.mat.more" if len(wrong) - MAX_WRONG > 1 else "j.mat.more_one", lang,
                                            count=len(wrong) - MAX_WRONG)]
                                     if len(wrong) > MAX_WRONG else [])
        return failed(i18n.t("j.mat.score", lang, right=right, total=total), *missing, *shown)
    count = sum(1 for s, d in allowed if s != d and s in pods and d in pods)
    return passed(i18n.t("j.mat.ok", lang, total=total, count=count, port=port))


# --- 04.5 --------------------------------------------------------------------------------------------
def dns_allowed(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``pod``, ``name`` (a Service name it resolves), ``resolved`` (the addresses it got, empty
    when the query failed), ``error``, ``other`` (a pod the egress deny must still block),
    ``reaches_other`` (real packets); when unresolved, ``policies`` (every NetworkPolicy,
    ``namespace/name``) and ``pod_namespaces`` (where pods run), for the hint of a misplaced policy."""
    pod, name, other = facts["pod"], facts["name"], facts["other"]
    if not facts.get("resolved"):
        return failed(i18n.t("j.dns.unresolved", lang, pod=pod, name=name, error=facts.get("error") or "-"),
                      *misplaced(dict(facts, pods=[f"{ns}/-" for ns in facts.get("pod_namespaces") or []]),
                                 pod.split("/", 1)[0], lang))
    if facts.get("reaches_other"):
        return failed(i18n.t("j.dns.open", lang, pod=pod, other=other))
    return passed(i18n.t("j.dns.ok", lang, pod=pod, name=name, ips=", ".join(facts["resolved"]), other=other))


# --- 05 ----------------------------------------------------------------------------------------------
ALIASES = {"hostgw": "host-gw", "host_gw": "host-gw", "kuberouter": "kube-router", "kube_router": "kube-router",
           "ip-in-ip": "ipip", "ipinip": "ipip"}


def _words(answer: Any) -> list[str]:
    if isinstance(answer, (list, tuple)):
        answer = " ".join(str(a) for a in answer)
    words = str(answer).lower().replace(",", " ").replace("(", " ").replace(")", " ").split()
    return [ALIASES.get(w, w) for w in words]


def stack(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``cni``, ``mode`` and ``evidence`` of :func:`labkit.inspect.cni.recognise` on one node.
    answer: the CNI and its mode, e.g. ``"flannel vxlan"`` (or a tuple)."""
    if _missing(answer):
        return _no_answer(facts.get("variable", "stack"), lang)
    cni, mode = facts.get("cni"), facts.get("mode")
    if not cni:
        return failed(i18n.t("j.stack.no_cni", lang))
    words = _words(answer)
    if cni not in words:
        return failed(i18n.t("j.stack.wrong_cni", lang, answer=" ".join(words)))
    if mode and mode not in words:
        return failed(i18n.t("j.stack.mode", lang, cni=cni))
    return passed(i18n.t("j.stack.ok", lang, cni=cni, mode=mode or "-",
                         evidence=("; " if _list_sep(lang) == ", " else " ; ").join((facts.get("evidence") or [])[:3])))


# --- 00-02: pods (the messages are pods.py's) ------------------------------------------------------------
def _not_running(state: dict, lang: str) -> Result | None:
    if not state.get("exists"):
        return failed(look_alike("pod", state["pod"], state, lang) or i18n.t("pods.no_pod", lang, pod=state["pod"]))
    if state.get("phase") != "Running" or not state.get("ip"):
        return failed(i18n.t("pods.not_running", lang, pod=state["pod"], phase=state.get("phase") or "Pending"))
    return None


def _ip_answer(answer: Any, variable: str, lang: str) -> tuple[str | None, Result | None]:
    if _missing(answer) or not str(answer).strip():
        return None, _no_answer(variable, lang)
    try:
        return str(ipaddress.ip_address(str(answer).strip().split("/")[0])), None
    except ValueError:
        return None, failed(i18n.t("pods.ip.not_ip", lang, answer=str(answer)))


def pod_running(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``pod``, ``exists``, ``phase``, ``node``, ``ip``. No answer: the pod is the answer."""
    waiting = _not_running(facts, lang)
    if waiting is not None:
        return waiting
    return passed(i18n.t("pods.running.ok", lang, pod=facts["pod"], node=facts["node"], ip=facts["ip"]))


def pod_on_node(facts: dict, answer: Any, lang: str) -> Result:
    """facts: the pod's state, ``wanted`` (the node, full name), ``known``, ``nodes``, ``cidr``."""
    if not facts.get("known"):
        return failed(i18n.t("pods.node.unknown", lang, node=facts["wanted"], nodes=", ".join(facts["nodes"])))
    if facts.get("exists") and facts.get("node") != facts["wanted"]:
        return failed(i18n.t("pods.node.wrong", lang, pod=facts["pod"], actual=facts.get("node") or "-",
                             node=facts["wanted"]))
    waiting = _not_running(facts, lang)
    if waiting is not None:
        return waiting
    return passed(i18n.t("pods.node.ok", lang, pod=facts["pod"], node=facts["wanted"], ip=facts["ip"],
                         cidr=facts.get("cidr") or "-"))


def pod_ip(facts: dict, answer: Any, lang: str) -> Result:
    """facts: the pod's state and ``own`` (the IPv4 addresses on its eth0, read inside it). answer: an IP."""
    ip, refused = _ip_answer(answer, facts.get("variable", "pinned_ip"), lang)
    if refused is not None:
        return refused
    waiting = _not_running(facts, lang)
    if waiting is not None:
        return waiting
    if ip not in facts.get("own", []):
        return failed(i18n.t("pods.ip.wrong", lang, answer=ip, pod=facts["pod"]))
    return passed(i18n.t("pods.ip.ok", lang, pod=facts["pod"], ip=ip, api_ip=facts["ip"]))


def no_nat(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``client`` and ``server`` (pod states), ``seen`` (the client_ip the server reported to
    a request of the check's own, from the client) and ``error``. answer: the client_ip the learner read."""
    cli, srv = facts["client"], facts["server"]
    waiting = _not_running(srv, lang)
    waiting = waiting if waiting is not None else _not_running(cli, lang)
    if waiting is not None:
        return waiting
    c, s = cli["pod"].split("/")[-1], srv["pod"].split("/")[-1]
    if cli["node"] == srv["node"]:
        return failed(i18n.t("pods.nat.same_node", lang, client=c, server=s, node=cli["node"]))
    ip, refused = _ip_answer(answer, facts.get("variable", "talker_saw"), lang)
    if refused is not None:
        return refused
    if facts.get("seen") is None:
        return failed(i18n.t("pods.nat.unreachable", lang, client=c, server=s, ip=srv["ip"], port=80,
                             error=facts.get("error") or "-"))
    if ip != facts["seen"]:
        return failed(i18n.t("pods.nat.wrong", lang, server=s, answer=ip))
    return passed(i18n.t("pods.nat.ok", lang, server=s, server_node=srv["node"], ip=ip, client=c,
                         client_node=cli["node"]))


def host_veth(facts: dict, answer: Any, lang: str) -> Result:
    """facts: the pod's state, ``peer_index`` (N of its ``eth0@ifN``), ``host`` (the node's interface of
    that index). answer: an interface name."""
    if _missing(answer) or not str(answer).strip():
        return _no_answer(facts.get("variable", "veth"), lang)
    waiting = _not_running(facts, lang)
    if waiting is not None:
        return waiting
    name = str(answer).strip().split("@")[0]
    if facts.get("host") is None:
        return failed(i18n.t("pods.veth.not_found", lang, pod=facts["pod"], node=facts["node"]))
    if name != facts["host"]:
        return failed(i18n.t("pods.veth.wrong", lang, answer=name, pod=facts["pod"], node=facts["node"]))
    return passed(i18n.t("pods.veth.ok", lang, veth=name, index=facts["peer_index"], node=facts["node"],
                         pod=facts["pod"]))


def tunnel_device(facts: dict, answer: Any, lang: str) -> Result:
    """facts: ``node``, ``cidr`` (another node's pod CIDR), ``route`` it uses, the ``kind`` of that
    route's device and its ``vxlan`` attributes. answer: a device name."""
    if _missing(answer) or not str(answer).strip():
        return _no_answer(facts.get("variable", "device"), lang)
    name, route = str(answer).strip(), facts["route"]
    if name != route["dev"]:
        uplink = facts.get("kind") == "vxlan" and name == "eth0"
        return failed(i18n.t("pods.tunnel.uplink" if uplink else "pods.tunnel.wrong", lang, answer=name,
                             node=facts["node"], cidr=facts["cidr"]))
    vxlan = facts.get("vxlan")
    details = i18n.t("pods.tunnel.vxlan", lang, vni=vxlan.get("id"), port=vxlan.get("port")) if vxlan else ""
    return passed(i18n.t("pods.tunnel.ok", lang, node=facts["node"], cidr=facts["cidr"], route=_describe(route),
                         dev=route["dev"], kind=facts.get("kind") or "?", details=details))


__all__ = ["device_towards", "route_restored", "sep_probabilities", "selector_fixed", "reach_matrix", "dns_allowed",
           "stack", "pod_running", "pod_on_node", "pod_ip", "no_nat", "host_veth", "tunnel_device"]
