"""What notebooks 00-02 read from pods and nodes, the tables they show, and the environment check.

Pods are read through the Kubernetes API, a pod's own view through ``exec`` (as ``kubectl exec``
does, so it works on kind too), a node's interfaces and routes through the node seam
(:mod:`labkit.nodes`). The exercises of these notebooks are observe/judge pairs
(:mod:`.observe`, :mod:`.judges`); their messages (``pods.*``) live here.

``interfaces_table`` / ``routes_table`` render what ``ip -j addr`` / ``ip -j route`` say as small
bilingual tables, for a node (``cluster.node(...)``) or a pod (:func:`pod_access`).
"""
from __future__ import annotations

import functools
import html
import ipaddress
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import i18n
from ..inspect.iproute import Interface, Route, parse_addr, parse_routes, route_for
from ..nodes import ReadOnlySeam
from . import Result, failed, passed, recorded

ENV_TOOLS = ("kubectl", "ip", "curl", "dot")

MESSAGES = {
    # environment (notebook 00)
    "pods.env.tool": {"en": "{tool}: {path}", "fr": "{tool} : {path}"},
    "pods.env.missing_tool": {
        "en": "`{tool}` is not installed ({why}): run `sudo make lab`, it installs what is missing",
        "fr": "`{tool}` n'est pas installé ({why}) : lancez `sudo make lab`, qui installe ce qui manque"},
    "pods.env.cluster": {
        "en": "cluster {name} ({kind}): {count} nodes answer through the API",
        "fr": "cluster {name} ({kind}) : {count} nœuds répondent via l'API"},
    "pods.env.kind.embedded": {"en": "the embedded lab", "fr": "le lab embarqué"},
    "pods.env.no_cluster": {"en": "no cluster answers: {error}", "fr": "aucun cluster ne répond : {error}"},
    "pods.env.why.kubectl": {"en": "the Kubernetes command line", "fr": "la ligne de commande de Kubernetes"},
    "pods.env.why.ip": {"en": "iproute2, to read interfaces and routes",
                        "fr": "iproute2, pour lire interfaces et routes"},
    "pods.env.why.curl": {"en": "to talk to the pods", "fr": "pour parler aux pods"},
    "pods.env.why.dot": {"en": "graphviz, to draw the diagrams", "fr": "graphviz, pour dessiner les schémas"},
    # shared
    "pods.no_pod": {
        "en": "there is no pod {pod} yet: create it (kubectl run ...)",
        "fr": "il n'y a pas encore de pod {pod} : créez-le (kubectl run ...)"},
    "pods.not_running": {
        "en": "pod {pod} is {phase}, not Running yet: wait a second and run the check again",
        "fr": "le pod {pod} est {phase}, pas encore Running : attendez une seconde et relancez la vérification"},
    "pods.no_answer": {
        "en": "no answer yet: put it in `{variable}` in the cell above",
        "fr": "pas encore de réponse : mettez-la dans `{variable}`, dans la cellule au-dessus"},
    "pods.api_failed": {
        "en": "the API did not answer about {what}: {error}",
        "fr": "l'API n'a pas répondu au sujet de {what} : {error}"},
    "pods.exec_failed": {
        "en": "`{command}` failed in pod {pod}: {error}",
        "fr": "`{command}` a échoué dans le pod {pod} : {error}"},
    "pods.running.ok": {
        "en": "pod {pod} runs on node {node} with IP {ip}",
        "fr": "le pod {pod} tourne sur le nœud {node} avec l'IP {ip}"},
    # notebook 01
    "pods.node.unknown": {
        "en": "there is no node {node} (nodes: {nodes})", "fr": "il n'y a pas de nœud {node} (nœuds : {nodes})"},
    "pods.node.wrong": {
        "en": "pod {pod} runs on {actual}, not on {node}: delete it and create it again with "
              "nodeName or a nodeSelector",
        "fr": "le pod {pod} tourne sur {actual}, pas sur {node} : supprimez-le et recréez-le avec "
              "nodeName ou un nodeSelector"},
    "pods.node.ok": {
        "en": "pod {pod} runs on {node} with IP {ip}, taken from that node's pod CIDR {cidr}",
        "fr": "le pod {pod} tourne sur {node} avec l'IP {ip}, prise dans le CIDR de pods de ce nœud ({cidr})"},
    "pods.ip.not_ip": {"en": "{answer!r} is not an IP address", "fr": "{answer!r} n'est pas une adresse IP"},
    "pods.ip.wrong": {
        "en": "{answer} is not on the eth0 of pod {pod}: run `ip addr` inside the pod (kubectl exec)",
        "fr": "{answer} n'est pas sur l'eth0 du pod {pod} : lancez `ip addr` dans le pod (kubectl exec)"},
    "pods.ip.ok": {
        "en": "eth0 of {pod} carries {ip}, and the API says status.podIP = {api_ip}: the pod knows its own "
              "address, no NAT",
        "fr": "l'eth0 de {pod} porte {ip}, et l'API dit status.podIP = {api_ip} : le pod connaît sa propre "
              "adresse, pas de NAT"},
    "pods.nat.same_node": {
        "en": "{client} and {server} both run on {node}: put {client} on another node",
        "fr": "{client} et {server} tournent tous les deux sur {node} : placez {client} sur un autre nœud"},
    "pods.nat.unreachable": {
        "en": "{client} could not reach {server} ({ip}:{port}): {error}",
        "fr": "{client} n'a pas pu joindre {server} ({ip}:{port}) : {error}"},
    "pods.nat.wrong": {
        "en": "{server} did not see {answer} as the client: read `client_ip` in its answer",
        "fr": "{server} n'a pas vu {answer} comme client : lisez `client_ip` dans sa réponse"},
    "pods.nat.ok": {
        "en": "{server} (on {server_node}) saw {ip}, the pod IP of {client} (on {client_node}): no NAT "
              "between nodes",
        "fr": "{server} (sur {server_node}) a vu {ip}, l'IP de pod de {client} (sur {client_node}) : pas de "
              "NAT entre les nœuds"},
    # notebook 02
    "pods.veth.wrong": {
        "en": "{answer} is not the host side of {pod}'s eth0 on {node}: in the pod, `ip link show eth0` "
              "prints eth0@ifN; on the node, look for the interface whose index is N",
        "fr": "{answer} n'est pas le côté hôte de l'eth0 de {pod} sur {node} : dans le pod, "
              "`ip link show eth0` affiche eth0@ifN ; sur le nœud, cherchez l'interface d'index N"},
    "pods.veth.not_found": {
        "en": "the host side of {pod}'s eth0 was not found on {node}",
        "fr": "le côté hôte de l'eth0 de {pod} est introuvable sur {node}"},
    "pods.veth.ok": {
        "en": "{veth} (index {index} on {node}) is the other end of {pod}'s eth0",
        "fr": "{veth} (index {index} sur {node}) est l'autre bout de l'eth0 de {pod}"},
    "pods.route.same_node": {
        "en": "{pod} runs on {node} itself: pick a pod on another node",
        "fr": "{pod} tourne sur {node} lui-même : prenez un pod d'un autre nœud"},
    "pods.route.none": {"en": "node {node} has no route to {ip}", "fr": "le nœud {node} n'a pas de route vers {ip}"},
    "pods.route.unreadable": {
        "en": "{answer!r} does not look like a line of `ip route` (e.g. `10.1.2.0/24 via 10.0.0.3 dev eth0`)",
        "fr": "{answer!r} ne ressemble pas à une ligne de `ip route` (par ex. `10.1.2.0/24 via 10.0.0.3 dev eth0`)"},
    "pods.route.wrong_dst": {
        "en": "node {node} does not pick a route to {dst} for {ip}: the longest prefix that contains {ip} wins",
        "fr": "le nœud {node} ne choisit pas une route vers {dst} pour {ip} : c'est le plus long préfixe "
              "contenant {ip} qui l'emporte"},
    "pods.route.wrong_via": {
        "en": "the route to {dst} on {node} does not go via {answer}: read its `via`",
        "fr": "la route vers {dst} sur {node} ne passe pas par {answer} : lisez son `via`"},
    "pods.route.wrong_dev": {
        "en": "the route to {dst} on {node} does not leave by {answer}: read its `dev`",
        "fr": "la route vers {dst} sur {node} ne sort pas par {answer} : lisez son `dev`"},
    "pods.route.ok": {
        "en": "node {node} reaches {pod} ({ip}) with `{route}`{towards}",
        "fr": "le nœud {node} joint {pod} ({ip}) avec `{route}`{towards}"},
    "pods.route.towards": {"en": ", towards node {next}", "fr": ", vers le nœud {next}"},
    "pods.tunnel.one_node": {
        "en": "this cluster has only one node with a pod CIDR: there is no cross-node traffic",
        "fr": "ce cluster n'a qu'un nœud avec un CIDR de pods : pas de trafic entre nœuds"},
    "pods.tunnel.uplink": {
        "en": "{answer} carries the packet only once it is wrapped in UDP; look at the route {node} uses "
              "for {cidr}: which `dev` does the pod's packet enter first?",
        "fr": "{answer} ne transporte le paquet qu'une fois encapsulé dans de l'UDP ; regardez la route que "
              "{node} utilise pour {cidr} : dans quel `dev` le paquet du pod entre-t-il d'abord ?"},
    "pods.tunnel.wrong": {
        "en": "{answer} is not the device {node} uses for {cidr}",
        "fr": "{answer} n'est pas l'interface que {node} utilise pour {cidr}"},
    "pods.tunnel.ok": {
        "en": "{node} sends {cidr} with `{route}`; {dev} is a {kind} device{details}",
        "fr": "{node} envoie {cidr} avec `{route}` ; {dev} est une interface {kind}{details}"},
    "pods.tunnel.vxlan": {"en": " (VNI {vni}, UDP port {port})", "fr": " (VNI {vni}, port UDP {port})"},
    # tables
    "pods.table.interface": {"en": "interface", "fr": "interface"},
    "pods.table.index": {"en": "index", "fr": "index"},
    "pods.table.kind": {"en": "kind", "fr": "type"},
    "pods.table.addresses": {"en": "IPv4 addresses", "fr": "adresses IPv4"},
    "pods.table.link": {"en": "peer / bridge", "fr": "pair / pont"},
    "pods.table.state": {"en": "state", "fr": "état"},
    "pods.table.destination": {"en": "destination", "fr": "destination"},
    "pods.table.via": {"en": "via", "fr": "via"},
    "pods.table.dev": {"en": "device", "fr": "interface"},
    "pods.table.scope": {"en": "scope", "fr": "portée"},
    "pods.table.flags": {"en": "flags", "fr": "options"},
}


