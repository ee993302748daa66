"""The one seam to the nodes: read-only commands and network state of a node (or a pod).

``NodeAccess`` is all the rest of labkit needs from a node: ``run(argv) -> stdout``. The
embedded lab runs the command in the node's (or pod's) network namespace (:class:`NetnsAccess`); a
kind node is a container, read with ``docker exec`` (:class:`DockerExecAccess`); any other cluster
gets a privileged hostNetwork probe pod per node, created through the Kubernetes API when first
needed and deleted after (:class:`ProbePodAccess`); an ordinary user of the embedded lab asks its
daemon (:class:`LabApiAccess`). Every seam is a :class:`ReadOnlySeam`, the one place of the
read-only rule (:func:`check_read_only`): looking never changes a node. Exec in a
pod through the API (:func:`api_exec`) runs on each thread's own client. ``interfaces()`` and
``routes()`` parse what ``ip -j`` prints with the pure parsers of ``labkit.inspect``, so they are identical
everywhere. Calls are plain subprocesses: they work inside a Jupyter kernel, whose event loop is
running (where pyroute2's synchronous API would fail).
"""
from __future__ import annotations

import functools
import io
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from .errors import BadInput, LabkitError
from .inspect.iproute import Interface, Route, parse_addr, parse_routes


class NodeAccess(Protocol):
    """Runs a read-only command on a node and returns its standard output."""

    name: str

    def run(self, argv: Sequence[str]) -> str: ...


class ReadOnlySeam:
    """The read-only rule in one place: every seam's ``run`` refuses, before anything runs, a
    command :func:`check_read_only` refuses, whatever reaches the node behind it (a local namespace,
    ``docker exec``, a probe pod, the lab's API); the seam's own ``_run`` does the rest."""

    name: str

    def run(self, argv: Sequence[str]) -> str:
        check_read_only(argv, self.name)
        return self._run(argv)

    def _run(self, argv: Sequence[str]) -> str:
        raise NotImplementedError


