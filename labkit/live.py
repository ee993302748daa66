"""Live diagrams for Jupyter: a widget that redraws a layer when the cluster changes.

Change detection: watches on the objects a diagram shows (pods, services, EndpointSlices,
NetworkPolicies, nodes: ``?watch=1`` on the Kubernetes API, which the embedded lab serves as
the real API server does); a watch that ends is resumed from its last ``resourceVersion``. The
nodes' own state (routes, addresses, links changed by hand) is followed by
:mod:`labkit.node_events` (netlink events in the embedded lab, polling elsewhere). The cluster's
latest revision is read as well (one ``limit=1`` list): a heartbeat that says when the cluster is
lost. While the watches run it is read at once when one of them breaks and otherwise every
:data:`WATCHED_HEARTBEAT_SECONDS` (an idle view costs next to nothing: a class keeps twenty open);
without watches, every second (the fallback when watches are refused). A change is debounced (a burst
of events is one redraw), then the layer is drawn twice, off the kernel's thread (the cell returns
at once and the kernel never blocks): first from the API objects just listed on the node state of
the previous snapshot (one round of lists: a new pod shows at once, without its veth yet), then
from a full snapshot (every node's and pod's interfaces and routes read), which adds what the nodes
did.

The drawing keeps every pod in its slot from one redraw to the next (the layout's memory, see
:mod:`labkit.diagrams.layout`), so the picture does not jump when a pod comes or goes. The front
end (:mod:`labkit.diagrams.widget`) shows details on hover, toggles layers, zooms, and traces the
path of a connection between two clicked pods.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

from . import i18n
from .snapshot import ClusterSnapshot

HEARTBEAT_SECONDS = 1.0
WATCHED_HEARTBEAT_SECONDS = 30.0
WATCH_SETTLE_SECONDS = 5.0      # until every watch has its starting revision, the 1 s heartbeat still runs
DEBOUNCE_SECONDS = 0.03
WATCH_SECONDS = 60

MESSAGES = {
    "live.updated": {"en": "updated at {time} ({ms} ms)", "fr": "mis à jour à {time} ({ms} ms)"},
    "live.stopped": {"en": "stopped: run the cell again to restart", "fr": "arrêté : relancez la cellule pour reprendre"},
    "live.lost": {"en": "cluster unreachable ({error}); retrying…", "fr": "cluster injoignable ({error}) ; nouvel essai…"},
    "live.stop": {"en": "Stop", "fr": "Arrêter"},
    "live.starting": {"en": "drawing…", "fr": "dessin en cours…"},
    "live.zoom_in": {"en": "zoom in", "fr": "agrandir"},
    "live.zoom_out": {"en": "zoom out", "fr": "réduire"},
    "live.zoom_fit": {"en": "fit the width", "fr": "ajuster à la largeur"},
    "live.clear": {"en": "clear the trace", "fr": "effacer le tracé"},
    "live.pick_source": {"en": "hover an element for its details; click a pod, then another: the path of a "
                               "connection between them is drawn",
                         "fr": "survolez un élément pour ses détails ; cliquez un pod, puis un autre : le chemin "
                               "d'une connexion entre eux est dessiné"},
    "live.pick_destination": {"en": "from {{src}}: now click the destination pod",
                              "fr": "depuis {{src}} : cliquez maintenant le pod de destination"},
    "live.trace_failed": {"en": "no trace: {error}", "fr": "pas de tracé : {error}"},
    "live.layer.ring": {"en": "pod network", "fr": "réseau des pods"},
    "live.layer.services": {"en": "Services", "fr": "Services"},
    "live.layer.policies": {"en": "policies", "fr": "politiques"},
    "live.layer.wires": {"en": "veths and devices", "fr": "veth et interfaces"},
    "live.layer.matrix": {"en": "matrix", "fr": "matrice"},
    "live.layer.legend": {"en": "legend", "fr": "légende"},
}


class LiveView:
    """A live diagram: ``.widget`` (anywidget), ``.svg`` (the last drawing), ``.stop()``.

    ``render(snapshot, slots, pick)`` returns ``(svg, layout, trace_text)``; ``changes`` (optional)
    starts watches and returns an Event set on every change and a function that stops them.
    """

    def __init__(self, render: Callable, snapshot: Callable[[], ClusterSnapshot], version: Callable[[], str],
                 lang: str | None = None, changes: Callable | None = None,
                 objects: Callable[[], ClusterSnapshot] | None = None) -> None:
        from .diagrams.widget import DiagramWidget

        self.lang = lang or i18n.get_language()
        self._render, self._snapshot, self._version = render, snapshot, version
        self.svg = ""
        self.redraws = 0
        self.last_change: float | None = None     # when the change that led to the last redraw was seen
        self.last_redraw: float | None = None
        self.layout = None
        self.pick: list[str] = []
        self._snap: ClusterSnapshot | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._changes = changes
        self._objects = objects             # the API objects only (fast): drawn before the full snapshot
        t = lambda k: i18n.t(k, self.lang)  # noqa: E731
        self.widget = DiagramWidget(
            status=t("live.starting"),
            toggles={k: t(f"live.layer.{k}") for k in ("ring", "services", "policies", "wires", "matrix", "legend")},
            texts={k: t(f"live.{k}") for k in ("zoom_in", "zoom_out", "zoom_fit", "clear", "pick_source",
                                                "pick_destination")})
        self.widget.observe(self._on_pick, names="pick")
        self._thread = threading.Thread(target=self._loop, name="labkit-live", daemon=True)
        self._thread.start()

    # -- what notebooks and tests use ------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    @property
    def status(self):
        """The status line (``.value``), as the former ipywidgets Label offered it."""
        view = self

        class _Status:
            @property
            def value(self) -> str:
                return view.widget.status
        return _Status()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.widget.status = i18n.t("live.stopped", self.lang)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 10.0) -> bool:
        """Wait until the drawing satisfies ``predicate`` (tests and exercise checks use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.svg and predicate(self.svg):
                return True
            time.sleep(0.01)
        return False

    def trace(self, source: str, destination: str) -> None:
        """Paint the path from pod ``source`` to pod ``destination`` (``ns/name``), as two clicks do."""
        self.widget.pick = [f"p/{source}", f"p/{destination}"]

    # -- inside ------------------------------------------------------------------------------------
    def _on_pick(self, change) -> None:
        self.pick = list(change["new"] or [])
        if self._snap is not None:
            threading.Thread(target=self._draw, args=(self._snap, time.monotonic()), daemon=True).start()

    def _loop(self) -> None:
        seen: str | None = None
        stop_watches = None
        watched_since = 0.0
        while not self._stop.is_set():
            try:
                if stop_watches is None and self._changes is not None:
                    self._wake, stop_watches = self._changes(self._stop)
                    watched_since = time.monotonic()
                current = self._version()
                fired = self._wake.is_set()
                if current != seen or fired:
                    changed_at = time.monotonic()
                    if seen is not None:
                        self._stop.wait(DEBOUNCE_SECONDS)
                    self._wake.clear()
                    seen = self._version()
                    self._redraw(changed_at)
            except Exception as exc:  # noqa: BLE001 - any failure is shown, then retried
                self.widget.status = i18n.t("live.lost", self.lang, error=_short(exc))
                seen = None
                self._stop.wait(1.0)
                continue
            settled = stop_watches is not None and time.monotonic() - watched_since > WATCH_SETTLE_SECONDS
            self._wake.wait(WATCHED_HEARTBEAT_SECONDS if settled else HEARTBEAT_SECONDS)
        if stop_watches is not None:
            stop_watches()

    def _redraw(self, changed_at: float) -> None:
        if self._objects is not None and self._snap is not None:
            self._draw(with_objects(self._snap, self._objects()), changed_at)
        snap = self._snapshot()
        self._snap = snap
        self._draw(snap, changed_at)

    _lock = threading.Lock()

    def _draw(self, snap: ClusterSnapshot, changed_at: float) -> None:
        with self._lock:
            started = time.monotonic()
            svg, layout, trace_text = self._render(snap, self.layout, self.pick)
            self.layout = layout
            self.widget.svg = svg
            self.widget.trace = trace_text
            self.redraws += 1
            self.last_change, self.last_redraw = changed_at, time.monotonic()
            ms = int((self.last_redraw - started) * 1000)
            self.widget.status = i18n.t("live.updated", self.lang, time=time.strftime("%H:%M:%S"), ms=ms)
            self.svg = svg                  # last: whoever waits on it sees the widget already updated


def with_objects(previous: ClusterSnapshot, objects: ClusterSnapshot) -> ClusterSnapshot:
    """``objects``' API objects on ``previous``'s node state (interfaces, routes, rules, pods' views)."""
    from dataclasses import replace

    return replace(previous, taken_at=objects.taken_at, namespaces=objects.namespaces, pods=objects.pods,
                   services=objects.services, endpointslices=objects.endpointslices,
                   networkpolicies=objects.networkpolicies)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 120 else text[:117] + "…"


def renderer(layer: str, lang: str, **options) -> Callable:
    """``render(snapshot, slots, pick) -> (svg, layout, trace text)`` for one layer."""
    from . import diagrams
    from .diagrams.pods import Highlight
    from .errors import LabkitError

    builder = cast("Callable[..., Any]", diagrams.LAYERS[layer])     # the layers' builders take different options

    def render(snapshot: ClusterSnapshot, slots, pick: list[str]):
        highlight, text, title = None, "", None
        if len(pick) == 2 and layer in ("pods", "overview"):
            from .trace import trace

            src, dst = (p[2:] if p.startswith("p/") else p for p in pick)
            try:
                result = trace(snapshot, src, dst)
                highlight = Highlight({m for h in result.hops for m in h.marks if m},
                                      {e for h in result.hops for e in h.edges if all(e)})
                text = result.to_text(lang)
                title = i18n.t("diagrams.title.trace", lang, src=src, dst=dst)
            except LabkitError as exc:
                text = i18n.t("live.trace_failed", lang, error=exc.message(lang) if hasattr(exc, "message") else exc)
        extra = {"highlight": highlight, "title": title} if highlight is not None else {}
        drawing = builder(snapshot, lang=lang, slots=slots, **extra, **options)
        return drawing.svg, drawing.layout, text

    return render


def show(layer: str = "overview", cluster=None, lang: str | None = None, **options) -> LiveView:
    """A live diagram of ``layer`` ("pods", "services", "policies", "overview") of ``cluster``.

    ``cluster`` is a ``labkit.connect()`` result, a lab name, or a ``ClusterSnapshot`` (drawn once;
    default: connect to the embedded lab, or what the kubeconfig says). ``options`` go to the diagram builder (e.g. ``port=80``, ``show_chains=True``).
    """
    from .cluster import as_cluster, connect

    lang = lang or i18n.get_language()
    if isinstance(cluster, ClusterSnapshot):          # a recorded cluster: drawn once, no watch
        snap = cluster
        return LiveView(renderer(layer, lang, **options), lambda: snap, lambda: "recorded", lang)
    live = connect() if cluster is None else as_cluster(cluster)
    return LiveView(renderer(layer, lang, **options), live.snapshot, resource_version_of(live), lang,
                    changes=lambda stop: watch_changes(live, stop), objects=live.objects_snapshot)


def resource_version_of(cluster) -> Callable[[], str]:
    """The cluster's latest revision: the ``resourceVersion`` of any list (here, namespaces)."""
    import json

    from kubernetes import client

    core = client.CoreV1Api(cluster.api)

    def version() -> str:
        answer = core.list_namespace(limit=1, _preload_content=False, _request_timeout=3)
        return json.loads(answer.data)["metadata"]["resourceVersion"]

    return version


WATCHED = (("", "v1", "pods"), ("", "v1", "services"), ("", "v1", "nodes"), ("", "v1", "namespaces"),
           ("discovery.k8s.io", "v1", "endpointslices"), ("networking.k8s.io", "v1", "networkpolicies"))


def watch_changes(cluster, stop: threading.Event) -> tuple[threading.Event, Callable[[], None]]:
    """One thread per watched kind; each event sets the returned Event. Returns (event, stop)."""
    changed = threading.Event()
    done = threading.Event()

    def run(group: str, version: str, plural: str) -> None:
        import json

        from .node_events import read_lines, stream_get

        path = f"/api/{version}/{plural}" if not group else f"/apis/{group}/{version}/{plural}"
        rv = None
        while not (stop.is_set() or done.is_set()):
            try:
                if rv is None:
                    listed = stream_get(cluster.api, path, [("limit", 1)], (5, 10))
                    rv = json.loads(listed.data)["metadata"]["resourceVersion"]
                answer = stream_get(cluster.api, path, [("watch", "1"), ("resourceVersion", rv),
                                                        ("timeoutSeconds", WATCH_SECONDS)], (5, WATCH_SECONDS + 10))
                for line in read_lines(answer):
                    if stop.is_set() or done.is_set():
                        break
                    event = json.loads(line)
                    if event.get("type") == "ERROR":
                        rv = None
                        break
                    rv = (event.get("object") or {}).get("metadata", {}).get("resourceVersion", rv)
                    if event.get("type") != "BOOKMARK":
                        changed.set()
                answer.release_conn()
            except Exception:  # noqa: BLE001 - the heartbeat reports a lost cluster; retry quietly
                rv = None
                changed.set()               # the heartbeat looks now (lost? changed while unwatched?)
                stop.wait(1.0)

    threads = [threading.Thread(target=run, args=w, name=f"labkit-watch-{w[2]}", daemon=True) for w in WATCHED]
    for t in threads:
        t.start()
    from .node_events import follow_nodes

    stop_nodes = follow_nodes(cluster, changed, done)

    def stop_all() -> None:
        done.set()
        stop_nodes()
    return changed, stop_all
