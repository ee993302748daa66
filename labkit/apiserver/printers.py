"""Cells of the server-side Tables, computed the way the real API server prints them.

kubectl prints Table cells verbatim (AGE included), so what learners see in ``kubectl get -o wide``
is decided here. Each function takes the object and "now" (seconds since the epoch) and returns
one cell; the column list of each kind lives in the resource table (``resources.py``).
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NONE = "<none>"


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def human_duration(seconds: float) -> str:
    """Go's ``duration.HumanDuration``: ``5s``, ``3m20s``, ``47m``, ``5h3m``, ``2d4h``, ``400d``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return f"{hours // 8760}y{(hours % 8760) // 24}d"
    return f"{hours // 8760}y"


def _get(obj: dict, path: str, default=None):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def name(obj: dict, now: float) -> str:
    return obj["metadata"]["name"]


def age(obj: dict, now: float) -> str:
    created = parse_time(obj["metadata"].get("creationTimestamp"))
    return "<unknown>" if created is None else human_duration(now - created)


def selector_string(selector: dict | None) -> str:
    """A LabelSelector as kubectl prints it (``app=blue,tier in (a,b)``)."""
    if not selector:
        return NONE
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or NONE


# --- namespaces -------------------------------------------------------------------------------
def namespace_status(obj: dict, now: float) -> str:
    return _get(obj, "status.phase", "Active")


# --- nodes ------------------------------------------------------------------------------------
def node_status(obj: dict, now: float) -> str:
    ready = next((c for c in _get(obj, "status.conditions", []) if c.get("type") == "Ready"), None)
    text = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if _get(obj, "spec.unschedulable"):
        text += ",SchedulingDisabled"
    return text


def node_roles(obj: dict, now: float) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in obj["metadata"].get("labels", {}) if k.startswith(prefix))
    return ",".join(roles) or NONE


def node_address(kind: str):
    def cell(obj: dict, now: float) -> str:
        found = [a["address"] for a in _get(obj, "status.addresses", []) if a.get("type") == kind]
        return ",".join(found) or NONE
    return cell


def node_info(field: str):
    def cell(obj: dict, now: float) -> str:
        return _get(obj, f"status.nodeInfo.{field}", "") or "<unknown>"
    return cell


# --- pods -------------------------------------------------------------------------------------
def pod_ready(obj: dict, now: float) -> str:
    total = len(_get(obj, "spec.containers", []))
    ready = sum(1 for s in _get(obj, "status.containerStatuses", []) if s.get("ready"))
    return f"{ready}/{total}"


def pod_status(obj: dict, now: float) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    if _get(obj, "status.reason"):
        return obj["status"]["reason"]
    for status in _get(obj, "status.containerStatuses", []):
        state = status.get("state", {})
        for key in ("waiting", "terminated"):
            if state.get(key, {}).get("reason"):
                if key == "terminated" and _get(obj, "status.phase") == "Running":
                    continue
                return state[key]["reason"]
    phase = _get(obj, "status.phase", "Pending")
    if phase == "Pending" and _get(obj, "spec.nodeName"):
        return "ContainerCreating"
    return phase


def pod_restarts(obj: dict, now: float) -> int:
    return sum(s.get("restartCount", 0) for s in _get(obj, "status.containerStatuses", []))


def pod_ip(obj: dict, now: float) -> str:
    return _get(obj, "status.podIP") or NONE


def pod_node(obj: dict, now: float) -> str:
    return _get(obj, "spec.nodeName") or NONE


def pod_nominated(obj: dict, now: float) -> str:
    return _get(obj, "status.nominatedNodeName") or NONE


def pod_gates(obj: dict, now: float) -> str:
    gates = _get(obj, "spec.readinessGates", [])
    if not gates:
        return NONE
    conditions = {c["type"]: c.get("status") for c in _get(obj, "status.conditions", [])}
    ok = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return f"{ok}/{len(gates)}"