class NetnsAccess(ReadOnlySeam):
    """A node or pod of the embedded lab: a network namespace on this machine (needs root)."""

    def __init__(self, name: str, netns: str) -> None:
        self.name = name
        self.netns = netns

    def _run(self, argv: Sequence[str]) -> str:
        if argv[:1] == ["birdc"]:          # the calico flavor's BIRD: its node's control socket
            from .embedded.bird import node_birdc_argv

            argv = node_birdc_argv(self.netns, argv)
        if not _installed(argv[0]):          # e.g. ipvsadm, absent here: no process to find that out
            raise LabkitError("lab.command_failed", where=self.name, command=" ".join(argv),
                              error=f"{argv[0]}: not installed")
        proc = subprocess.run(netns_argv(self.netns, argv), capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise LabkitError("lab.command_failed", where=self.name, command=" ".join(argv),
                              error=proc.stderr.strip())
        return proc.stdout

    def __repr__(self) -> str:
        return f"NetnsAccess({self.name!r}, netns={self.netns!r})"


@functools.lru_cache(maxsize=64)
def _installed(tool: str) -> bool:
    import shutil

    return shutil.which(tool) is not None


def netns_argv(netns: str, argv: Sequence[str], pod: bool = False) -> list[str]:
    """The command line that runs ``argv`` in the lab namespace ``netns``: as the node sees it
    (``nsenter --net``), or as a process of a pod sees it (``pod``: ``ip netns exec``, which also
    bind-mounts ``/etc/netns/<netns>/``, the pod's ``resolv.conf``)."""
    if pod:
        return ["ip", "netns", "exec", netns, *argv]
    return ["nsenter", f"--net=/run/netns/{netns}", *argv]


# --- acting in the embedded lab's namespaces (root): the flow observers' hands ----------------------
class LabNetns:
    """One network namespace of the embedded lab (a node's or a pod's), to *act* in as root.

    Not a :class:`ReadOnlySeam`: observing a flow sends a connection, adds and removes a trace
    table, runs ``nft monitor`` or ``tcpdump`` for the time of one connection. Only the flow
    observers use it (:mod:`labkit.kernel_trace`, :mod:`labkit.capture`, :func:`labkit.probe`,
    ``EmbeddedLab.exec``), as root or inside the lab daemon; reading goes through
    :meth:`reader`, the read-only seam over the same namespace.
    """

    def __init__(self, name: str, netns: str, pod: bool = False) -> None:
        self.name = name
        self.netns = netns
        self.pod = pod

    def argv(self, argv: Sequence[str]) -> list[str]:
        return netns_argv(self.netns, argv, self.pod)

    def call(self, argv: Sequence[str], input: str | None = None,
             timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` to its end (text in and out); the caller reads the exit code."""
        return subprocess.run(self.argv(argv), input=input, capture_output=True, text=True, timeout=timeout)

    def spawn(self, argv: Sequence[str]) -> Stream:
        """Start a long-running ``argv`` whose output is read as it comes (:class:`Stream`)."""
        return Stream(self.argv(argv))

    def reader(self) -> NetnsAccess:
        return NetnsAccess(self.name, self.netns)

    def __repr__(self) -> str:
        return f"LabNetns({self.name!r}, netns={self.netns!r}{', pod=True' if self.pod else ''})"


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """A monitor or a capture must not outlive labkit (killed by SIGKILL): ask the kernel to end it."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Stream:
    """A long-running process (``nft monitor``, ``tcpdump -w -``) whose standard output (bytes,
    :attr:`out`) and error lines (:attr:`err`) threads collect as they come; it ends with labkit
    (``PR_SET_PDEATHSIG``) and at :meth:`stop`. Callers wait for what they need with
    :meth:`wait_until`, never a sleep."""

    def __init__(self, argv: list[str]) -> None:
        self.out = bytearray()
        self.err: list[str] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_die_with_parent)
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_out(self) -> None:
        reader = self.proc.stdout
        assert isinstance(reader, io.BufferedReader)      # bufsize -1: read1 hands what has come
        while chunk := reader.read1(65536):
            with self._cond:
                self.out += chunk
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.err.append(line.decode(errors="replace").strip())
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def ended(self) -> bool:
        """The process has exited and everything it wrote has been read."""
        return self.proc.poll() is not None and not any(t.is_alive() for t in self._threads)

    def text(self) -> str:
        with self._cond:
            return self.out.decode(errors="replace")

    def wait_until(self, done: Any, seconds: float) -> bool:
        """Wait until ``done()`` holds (checked whenever output arrives), at most ``seconds``, or
        until the process has ended and its output is read: ``done()`` then."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    return bool(done())
                self._cond.wait(min(left, 0.2))
            return True

    def stop(self) -> bytes:
        """Terminate the process (killed if it does not end within 5 s); everything it wrote."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(5)
        with self._cond:
            return bytes(self.out)


def lab_pods(lab_name: str) -> dict[str, LabNetns]:
    """Every pod of a running embedded lab (``namespace/name``), to act in as its processes do."""
    from .embedded.client import EmbeddedLab

    return {f"{p['namespace']}/{p['name']}": LabNetns(f"{p['namespace']}/{p['name']}", p["netns"], pod=True)
            for p in EmbeddedLab(lab_name).pods()}


MESSAGES = {
    "nodes.not_read_only": {
        "en": "refusing to run `{command}` on node {node}: node access is read-only (`ip show/list`, "
              "`iptables-save`, `nft list`, `conntrack -L`, `ipvsadm -L`, `bridge show`, `birdc show`, `bpftool show|dump`, "
              "`cat` of CNI files)",
        "fr": "refus de lancer `{command}` sur le nœud {node} : l'accès aux nœuds est en lecture seule "
              "(`ip show/list`, `iptables-save`, `nft list`, `conntrack -L`, `ipvsadm -L`, `bridge show`, `birdc show`, "
              "`bpftool show|dump`, `cat` des fichiers CNI)"},
    "nodes.not_served_by_lab": {
        "en": "the lab daemon does not hand out `{command}` (node {node}); it serves `ip [-j|-br|-d|-o] "
              "addr|link|route|neigh show [dev D]`, `ip route get ADDRESS`, `bridge fdb|link|vlan show`, "
              "`iptables-save`, `nft [-j] list ruleset|table`, `conntrack -L`, `birdc show protocols|route`, "
              "`bpftool -j map dump pinned` <a socket-LB map>",
        "fr": "le démon du lab ne fournit pas `{command}` (nœud {node}) ; il sert `ip [-j|-br|-d|-o] "
              "addr|link|route|neigh show [dev D]`, `ip route get ADRESSE`, `bridge fdb|link|vlan show`, "
              "`iptables-save`, `nft [-j] list ruleset|table`, `conntrack -L`, `birdc show protocols|route`, "
              "`bpftool -j map dump pinned` <une table du répartiteur de sockets>"},
    "nodes.lab_api_failed": {
        "en": "the lab's API did not hand the state of node {node} (`{command}`): {error}",
        "fr": "l'API du lab n'a pas fourni l'état du nœud {node} (`{command}`) : {error}"},
    "nodes.exec_failed": {
        "en": "`{command}` failed on node {node} (exit {code}): {error}",
        "fr": "`{command}` a échoué sur le nœud {node} (code {code}) : {error}"},
    "nodes.no_docker": {
        "en": "`docker` is not installed: kind nodes are read with docker exec (Debian: apt-get install docker.io)",
        "fr": "`docker` n'est pas installé : les nœuds kind se lisent avec docker exec "
              "(Debian : apt-get install docker.io)"},
    "nodes.probe_not_running": {
        "en": "probe pod {namespace}/{pod} on node {node} is not running after {seconds} s (phase {phase}); "
              "check `kubectl -n {namespace} describe pod {pod}` (image pull? admission refusing privileged pods?)",
        "fr": "le pod sonde {namespace}/{pod} du nœud {node} ne tourne pas après {seconds} s (phase {phase}) ; "
              "voyez `kubectl -n {namespace} describe pod {pod}` (image non téléchargée ? admission refusant "
              "les pods privilégiés ?)"},
    "nodes.probe_api_failed": {
        "en": "the Kubernetes API refused the probe pod on node {node}: {error}",
        "fr": "l'API Kubernetes a refusé le pod sonde du nœud {node} : {error}"},
}

