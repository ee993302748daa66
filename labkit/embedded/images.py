"""Container images as data: what an emulated image serves, and which tools its shell finds.

Containers are emulated: no image is pulled, the host runs the pod's processes in the pod's
network namespace. An image only tells the lab
- what the pod serves when its container declares no port, and how it answers (``Image.serves``,
  ``Image.answers``): web images on their usual port with the echo responder's JSON (like
  ``jpetazzo/color`` or ``traefik/whoami``), ``registry.k8s.io/serve_hostname`` on 9376 with the
  pod's name and nothing else (kubernetes test/images/agnhost/serve-hostname/serve_hostname.go:
  ``fmt.Fprintf(w, "%s", hostname)``), agnhost's modes from the container's arguments
  (``serve-hostname``, ``netexec`` with its ``/hostname``, ``/clientip``, ``/echo``);
- which shell it starts given no command, and which tool set its processes find on ``PATH``
  (``Image.tools``): ``busybox`` for the busybox and alpine images (the applets of Debian's
  ``busybox`` package: busybox ``wget``, ``nslookup``, ``sh``...), ``host`` for images that ship
  real tools (netshoot, centos, debian...).
"""
from __future__ import annotations

from dataclasses import dataclass

Port = tuple[int, str]


@dataclass(frozen=True)
class Image:
    serves: tuple[Port, ...] = ()     # served when the container declares no port
    answers: str = "echo"             # echo (JSON) | hostname (the pod's name) | netexec
    shell: str | None = None          # started by ``kubectl run -it`` without a command
    tools: str = "host"               # host | busybox
    entrypoint: tuple[str, ...] = ()  # prepended to ``args`` when the container has no command
    modes: bool = False               # agnhost: the first argument picks what it serves


WEB = Image(serves=((80, "TCP"),))
BUSYBOX = Image(shell="sh", tools="busybox")
BASH = Image(shell="bash")
SERVE_HOSTNAME = Image(serves=((9376, "TCP"),), answers="hostname")

IMAGES: dict[str, Image] = {
    "nginx": WEB, "httpd": WEB, "jpetazzo/color": WEB, "traefik/whoami": WEB,
    "containous/whoami": WEB, "kennethreitz/httpbin": WEB, "ealen/echo-server": WEB,
    "nginxdemos/hello": WEB, "caddy": WEB,
    "jpetazzo/httpenv": Image(serves=((8888, "TCP"),)),
    "mccutchen/go-httpbin": Image(serves=((8080, "TCP"),)),
    "hashicorp/http-echo": Image(serves=((5678, "TCP"),)),
    "registry.k8s.io/serve_hostname": SERVE_HOSTNAME,
    "k8s.gcr.io/serve_hostname": SERVE_HOSTNAME,
    "gcr.io/google_containers/serve_hostname": SERVE_HOSTNAME,
    "registry.k8s.io/e2e-test-images/agnhost": Image(modes=True),
    "k8s.gcr.io/e2e-test-images/agnhost": Image(modes=True),
    "busybox": BUSYBOX, "alpine": BUSYBOX, "gcr.io/google-containers/busybox": BUSYBOX,
    "registry.k8s.io/busybox": BUSYBOX, "registry.k8s.io/e2e-test-images/busybox": BUSYBOX,
    "archlinux": BASH, "centos": BASH, "debian": BASH, "ubuntu": BASH, "fedora": BASH,
    "rockylinux": BASH, "almalinux": BASH, "amazonlinux": BASH, "nicolaka/netshoot": BASH,
    "praqma/network-multitool": BASH, "wbitt/network-multitool": BASH,
    "registry.access.redhat.com/ubi8/ubi": BASH, "registry.access.redhat.com/ubi9/ubi": BASH,
    "python": BASH, "node": BASH,
    "curlimages/curl": Image(entrypoint=("curl",)), "appropriate/curl": Image(entrypoint=("curl",)),
}
UNKNOWN = Image()

# agnhost (kubernetes test/images/agnhost): mode -> (what it answers, its default ports, the flags
# that move them). netexec: --http-port 8080, --udp-port 8081 (netexec/netexec.go);
# serve-hostname: --port 9376, HTTP unless --tcp/--udp (serve-hostname/serve_hostname.go).
AGNHOST_MODES = {
    "netexec": ("netexec", {"--http-port": (8080, "TCP"), "--udp-port": (8081, "UDP")}),
    "serve-hostname": ("hostname", {"--port": (9376, "TCP")}),
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


def image_of(image: str | None) -> Image:
    return IMAGES.get(image_repository(image or ""), UNKNOWN)


def default_ports(image: str | None) -> list[Port]:
    """Ports served when the pod declares none: the image's usual HTTP port, if it is a web image."""
    return list(image_of(image).serves)


def _flag_values(args: list[str]) -> dict[str, str]:
    values, i = {}, 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and "=" in arg:
            key, value = arg.split("=", 1)
            values[key] = value
        elif arg.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            values[arg] = args[i + 1]
            i += 1
        i += 1
    return values


def agnhost_mode(container: dict) -> tuple[str, list[Port]] | None:
    """(answers, ports) of an agnhost container whose arguments name a mode it serves."""
    if not image_of(container.get("image")).modes:
        return None
    args = [str(a) for a in container.get("args") or []]
    command = [str(c) for c in container.get("command") or []]
    if command:
        # The image's ENTRYPOINT is ["/agnhost"] (kubernetes test/images/agnhost/Dockerfile), so
        # `kubectl create deployment --image=...agnhost -- /agnhost netexec` names it as the command.
        if command[0] not in ("/agnhost", "agnhost"):
            return None
        args = command[1:] + args
    if not args or args[0] not in AGNHOST_MODES:
        return None
    answers, defaults = AGNHOST_MODES[args[0]]
    flags = _flag_values(args[1:])
    ports = []
    for flag, (port, protocol) in defaults.items():
        try:
            ports.append((int(flags.get(flag, port)), protocol))
        except ValueError:
            ports.append((port, protocol))
    return answers, ports


def serving(container: dict) -> tuple[str, list[Port]]:
    """How a container answers, and on which ports when it declares none (pure)."""
    mode = agnhost_mode(container)
    if mode is not None:
        return mode
    image = image_of(container.get("image"))
    return image.answers, list(image.serves)


def is_served_mode(container: dict) -> bool:
    """The container's arguments select a mode the lab serves itself (no process to run)."""
    return agnhost_mode(container) is not None