# --- tables --------------------------------------------------------------------------------------
@dataclass(repr=False)
class Table:
    """A small table that prints as text and renders as HTML in Jupyter."""

    title: str
    columns: list[str]
    rows: list[list[str]]

    def __str__(self) -> str:
        widths = [max([len(c)] + [len(r[i]) for r in self.rows]) for i, c in enumerate(self.columns)]

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        return "\n".join([self.title, line(self.columns), *(line(r) for r in self.rows)])

    __repr__ = __str__          # a console (or a notebook saved as text) shows the table too

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='font-family:monospace;text-align:left'>{html.escape(v)}</td>"
                                        for v in r) + "</tr>" for r in self.rows)
        return f"<div><b>{html.escape(self.title)}</b><table><tr>{head}</tr>{body}</table></div>"


def _read(source: Any, argv: list[str], parse: Callable[[str], list]) -> tuple[list, str]:
    """A list as is, or what a seam (``cluster.node(...)``, :func:`pod_access`) prints, parsed."""
    if isinstance(source, list):
        return source, "-"
    return parse(source.run(argv)), getattr(source, "name", "-")


def interfaces_table(source: Any, lang: str | None = None) -> Table:
    """``ip -j -d addr`` of a node or pod (a seam with ``.run``, or parsed interfaces) as a table."""
    items, name = _read(source, ["ip", "-j", "-d", "addr", "show"], parse_addr)
    cols = [i18n.t(f"pods.table.{k}", lang) for k in ("interface", "index", "kind", "addresses", "link", "state")]
    rows = [[i.name, str(i.index), i.kind, " ".join(a.cidr for a in i.ipv4()) or "-", _link(i), i.state]
            for i in items]
    return Table(name, cols, rows)


