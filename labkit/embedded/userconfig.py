"""A copy of a lab's kubeconfig for the ordinary user who started it with sudo.

The lab's own kubeconfig (``/run/labkit/<lab>/kubeconfig``) is root's, mode 0600: it holds the
token. ``sudo labkit up`` (and ``sudo make lab``) also writes a copy for ``SUDO_USER`` in their
``~/.kube/labkit-<lab>.yaml``, owned by them, mode 0600, so that kubectl, the notebooks' kernels and
``labkit draw`` run as that user (node state then comes through the lab's API). The copies are
listed in the lab's directory and removed by ``labkit down``.
"""
from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from .paths import kubeconfig_file, lab_dir

COPIES = "user-kubeconfigs"


def user_kubeconfig(lab: str, home: str | os.PathLike | None = None) -> Path:
    return Path(home or Path.home()) / ".kube" / f"labkit-{lab}.yaml"


def invoking_user() -> pwd.struct_passwd | None:
    """The ordinary user behind ``sudo`` (None when not under sudo, or when that user is root)."""
    name = os.environ.get("SUDO_USER")
    if os.geteuid() != 0 or not name or name == "root":
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def copy_for(lab: str, user: pwd.struct_passwd) -> Path:
    """Write (or refresh) ``user``'s copy of the lab's kubeconfig; returns its path."""
    target = user_kubeconfig(lab, user.pw_dir)
    kube = target.parent
    if not kube.exists():
        kube.mkdir(mode=0o700)
        os.chown(kube, user.pw_uid, user.pw_gid)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(kubeconfig_file(lab), tmp)
    os.chown(tmp, user.pw_uid, user.pw_gid)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    listed = lab_dir(lab) / COPIES
    known = set(listed.read_text().splitlines()) if listed.exists() else set()
    listed.write_text("\n".join(sorted(known | {str(target)})) + "\n")
    return target


def remove_copies(lab: str) -> int:
    """Remove the copies made for lab ``lab`` (called by the sweep, before the lab's directory goes)."""
    listed = lab_dir(lab) / COPIES
    if not listed.exists():
        return 0
    count = 0
    for line in listed.read_text().splitlines():
        path = Path(line)
        if path.name == f"labkit-{lab}.yaml" and path.exists():
            path.unlink()
            count += 1
    return count


def readable_kubeconfig(lab: str) -> Path:
    """The lab's kubeconfig this process may read: the lab's own (root), else this user's copy."""
    own = kubeconfig_file(lab)
    if os.access(own, os.R_OK) or not user_kubeconfig(lab).exists():
        return own
    return user_kubeconfig(lab)
