"""The host side of the node network answers the lab only on what the lab needs.

The node network's gateway (``172.18.0.1``, this machine's end of the lab's link) is this
machine: without a guard, a pod (or a command in a node) could open connections to any service
this machine listens on (an SSH server, JupyterLab, a database on ``0.0.0.0``). Nothing the lab
runs needs that: the API is reached through the ``kubernetes`` Service (a relay in the control
plane), DNS is answered inside the lab, and this machine reaches the lab as a client (its replies
pass as established traffic). So every node gets a small table (``inet labkit-guard``) that
rejects *new* connections from the node and its pods to this machine's addresses; ping still
answers. The table lives in the node's namespace: it goes with the lab.
"""
from __future__ import annotations

import ipaddress
import json
import subprocess

from . import netns as ns
from .topology import LabSpec

TABLE = "labkit-guard"


def host_addresses(spec: LabSpec) -> list[str]:
    """This machine's IPv4 addresses as the lab could reach them: the gateway, and every address
    of the host's interfaces except loopback (a pod reaching 10.0.0.5 reaches this machine too)."""
    found = {spec.gateway_ip}
    try:
        out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True,
                             check=True).stdout
        for link in json.loads(out or "[]"):
            for info in link.get("addr_info", []):
                ip = ipaddress.ip_address(info["local"])
                if not ip.is_loopback:
                    found.add(str(ip))
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        pass
    return sorted(found, key=lambda a: int(ipaddress.ip_address(a)))


def render(addresses: list[str]) -> str:
    """One ``nft -f`` transaction (pure): replace the guard table of a node."""
    elements = ", ".join(addresses)
    rule = ("ip daddr @host ct state new meta l4proto != icmp "
            'counter reject with icmpx type admin-prohibited comment "this machine is not part of the lab"')
    return "\n".join([
        f"table inet {TABLE}", f"delete table inet {TABLE}", f"table inet {TABLE} {{",
        "\tset host {", "\t\ttype ipv4_addr", f"\t\telements = {{ {elements} }}", "\t}",
        "\tchain forward {", "\t\ttype filter hook forward priority filter; policy accept;",
        f"\t\t{rule}", "\t}",
        "\tchain output {", "\t\ttype filter hook output priority filter; policy accept;",
        f"\t\t{rule}", "\t}", "}"]) + "\n"


async def apply(spec: LabSpec) -> None:
    text = render(host_addresses(spec)).encode()
    for node in spec.node_plans():
        await ns.arun(["nft", "-f", "-"], node.netns, input=text)