# --- read-only commands ---------------------------------------------------------------------------
_IP_WRITES = {"add", "del", "delete", "replace", "change", "set", "flush", "append", "prepend", "exec",
              "save", "restore", "attach", "detach", "-batch", "-b", "-force"}
_READABLE_FILES = ("/etc/cni/net.d/", "/run/flannel/", "/var/lib/cni/", "/proc/sys/net/", "/run/cni-ipam-state/")


def check_read_only(argv: Sequence[str], node: str = "-") -> None:
    """Refuse any command that could change a node (``BadInput``, nothing runs).

    An allowlist, not a blocklist: the inspectors need only these, and a learner pointing labkit at
    a shared cluster must not be one typo away from ``ip route flush``.
    """
    args = list(argv)
    tool = args[0].rsplit("/", 1)[-1] if args else ""
    rest = args[1:]
    ok = False
    if tool == "ip":
        ok = not (_IP_WRITES & set(rest))
    elif tool in ("iptables-save", "ip6tables-save", "iptables-legacy-save", "iptables-nft-save"):
        ok = not any(a.startswith(("-f", "--file")) for a in rest)
    elif tool == "nft":
        words = [a for a in rest if not a.startswith("-")]
        ok = bool(words) and words[0] == "list" and not any(a in ("-f", "--file") for a in rest)
    elif tool == "conntrack":
        ok = bool(rest) and rest[0] in ("-L", "--dump", "-S", "--stats", "-C", "--count")
    elif tool == "ipvsadm":
        ok = bool(rest) and (rest[0] in ("-L", "-l", "--list", "-S", "--save") or rest[0].startswith(("-Ln", "-ln")))
    elif tool == "bridge":
        ok = len(rest) >= 1 and all(a not in _IP_WRITES for a in rest) and (len(rest) == 1 or rest[1] == "show")
    elif tool == "cat":
        ok = bool(rest) and all(a.startswith(_READABLE_FILES) and ".." not in a for a in rest)
    elif tool == "sysctl":
        ok = not any(a in ("-w", "--write", "-p", "--load") or "=" in a for a in rest)
    elif tool in ("birdc", "birdcl"):
        ok = _birdc_show(rest)
    elif tool == "bpftool":          # the ebpf service proxy's maps and programs: show, list, dump
        words = [a for a in rest if not a.startswith("-")]
        ok = len(words) >= 2 and words[0] in ("map", "prog", "cgroup", "net") and words[1] in (
            "show", "list", "dump", "tree", "lookup")
    if not ok:
        raise BadInput("nodes.not_read_only", command=shlex.join(args), node=node)


