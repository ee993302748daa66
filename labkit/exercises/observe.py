"""The I/O halves of the exercises: ``observe(cluster, **params) -> facts`` (plain JSON-able dicts).

Everything goes through what works on kind and on the embedded lab alike: objects through the
Kubernetes API, a node's routes and interfaces through the node seam (``cluster.node(...)``,
:mod:`labkit.nodes`), a pod's view and real requests through the API's exec (as ``kubectl exec``).
Only the policy exercises use ``labkit.probe`` (every pod to every pod), which needs the embedded
lab. What cannot be seen yet raises :class:`~labkit.exercises.core.NotObserved`; the verdicts are
in :mod:`labkit.exercises.judges`.
"""
from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from ..inspect.iproute import parse_addr, parse_routes, route_for
from .core import NotObserved
from .pods import pod_exec

MESSAGES = {
    "obs.no_pod": {"en": "there is no running pod {pod} (did the setup cells run?)",
                   "fr": "il n'y a pas de pod {pod} en marche (les cellules de mise en place ont-elles tourné ?)"},
    "obs.same_node": {"en": "{pod} runs on {node} itself: the exercise needs a pod on another node",
                      "fr": "{pod} tourne sur {node} lui-même : l'exercice demande un pod d'un autre nœud"},
    "obs.no_cidr": {"en": "node {node} has no pod CIDR", "fr": "le nœud {node} n'a pas de CIDR de pods"},
    "obs.no_chain": {
        "en": "node {node} has no kube-proxy chain for {service} yet: does the Service exist and have endpoints?",
        "fr": "le nœud {node} n'a pas encore de chaîne kube-proxy pour {service} : le Service existe-t-il, "
              "a-t-il des endpoints ?"},
}

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "cni"
NODE_FILES = {"addr": "ip-addr.json", "route": "ip-route.json", "iptables": "iptables-save.txt",
              "nft": "nft-ruleset.json", "ipvsadm": "ipvsadm.txt"}
# The mystery nodes of notebook 05: which recording each exercise shows (not written in the notebook).
MYSTERIES = {"05.1": ("calico-vxlan", "kind-worker"), "05.2": ("flannel-host-gw", "kind-worker")}


# --- small readers ------------------------------------------------------------------------------------
def _pod(cluster: Any, key: str) -> dict:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    namespace, _, name = key.partition("/")
    try:
        resp = client.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace, _preload_content=False)
    except ApiException:
        raise NotObserved("obs.no_pod", pod=key) from None
    pod = json.loads(resp.data)
    if (pod.get("status") or {}).get("phase") != "Running" or not pod["status"].get("podIP"):
        raise NotObserved("obs.no_pod", pod=key)
    return pod


def _nodes(cluster: Any) -> dict[str, dict]:
    """Node name -> ``{"cidr": podCIDR, "ip": InternalIP}``."""
    from kubernetes import client

    out = {}
    for n in client.CoreV1Api(cluster.api).list_node().items:
        ip = next((a.address for a in n.status.addresses or [] if a.type == "InternalIP"), None)
        out[n.metadata.name] = {"cidr": n.spec.pod_cidr, "ip": ip}
    return out


def _route_dict(route) -> dict | None:
    if route is None:
        return None
    return {"dst": route.dst, "gateway": route.gateway, "dev": route.dev, "type": route.type}


def _request(cluster: Any, src: str, url: str, timeout: int = 2) -> tuple[dict | None, str]:
    """GET ``url`` from pod ``src`` (real packets): the echo responder's JSON, or None and why."""
    namespace, _, name = src.partition("/")
    try:
        out = pod_exec(cluster, namespace, name, ["curl", "-s", "-m", str(timeout), url], timeout=timeout + 8)
        return json.loads(out), ""
    except Exception as exc:  # noqa: BLE001 - the reason is shown to the learner
        return None, (str(exc).strip().splitlines() or [type(exc).__name__])[0][:80]


# --- 02.5: the device a packet to another node's pod leaves by -----------------------------------------
def device_towards(cluster: Any, node: str, pod: str) -> dict:
    target = _pod(cluster, pod)
    full = cluster.node(node).name
    if target["spec"].get("nodeName") == full:
        raise NotObserved("obs.same_node", pod=pod, node=full)
    ip = target["status"]["podIP"]
    access = cluster.node(node)
    route = route_for(parse_routes(access.run(["ip", "-j", "route", "show"])), ip)
    devices = {i.name: i.kind or "-" for i in parse_addr(access.run(["ip", "-j", "-d", "link", "show"]))}
    return {"node": full, "pod": pod, "ip": ip, "route": _route_dict(route), "devices": devices}


