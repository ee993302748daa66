"""The break-and-fix write path accepts `ip route add|del|replace` and nothing else."""
import pytest

from labkit.errors import BadInput
from labkit.exercises.noderoute import route_argv


@pytest.mark.parametrize("command", [
    "ip route add 10.244.2.0/24 via 172.18.0.4 dev eth0",
    "ip route replace 10.244.2.0/24 via 172.18.0.4 dev eth0 onlink",
    "ip route del 10.244.2.0/24",
    "ip route replace unreachable 10.244.2.0/24",
    "ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink metric 10 proto static scope global",
])
def test_allowed(command):
    assert route_argv(command) == command.split()


@pytest.mark.parametrize("command", [
    "ip link del eth0",                                       # another object
    "ip route flush all",                                     # another verb
    "ip -n other route add 10.0.0.0/8 dev eth0",              # an option
    "ip route add 10.244.2.0/24 via 172.18.0.4; reboot",      # a shell
    "ip route add 10.244.2.0/24 via nowhere",                 # not an address
    "ip route add 10.244.2.0/24 dev $(id)",                   # not a device name
    "ip route add 10.244.2.0/24 table 7",                     # another table
    "ip route add",                                           # nothing
    "sh -c 'ip route del default'",
])
def test_refused_with_a_message_in_both_languages(command):
    with pytest.raises(BadInput) as info:
        route_argv(command)
    assert "refusing" in info.value.message("en") and "refus de" in info.value.message("fr")


def test_another_cluster_is_named_not_called_a_cluster_cluster():
    from types import SimpleNamespace

    from labkit.exercises.noderoute import node_route

    prod = SimpleNamespace(kind="cluster", name="prod", node=lambda n: SimpleNamespace(name=n))
    with pytest.raises(BadInput) as info:
        node_route(prod, "worker", "ip route del 10.244.2.0/24")
    assert info.value.message("en").endswith("not on another cluster (prod)")
    assert info.value.message("fr").endswith("pas sur un autre cluster (prod)")
    assert "cluster cluster" not in info.value.message("en") + info.value.message("fr")
