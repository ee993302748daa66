"""Service environment variables, as the kubelet gives them to a container when it starts.

From kubernetes ``pkg/kubelet/envvars/envvars.go`` (FromServices, makeLinkVariables) and
``pkg/kubelet/kubelet_pods.go`` (getServiceEnvVarMap, makeEnvironmentVariables):
- for every Service of the pod's namespace that has a cluster IP (not headless, not
  ExternalName) *when the container starts*: ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT``
  (first port), ``<NAME>_SERVICE_PORT_<PORTNAME>`` for named ports, and the Docker link
  variables ``<NAME>_PORT``, ``<NAME>_PORT_<port>_<PROTO>`` (``_PROTO``, ``_PORT``, ``_ADDR``);
  the name is upper-cased with ``-`` turned into ``_``;
- ``enableServiceLinks: false`` drops them all, except those of the ``kubernetes`` Service of
  ``default``, which every pod gets;
- the container's own ``env`` wins over them.

A Service created after the pod started is not seen, which is why DNS is the way to find
Services. The variables are frozen per pod when the kubelet starts it (``started``); ``exec``
sessions get the same ones, as a real container's processes inherit its environment.
"""
from __future__ import annotations

import copy

MASTER_SERVICES = ("kubernetes",)


def _name(text: str) -> str:
    return text.replace("-", "_").upper()


def _has_ip(svc: dict) -> bool:
    ip = (svc.get("spec") or {}).get("clusterIP")
    return bool(ip) and ip != "None"


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def link_variables(svc: dict) -> list[dict]:
    prefix = _name(svc["metadata"]["name"])
    spec = svc["spec"]
    out = []
    for index, port in enumerate(spec.get("ports") or []):
        protocol = port.get("protocol") or "TCP"
        url = f"{protocol.lower()}://{_host_port(spec['clusterIP'], port['port'])}"
        if index == 0:
            out.append({"name": f"{prefix}_PORT", "value": url})
        base = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
        out += [{"name": base, "value": url},
                {"name": f"{base}_PROTO", "value": protocol.lower()},
                {"name": f"{base}_PORT", "value": str(port["port"])},
                {"name": f"{base}_ADDR", "value": spec["clusterIP"]}]
    return out


def from_services(services: list[dict]) -> list[dict]:
    """envvars.FromServices: the variables of these Services, in their order."""
    out = []
    for svc in services:
        if not _has_ip(svc) or not svc["spec"].get("ports"):
            continue
        prefix = _name(svc["metadata"]["name"])
        out.append({"name": f"{prefix}_SERVICE_HOST", "value": svc["spec"]["clusterIP"]})
        first = f"{prefix}_SERVICE_PORT"
        out.append({"name": first, "value": str(svc["spec"]["ports"][0]["port"])})
        for port in svc["spec"]["ports"]:
            if port.get("name"):
                out.append({"name": f"{first}_{_name(port['name'])}", "value": str(port["port"])})
        out += link_variables(svc)
    return out


def for_pod(pod: dict, services: list[dict]) -> list[dict]:
    """getServiceEnvVarMap: which Services a pod sees (sorted by name, as the kubelet's map)."""
    namespace = pod["metadata"].get("namespace", "default")
    links = (pod.get("spec") or {}).get("enableServiceLinks", True) is not False
    chosen: dict[str, dict] = {}
    for svc in services:
        meta = svc["metadata"]
        if not _has_ip(svc):
            continue
        if meta.get("namespace") == "default" and meta["name"] in MASTER_SERVICES:
            chosen.setdefault(meta["name"], svc)
        elif meta.get("namespace") == namespace and links:
            chosen[meta["name"]] = svc
    return from_services([chosen[name] for name in sorted(chosen)])


def with_env(pod: dict, variables: list[dict]) -> dict:
    """A copy of ``pod`` whose containers get ``variables`` before their own ``env``."""
    if not variables:
        return pod
    out = copy.deepcopy(pod)
    for key in ("containers", "initContainers"):
        for container in (out.get("spec") or {}).get(key) or []:
            own = container.get("env") or []
            names = {v.get("name") for v in own}
            container["env"] = [dict(v) for v in variables if v["name"] not in names] + own
    return out


def _frozen(api) -> dict[str, list[dict]]:
    return api.__dict__.setdefault("_service_env", {})


def started(api, pod: dict) -> dict:
    """The pod as its containers start: the Services of this moment, frozen for the pod."""
    from .api import SERVICES

    uid = pod["metadata"]["uid"]
    frozen = _frozen(api)
    if uid not in frozen:
        frozen[uid] = for_pod(pod, api.store.list(SERVICES))
    return with_env(pod, frozen[uid])


def running(api, pod: dict) -> dict:
    """The pod with the variables its containers started with (for ``exec``)."""
    return with_env(pod, _frozen(api).get(pod["metadata"]["uid"], []))


def forget(api, uid: str) -> None:
    _frozen(api).pop(uid, None)