# --- services and endpoints -------------------------------------------------------------------
def svc_type(obj: dict, now: float) -> str:
    return _get(obj, "spec.type", "ClusterIP")


def svc_cluster_ip(obj: dict, now: float) -> str:
    return _get(obj, "spec.clusterIP") or NONE


def svc_external_ip(obj: dict, now: float) -> str:
    external = list(_get(obj, "spec.externalIPs", []))
    if _get(obj, "spec.type") == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in
                   _get(obj, "status.loadBalancer.ingress", [])]
        external = ingress + external
        return ",".join(external) or "<pending>"
    if _get(obj, "spec.type") == "ExternalName":
        return _get(obj, "spec.externalName", NONE)
    return ",".join(external) or NONE


def svc_ports(obj: dict, now: float) -> str:
    out = []
    for port in _get(obj, "spec.ports", []):
        text = str(port.get("port"))
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        out.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(out) or NONE


def svc_selector(obj: dict, now: float) -> str:
    selector = _get(obj, "spec.selector")
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) if selector else NONE


def endpoints_list(obj: dict, now: float) -> str:
    found = []
    for subset in obj.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for address in subset.get("addresses") or []:
            for port in ports:
                found.append(f"{address['ip']}:{port['port']}" if "port" in port else address["ip"])
    return _truncated(found)


def _truncated(items: list[str]) -> str:
    if not items:
        return NONE
    if len(items) > 3:
        return ",".join(items[:3]) + f" + {len(items) - 3} more..."
    return ",".join(items)


def slice_address_type(obj: dict, now: float) -> str:
    return obj.get("addressType", "")


def slice_ports(obj: dict, now: float) -> str:
    ports = [str(p.get("port")) for p in obj.get("ports") or [] if p.get("port") is not None]
    return ",".join(ports) or NONE


def slice_endpoints(obj: dict, now: float) -> str:
    return _truncated([a for e in obj.get("endpoints") or [] for a in e.get("addresses", [])])


# --- workloads --------------------------------------------------------------------------------
def deploy_ready(obj: dict, now: float) -> str:
    return f"{_get(obj, 'status.readyReplicas', 0)}/{_get(obj, 'spec.replicas', 1)}"


def status_int(path: str, default: int = 0):
    def cell(obj: dict, now: float) -> int:
        return _get(obj, path, default) or 0
    return cell


def spec_int(path: str, default: int = 1):
    def cell(obj: dict, now: float) -> int:
        value = _get(obj, path)
        return default if value is None else value
    return cell


def containers(obj: dict, now: float) -> str:
    return ",".join(c.get("name", "") for c in _get(obj, "spec.template.spec.containers", []))


def images(obj: dict, now: float) -> str:
    return ",".join(c.get("image", "") for c in _get(obj, "spec.template.spec.containers", []))


def workload_selector(obj: dict, now: float) -> str:
    return selector_string(_get(obj, "spec.selector"))


def policy_selector(obj: dict, now: float) -> str:
    text = selector_string(_get(obj, "spec.podSelector"))
    return "<none>" if text == NONE else text


# --- events -----------------------------------------------------------------------------------
def event_last_seen(obj: dict, now: float) -> str:
    when = parse_time(obj.get("lastTimestamp") or obj.get("firstTimestamp"))
    return "<unknown>" if when is None else human_duration(now - when)


def event_first_seen(obj: dict, now: float) -> str:
    when = parse_time(obj.get("firstTimestamp"))
    return "<unknown>" if when is None else human_duration(now - when)


def event_field(path: str, default: Any = ""):
    def cell(obj: dict, now: float):
        return _get(obj, path, default)
    return cell


def event_object(obj: dict, now: float) -> str:
    involved = obj.get("involvedObject", {})
    return f"{involved.get('kind', '').lower()}/{involved.get('name', '')}"


def event_source(obj: dict, now: float) -> str:
    source = obj.get("source") or {}
    text = source.get("component", "")
    if source.get("host"):
        text += f", {source['host']}"
    return text
