"""``EmbeddedLab``: the Python face of a running lab (the CLI, the tests and the notebooks use it).

Calls are synchronous and go over the daemon's control socket, so they work unchanged inside a
Jupyter cell. Running commands in a pod or reading a node here enters its namespace (root);
``kubectl exec`` and an ordinary user's reads go through the lab's API instead (``labkit.nodes``).
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import LabkitError
from ..nodes import LabNetns
from . import control
from .control import daemon_alive
from .paths import control_socket, kubeconfig_file
from .state import LabState
from .topology import DEFAULT_NAME, LabSpec


class EmbeddedLab:
    def __init__(self, name: str = DEFAULT_NAME) -> None:
        state = LabState.load(name)
        if state is None:
            raise LabkitError("lab.not_running", exit_code=1, name=name)
        self.name = name
        self.spec: LabSpec = state.spec

    def _call(self, op: str, **args: Any) -> Any:
        try:
            return control.call(control_socket(self.name), op, **args)
        except OSError as exc:
            raise LabkitError("lab.not_running", name=self.name) from exc

    # --- state --------------------------------------------------------------------------------
    def status(self) -> dict:
        """The shape ``labkit status --json`` prints."""
        running = daemon_alive(self.name)
        live = self._call("status") if running else {}
        pods = live["pods"] if running else list(
            p.summary() for p in (LabState.load(self.name) or LabState(self.spec)).pods.values())
        return {
            "name": self.name, "cni": self.spec.cni, "running": running, "api": live.get("api"),
            "kubeconfig": str(kubeconfig_file(self.name)),
            "node_cidr": self.spec.node_cidr, "pod_cidr": self.spec.pod_cidr,
            "service_cidr": self.spec.service_cidr, "host_routes": self.spec.host_routes,
            "policy_controller": self.spec.policy_controller,
            "nodes": [{"name": n.name, "role": n.role, "ip": n.ip, "pod_cidr": n.pod_cidr,
                       "netns": n.netns} for n in self.spec.node_plans()],
            "pods": [{"namespace": p["namespace"], "name": p["name"], "node": p["node"], "ip": p["ip"],
                      "netns": p["netns"]} for p in pods],
        }

    def pods(self) -> list[dict]:
        return self._call("status")["pods"]

    def pod(self, key: str) -> dict:
        key = key if "/" in key else f"default/{key}"
        for p in self.pods():
            if f"{p['namespace']}/{p['name']}" == key:
                return p
        raise LabkitError("lab.unknown_pod", exit_code=2, pod=key, name=self.name)

    # --- pods ---------------------------------------------------------------------------------
    def add_pod(self, name: str, namespace: str = "default", node: str | None = None,
                ports: Iterable[int | tuple[int, str]] | None = None, image: str | None = None,
                labels: dict[str, str] | None = None) -> dict:
        return self.add_pods([{"name": name, "namespace": namespace, "node": node,
                               "ports": list(ports) if ports else None, "image": image,
                               "labels": labels}])[0]

    def add_pods(self, pods: list[dict]) -> list[dict]:
        """Create several pods at once (in parallel); all or none."""
        return self._call("add_pods", pods=pods)

    def delete_pod(self, key: str) -> None:
        self.delete_pods([key])

    def delete_pods(self, keys: list[str]) -> None:
        self._call("delete_pods", pods=[k if "/" in k else f"default/{k}" for k in keys])

    def logs(self, key: str) -> list[str]:
        return self._call("logs", pod=key if "/" in key else f"default/{key}")

    # --- running things -----------------------------------------------------------------------
    def exec(self, key: str, argv: Sequence[str], timeout: float = 30.0,
             input: str | None = None) -> subprocess.CompletedProcess:
        """Run a command in a pod's network namespace with the host's tools (root; the node seam's
        ``labkit.nodes.LabNetns``)."""
        pod = self.pod(key)
        return LabNetns(f"{pod['namespace']}/{pod['name']}", pod["netns"], pod=True).call(argv, input, timeout)

    def node_exec(self, node: str, argv: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run a command in a node's network namespace (root; ``labkit.nodes.LabNetns``)."""
        plan = self.spec.node(node)
        return LabNetns(plan.name, plan.netns).call(argv, timeout=timeout)