# --- what a lab daemon hands out through its API (enforced by the daemon, checked here too) ---------
_DAEMON_IP_OBJECTS = {"addr", "address", "a", "link", "l", "route", "r", "neigh", "n"}
_DAEMON_IP_OPTIONS = {"-j", "-json", "-d", "-details", "-s", "-stats", "-4", "-p", "-pretty", "-br",
                      "-brief", "-o", "-oneline"}
_DAEMON_BRIDGE_OBJECTS = {"fdb", "link", "vlan"}        # iproute2's bridge: forwarding database, ports, VLANs
_NFT_FAMILIES = {"ip", "ip6", "inet", "arp", "bridge", "netdev"}
_CONNTRACK_OUTPUT = {"extended", "id", "ktimestamp", "labels"}


def served_by_lab(argv: Sequence[str]) -> bool:
    """Whether a lab daemon hands out ``argv`` over its API: a short list of exact read-only forms.

    Stricter than :func:`check_read_only`: the daemon runs it as root for whoever holds the token.
    """
    args = list(argv)
    tool, rest = (args[0], args[1:]) if args else ("", [])
    if tool == "ip":
        opts = [a for a in rest if a.startswith("-")]
        words = [a for a in rest if not a.startswith("-")]
        if set(opts) - _DAEMON_IP_OPTIONS or not words or words[0] not in _DAEMON_IP_OBJECTS:
            return False
        if words[0] in ("route", "r") and words[1:2] == ["get"]:
            return len(words) == 3 and _address(words[2])      # ip route get ADDR: the kernel's choice
        return _show_tail(words[1:], ("dev", "table"))
    if tool == "bridge":
        opts = [a for a in rest if a.startswith("-")]
        words = [a for a in rest if not a.startswith("-")]
        if set(opts) - {"-j", "-json", "-d", "-details", "-s", "-stats", "-p", "-pretty"} \
                or not words or words[0] not in _DAEMON_BRIDGE_OBJECTS:
            return False
        return _show_tail(words[1:], ("dev",))
    if tool == "iptables-save":
        return rest in ([], ["-c"]) or (len(rest) == 2 and rest[0] == "-t" and rest[1].isalpha())
    if tool == "nft":
        words = rest[1:] if rest[:1] == ["-j"] else rest
        return words == ["list", "ruleset"] or (len(words) == 4 and words[:2] == ["list", "table"]
                                                and words[2] in _NFT_FAMILIES
                                                and words[3].replace("-", "").replace("_", "").isalnum())
    if tool == "birdc":
        return _birdc_show(rest)
    if tool == "bpftool":
        from .bpf.maps import is_dump_argv

        return is_dump_argv(args)
    if tool == "conntrack":
        return rest == ["-L"] or (len(rest) == 3 and rest[0] == "-L" and rest[1] == "-o"
                                  and rest[2] in _CONNTRACK_OUTPUT)
    return False


def _show_tail(tail: list[str], keys: tuple[str, ...]) -> bool:
    """``[show|list] [NAME] [key value ...]`` with ``key`` in ``keys`` and plain names as values
    (``ip link show flannel.1`` names its device without ``dev``, as iproute2 allows)."""
    if tail[:1] in (["show"], ["list"]):
        tail = tail[1:]
    if len(tail) % 2 == 1 and tail[0] not in keys:
        tail = ["dev", *tail]
    return (len(tail) % 2 == 0 and all(k in keys for k in tail[::2])
            and all(_plain_name(v) for v in tail[1::2]))


