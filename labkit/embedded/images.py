"""What an emulated container image serves: the port where an HTTP image listens when none is declared.

Containers are emulated (the host's tools run in the pod's namespace); images only tell the lab
what to serve, so ``kubectl create deployment blue --image=jpetazzo/color`` answers on port 80 as
it does on a real cluster.
"""
from __future__ import annotations

HTTP_IMAGES = {
    "nginx": 80, "httpd": 80, "jpetazzo/color": 80, "jpetazzo/httpenv": 8888,
    "traefik/whoami": 80, "containous/whoami": 80, "kennethreitz/httpbin": 80,
    "mccutchen/go-httpbin": 8080, "hashicorp/http-echo": 5678, "ealen/echo-server": 80,
    "nginxdemos/hello": 80, "caddy": 80,
}


def image_repository(image: str) -> str:
    """``docker.io/library/nginx:1.27@sha256:...`` -> ``nginx``; ``ghcr.io/x/y:1`` -> ``ghcr.io/x/y``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name


def default_ports(image: str | None) -> list[tuple[int, str]]:
    """Ports served when the pod declares none: the image's usual HTTP port, if it is a web image."""
    if not image:
        return []
    port = HTTP_IMAGES.get(image_repository(image))
    return [(port, "TCP")] if port else []
