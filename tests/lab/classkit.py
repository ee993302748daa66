"""Helpers of the class test: a learner logging in through the hub, starting their server, and
running code in their own kernel (the Jupyter protocol over the server's WebSocket), all over HTTP."""
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

    def log_in(self) -> requests.Response:
        """The hub's login form, as a browser sends it (xsrf cookie first); first login sets the password."""
        self.http.get(f"{self.base}/hub/login", timeout=30)
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        return self.http.post(f"{self.base}/hub/login", timeout=60, allow_redirects=False,
                              data={"username": self.login, "password": self.password, "_xsrf": xsrf})

    def get_token(self) -> str:
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        r = self.http.post(f"{self.base}/hub/api/users/{self.login}/tokens", timeout=30,
                           headers={"X-XSRFToken": xsrf}, json={"note": "class test", "expires_in": 3600})
        r.raise_for_status()
        self.token = r.json()["token"]
        return self.token

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", timeout=kwargs.pop("timeout", 60),
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def start_server(self, timeout: float = 150.0) -> None:
        r = self.api("POST", f"/hub/api/users/{self.login}/server", timeout=timeout)
        assert r.status_code in (201, 202, 400), r.text      # 400: already running
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/hub/api/users/{self.login}").json()
            server = (model.get("servers") or {}).get("", {})
            if server.get("ready"):
                return
            if not server:
                raise AssertionError(f"{self.login}'s server stopped: {model}")
            time.sleep(0.5)
        raise AssertionError(f"{self.login}'s server did not start")

    def run(self, code: str, timeout: float = 120.0) -> dict:
        """Run ``code`` in a new kernel of the learner's server; stdout, stderr and the error name."""
        kernel = self.api("POST", f"/user/{self.login}/api/kernels", json={"name": "python3"}).json()
        ws_url = self.base.replace("http", "ws", 1) + f"/user/{self.login}/api/kernels/{kernel['id']}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.login,
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        out = {"stdout": "", "stderr": "", "error": None}
        try:
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
        finally:
            ws.close()
            self.api("DELETE", f"/user/{self.login}/api/kernels/{kernel['id']}")