def _address(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _plain_name(value: str) -> bool:
    return 0 < len(value) <= 64 and value.replace("-", "").replace(".", "").replace("_", "").isalnum()


def _birdc_show(words: list[str]) -> bool:
    """BIRD's ``show protocols|route [all]`` and ``show status`` (the calico flavor's BGP daemon)."""
    from .embedded.bird import READ_ONLY

    return words in [list(w) for w in READ_ONLY]


NODE_STATE_PATH = "/api/v1/nodes/{node}/proxy/labkit/run"
LAB_INFO_PATH = "/labkit/v1/lab"
POD_NETWORKS_PATH = "/labkit/v1/podnetworks"


class LabApiAccess(ReadOnlySeam):
    """A node (or a pod) of an embedded lab, read through the lab daemon's API: no root needed.

    As a real cluster's node proxy hands a kubelet's answers to an authenticated client, the lab
    daemon runs an allowlisted read-only command (:func:`served_by_lab`) in the node's namespace
    and returns its output. ``pod`` (``namespace/name``) reads that pod's namespace instead.
    """

    def __init__(self, api: Any, node: str, pod: str | None = None) -> None:
        self.api = api
        self.node = node
        self.pod = pod
        self.name = pod or node

    def _run(self, argv: Sequence[str]) -> str:
        import json

        command = shlex.join(argv)
        if not served_by_lab(argv):
            raise BadInput("nodes.not_served_by_lab", command=command, node=self.name)
        query = [("command", a) for a in argv] + ([("pod", self.pod)] if self.pod else [])
        try:
            code, data = api_get(self.api, NODE_STATE_PATH.replace("{node}", self.node), query)
        except Exception as exc:
            raise LabkitError("nodes.lab_api_failed", node=self.name, command=command, error=exc) from exc
        if code != 200:
            raise LabkitError("nodes.lab_api_failed", node=self.name, command=command, error=_status_message(data))
        resp = data
        answer = json.loads(resp)
        if answer.get("exitCode"):
            lines = [ln for ln in (answer.get("stderr") or "").strip().splitlines() if ln.strip()]
            raise LabkitError("nodes.exec_failed", command=command, node=self.name, code=answer["exitCode"],
                              error=lines[-1] if lines else "-")
        return answer.get("stdout", "")

    def __repr__(self) -> str:
        return f"LabApiAccess({self.node!r}, pod={self.pod!r})"


def pod_networks_via_api(api: Any, nodes: Sequence[str] = ()) -> list[dict] | None:
    """Every pod's interfaces and routes in one request to the lab daemon (``GET
    /labkit/v1/podnetworks``): items ``{"pod", "node", "addr", "route"}``. None when the daemon does
    not serve it (a lab started by an older labkit: read pod by pod instead)."""
    import json

    try:
        code, data = api_get(api, POD_NETWORKS_PATH, [("node", n) for n in nodes])
    except Exception as exc:
        raise LabkitError("nodes.lab_api_failed", node=",".join(nodes) or "-", command="GET " + POD_NETWORKS_PATH,
                          error=exc) from exc
    if code == 404 and not nodes:
        return None
    if code != 200:
        raise LabkitError("nodes.lab_api_failed", node=",".join(nodes) or "-", command="GET " + POD_NETWORKS_PATH,
                          error=_status_message(data))
    items = json.loads(data).get("items")
    return items if isinstance(items, list) else []


def api_get(api: Any, path: str, query: list[tuple[str, str]] | None = None,
            timeout: float = 60.0) -> tuple[int, bytes]:
    """A raw authenticated GET with the official client (``kubectl get --raw``): (status, body)."""
    return api_call(api, "GET", path, query, timeout)


def api_call(api: Any, method: str, path: str, query: list[tuple[str, str]] | None = None,
             timeout: float = 60.0) -> tuple[int, bytes]:
    """A raw authenticated request with the official client: (status, body)."""
    params = api.param_serialize(method, path, query_params=query or [], auth_settings=["BearerToken"])
    resp = api.call_api(*params, _request_timeout=timeout)
    resp.read()
    return resp.status, resp.data


def _status_message(data: bytes) -> str:
    import json

    try:
        return json.loads(data).get("message") or data.decode(errors="replace")
    except (ValueError, AttributeError):
        return data.decode(errors="replace")[:200]


def lab_info(api: Any) -> dict:
    """What the embedded lab serving ``api`` says of itself (name, CNI, ranges); {} for any other
    cluster."""
    import json

    try:
        code, data = api_get(api, LAB_INFO_PATH, timeout=10)
        info = json.loads(data) if code == 200 else {}
        return info if isinstance(info, dict) else {}
    except Exception:  # noqa: BLE001 - not reachable, not JSON: not a lab we can ask
        return {}


def lab_behind(api: Any) -> str | None:
    """The name of the embedded lab serving ``api``, or None for any other cluster."""
    return lab_info(api).get("name")


# --- observing one flow (trace, capture, probe): the lab's namespaces, directly or through its API --
class FlowAccess(Protocol):
    """Runs a validated :class:`labkit.flowreq.FlowRequest` from ``node``; answers plain JSON data
    (``labkit.embedded.flows.execute``'s)."""

    def observe(self, node: str, req: Any) -> dict: ...


class LocalFlows:
    """Root on the lab's machine: the lab's namespaces, entered directly."""

    def __init__(self, lab: str) -> None:
        self.lab = lab

    def observe(self, node: str, req: Any) -> dict:
        from .embedded.flows import execute
        from .embedded.state import LabState

        state = LabState.load(self.lab)
        if state is None:
            raise LabkitError("lab.not_running", exit_code=1, name=self.lab)
        return execute(state.spec, state.pods, node, req)

    def __repr__(self) -> str:
        return f"LocalFlows({self.lab!r})"


class LabApiFlows:
    """An ordinary user: the lab daemon observes the flow for them (``POST …/proxy/labkit/<kind>``)."""

    def __init__(self, api: Any, busy_wait: float = 60.0) -> None:
        self.api = api
        self.busy_wait = busy_wait           # seconds to wait for a node busy with another flow

    def observe(self, node: str, req: Any) -> dict:
        import json

        from .flowreq import FLOW_PATH

        path = FLOW_PATH.replace("{node}", node).replace("{what}", req.kind)
        deadline = time.monotonic() + self.busy_wait
        while True:
            try:
                code, data = api_call(self.api, "POST", path, req.query(), timeout=120)
            except Exception as exc:
                raise LabkitError("nodes.lab_api_failed", node=node, command=req.kind, error=exc) from exc
            if code != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.2)                  # the node observes another flow (one at a time): wait a little
        if code != 200:
            raise LabkitError("nodes.lab_api_failed", node=node, command=req.kind, error=_status_message(data))
        return json.loads(data)

    def __repr__(self) -> str:
        return "LabApiFlows()"


