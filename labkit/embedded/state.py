"""The lab's state file: the spec and the pods, written atomically so a crash never leaves half a file."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
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

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def summary(self) -> dict:
        return {"namespace": self.namespace, "name": self.name, "node": self.node, "ip": self.ip,
                "netns": self.netns, "ports": [list(p) for p in self.ports],
                "host_veth": self.host_veth, "image": self.image, "labels": self.labels,
                "uid": self.uid}

    @classmethod
    def from_dict(cls, data: dict) -> "PodRecord":
        data = dict(data)
        data["ports"] = [tuple(p) for p in data.get("ports", [])]
        return cls(**data)


@dataclass
class LabState:
    spec: LabSpec
    pods: dict[str, PodRecord] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "pods": {k: asdict(p) for k, p in self.pods.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "LabState":
        return cls(spec=LabSpec.from_dict(data["spec"]),
                   pods={k: PodRecord.from_dict(p) for k, p in data.get("pods", {}).items()})

    def save(self, path: Path | None = None) -> None:
        path = path or state_file(self.spec.name)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, name: str) -> "LabState | None":
        path = state_file(name)
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
