"""The class described before it is built: roster parsing, per-learner plan, firewall, hub config."""
import ipaddress
import json
import shutil
import subprocess

import pytest

from labkit.classroom import firewall, hubconfig, plan, roster
from labkit.errors import BadInput

ROSTER = """
# Tuesday's class
alice
bob        # sits at the back
teacher admin
"""


def test_roster_reads_logins_and_admins():
    r = roster.parse(ROSTER)
    assert r.logins == ["alice", "bob", "teacher"]
    assert r.admins == ["teacher"]


@pytest.mark.parametrize("text,key,line", [
    ("alice\nAlice\n", "class.roster.bad_login", 2),
    ("alice\nbob_b\n", "class.roster.bad_login", 2),
    ("averyveryverylongname\n", "class.roster.bad_login", 1),
    ("kubenet\n", "class.roster.reserved", 1),
    ("alice\nkubenetbr\n", "class.roster.reserved", 2),
    ("learner01\nlearner02\n", "class.roster.shared_names", 2),
    ("bob\nalice\nbobbr\n", "class.roster.shared_names", 3),
    ("bobbr\nbob\n", "class.roster.shared_names", 2),
    ("alice\n\nalice admin\n", "class.roster.duplicate", 3),
    ("alice teacher\n", "class.roster.bad_flag", 1),
    ("# nobody\n\n", "class.roster.empty", None),
])
def test_roster_refuses_bad_lines_with_their_number(text, key, line):
    with pytest.raises(BadInput) as err:
        roster.parse(text)
    assert err.value.key == key
    if line is not None:
        assert f"line {line}" in err.value.message("en") and f"ligne {line}" in err.value.message("fr")


def test_no_two_learners_own_the_same_lab_name_companions_included():
    """Node namespaces are the machine's: learner01's bridge companion `learner0br` would be
    learner02's too, and `bob`'s would be `bobbr`'s lab."""
    with pytest.raises(BadInput) as err:
        roster.parse("learner01\nlearner02\n")
    assert err.value.message("en") == ("roster line 2: 'learner02' and 'learner01' (line 1) would both own the lab "
                                       "'learner0br' (companion labs take a login's first 8 letters): choose "
                                       "another login")
    assert "auraient tous deux le lab 'learner0br'" in err.value.message("fr")
    assert roster.parse("learner1\nlearner2\nbob\nbobby\n").logins == ["learner1", "learner2", "bob", "bobby"]


def test_plan_gives_each_learner_a_world_named_with_the_class_prefix():
    p = plan.make_plan(roster.parse(ROSTER))
    alice = p.learner("alice")
    assert (alice.unix, alice.netns, alice.host_link, alice.lab) == ("kc_alice", "kc_alice", "kc_alice", "alice")
    assert p.hub_ip == "100.72.0.1"
    addresses = [x.address for x in p.learners]
    assert addresses == ["100.72.1.1", "100.72.1.2", "100.72.1.3"]
    assert len(set(addresses)) == 3 and p.hub_ip not in addresses
    assert all(len(x.host_link) <= 15 for x in p.learners)


def test_plan_names_never_clash_with_a_lab_sweep():
    # a lab named `kc` owns namespaces `kc-*`; learners' worlds are `kc_*`, which no lab name can own
    from labkit.embedded.topology import LabSpec

    p = plan.make_plan(roster.parse("kc\nalice\n"))
    for lab in ("kc", "alice"):
        assert not any(LabSpec(name=lab).owns_netns(x.netns) for x in p.learners)


def test_plan_survives_json_and_refuses_a_network_too_small():
    p = plan.make_plan(roster.parse(ROSTER), network="10.99.0.0/16", public_port=8123)
    assert plan.ClassPlan.from_json(p.to_json()) == p
    with pytest.raises(ValueError):
        plan.make_plan(roster.parse("\n".join(f"u{i}" for i in range(300))), network="10.99.0.0/24")


def test_world_commands_route_only_to_the_hub():
    p = plan.make_plan(roster.parse(ROSTER))
    cmds = [" ".join(c) for c in plan.world_commands(p, p.learner("bob"))]
    assert "ip netns add kc_bob" in cmds
    assert "ip route replace 100.72.1.2/32 dev kc_bob src 100.72.0.1" in cmds
    inside_routes = [c for c in cmds if c.startswith("ip -n kc_bob route")]
    assert inside_routes == ["ip -n kc_bob route add 100.72.0.1/32 dev eth0 src 100.72.1.2"]   # no default


