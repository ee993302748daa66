"""The class described before it is built (pure): who, which Unix user, which namespace, which address.

Each learner's world is a network namespace ``kc_<login>`` (the prefix has an underscore, which no
lab name has, so no lab's sweep ever matches it, and no class sweep matches a lab's ``<lab>-*``).
Inside it run the learner's lab (named after the login) and their single-user server; a veth links
it to the host: ``kc_<login>`` on the host side, ``eth0`` inside, with one /32 address per learner
from the class network (default 100.72.0.0/16, in the shared address space of RFC 6598, which a
classroom's own network rarely uses) and the hub's own address (the first of that network) on the
host's ``lo``, labelled ``lo:kc_hub`` (so that the sweep finds it). The learner's namespace has no default route: it reaches the hub and nothing
else.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .roster import Roster

PREFIX = "kc_"                      # Unix users, namespaces, host links: what `class down` sweeps
HUB_LABEL = f"lo:{PREFIX}hub"         # the hub's address on the host's lo, found by this label
INSTALL_DIR = Path("/opt/kubenet-class")       # world-readable: the learners' venv and the proxy
STATE_DIR = Path("/var/lib/kubenet-class")     # root's only (0700): hub database, passwords, config
SINGLEUSER_PORT = 8888
HUB_API_PORT = 8081
SERVICE_PORT = 8090
PROXY_API_PORT = 8001


@dataclass(frozen=True)
class Learner:
    login: str
    admin: bool
    address: str        # eth0 inside the learner's namespace (a /32)

    @property
    def unix(self) -> str:
        return f"{PREFIX}{self.login}"

    @property
    def netns(self) -> str:
        return f"{PREFIX}{self.login}"

    @property
    def host_link(self) -> str:
        return f"{PREFIX}{self.login}"

    @property
    def lab(self) -> str:
        return self.login

    @property
    def home(self) -> str:
        return f"/home/{self.unix}"


@dataclass(frozen=True)
class ClassPlan:
    learners: tuple[Learner, ...]
    network: str = "100.72.0.0/16"
    public_ip: str = "0.0.0.0"
    public_port: int = 8000
    install_dir: str = str(INSTALL_DIR)
    state_dir: str = str(STATE_DIR)
    repo: str = ""                       # the checkout `make class` ran from (notebooks, project venv)
    hub_python: str = ""                 # the project venv's python (root's; runs the hub and the labs)
    extra: dict = field(default_factory=dict)

    @property
    def hub_ip(self) -> str:
        return str(ipaddress.ip_network(self.network)[1])

    @property
    def hub_api_url(self) -> str:
        return f"http://{self.hub_ip}:{HUB_API_PORT}"

    @property
    def service_url(self) -> str:
        return f"http://{self.hub_ip}:{SERVICE_PORT}"

    @property
    def venv(self) -> Path:
        return Path(self.install_dir) / "venv"

    @property
    def proxy_command(self) -> Path:
        return Path(self.install_dir) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"

    def learner(self, login: str) -> Learner:
        for learner in self.learners:
            if learner.login == login:
                return learner
        raise KeyError(login)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ClassPlan:
        data = json.loads(text)
        data["learners"] = tuple(Learner(**entry) for entry in data["learners"])
        return cls(**data)


def make_plan(roster: Roster, network: str = "100.72.0.0/16", previous: ClassPlan | None = None,
              **options) -> ClassPlan:
    """Addresses in roster order: the hub takes the network's first address, learners start at
    x.y.1.1. With the ``previous`` plan of a running class (same network), learners already there
    keep their address (their world exists with it), newcomers take the next free ones."""
    net = ipaddress.ip_network(network)
    kept = {x.login: x.address for x in previous.learners} if previous and previous.network == network else {}
    taken = set(kept.values())
    last = int(net.broadcast_address)
    candidates = (str(ipaddress.ip_address(a)) for a in range(int(net.network_address) + 257, last))
    learners = []
    for p in roster.people:
        address = kept.get(p.login) or next((a for a in candidates if a not in taken), None)
        if address is None:
            raise ValueError(f"{network} is too small for {len(roster.people)} learners")
        taken.add(address)
        learners.append(Learner(p.login, p.admin, address))
    return ClassPlan(learners=tuple(learners), network=network, **options)


def world_commands(plan: ClassPlan, learner: Learner) -> list[list[str]]:
    """The commands (pure argv) that make a learner's empty world: namespace, veth, addresses, routes."""
    n, link = learner.netns, learner.host_link
    return [
        ["ip", "netns", "add", n],
        ["ip", "-n", n, "link", "set", "lo", "up"],
        ["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", n],
        ["ip", "link", "set", link, "up"],
        ["ip", "route", "replace", f"{learner.address}/32", "dev", link, "src", plan.hub_ip],
        ["ip", "-n", n, "addr", "add", f"{learner.address}/32", "dev", "eth0"],
        ["ip", "-n", n, "link", "set", "eth0", "up"],
        ["ip", "-n", n, "route", "add", f"{plan.hub_ip}/32", "dev", "eth0", "src", learner.address],
    ]


def hub_address_commands(plan: ClassPlan) -> list[list[str]]:
    """The hub's own address, on the host's loopback with the class's label: what every learner's
    namespace routes to (the host's veth ends answer ARP for it, as for any local address)."""
    return [["ip", "addr", "add", f"{plan.hub_ip}/32", "dev", "lo", "label", HUB_LABEL]]