def _link(i: Interface) -> str:
    if i.master:
        return f"master {i.master}"
    if i.vxlan:
        return f"VNI {i.vxlan.get('id')} :{i.vxlan.get('port')}"
    if i.peer_index is not None:
        return i.peer or f"@if{i.peer_index}"
    return "-"


def routes_table(source: Any, lang: str | None = None) -> Table:
    """``ip -j route`` of a node or pod as a table (one row per route, as the kernel holds them)."""
    items, name = _read(source, ["ip", "-j", "route", "show"], parse_routes)
    cols = [i18n.t(f"pods.table.{k}", lang) for k in ("destination", "via", "dev", "scope", "flags")]
    # a route's type before its destination, as `ip route` prints it ("unreachable 10.244.2.0/24"):
    # without it, notebook 02's broken route read "10.244.2.0/24 - - global", a route to nowhere
    rows = [[r.dst if r.type in (None, "", "unicast") else f"{r.type} {r.dst}", r.gateway or "-", r.dev or "-",
             r.scope, "onlink" if r.onlink else "-"] for r in items]
    return Table(name, cols, rows)


# --- reading the cluster ------------------------------------------------------------------------------
class _NotYet(Exception):
    """A reason why the exercise is not done yet (an already translated message)."""


def _cluster(cluster: Any) -> Any:
    if cluster is not None:
        return cluster
    from ..cluster import connect

    return connect()


