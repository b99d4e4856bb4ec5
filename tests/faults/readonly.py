"""Run a command with one directory mounted read-only, in a mount namespace of its own (`unshare -m`).

Permissions are no fault injection under CI, which runs as root (root writes through chmod 0555), so the
directory is bind-mounted onto itself and remounted read-only. The mount lives only in the child's private
namespace: nothing outside the command sees it, and nothing has to be unmounted afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

_SCRIPT = 'set -e; mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; shift; exec "$@"'


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"read-only mounts unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"read-only mounts unavailable: {reason}")


def require_readonly_mounts(tmp: Path) -> None:
    """Skip (fail under CI) unless this process may make a private read-only bind mount."""
    if shutil.which("unshare") is None:
        _unavailable("no unshare(1)")
    probe = tmp / "ro-probe"
    probe.mkdir(exist_ok=True)
    got = subprocess.run(
        ["unshare", "-m", "sh", "-c", _SCRIPT, "sh", str(probe), "sh", "-c", f"! touch {probe}/x 2>/dev/null"],
        capture_output=True,
        text=True,
        check=False,
    )
    if got.returncode != 0:
        _unavailable(got.stderr.strip() or f"exit {got.returncode}")


def run_readonly(
    readonly_dir: Path, argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `argv` with `readonly_dir` read-only; returns the finished process (text output captured)."""
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", _SCRIPT, "sh", str(readonly_dir), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
