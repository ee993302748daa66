"""The lab's state file: the spec and the pods, written atomically so a crash never leaves half a file."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .paths import state_file
from .topology import LabSpec


@dataclass
class PodRecord:
    namespace: str
    name: str
    node: str
    ip: str
    netns: str
    container_id: str
    ports: list[tuple[int, str]] = field(default_factory=list)   # (port, "TCP"|"UDP") served
    image: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    host_veth: str | None = None
    cni_result: dict = field(default_factory=dict)
    uid: str | None = None          # the API object's uid, when the pod came through the API
    answers: str = "echo"           # how its ports answer (``images.Image.answers``)
    wiring: bool = False            # written before the wiring starts: a crash leaves this mark
    # each crash-looping container's back-off, {container: [step, until]} (``processes``)
    backoff: dict[str, list] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def summary(self) -> dict:
        return {"namespace": self.namespace, "name": self.name, "node": self.node, "ip": self.ip,
                "netns": self.netns, "ports": [list(p) for p in self.ports],
                "host_veth": self.host_veth, "image": self.image, "labels": self.labels,
                "uid": self.uid}

    @classmethod
    def from_dict(cls, data: dict) -> PodRecord:
        data = dict(data)
        data["ports"] = [tuple(p) for p in data.get("ports", [])]
        return cls(**data)


@dataclass
class LabState:
    """The spec in ``state.json`` and one small file per pod in ``pods/``.

    One file per pod keeps a change O(1): rewriting every pod on each change made starting
    500 pods quadratic. Files are written to a temporary name and renamed, so a crash never
    leaves half a file (the directory is on tmpfs: no fsync needed).
    """

    spec: LabSpec
    pods: dict[str, PodRecord] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "pods": {k: asdict(p) for k, p in self.pods.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> LabState:
        return cls(spec=LabSpec.from_dict(data["spec"]),
                   pods={k: PodRecord.from_dict(p) for k, p in data.get("pods", {}).items()})

    def save(self) -> None:
        """Write the spec and every pod (at creation; later changes use ``save_pod``)."""
        _write(state_file(self.spec.name), {"spec": self.spec.to_dict()})
        for pod in self.pods.values():
            self.save_pod(pod)

    def save_pod(self, pod: PodRecord) -> None:
        # a shallow dict: ``asdict`` copied the CNI result recursively, 170 us a save against 25,
        # twice per pod (5% of the daemon's GIL time while a Deployment of 300 pods starts)
        _write(pods_dir(self.spec.name) / f"{pod.netns}.json",
               {name: getattr(pod, name) for name in _POD_FIELDS})

    def forget_pod(self, pod: PodRecord) -> None:
        try:
            (pods_dir(self.spec.name) / f"{pod.netns}.json").unlink()
        except FileNotFoundError:
            pass

    @classmethod
    def load(cls, name: str) -> LabState | None:
        try:
            data = json.loads(state_file(name).read_text())
        except FileNotFoundError:
            return None
        pods = {}
        for path in sorted(pods_dir(name).glob("*.json")) if pods_dir(name).exists() else []:
            try:
                pod = PodRecord.from_dict(json.loads(path.read_text()))
            except (ValueError, TypeError, KeyError):
                continue
            pods[pod.key] = pod
        return cls(spec=LabSpec.from_dict(data["spec"]), pods=pods)


_POD_FIELDS = tuple(f.name for f in fields(PodRecord))


def pods_dir(name: str) -> Path:
    return state_file(name).parent / "pods"


def _write(path: Path, data: dict) -> None:
    """Atomically, readable by root only (pods share this machine's filesystem)."""
    from ..apiserver.store import private_dirs

    private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(data))
    os.replace(tmp, path)
