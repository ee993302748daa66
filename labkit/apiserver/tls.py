"""The lab's own certificate authority, the server certificate, the token and the kubeconfig.

kubectl drops bearer tokens over plain HTTP, so the server speaks HTTPS with a CA generated per
lab (with the ``openssl`` command, which every machine we target has). The files live in
``<state_dir>/tls`` and are reused on restart, so a kubeconfig written earlier stays valid.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import LabkitError
from .store import write_atomic


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path


def _openssl(args: list[str], where: Path) -> None:
    try:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=where, timeout=60)
    except FileNotFoundError as exc:
        raise LabkitError("apiserver.tls_failed", path=where, error="openssl not found") from exc
    except subprocess.CalledProcessError as exc:
        error = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
        raise LabkitError("apiserver.tls_failed", path=where, error=error[0]) from exc


def ensure_tls(directory: Path, name: str) -> TlsFiles:
    """Create (once) a CA and a server certificate for 127.0.0.1 and localhost, both EC P-256."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    if all(p.exists() for p in (files.ca_cert, files.cert, files.key)):
        return files
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
              "-subj", f"/CN={name}-ca", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory)
    _openssl(["req", *ec, "-keyout", "server.key", "-out", "server.csr",
              "-subj", f"/CN={name}-apiserver"], directory)
    with tempfile.NamedTemporaryFile("w", suffix=".ext", dir=directory, delete=False) as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                  "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n")
    try:
        _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                  "-CAcreateserial", "-out", "server.crt", "-days", "3650",
                  "-extfile", ext.name], directory)
    finally:
        os.unlink(ext.name)
    for key in ("ca.key", "server.key"):
        os.chmod(directory / key, 0o600)
    return files


def ensure_token(path: Path) -> str:
    """The lab's bearer token (created once, mode 0600)."""
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    write_atomic(path, token.encode(), mode=0o600)
    os.chmod(path, 0o600)
    return token


def kubeconfig(name: str, server: str, ca_pem: bytes, token: str,
               namespace: str = "default") -> dict:
    """A kubeconfig whose context, cluster and user are all named after the lab."""
    import base64
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": name,
        "clusters": [{"name": name, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name,
                                                "namespace": namespace}}],
    }


def write_kubeconfig(path: Path, config: dict) -> Path:
    """Write with mode 0600 (it holds the token), atomically."""
    path = Path(path)
    write_atomic(path, yaml.safe_dump(config, sort_keys=False).encode(), mode=0o600)
    os.chmod(path, 0o600)
    return path