# --- 02.7: the route restored ----------------------------------------------------------------------------
def route_restored(cluster: Any, node: str, src: str, dst: str) -> dict:
    """The route ``node`` holds for the pod CIDR of ``dst``'s node, and a real request ``src`` -> ``dst``."""
    target = _pod(cluster, dst)
    owner = target["spec"]["nodeName"]
    nodes = _nodes(cluster)
    full = cluster.node(node).name
    if owner == full:
        raise NotObserved("obs.same_node", pod=dst, node=full)
    cidr = nodes[owner]["cidr"]
    if not cidr:
        raise NotObserved("obs.no_cidr", node=owner)
    want = ipaddress.ip_network(cidr)
    routes = [r for r in parse_routes(cluster.node(node).run(["ip", "-j", "route", "show"])) if r.table == "main"]
    exact = next((r for r in routes if r.dst != "default" and ipaddress.ip_network(r.cidr, strict=False) == want),
                 None)
    answer, error = _request(cluster, src, f"http://{target['status']['podIP']}/")
    return {"node": full, "cidr": cidr, "owner": owner, "owner_ip": nodes[owner]["ip"], "route": _route_dict(exact),
            "src": src, "dst": dst, "reached": answer is not None, "error": error}


# --- 03.2: the KUBE-SEP probabilities ------------------------------------------------------------------
def sep_probabilities(cluster: Any, service: str, node: str = "worker", expected: int = 5) -> dict:
    from .services import svc_chain_rules

    access = cluster.node(node)
    try:
        rules = access.run(["iptables-save"])
    except Exception:  # noqa: BLE001 - no iptables: not the iptables mode
        rules = ""
    chain, probabilities = svc_chain_rules(rules, service)
    if chain is None:
        nft = ""
        try:
            nft = access.run(["nft", "list", "table", "ip", "kube-proxy"])
        except Exception:  # noqa: BLE001
            pass
        if "kube-proxy" in nft:
            return {"service": service, "mode": "nftables", "expected": expected, "probabilities": []}
        raise NotObserved("obs.no_chain", node=access.name, service=service)
    return {"service": service, "mode": "iptables", "expected": expected, "chain": chain,
            "probabilities": probabilities}


# --- 03.4: the Service whose selector matched nothing ----------------------------------------------------
def selector_fixed(cluster: Any, service: str, client_pod: str, port: int = 80) -> dict:
    from .services import read, ready_endpoints, running

    namespace, _, name = service.partition("/")
    svc = read(cluster.api, "service", namespace, name)
    facts: dict = {"service": service, "exists": svc is not None, "selector": None, "matching": [],
                   "endpoints": [], "url": None, "answered_by": None, "error": ""}
    if svc is None:
        return facts
    selector = svc["spec"].get("selector") or {}
    facts["selector"] = selector
    if selector:
        text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        facts["matching"] = sorted(p["metadata"]["name"] for p in running(read(cluster.api, "pod", namespace,
                                                                              selector=text)))
    from .services import poll

    slices = lambda: ready_endpoints(read(cluster.api, "endpointslice", namespace), name)  # noqa: E731
    # the EndpointSlice controller follows a fixed selector a moment later: wait for it, not for nothing
    facts["endpoints"] = sorted(poll(slices, lambda eps: len(eps) >= len(facts["matching"])) if facts["matching"]
                                else slices())
    facts["url"] = f"http://{svc['spec'].get('clusterIP')}:{port}/"
    if facts["endpoints"]:
        answer, error = poll(lambda: _request(cluster, client_pod, facts["url"]), lambda r: r[0] is not None)
        facts["answered_by"] = (answer or {}).get("pod")
        facts["error"] = error
    return facts


# --- 04.5: DNS through an egress deny -------------------------------------------------------------------------
def dns_allowed(cluster: Any, pod: str, name: str, other: str, port: int = 80) -> dict:
    from .services import poll

    namespace, _, short = pod.partition("/")
    other_ip = _pod(cluster, other)["status"]["podIP"]

    def resolve() -> tuple[list[str], str]:
        try:
            out = pod_exec(cluster, namespace, short, ["dig", "+short", "+time=1", "+tries=1", name], timeout=10)
        except Exception as exc:  # noqa: BLE001
            return [], (str(exc).strip().splitlines() or ["dig failed"])[0][:80]
        ips = [line.strip() for line in out.splitlines() if _is_ip(line.strip())]
        return ips, "" if ips else (out.strip().splitlines() or ["no answer"])[-1][:80]

    def reaches() -> bool:
        try:
            pod_exec(cluster, namespace, short, ["nc", "-z", "-w", "1", other_ip, str(port)], timeout=10)
            return True
        except Exception:  # noqa: BLE001 - a refused or dropped connection
            return False

    resolved, error = poll(resolve, lambda r: bool(r[0]))
    return {"pod": pod, "name": name, "resolved": resolved, "error": error, "other": other,
            "reaches_other": reaches(), **({} if resolved else _policies(cluster))}


