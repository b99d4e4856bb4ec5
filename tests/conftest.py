"""Shared pytest wiring: fixture plugins (one module per real service) and paths to shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.slack_server",
    "tests.fixtures.smtp_server",
    "tests.fixtures.kafka",
    "tests.fixtures.browser",
]

REPO = Path(__file__).resolve().parents[1]
# WATCHFLOOR_DATA points elsewhere (as for the benchmarks): a git worktree's parent has no shared/ beside it.
SHARED_DATA = Path(os.environ.get("WATCHFLOOR_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """$WATCHFLOOR_DATA or ../shared/data (real public data); tests that need it are skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
