"""Fixtures of the fault-injection suite: the misbehaving feed server (feed_server.py), a full disk."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.feed_server import gzip_bomb, hostile_feeds

__all__ = ["full_disk", "gzip_bomb", "hostile_feeds"]


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, mounted for the test (CI runs as root)."""
    where = tmp_path / "small"
    where.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs under CI: {e}")
        pytest.skip(f"cannot mount a tmpfs (needs root): {e}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