def _policies(cluster: Any) -> dict:
    """For a hint: every NetworkPolicy (``policies``, ``namespace/name``) and the namespaces where
    pods run (``pod_namespaces``); nothing if unreadable."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        policies = json.loads(client.NetworkingV1Api(cluster.api).list_network_policy_for_all_namespaces(
            _preload_content=False).data).get("items") or []
        pods = json.loads(client.CoreV1Api(cluster.api).list_pod_for_all_namespaces(
            _preload_content=False).data).get("items") or []
    except (ApiException, OSError, ValueError):
        return {}
    return {"policies": sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in policies),
            "pod_namespaces": sorted({p["metadata"]["namespace"] for p in pods})}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


# --- 05: which stack ---------------------------------------------------------------------------------------------
def _recognition_facts(rec) -> dict:
    return {"cni": rec.cni, "mode": rec.mode, "evidence": list(rec.evidence)}


def mystery_outputs(exercise: str) -> dict[str, str]:
    """What the mystery node of ``exercise`` printed (``ip -j -d addr``, ``ip -j route``...)."""
    recording, node = MYSTERIES[exercise]
    base = FIXTURES / recording / node
    return {k: (base / f).read_text() if (base / f).exists() else "" for k, f in NODE_FILES.items()}


def mystery(cluster: Any, exercise: str) -> dict:
    """The recognition of a recorded node (the cluster is not read: the node is a recording)."""
    from ..inspect.cni import recognize

    out = mystery_outputs(exercise)
    rec = recognize(parse_addr(out["addr"]), parse_routes(out["route"]), out["iptables"] or None,
                    out["nft"] or None, out["ipvsadm"] or None)
    return _recognition_facts(rec)


def stack(cluster: Any) -> dict:
    """The recognition of a live cluster (its nodes read through the seam)."""
    cluster.snapshot(with_pod_networks=False)
    return _recognition_facts(cluster.recognition)


__all__ = ["device_towards", "route_restored", "sep_probabilities", "selector_fixed", "dns_allowed",
           "mystery", "mystery_outputs", "stack", "MYSTERIES"]


# --- 00-02: pods, their addresses and their wiring ---------------------------------------------------------
def _pod_state(cluster: Any, key: str, wait: float = 10.0) -> dict:
    """``{"pod", "exists", "phase", "node", "ip"}``; a pod that is still Pending gets ``wait`` seconds."""
    import time

    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    namespace, _, name = key.partition("/")
    deadline = time.monotonic() + wait
    while True:
        try:
            pod = json.loads(client.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace,
                                                                                _preload_content=False).data)
        except ApiException as exc:
            if exc.status == 404:
                from .services import look_alikes

                return {"pod": key, "exists": False, "phase": None, "node": None, "ip": None,
                        **look_alikes(cluster.api, "pod", namespace, name)}
            raise
        status = pod.get("status") or {}
        phase = status.get("phase") or "Pending"
        state = {"pod": key, "exists": True, "phase": phase, "node": (pod.get("spec") or {}).get("nodeName"),
                 "ip": status.get("podIP")}
        if (phase == "Running" and state["ip"]) or phase != "Pending" or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def pod_running(cluster: Any, pod: str) -> dict:
    return _pod_state(cluster, pod)


def pod_on_node(cluster: Any, pod: str, node: str) -> dict:
    nodes = _nodes(cluster)
    full = node if node in nodes else next((n for n in nodes if n.endswith(f"-{node}")), None)
    state = _pod_state(cluster, pod)
    return dict(state, wanted=full or node, known=full is not None, nodes=sorted(nodes),
                cidr=((nodes.get(full) if full else None) or {}).get("cidr"))


def pod_ip(cluster: Any, pod: str) -> dict:
    state = _pod_state(cluster, pod)
    own: list[str] = []
    if state["phase"] == "Running":
        from .pods import pod_addresses

        namespace, _, name = pod.partition("/")
        own = pod_addresses(cluster, namespace, name)
    return dict(state, own=own)


def no_nat(cluster: Any, client: str, server: str, port: int = 80) -> dict:
    cli, srv = _pod_state(cluster, client), _pod_state(cluster, server)
    facts = {"client": cli, "server": srv, "seen": None, "error": ""}
    if cli["phase"] == "Running" and srv["phase"] == "Running" and cli["node"] != srv["node"]:
        answer, facts["error"] = _request(cluster, client, f"http://{srv['ip']}:{port}/")
        facts["seen"] = (answer or {}).get("client_ip")
    return facts


def host_veth(cluster: Any, pod: str) -> dict:
    state = _pod_state(cluster, pod)
    facts = dict(state, peer_index=None, host=None)
    if state["phase"] == "Running":
        namespace, _, name = pod.partition("/")
        eth0 = parse_addr(pod_exec(cluster, namespace, name, ["ip", "-j", "link", "show", "eth0"]))[0]
        found = next((i for i in parse_addr(cluster.node(state["node"]).run(["ip", "-j", "link", "show"]))
                      if i.index == eth0.peer_index), None)
        facts.update(peer_index=eth0.peer_index, host=found.name if found else None)
    return facts


def tunnel_device(cluster: Any) -> dict:
    from .pods import _NotYet, cross_node_route

    try:
        node, cidr, route, dev = cross_node_route(cluster)
    except _NotYet as why:
        raise NotObserved("ex.unobservable", reason=str(why)) from None
    return {"node": node, "cidr": cidr, "route": _route_dict(route), "kind": dev.kind if dev else None,
            "vxlan": dict(dev.vxlan) if dev is not None and dev.vxlan else None}
