"""port-forward and logs through the API with a runtime that offers them (no root needed).

The runtime here connects "into the pod" by connecting to a local server, which is all the API
side needs: the real kubectl (SPDY over WebSocket) and the Python client (v4 channels) talk to it.
"""
import asyncio
import os
import socket
import socketserver
import subprocess
import threading
import time

import pytest

from labkit.apiserver import LocalRuntime
from labkit.apiserver.logbuffer import LogBuffer

from .conftest import KUBECTL, Lab


class Hello(socketserver.StreamRequestHandler):
    def handle(self):
        first = self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        body = b"hello from the pod " + first.split(b" ")[1] + b"\n"
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


class ForwardingRuntime(LocalRuntime):
    """LocalRuntime plus ``port_connect`` (a port map to local servers) and ``log_source``."""

    def __init__(self, ports: dict[int, int]) -> None:
        super().__init__()
        self.ports = ports
        self.buffers: dict[tuple[str, str], LogBuffer] = {}
        self.connections = 0

    async def port_connect(self, pod, port):
        self.connections += 1
        return await asyncio.open_connection("127.0.0.1", self.ports.get(port, 1))

    def log_source(self, pod, container):
        return self.buffers.setdefault((pod["metadata"]["uid"], container), LogBuffer())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fwd(tmp_path_factory):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    lab = Lab(tmp_path_factory.mktemp("pf"), name="pflab")
    runtime = ForwardingRuntime({80: server.server_address[1], 81: free_port()})
    lab.runtime = lab.server.runtime = runtime
    lab.start()
    lab.kubectl("run", "web", "--image=nginx", check=True)
    lab.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=20s", check=True)
    yield lab
    lab.stop()
    server.shutdown()


def start_forward(lab, *args):
    env = dict(os.environ, HOME=str(lab.home), KUBECONFIG=str(lab.kubeconfig))
    proc = subprocess.Popen([KUBECTL, "port-forward", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    assert line.startswith("Forwarding from 127.0.0.1:"), line + proc.stderr.read()
    return proc


def get(port: int, path: str = "/") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        return b"".join(iter(lambda: s.recv(4096), b""))


def test_kubectl_port_forward_carries_several_connections(fwd):
    local = free_port()
    proc = start_forward(fwd, "pod/web", f"{local}:80")
    try:
        assert get(local, "/one").endswith(b"hello from the pod /one\n")
        assert get(local, "/two").endswith(b"hello from the pod /two\n")
    finally:
        proc.terminate()
        proc.wait(5)


def test_kubectl_port_forward_to_a_closed_port_reports_the_error(fwd):
    local = free_port()
    proc = start_forward(fwd, "pod/web", f"{local}:81")
    try:
        with socket.create_connection(("127.0.0.1", local), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert s.recv(100) == b""
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert "an error occurred forwarding" in err and "failed to connect to localhost:81" in err
    assert "lost connection to pod" in err and proc.returncode == 1


def test_port_forward_to_a_missing_pod_is_not_found(fwd):
    out = fwd.kubectl("port-forward", "pod/nosuch", f"{free_port()}:80")
    assert out.returncode == 1
    assert 'Error from server (NotFound): pods "nosuch" not found' in out.stderr


def test_python_client_port_forward_channels(fwd):
    from kubernetes.stream import portforward

    v1 = fwd.client()
    pf = portforward(v1.connect_get_namespaced_pod_portforward, "web", "default", ports="80,81")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET /py HTTP/1.0\r\n\r\n")
    data = b""
    while not data.endswith(b"\n") or b"hello" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.endswith(b"hello from the pod /py\n")
    deadline = time.monotonic() + 30     # only for a hung test
    while pf.error(81) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "failed to connect to localhost:81" in (pf.error(81) or "")
    pf.close()


def test_port_forward_without_websocket_names_the_protocols(fwd):
    code, _, body = fwd.request("POST", "/api/v1/namespaces/default/pods/web/portforward")
    assert code == 400 and "SPDY/3.1+portforward.k8s.io" in body["message"]


def test_logs_tail_timestamps_and_follow(fwd):
    pod = fwd.client().read_namespaced_pod("web", "default")
    buffer = fwd.runtime.log_source({"metadata": {"uid": pod.metadata.uid}}, "web")

    async def write(text):
        buffer.append(text)
    fwd.server.call(write("first\nsecond\nthird\n"))
    assert fwd.kubectl("logs", "web", "--tail=2").stdout == "second\nthird\n"
    stamped = fwd.kubectl("logs", "web", "--tail=1", "--timestamps").stdout
    assert stamped.endswith("Z third\n") and stamped[:4].isdigit()
    env = dict(os.environ, HOME=str(fwd.home), KUBECONFIG=str(fwd.kubeconfig))
    follow = subprocess.Popen([KUBECTL, "logs", "-f", "web", "--tail=1"], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert follow.stdout.readline() == "third\n"
        fwd.server.call(write("fourth\n"))
        assert follow.stdout.readline() == "fourth\n"       # arrives while following

        async def end():
            buffer.end()
        fwd.server.call(end())
        assert follow.wait(10) == 0                         # the container ended: so does -f
    finally:
        follow.kill()


def test_logs_of_an_unknown_container_is_bad_request(fwd):
    out = fwd.kubectl("logs", "web", "-c", "nope")
    assert out.returncode == 1 and "container nope is not valid for pod web" in out.stderr