def _get_pod(cluster: Any, namespace: str, name: str, lang: str) -> dict:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        resp = client.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace, _preload_content=False)
    except ApiException as exc:
        if exc.status == 404:
            raise _NotYet(i18n.t("pods.no_pod", lang, pod=f"{namespace}/{name}")) from None
        raise _NotYet(i18n.t("pods.api_failed", lang, what=f"{namespace}/{name}", error=exc.reason)) from None
    return json.loads(resp.data)


def pod_exec(cluster: Any, namespace: str, name: str, argv: Sequence[str], timeout: float = 10.0) -> str:
    """Run ``argv`` in a pod through the API, as ``kubectl exec`` does (``labkit.nodes.api_exec``,
    on this thread's own client); stdout, or ``RuntimeError``."""
    from ..nodes import api_exec

    code, out, err = api_exec(cluster.api, namespace, name, argv, timeout=timeout)
    if code not in (0, None):
        raise RuntimeError((err or out or f"exit {code}").strip())
    return out


class PodAccess(ReadOnlySeam):
    """A pod seen like a node (``.run(argv)``), through the API's exec: the tables take either.
    A seam like the nodes' (``labkit.nodes.ReadOnlySeam``): only read-only commands run."""

    def __init__(self, cluster: Any, pod: str) -> None:
        namespace, _, self.pod = pod.rpartition("/")
        self.cluster, self.namespace = cluster, namespace or "default"
        self.name = f"{self.namespace}/{self.pod}"

    def _run(self, argv: Sequence[str]) -> str:
        return pod_exec(self.cluster, self.namespace, self.pod, argv)

    def __repr__(self) -> str:
        return f"PodAccess({self.name!r})"


def pod_access(cluster: Any, pod: str) -> PodAccess:
    """``pod_access(cluster, "nb02/a1")``: read a pod's interfaces and routes (``interfaces_table``...)."""
    return PodAccess(cluster, pod)


def _checked(fn: Callable[..., Result]) -> Callable[..., Result]:
    """Turn a ``_NotYet`` raised anywhere in a check into a "not yet" result, in the learner's language."""
    def wrapper(*args: Any, lang: str | None = None, **kwargs: Any) -> Result:
        lang = lang or i18n.get_language()
        try:
            result = fn(*args, lang=lang, **kwargs)
        except _NotYet as reason:
            result = failed(str(reason))
        result.lang = lang
        return result
    return functools.wraps(fn)(wrapper)