def lab_shape(cluster: Any) -> dict:
    """The embedded lab's shape (``GET /labkit/v1/lab``: CNI, ranges, proxy mode, nodes, host routes):
    read from its state as root, asked of its daemon otherwise."""
    if getattr(cluster, "via_api", False):
        info = lab_info(cluster.api)
        if not info.get("nodes"):
            raise LabkitError("nodes.lab_api_failed", node="-", command="GET " + LAB_INFO_PATH, error="no lab shape")
        return info
    from .embedded.client import EmbeddedLab

    lab = getattr(cluster, "lab", None) or cluster
    return {"name": lab, **EmbeddedLab(lab).spec.summary()}


def flow_access(cluster: Any) -> FlowAccess:
    """How to observe flows in ``cluster`` (a ``labkit.connect()`` cluster or a lab's name): root
    enters the namespaces, anyone else asks the lab's daemon; other clusters cannot (yet)."""
    import os

    if isinstance(cluster, str):
        if os.geteuid() == 0:
            return LocalFlows(cluster)
        from .cluster import connect

        cluster = connect(lab=cluster)
    if getattr(cluster, "kind", None) != "embedded" or not getattr(cluster, "lab", None):
        raise BadInput("observe.embedded_only")
    return LabApiFlows(cluster.api) if getattr(cluster, "via_api", False) else LocalFlows(cluster.lab)


