"""The class's firewall table on the host (pure text for ``nft -f``).

A learner's world reaches the host only through its veth ``kc_<login>``. From there it may open
connections to the hub's API and to the class service (both on the hub's own address), and nothing
else: not the proxy's API, not the host's other services, not another learner's world (the host
forwards nothing to or from a ``kc_*`` link). The hub's address is refused to anyone else but the
host itself and the learners (it must not answer on the classroom's network either).
"""
from __future__ import annotations

from .plan import HUB_API_PORT, PREFIX, SERVICE_PORT, ClassPlan

TABLE = "kubenet-class"


def ruleset(plan: ClassPlan) -> str:
    links = f'"{PREFIX}*"'
    return f"""table inet {TABLE} {{
	chain input {{
		type filter hook input priority filter - 10; policy accept;
		iifname {links} ct state established,related accept
		iifname {links} ip daddr {plan.hub_ip} tcp dport {{ {HUB_API_PORT}, {SERVICE_PORT} }} accept
		iifname {links} counter drop
		ip daddr {plan.hub_ip} iifname != "lo" counter drop
	}}
	chain forward {{
		type filter hook forward priority filter - 10; policy accept;
		iifname {links} counter drop
		oifname {links} counter drop
	}}
}}
"""


def delete_commands() -> list[list[str]]:
    return [["nft", "delete", "table", "inet", TABLE]]
