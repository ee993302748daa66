"""Fixtures: a lab API server on LocalRuntime, the real kubectl pointed at it, the Python client.

Each server gets its own HOME for kubectl, so kubectl's discovery and /version caches never leak
between servers (see reference/kubectl-api.md §0.6).
"""
from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from labkit.apiserver import ApiServer, LocalRuntime

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class Lab:
    def __init__(self, root: Path, name: str = "testlab", lang: str = "en", **kwargs) -> None:
        self.root = root
        self.runtime = LocalRuntime()
        self.server = ApiServer(root / "state", self.runtime, name=name, lang=lang, **kwargs)
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = root / "kubeconfig"

    def start(self) -> "Lab":
        self.server.start_in_thread()
        self.server.write_kubeconfig(self.kubeconfig)
        return self

    def stop(self) -> None:
        self.server.stop_in_thread()

    def kubectl(self, *args: str, input: str | None = None, check: bool = False,
                timeout: float = 60) -> subprocess.CompletedProcess:
        env = dict(os.environ, HOME=str(self.home), KUBECONFIG=str(self.kubeconfig))
        proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True,
                              env=env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
        return proc

    def client(self):
        from kubernetes import client, config
        return client.CoreV1Api(config.new_client_from_config(config_file=str(self.kubeconfig)))

    def api_client(self):
        from kubernetes import config
        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def request(self, method: str, path: str, body: object = None, content_type: str =
                "application/json", accept: str = "application/json", token: bool = True):
        """A raw HTTPS request; returns (status, headers, parsed JSON or text)."""
        ctx = ssl.create_default_context(cadata=self.server.ca_pem.decode())
        data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) \
            else body
        req = urllib.request.Request(self.server.url + path, data=data, method=method)
        req.add_header("Accept", accept)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if token:
            req.add_header("Authorization", f"Bearer {self.server.token}")
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
                code, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            code, headers, raw = err.code, err.headers, err.read()
        try:
            return code, headers, json.loads(raw)
        except ValueError:
            return code, headers, raw.decode()

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


def need_kubectl() -> None:
    if not os.access(KUBECTL, os.X_OK):
        pytest.skip("kubectl is not installed; install it (Debian: kubectl) to run these tests")


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path).start()
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("lab")).start()
    yield lab
    lab.stop()
