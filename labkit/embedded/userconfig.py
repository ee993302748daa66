"""A copy of a lab's kubeconfig for the ordinary user who started it with sudo.

The lab's own kubeconfig (``/run/labkit/<lab>/kubeconfig``) is root's, mode 0600: it holds the
token. ``sudo labkit up`` (and ``sudo make lab``) also writes a copy for ``SUDO_USER`` in their
``~/.kube/labkit-<lab>.yaml``, owned by them, mode 0600, so that kubectl, the notebooks' kernels and
``labkit draw`` run as that user (node state then comes through the lab's API). The copies are
listed in the lab's directory and removed by ``labkit down``.
"""
from __future__ import annotations

import contextlib
import os
import pwd
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
    return _write_copy(lab, target, user.pw_uid, user.pw_gid)


def copy_beside(lab: str, other_copy: Path) -> Path:
    """A copy of lab ``lab``'s kubeconfig in the directory of ``other_copy`` (another lab's copy),
    for the same owner: how a companion lab reaches the user of the lab that started it."""
    st = other_copy.stat()
    return _write_copy(lab, other_copy.parent / f"labkit-{lab}.yaml", st.st_uid, st.st_gid)


def _write_copy(lab: str, target: Path, uid: int, gid: int) -> Path:
    """Root writes into a directory the user owns: no path there is followed (a link planted at the
    temporary name is removed, the file is created new, owned and moded through its descriptor)."""
    tmp = target.with_name(f".{target.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(kubeconfig_file(lab).read_bytes())
        os.fchown(out.fileno(), uid, gid)
        os.fchmod(out.fileno(), 0o600)
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
