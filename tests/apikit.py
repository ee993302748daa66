"""Stand-ins for a Kubernetes API in unit tests: a JSON server on 127.0.0.1 and a kubeconfig naming a
server. ``from tests.apikit import json_api, write_kubeconfig``."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml


@contextmanager
def json_api(answer: Callable[[str], tuple[int, object]]) -> Iterator[str]:
    """Serve each GET with ``answer(path) -> (status, body)`` as JSON; yields the base URL."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def write_kubeconfig(path: Path, context: str, server: str) -> Path:
    """A kubeconfig whose current context ``context`` names ``server`` (a token user)."""
    config = {"apiVersion": "v1", "kind": "Config", "current-context": context,
              "clusters": [{"name": context, "cluster": {"server": server}}],
              "users": [{"name": context, "user": {"token": "t"}}],
              "contexts": [{"name": context, "context": {"cluster": context, "user": context}}]}
    path.write_text(yaml.safe_dump(config))
    return path
