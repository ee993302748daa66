"""The lab's files are root's: nothing under ``/run/labkit/<lab>`` is readable by anyone else.

Pods share this machine's filesystem, and their processes run as ``nobody`` unless they ask for
root: every API object (Secrets-like content, the token) and the daemon's log and state would be
theirs to read. The lab's directory is ``0711`` (others may only pass through it) so that the
image tool sets under ``images/`` stay usable by the pods' processes; everything else is ``0700``
(directories) or ``0600`` (files). Files created later under a private directory stay private.
"""
from __future__ import annotations

import os
from pathlib import Path

PUBLIC = ("images",)          # the tool sets that pods' processes run (world readable, 0755)


def restrict(lab_dir: Path) -> None:
    """Make ``lab_dir`` root's (see the module docstring); idempotent, cheap (top level only:
    private directories hide what is below them)."""
    if not lab_dir.is_dir():
        return
    os.chmod(lab_dir, 0o711)
    for entry in lab_dir.iterdir():
        if entry.name in PUBLIC or entry.is_symlink():
            continue
        try:
            if entry.is_dir():
                os.chmod(entry, 0o700)
            elif entry.is_socket():
                os.chmod(entry, 0o600)
            else:
                os.chmod(entry, 0o600)
        except FileNotFoundError:
            continue
