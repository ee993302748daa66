"""A pod's processes start only once every node's policy enforcer has taken the pod into account.

The NetworkPolicy documentation promises that a policy filters a pod's traffic "from the very
first instant"; CNIs program a pod's policy before its containers start. Calico's CNI plugin, for
one, waits after its ADD until Felix reports the workload endpoint programmed, and after a
timeout warns and lets the pod start anyway (``policy_setup_timeout_seconds``,
projectcalico/calico cni-plugin/pkg/k8s/k8s.go, cni-plugin/pkg/types/types.go).

Here the kubelet learns the pod's address from the CNI ADD, but writes it into the Pod's status
only after the containers started, and the enforcer reads pods from the API. Without this barrier
a new pod's first connection (``kubectl run --labels=access=true ... -- wget nginx``) leaves
before the nginx pod's node allows its address, and is dropped. ``PolicyBarrier`` keeps the
addresses given out but not yet published, lays them over the pods the enforcer reads
(``reader``), and ``admit`` waits for an enforcer sync that began after the address was known.

Without any NetworkPolicy, and with every node's table empty, a pod's address changes no table: the
barrier lets the pod start at once (``unfiltered``) instead of waiting for a sync that would load
nothing, and the enforcer's reader leaves the pods as they are (it does not read them then). A
1,000-pod Deployment in a lab without policies otherwise waited for ~1,000 such syncs.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from ..netpol.nft import PolicyObjects
from .controller import DebouncedSync

log = logging.getLogger(__name__)
ADMIT_TIMEOUT = 10.0      # as Calico's policy_setup_timeout_seconds: then start, with a warning


def _key(pod: dict) -> tuple[str, str, str]:
    meta = pod.get("metadata") or {}
    return (meta.get("namespace") or "default", meta.get("name") or "", meta.get("uid") or "")


def overlay(pods: list[dict], pending: dict[tuple[str, str, str], str]) -> list[dict]:
    """The pods with the pending addresses filled in where the status has none yet (pure)."""
    out = []
    for pod in pods:
        ip = pending.get(_key(pod))
        if ip and not (pod.get("status") or {}).get("podIP"):
            pod = copy.deepcopy(pod)
            pod.setdefault("status", {}).update(podIP=ip, podIPs=[{"ip": ip}])
        out.append(pod)
    return out


class PolicyBarrier:
    """Between the kubelet (``admit``) and the policy enforcer (``reader``)."""

    def __init__(self, timeout: float = ADMIT_TIMEOUT) -> None:
        self.pending: dict[tuple[str, str, str], str] = {}
        self.enforcer: DebouncedSync | None = None
        self.timeout = timeout
        # True when no NetworkPolicy exists and no node's table filters anything (the daemon's)
        self.unfiltered: Callable[[], bool] = lambda: False

    def reader(self, read: Callable[[], PolicyObjects]) -> Callable[[], PolicyObjects]:
        """The enforcer's reader, with the addresses not yet in the API laid over the pods."""
        def objects() -> PolicyObjects:
            objs = read()
            if not objs.policies:
                return objs          # no policy: the enforcer reads no pod (policy.py)
            present = {_key(p): (p.get("status") or {}).get("podIP") for p in objs.pods}
            for key in [k for k in self.pending if k not in present or present[k]]:
                del self.pending[key]          # published by the kubelet, or the pod is gone
            return PolicyObjects(objs.namespaces, overlay(objs.pods, self.pending), objs.policies)
        return objects

    async def admit(self, pod: dict, ip: str) -> None:
        """Return once every node's enforcer has synced with ``pod`` at ``ip`` (or timed out)."""
        if self.enforcer is None or not ip or self.unfiltered():
            return
        self.pending[_key(pod)] = ip
        if not await self.enforcer.caught_up(self.timeout):
            log.warning("policy enforcer did not sync within %ss; starting %s/%s anyway",
                        self.timeout, *_key(pod)[:2])