class DockerExecAccess(ReadOnlySeam):
    """A kind node: a container on this machine, read with ``docker exec <node> ...``."""

    def __init__(self, node: str, docker: str = "docker") -> None:
        self.name = node
        self.docker = docker

    def _run(self, argv: Sequence[str]) -> str:
        cmd = [self.docker, "exec", self.name, *argv]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except FileNotFoundError as exc:
            raise BadInput("nodes.no_docker") from exc
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            raise LabkitError("nodes.exec_failed", command=shlex.join(argv), node=self.name, code=proc.returncode,
                              error=lines[-1] if lines else "-")
        return proc.stdout

    def __repr__(self) -> str:
        return f"DockerExecAccess({self.name!r})"


class ProbePodAccess(ReadOnlySeam):
    """Any cluster: a privileged hostNetwork pod on ``node``, created on first use, deleted by ``close()``.

    The pod shares the node's network namespace (``hostNetwork``) and is privileged, so ``ip``,
    ``iptables-save``, ``nft`` and ``conntrack`` in it see the node's own state; its image is pinned
    (``labkit.kind.versions.PROBE_IMAGE``). Commands run through the official client's ``stream``
    (the exec WebSocket), as ``kubectl exec`` does. Use it as a context manager, or call ``close()``.
    """

    def __init__(self, api: Any, node: str, namespace: str = "kube-system", image: str | None = None,
                 timeout: float = 180.0) -> None:
        from .kind.versions import PROBE_IMAGE

        self.api = api
        self.name = node
        self.namespace = namespace
        self.image = image or PROBE_IMAGE
        self.timeout = timeout
        self.pod_name = probe_pod_name(node)
        self._created = False

    # --- the pod --------------------------------------------------------------------------------
    def manifest(self) -> dict:
        return probe_pod_manifest(self.pod_name, self.name, self.namespace, self.image)

    def _core(self):
        from kubernetes import client

        return client.CoreV1Api(self.api)

    def ensure(self) -> None:
        """Create the probe pod if needed and wait until it runs (poll with a deadline)."""
        from kubernetes.client.exceptions import ApiException

        if self._created:
            return
        core = self._core()
        try:
            core.create_namespaced_pod(self.namespace, self.manifest())
        except ApiException as exc:
            if exc.status != 409:                      # 409: left by an earlier run, reuse it
                raise LabkitError("nodes.probe_api_failed", node=self.name, error=_api_reason(exc)) from exc
        self._created = True
        deadline = time.monotonic() + self.timeout
        phase = "Pending"
        while time.monotonic() < deadline:
            pod = core.read_namespaced_pod(self.pod_name, self.namespace)
            phase = pod.status.phase if pod.status else "Pending"
            if phase == "Running":
                return
            if phase in ("Failed", "Succeeded"):
                break
            time.sleep(0.5)
        raise LabkitError("nodes.probe_not_running", pod=self.pod_name, namespace=self.namespace, node=self.name,
                          seconds=int(self.timeout), phase=phase)

    def close(self) -> None:
        """Delete the probe pod (no-op when it was never created)."""
        from kubernetes.client.exceptions import ApiException

        if not self._created:
            return
        try:
            self._core().delete_namespaced_pod(self.pod_name, self.namespace, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise LabkitError("nodes.probe_api_failed", node=self.name, error=_api_reason(exc)) from exc
        self._created = False

    def __enter__(self) -> ProbePodAccess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- commands -------------------------------------------------------------------------------
    def _run(self, argv: Sequence[str]) -> str:
        self.ensure()
        code, out, err = api_exec(self.api, self.namespace, self.pod_name, argv, container="probe")
        if code:
            lines = [ln for ln in err.strip().splitlines() if ln.strip()]
            raise LabkitError("nodes.exec_failed", command=shlex.join(argv), node=self.name, code=code,
                              error=lines[-1] if lines else "-")
        return out

    def __repr__(self) -> str:
        return f"ProbePodAccess({self.name!r}, pod={self.namespace}/{self.pod_name})"


# --- exec in a pod through the API, and the read-only rule ---------------------------------------
_THREAD = threading.local()


def thread_client(api: Any) -> Any:
    """This thread's own ``ApiClient`` with ``api``'s configuration, for exec: the client's
    ``stream()`` swaps the ``request`` method of the client it is given for the time of the call,
    so a client shared between threads (probe pods read in parallel, a live diagram) must not
    stream. One client per thread and configuration, kept for the thread's life."""
    from kubernetes import client

    clients = _THREAD.__dict__.setdefault("clients", {})
    key = id(api.configuration)
    if key not in clients:
        clients[key] = (api.configuration, client.ApiClient(api.configuration))
    return clients[key][1]


def api_exec(api: Any, namespace: str, pod: str, argv: Sequence[str], container: str | None = None,
             timeout: float = 60.0) -> tuple[int | None, str, str]:
    """Run ``argv`` in a pod as ``kubectl exec`` does (the exec WebSocket): ``(exit code, stdout,
    stderr)``; the one exec-in-a-pod of labkit, on this thread's own client."""
    from kubernetes import client
    from kubernetes.stream import stream

    core = client.CoreV1Api(thread_client(api))
    extra = {"container": container} if container else {}
    resp = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=list(argv), stderr=True,
                  stdin=False, stdout=True, tty=False, _preload_content=False, **extra)
    out, err = [], []
    deadline = time.monotonic() + timeout
    while resp.is_open() and time.monotonic() < deadline:
        resp.update(timeout=1)
        if resp.peek_stdout():
            out.append(resp.read_stdout())
        if resp.peek_stderr():
            err.append(resp.read_stderr())
    if resp.peek_stdout():                       # frames that arrived with the close
        out.append(resp.read_stdout())
    if resp.peek_stderr():
        err.append(resp.read_stderr())
    code = resp.returncode
    resp.close()
    return code, "".join(out), "".join(err)


