"""A learner as the hub sees them, over HTTP (for the class test and bench/class_capacity.py):
logging in through the hub's form, starting their server, running code in their own kernel (the
Jupyter messaging protocol over the server's WebSocket; one kernel per learner, kept open)."""
from __future__ import annotations

import json
import time
import uuid

import requests
import websocket


class Learner:
    def __init__(self, base: str, login: str, password: str) -> None:
        self.base, self.login, self.password = base.rstrip("/"), login, password
        self.http = requests.Session()
        self.token = ""
        self.kernel: str | None = None
        self.ws: websocket.WebSocket | None = None

    def log_in(self) -> requests.Response:
        """The hub's login form, as a browser sends it (xsrf cookie first); first login sets the password."""
        self.http.get(f"{self.base}/hub/login", timeout=30)
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        return self.http.post(f"{self.base}/hub/login", timeout=60, allow_redirects=False,
                              data={"username": self.login, "password": self.password, "_xsrf": xsrf})

    def get_token(self) -> str:
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        r = self.http.post(f"{self.base}/hub/api/users/{self.login}/tokens", timeout=30,
                           headers={"X-XSRFToken": xsrf or ""}, json={"note": "class test", "expires_in": 3600})
        r.raise_for_status()
        self.token = r.json()["token"]
        return self.token

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", timeout=kwargs.pop("timeout", 60),
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def start_server(self, timeout: float = 150.0) -> None:
        r = self.api("POST", f"/hub/api/users/{self.login}/server", timeout=timeout)
        if r.status_code not in (201, 202, 400):             # 400: already running
            raise RuntimeError(f"{self.login}: server not started: {r.status_code} {r.text[:200]}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/hub/api/users/{self.login}").json()
            server = (model.get("servers") or {}).get("", {})
            if server.get("ready"):
                return
            if not server:
                raise RuntimeError(f"{self.login}'s server stopped: {model}")
            time.sleep(0.5)
        raise RuntimeError(f"{self.login}'s server did not start")

    def _connect(self, timeout: float) -> websocket.WebSocket:
        if self.ws is not None and not self._still_open(self.ws):
            self.ws = None                  # the server closed it while we were away: same kernel, new socket
        if self.ws is None:
            if self.kernel is None:
                self.kernel = self.api("POST", f"/user/{self.login}/api/kernels", json={"name": "python3"}).json()["id"]
            url = self.base.replace("http", "ws", 1) + f"/user/{self.login}/api/kernels/{self.kernel}/channels"
            self.ws = websocket.create_connection(url, header=[f"Authorization: token {self.token}"])
        self.ws.settimeout(timeout)
        return self.ws

    @staticmethod
    def _still_open(ws: websocket.WebSocket) -> bool:
        """Read what came while the socket sat idle (pings are answered, old replies dropped): a
        server that stopped hearing pongs has closed it, and a send would go nowhere."""
        ws.settimeout(0.05)
        try:
            while ws.recv():
                pass
            return False                    # an empty frame: the close
        except websocket.WebSocketTimeoutException:
            return True
        except (websocket.WebSocketException, OSError):
            return False

    def run(self, code: str, timeout: float = 120.0) -> dict:
        """Run ``code`` in the learner's kernel; its stdout, stderr and error (``"Name: value"``)."""
        ws = self._connect(timeout)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.login,
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        out: dict = {"stdout": "", "stderr": "", "error": None}
        while True:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out[msg["content"]["name"]] += msg["content"]["text"]
            elif kind == "error":
                out["error"] = f"{msg['content']['ename']}: {msg['content']['evalue']}"
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return out

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.api("DELETE", f"/user/{self.login}/api/kernels/{self.kernel}")
            self.ws = self.kernel = None