def test_firewall_lets_learners_reach_only_the_hub_api_and_the_service():
    text = firewall.ruleset(plan.make_plan(roster.parse(ROSTER)))
    assert 'iifname "kc_*" ip daddr 100.72.0.1 tcp dport { 8081, 8090 } accept' in text
    assert 'iifname "kc_*" counter drop' in text
    assert 'oifname "kc_*" counter drop' in text      # no forwarding between worlds
    if shutil.which("nft") and subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        check = subprocess.run(["nft", "-c", "-f", "-"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_hub_config_is_python_that_sets_the_classroom_authenticator():
    p = plan.make_plan(roster.parse(ROSTER), state_dir="/tmp/kc-state", hub_python="/x/python")
    text = hubconfig.render(p)
    compile(text, "jupyterhub_config.py", "exec")

    class Section(dict):
        def __getattr__(self, key):
            return self.setdefault(key, Section())

        def __setattr__(self, key, value):
            self[key] = value

    c = Section()
    exec(text, {"get_config": lambda: c})
    assert c.JupyterHub.authenticator_class == "firstuseauthenticator.FirstUseAuthenticator"
    assert c.FirstUseAuthenticator.create_users is False
    assert c.Authenticator.allowed_users == {"alice", "bob", "teacher"}
    assert c.Authenticator.admin_users == {"teacher"}
    assert c.JupyterHub.spawner_class == "labkit.classroom.spawner.ClassSpawner"
    assert c.JupyterHub.hub_bind_url == "http://100.72.0.1:8081"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert ipaddress.ip_address(c.JupyterHub.services[0]["url"].split("//")[1].split(":")[0]) == \
        ipaddress.ip_address(p.hub_ip)


def test_a_learner_added_later_leaves_everyone_elses_address_alone():
    before = plan.make_plan(roster.parse("alice\nbob\n"))
    after = plan.make_plan(roster.parse("aaron\nalice\nbob\n"), previous=before)
    assert after.learner("alice").address == before.learner("alice").address
    assert after.learner("bob").address == before.learner("bob").address
    assert after.learner("aaron").address == "100.72.1.3"
    elsewhere = plan.make_plan(roster.parse("aaron\nalice\n"), network="10.99.0.0/16", previous=before)
    assert elsewhere.learner("aaron").address == "10.99.1.1"       # another network: a fresh plan


def test_make_says_why_root_in_the_words_of_the_target(monkeypatch):
    """`make class` without sudo used to say "The embedded lab creates network namespaces"; `labkit
    class down` said "Run: sudo make class". Dry runs (make -n) print the root check's lines."""
    from pathlib import Path

    from labkit.classroom import lifecycle
    from labkit.errors import LabkitError

    root = Path(__file__).resolve().parents[3]

    def dry(target):
        return subprocess.run(["make", "-n", "--no-print-directory", target], cwd=root, capture_output=True,
                              text=True).stdout

    assert "A class creates Unix users and network namespaces: it needs root. Run: sudo make class-down" \
        in dry("class-down")
    assert "Une classe crée des utilisateurs Unix" in dry("class")
    assert "The embedded lab creates network namespaces: it needs root. Run: sudo make reset" in dry("reset")
    monkeypatch.setattr(lifecycle.os, "geteuid", lambda: 1000)
    with pytest.raises(LabkitError) as err:
        lifecycle.down()
    assert err.value.message("en").endswith("Run: sudo make class-down")


def test_the_printed_url_is_the_one_learners_type_not_the_servers_loopback(monkeypatch):
    """`make class` listens on every address and printed http://127.0.0.1:8000/, which no learner's
    laptop reaches: it now prints the machine's address on its default route."""
    from labkit.classroom import host

    answer = [{"dst": "1.1.1.1", "gateway": "10.0.0.1", "dev": "eth0", "prefsrc": "10.0.0.5", "flags": []}]
    assert host.route_source(answer) == "10.0.0.5" and host.route_source([]) == ""
    monkeypatch.setattr(host, "run", lambda argv, check=True: subprocess.CompletedProcess(
        argv, 0, stdout=json.dumps(answer) if argv[-1] == "1.1.1.1" else ""))
    assert host.learners_address("0.0.0.0") == "10.0.0.5"
    assert host.learners_address("192.168.1.20") == "192.168.1.20"
    monkeypatch.setattr(host, "run", lambda argv, check=True: subprocess.CompletedProcess(argv, 2, stdout=""))
    assert host.learners_address("0.0.0.0") == "127.0.0.1"
