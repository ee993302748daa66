"""The host side of a lab: the host's own networks, and the routes that keep the lab's ranges in.

Containment: every range a lab owns (node network, pod CIDR, service CIDR; NodePorts live on node
addresses) is either routed into the lab or refused on this machine with an ``unreachable`` route,
so that no packet to a lab address ever leaves through the host's own interfaces (its default
route). The refusals go in before anything is built and come out last when the lab is swept; the
real routes into the lab (``dataplane.host_commands``) are more specific or have a lower metric, so
they win while the lab is up, and the refusal takes over as soon as the lab's host link is gone
(the lab crashed, its namespaces were deleted, it is being swept).

A refusal carries the lab's name the only way a route can: ``proto`` :data:`REFUSE_PROTO` marks it
as labkit's, its metric is derived from the lab's name (:func:`refuse_metric`), so ``labkit down``
finds and removes it even when the lab's state file is lost.
"""
from __future__ import annotations

import ipaddress
import json
import zlib

from ..inspect.iproute import parse_addr, parse_routes
from . import netns as ns
from .topology import HostNetwork, LabSpec, conflicts

REFUSE_PROTO = 111          # a routing protocol number of our own (rt_protos leaves 5-254 free)
REFUSE_TYPE = "unreachable"  # the sender gets EHOSTUNREACH at once, nothing is sent
_METRIC_BASE = 0x7F000000   # far above any real route's metric: real routes into the lab win


def refuse_metric(name: str) -> int:
    """The metric of lab ``name``'s refusal routes: a name-derived tag the sweep can find."""
    return _METRIC_BASE + (zlib.crc32(name.encode()) & 0xFFFFFF)


def refused_ranges(spec: LabSpec, hosts: list[HostNetwork]) -> list[str]:
    """The lab's ranges to refuse on the host: all of them, except (``--no-host-routes`` only) a
    range that overlaps a network the host really uses: the host's own route keeps serving it."""
    clashing = {cidr for _, cidr, _ in conflicts(spec, hosts)}
    return [c for c in spec.networks().values() if c not in clashing]


def refuse_commands(spec: LabSpec, ranges: list[str]) -> list[str]:
    """``ip`` commands (pure) that refuse ``ranges`` on the host, tagged with the lab's name."""
    metric = refuse_metric(spec.name)
    return [f"route replace {REFUSE_TYPE} {cidr} metric {metric} proto {REFUSE_PROTO}"
            for cidr in ranges]


def refuse(spec: LabSpec) -> None:
    """Install the lab's refusal routes (before the lab is built: containment while it starts).

    Only the host's own networks are left alone: a range that another lab also routes or refuses
    (a ``--no-host-routes`` lab may share them) is refused by this lab too, so it stays refused
    when the other lab goes."""
    ns.ip_batch(refuse_commands(spec, refused_ranges(spec, non_lab_networks())))


def _host_routes_json() -> list[dict]:
    return json.loads(ns.run(["ip", "-j", "route", "show", "table", "main"]) or "[]")


def lab_refusals(name: str, routes: list[dict] | None = None) -> list[str]:
    """The ranges lab ``name`` refuses on this machine now (read from the kernel, not the state)."""
    metric = refuse_metric(name)
    return [r["dst"] for r in (routes if routes is not None else _host_routes_json())
            if r.get("type") == REFUSE_TYPE and str(r.get("protocol")) == str(REFUSE_PROTO)
            and r.get("metric") == metric]


def unrefuse(name: str) -> int:
    """Remove lab ``name``'s refusal routes (the last step of a sweep); returns how many."""
    found = lab_refusals(name)
    metric = refuse_metric(name)
    ns.ip_batch([f"route del {REFUSE_TYPE} {cidr} metric {metric} proto {REFUSE_PROTO}"
                 for cidr in found])
    return len(found)


def lab_links() -> tuple[str, ...]:
    """The host links of every lab on this machine (``<lab>-host`` of a lab with a directory)."""
    from .paths import RUN_ROOT

    labs = {d.name for d in RUN_ROOT.iterdir()} if RUN_ROOT.is_dir() else set()
    return tuple(f"{lab}-host" for lab in sorted(labs))


def non_lab_networks() -> list[HostNetwork]:
    """The host's own networks, without any lab's: what a lab's refusals must leave alone."""
    return host_networks(exclude_links=lab_links(), include_refusals=False)


def host_networks(exclude_links: tuple[str, ...] = (),
                  include_refusals: bool = True) -> list[HostNetwork]:
    """Networks in use on this machine (addresses, non-default routes, other labs' refusals),
    except on ``exclude_links``."""
    found = []
    for iface in parse_addr(ns.run(["ip", "-j", "addr", "show"])):
        if iface.name in exclude_links or iface.kind == "loopback":
            continue
        for a in iface.ipv4():
            net = ipaddress.ip_network(a.cidr, strict=False)
            found.append(HostNetwork(str(net), f"address {a.cidr} of {iface.name}"))
    for r in parse_routes(ns.run(["ip", "-j", "route", "show", "table", "all"])):
        if r.dev in exclude_links or r.dev == "lo" or r.dst == "default" or r.type != "unicast":
            continue
        if ":" in r.dst:
            continue
        found.append(HostNetwork(r.cidr, f"route {r.describe()}"))
    for raw in _host_routes_json() if include_refusals else []:
        if raw.get("type") == REFUSE_TYPE and str(raw.get("protocol")) == str(REFUSE_PROTO):
            found.append(HostNetwork(raw["dst"], "range of another lab (unreachable, metric "
                                                 f"{raw.get('metric')})"))
    return found