# --- 00 -----------------------------------------------------------------------------------------------
@recorded
@_checked
def check_environment(cluster: Any = None, *, lang: str) -> Result:
    """The tools the notebooks call are installed, and a cluster answers."""
    notes, missing = [], []
    for tool in ENV_TOOLS:
        path = shutil.which(tool)
        if path:
            notes.append(i18n.t("pods.env.tool", lang, tool=tool, path=path))
        else:
            why = i18n.t(f"pods.env.why.{tool}", lang)
            missing.append(i18n.t("pods.env.missing_tool", lang, tool=tool, why=why))
    try:
        cluster = _cluster(cluster)
        kind = i18n.t("pods.env.kind.embedded", lang) if cluster.kind == "embedded" else cluster.kind
        notes.append(i18n.t("pods.env.cluster", lang, name=cluster.name, kind=kind, count=len(cluster.node_names())))
    except Exception as exc:  # noqa: BLE001 - whatever failed is what the learner must read
        missing.append(i18n.t("pods.env.no_cluster", lang, error=(str(exc).splitlines() or [repr(exc)])[0]))
    return failed(*missing) if missing else passed(*notes)


# --- 01 -----------------------------------------------------------------------------------------------
def pod_addresses(cluster: Any, namespace: str, pod: str) -> list[str]:
    """The IPv4 addresses on a pod's eth0, read inside the pod (``ip -j addr show eth0``)."""
    found = parse_addr(pod_exec(cluster, namespace, pod, ["ip", "-j", "addr", "show", "eth0"]))
    return [a.ip for i in found for a in i.ipv4()]


def echo(cluster: Any, namespace: str, client_pod: str, ip: str, port: int = 80) -> dict:
    """What the echo responder at ``ip:port`` answers to ``client_pod`` (real packets, through exec)."""
    out = pod_exec(cluster, namespace, client_pod, ["curl", "-s", "--max-time", "3", f"http://{ip}:{port}/"])
    return json.loads(out)


# --- 02 -----------------------------------------------------------------------------------------------
def host_veth(cluster: Any, namespace: str, pod: str) -> tuple[str, Interface | None, int | None]:
    """(node, host-side interface, its index): ``eth0@ifN`` in the pod is interface N on its node."""
    obj = _get_pod(cluster, namespace, pod, i18n.get_language())
    node = obj["spec"]["nodeName"]
    eth0 = parse_addr(pod_exec(cluster, namespace, pod, ["ip", "-j", "link", "show", "eth0"]))[0]
    found = next((i for i in parse_addr(cluster.node(node).run(["ip", "-j", "link", "show"]))
                  if i.index == eth0.peer_index), None)
    return node, found, eth0.peer_index


def cross_node_route(cluster: Any) -> tuple[str, str, Route, Interface | None]:
    """(a node, another node's pod CIDR, the route the first uses for it, the device of that route)."""
    from kubernetes import client

    lang = i18n.get_language()
    nodes = [n for n in client.CoreV1Api(cluster.api).list_node().items if n.spec.pod_cidr]
    if len(nodes) < 2:
        raise _NotYet(i18n.t("pods.tunnel.one_node", lang))
    here, there = nodes[-1], nodes[0]
    cidr = there.spec.pod_cidr
    target = str(next(ipaddress.ip_network(cidr).hosts()))
    access = cluster.node(here.metadata.name)
    route = route_for(parse_routes(access.run(["ip", "-j", "route", "show"])), target)
    if route is None:
        raise _NotYet(i18n.t("pods.route.none", lang, node=here.metadata.name, ip=target))
    dev = next((i for i in parse_addr(access.run(["ip", "-j", "-d", "link", "show"])) if i.name == route.dev), None)
    return here.metadata.name, cidr, route, dev


__all__ = ["Table", "interfaces_table", "routes_table", "pod_exec", "PodAccess", "pod_access", "pod_addresses",
           "echo", "host_veth", "cross_node_route", "check_environment"]
