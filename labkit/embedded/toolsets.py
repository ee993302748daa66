"""The tools an emulated container finds: the host's, or busybox applets (``images.Image.tools``).

A busybox or alpine container has busybox's applets and nothing else: ``wget`` is busybox wget
(``Connecting to nginx (10.96.0.12:80)`` / ``remote file exists``), ``nslookup`` is busybox
nslookup, ``sh`` is ash, ``curl`` does not exist. The lab gives such containers a ``PATH`` of one
directory, ``<lab>/images/busybox``, holding a link to Debian's ``/usr/bin/busybox`` per applet
(``busybox --list``); absolute names an image script would use (``/bin/sh``, ``/bin/wget``) map
to the same applets.

One departure, in a wrapper: Debian builds busybox without ``FEATURE_WGET_TIMEOUT``, so its wget
refuses ``-T``/``--timeout``, which the busybox image's wget has (the kubernetes.io "Declare
Network Policy" task runs ``wget --spider --timeout=1 nginx``). The ``wget`` in the directory is
a small ash script that takes that option off and bounds the whole download with busybox
``timeout`` instead, printing busybox's ``wget: download timed out`` when it fires.

Without busybox on the host (``apt-get install busybox``), containers fall back to the host's tools.
"""
from __future__ import annotations

import logging
import os
import posixpath
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .images import image_of

log = logging.getLogger(__name__)
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = "/usr/bin/busybox"
SYSTEM_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin")

WGET_WRAPPER = f"""#!{BUSYBOX} sh
# busybox wget with -T/--timeout, which Debian's busybox build lacks (see labkit.embedded.toolsets)
t=
next=
for a do
    shift
    if [ -n "$next" ]; then t=$a; next=; continue; fi
    case $a in
        --timeout=*) t=${{a#--timeout=}} ;;
        --timeout|-T) next=1 ;;
        -T*) t=${{a#-T}} ;;
        *) set -- "$@" "$a" ;;
    esac
done
[ -z "$t" ] && exec {BUSYBOX} wget "$@"
exec 3>&2 2>/dev/null          # the shell's own "Terminated" notice is not wget's
(exec 2>&3; exec {BUSYBOX} timeout "$t" {BUSYBOX} wget "$@")
rc=$?
exec 2>&3 3>&-
if [ $rc -eq 143 ] || [ $rc -eq 124 ]; then
    echo "wget: download timed out" >&2
    exit 1
fi
exit $rc
"""


@dataclass(frozen=True)
class ToolSet:
    """A container's ``PATH`` and how its command names resolve."""

    path: str
    applets: frozenset[str] = frozenset()     # busybox: names that map from system directories
    directory: str | None = None

    def argv(self, argv: list[str]) -> list[str]:
        """``/bin/sh`` in a busybox image is busybox's sh (its own directory's link)."""
        if self.directory and argv and posixpath.isabs(argv[0]):
            head, name = posixpath.split(argv[0])
            if head in SYSTEM_DIRS and name in self.applets:
                return [posixpath.join(self.directory, name)] + list(argv[1:])
        return list(argv)

    def executable(self, command: str) -> bool:
        command = self.argv([command])[0]
        if "/" in command:
            return os.access(command, os.X_OK) and not Path(command).is_dir()
        return shutil.which(command, path=self.path) is not None


HOST = ToolSet(HOST_PATH)


def busybox_applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout
    return [name for name in out.split() if name and "/" not in name]


def build_busybox_dir(directory: Path, applets: list[str]) -> None:
    """One link per applet to busybox, and the wget wrapper (idempotent)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o755)
    os.chmod(directory, 0o755)
    for name in applets:
        link = directory / name
        if name == "wget" or link.is_symlink():
            continue
        link.symlink_to(BUSYBOX)
    wrapper = directory / "wget"
    if not wrapper.exists() or wrapper.read_text() != WGET_WRAPPER:
        tmp = directory / ".wget.tmp"
        tmp.write_text(WGET_WRAPPER)
        os.chmod(tmp, 0o755)
        tmp.replace(wrapper)


class ToolSets:
    """The tool sets of one lab, built on first use under ``root`` (``<lab>/images``)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._busybox: ToolSet | None = None

    def of(self, image: str | None) -> ToolSet:
        if image_of(image).tools != "busybox" or self.root is None:
            return HOST
        if self._busybox is None:
            self._busybox = self._build_busybox(self.root)
        return self._busybox

    def _build_busybox(self, root: Path) -> ToolSet:
        if not os.access(BUSYBOX, os.X_OK):
            log.warning("%s missing (apt-get install busybox): busybox images use the host's tools",
                        BUSYBOX)
            return HOST
        directory = root / "busybox"
        applets = busybox_applets()
        build_busybox_dir(directory, applets)
        return ToolSet(str(directory), frozenset(applets) | {"wget"}, str(directory))
