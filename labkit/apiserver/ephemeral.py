"""``pods/ephemeralcontainers``: what ``kubectl debug -it POD --image=busybox`` adds to a pod.

kubectl PATCHes the subresource with a strategic merge patch that adds one entry to
``spec.ephemeralContainers``, watches the pod until ``status.ephemeralContainerStatuses`` says
that container runs, then attaches to it. Upstream's rules (``pkg/registry/core/pod/strategy.go``
EphemeralContainersStrategy, ``pkg/apis/core/validation`` ValidatePodEphemeralContainersUpdate):
only ``spec.ephemeralContainers`` may change, entries are never removed or changed once added,
names are unique among all the pod's containers, ``name`` and ``image`` are required, and an
ephemeral container has no ``ports``, probes or ``resources``.

The lab's kubelet starts the container at once: its process is the container's command, or the
image's shell, run on attach in the pod's network namespace like an ``exec`` (see ``streams``).
When that process ends, the container is terminated for good (ephemeral containers are never
restarted).
"""
from __future__ import annotations

import copy

from aiohttp import web

from .. import i18n
from . import defaulting, objects, status
from .api import PATCH_TYPES, PODS, Api
from .handlers import Target, respond
from .patch import PatchError, json_patch, merge_patch, strategic_merge

MESSAGES = {
    "ephemeral.not_running": {
        "en": "pod {name} is not running: an ephemeral container needs a running pod",
        "fr": "le pod {name} ne tourne pas : un conteneur éphémère a besoin d'un pod en marche"},
    "ephemeral.changed": {
        "en": "existing ephemeral containers \"{container}\" may not be removed or changed",
        "fr": "le conteneur éphémère existant « {container} » ne peut être ni retiré ni modifié"},
    "ephemeral.duplicate": {
        "en": "Duplicate value: \"{container}\"", "fr": "Valeur en double : « {container} »"},
    "ephemeral.terminated": {
        "en": "container {container} in pod {name} has terminated: ephemeral containers are "
              "never restarted; start another one with kubectl debug",
        "fr": "le conteneur {container} du pod {name} s'est terminé : un conteneur éphémère ne "
              "redémarre jamais ; lancez-en un autre avec kubectl debug"},
    "ephemeral.forbidden_field": {
        "en": "Forbidden: cannot be set for an Ephemeral Container",
        "fr": "Interdit : ne peut pas être défini pour un conteneur éphémère"},
}

FORBIDDEN = ("ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle")


def names(pod: dict) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("name") for key in ("containers", "initContainers", "ephemeralContainers")
            for c in spec.get(key) or []]


def find(pod: dict, container: str) -> dict | None:
    return next((c for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
                 if c.get("name") == container), None)


def _causes(current: list[dict], wanted: list[dict], regular: list[str]) -> list:
    causes = []
    by_name = {c.get("name"): c for c in wanted if isinstance(c, dict)}
    for old in current:
        new = copy.deepcopy(by_name.get(old["name"]))
        if new is not None:
            defaulting.container(new)
        if new != old:
            causes.append(status.cause("spec.ephemeralContainers", "ephemeral.changed",
                                       container=old["name"]))
    seen = set(regular)
    for index, c in enumerate(wanted):
        where = f"spec.ephemeralContainers[{index}]"
        if not isinstance(c, dict):
            causes.append(status.cause(where, "cause.required"))
            continue
        if not c.get("name"):
            causes.append(status.cause(f"{where}.name", "cause.required"))
        elif c["name"] in seen:
            causes.append(status.cause(f"{where}.name", "ephemeral.duplicate",
                                       container=c["name"]))
        seen.add(c.get("name") or "")
        if not c.get("image"):
            causes.append(status.cause(f"{where}.image", "cause.required"))
        for key in FORBIDDEN:
            if c.get(key):
                causes.append(status.cause(f"{where}.{key}", "ephemeral.forbidden_field"))
    return causes


def container_status(pod: dict, container: dict) -> dict:
    return {"name": container["name"], "image": container.get("image", ""),
            "imageID": f"labkit://{container.get('image', '')}",
            "containerID": f"labkit://{pod['metadata']['uid'][:13]}-{container['name']}",
            "lastState": {}, "ready": False, "restartCount": 0,
            "state": {"running": {"startedAt": objects.now()}}}