def probe_pod_name(node: str) -> str:
    """``labkit-probe-<node>``, cut to a valid pod name (63 characters, no trailing '-' or '.')."""
    return f"labkit-probe-{node}"[:63].rstrip("-.")


def probe_pod_manifest(pod: str, node: str, namespace: str, image: str) -> dict:
    """A pod pinned to ``node`` that shares its network namespace and may read its netfilter state."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": "labkit-probe", "app.kubernetes.io/managed-by": "labkit"}},
        "spec": {
            "nodeName": node,                     # no scheduler decision: this very node
            "hostNetwork": True,                  # the node's interfaces, routes and rules
            "dnsPolicy": "ClusterFirstWithHostNet",
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],   # control-plane and tainted nodes too
            "containers": [{
                "name": "probe", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["sleep", "3600"],     # ends by itself if labkit dies before close()
                "securityContext": {"privileged": True},
            }],
        },
    }


def _api_reason(exc: Any) -> str:
    import json

    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


def interfaces(access: NodeAccess) -> list[Interface]:
    return parse_addr(access.run(["ip", "-j", "-d", "addr", "show"]))


def routes(access: NodeAccess) -> list[Route]:
    return parse_routes(access.run(["ip", "-j", "route", "show"]))


def embedded_node(lab_name: str, node: str) -> NetnsAccess:
    """Access to a node of a running embedded lab (``worker`` or ``kubenet-worker``)."""
    from .embedded.client import EmbeddedLab

    plan = EmbeddedLab(lab_name).spec.node(node)
    return NetnsAccess(plan.name, plan.netns)


def embedded_pod(lab_name: str, pod: str) -> NetnsAccess:
    """Access to a pod of a running embedded lab (``namespace/name``)."""
    from .embedded.client import EmbeddedLab

    info = EmbeddedLab(lab_name).pod(pod)
    return NetnsAccess(f"{info['namespace']}/{info['name']}", info["netns"])
