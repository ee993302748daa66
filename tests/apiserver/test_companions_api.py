"""The companion-lab endpoint of the API (``labkit.apiserver.companions``), with a stand-in daemon.

What the routes promise whatever the daemon does: a preset goes to the daemon only as the path's
last segment (never a command line), every refusal is a Kubernetes ``Status`` (404 unknown preset,
403 bound reached or nested, 409 name taken, 503 build failed; never a 500), the real kubectl reaches
them with ``get|create|delete --raw``, and no token means 401.
"""
from __future__ import annotations

import json

import pytest

from labkit.embedded.companions import PRESETS, companion_name, preset
from labkit.errors import BadInput, LabkitError

from .conftest import Lab, need_kubectl


class StandIn:
    """What the daemon's ``companions(action, preset)`` does, recorded, with canned refusals."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.running: set[str] = set()
        self.fail: dict[str, LabkitError] = {}

    async def __call__(self, action: str, name: str) -> object:
        self.calls.append((action, name))
        if action == "list":
            return [{"preset": p, "running": p in self.running} for p in PRESETS]
        preset(name)                                  # BadInput for an unknown preset, as the daemon
        if name in self.fail:
            raise self.fail[name]
        if action == "start":
            self.running.add(name)
        elif action == "stop":
            self.running.discard(name)
        return {"preset": name, "name": companion_name("testlab", name), "running": name in self.running}


@pytest.fixture
def served(tmp_path):
    lab = Lab(tmp_path)
    lab.server.companions = StandIn()
    lab.start()
    yield lab, lab.server.companions
    lab.stop()


def test_start_status_stop_and_list(served):
    lab, daemon = served
    code, _, body = lab.request("PUT", "/labkit/v1/companions/bridge")
    assert (code, body["name"], body["running"]) == (200, "testlabbr", True)
    assert lab.request("GET", "/labkit/v1/companions/bridge")[2]["running"] is True
    listing = lab.request("GET", "/labkit/v1/companions")[2]
    assert [r["preset"] for r in listing if r["running"]] == ["bridge"]
    code, _, body = lab.request("DELETE", "/labkit/v1/companions/bridge")
    assert (code, body["running"]) == (200, False)
    assert daemon.calls == [("start", "bridge"), ("status", "bridge"), ("list", ""), ("stop", "bridge")]


@pytest.mark.parametrize("name", ["nope", "bridge;reboot", "..", "BRIDGE", "%2e%2e"])
def test_an_unknown_preset_is_a_404_status_naming_the_choices(served, name):
    lab, _ = served
    code, _, body = lab.request("PUT", f"/labkit/v1/companions/{name}")
    assert code == 404
    assert body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404
    assert "bridge, flannel, nftables, ebpf, nopol" in body["message"]


@pytest.mark.parametrize("error, code, reason", [
    (BadInput("companion.too_many", lab="testlab", count=3, names="a, b, c"), 403, "Forbidden"),
    (BadInput("companion.nested", lab="testlab", parent="other"), 403, "Forbidden"),
    (LabkitError("companion.name_taken", name="testlabfl", lab="testlab"), 409, "AlreadyExists"),
    (LabkitError("lab.daemon_failed", name="testlabfl", error="boom", log="/x"), 503, "ServiceUnavailable"),
])
def test_refusals_are_status_objects_never_500(served, error, code, reason):
    lab, daemon = served
    daemon.fail["flannel"] = error
    got, _, body = lab.request("POST", "/labkit/v1/companions/flannel")
    assert (got, body["kind"], body["reason"]) == (code, "Status", reason)
    assert body["message"] == str(error)


def test_no_token_no_companion(served):
    lab, daemon = served
    assert lab.request("PUT", "/labkit/v1/companions/bridge", token=False)[0] == 401
    assert daemon.calls == []


def test_kubectl_raw_reaches_the_endpoint(served):
    need_kubectl()
    lab, daemon = served
    out = lab.kubectl("create", "--raw", "/labkit/v1/companions/nopol", "-f", "-", input="{}", check=True)
    assert json.loads(out.stdout)["name"] == "testlabnp"
    assert json.loads(lab.kubectl("get", "--raw", "/labkit/v1/companions", check=True).stdout)
    lab.kubectl("delete", "--raw", "/labkit/v1/companions/nopol", check=True)
    bad = lab.kubectl("get", "--raw", "/labkit/v1/companions/nope")
    assert bad.returncode != 0 and "NotFound" in bad.stderr
    assert [c[0] for c in daemon.calls] == ["start", "list", "stop", "status"]