def add(api: Api, namespace: str, name: str, patched: dict, dry_run: bool = False) -> dict:
    """Store the pod with the ephemeral containers of ``patched``; start the new ones."""
    current = api.get(PODS, namespace, name)
    spec = current.get("spec") or {}
    wanted = (patched.get("spec") or {}).get("ephemeralContainers") or []
    if not isinstance(wanted, list):
        raise status.bad_request("api.bad_patch", error="spec.ephemeralContainers is a list")
    existing = spec.get("ephemeralContainers") or []
    regular = [c.get("name") for key in ("containers", "initContainers")
               for c in spec.get(key) or []]
    causes = _causes(existing, wanted, regular)
    if causes:
        raise status.invalid("Pod", "", name, causes)
    new_ones = [copy.deepcopy(c) for c in wanted if c.get("name") not in
                {e["name"] for e in existing}]
    if not new_ones:
        return current
    if current.get("status", {}).get("phase") != "Running":
        raise status.bad_request("ephemeral.not_running", name=name)
    for c in new_ones:
        defaulting.container(c)
    pod = copy.deepcopy(current)
    pod["spec"]["ephemeralContainers"] = existing + new_ones
    statuses = pod["status"].setdefault("ephemeralContainerStatuses", [])
    statuses += [container_status(pod, c) for c in new_ones]
    if dry_run:
        return pod
    stored = api.store.put(PODS, pod)
    node = spec.get("nodeName")
    for c in new_ones:
        field = f"spec.ephemeralContainers{{{c['name']}}}"
        for reason, key in (("Pulled", "event.pulled"), ("Created", "event.created"),
                            ("Started", "event.started")):
            api.event(stored, reason, i18n.t(key, None, image=c.get("image", ""),
                                             container=c["name"]), "kubelet", host=node,
                      field_path=field)
    return stored


def ended(api: Api, pod: dict, container: str, code: int) -> None:
    """The container's process ended: terminated for good (never restarted)."""
    current = api.store.get(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
    if current is None or current["metadata"]["uid"] != pod["metadata"]["uid"]:
        return
    new = copy.deepcopy(current)
    for entry in new.get("status", {}).get("ephemeralContainerStatuses") or []:
        if entry["name"] == container and "running" in entry.get("state", {}):
            started = entry["state"]["running"].get("startedAt")
            entry["state"] = {"terminated": {
                "exitCode": code, "reason": "Completed" if code == 0 else "Error",
                "startedAt": started, "finishedAt": objects.now(),
                "containerID": entry.get("containerID")}}
            api.store.put(PODS, new)
            return


def terminated(pod: dict, container: str) -> bool:
    return any(entry["name"] == container and "terminated" in entry.get("state", {})
               for entry in pod.get("status", {}).get("ephemeralContainerStatuses") or [])


def argv(container: dict) -> list[str]:
    """The process of an ephemeral container: its command and args, or the image's shell."""
    return list(container.get("command") or []) + list(container.get("args") or []) or ["sh"]


class EphemeralContainers:
    def __init__(self, api: Api) -> None:
        self.api = api

    def subresources(self) -> dict:
        return {"pods/ephemeralcontainers": self.handle}

    async def handle(self, request: web.Request, target: Target) -> web.Response:
        namespace = target.namespace or ""
        current = self.api.get(PODS, namespace, target.named)
        dry_run = request.query.get("dryRun") == "All"
        if request.method == "GET":
            return respond(current)
        from .bodies import decode

        body = decode(await request.read(), request.content_type)
        if request.method == "PUT":
            patched = body if isinstance(body, dict) else {}
        elif request.method == "PATCH":
            flavour = PATCH_TYPES.get(request.content_type)
            try:
                if flavour == "json":
                    patched = json_patch(current, body)
                elif flavour == "merge":
                    patched = merge_patch(current, body)
                elif flavour == "strategic" and isinstance(body, dict):
                    patched = strategic_merge(current, body)
                else:
                    raise status.ApiError(415, "UnsupportedMediaType", "api.bad_content_type",
                                          content_type=request.content_type)
            except (PatchError, ValueError, TypeError, IndexError) as exc:
                raise status.bad_request("api.bad_patch", error=exc) from exc
        else:
            raise status.method_not_allowed()
        if not isinstance(patched, dict):
            raise status.bad_request("api.bad_patch", error="result is not an object")
        return respond(add(self.api, namespace, target.named, patched, dry_run))
