"""A release is its version and a digest of its package's files, so two builds of the code are told apart: every
build called itself "0.1.0", and a rolling upgrade was never said (outside trial 76, F1)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.fingerprint import (
    CHANGELOG_POINT,
    difference,
    installed_version,
    parse_fingerprint,
    release,
    source_digest,
)
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.migrations import latest_version
from watchfloor.web.activity import HeartbeatRecorder, heartbeat
from watchfloor.web.health import processes_line, processes_seen

T0 = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


def package(root: Path) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text('"""A package."""\n')
    (root / "pkg" / "sub" / "rules.py").write_text("LIMIT = 3\n")
    return root / "pkg"


def test_the_same_files_give_the_same_digest_and_an_edit_another(tmp_path: Path) -> None:
    a = package(tmp_path / "a")
    b = shutil.copytree(a, tmp_path / "b" / "pkg")
    assert source_digest(a) == source_digest(b)  # the same code, built twice: the same release
    (b / "sub" / "rules.py").write_text("LIMIT = 4\n")
    assert source_digest(a) != source_digest(b)
    (b / "sub" / "rules.py").rename(b / "sub" / "rules2.py")  # a moved file is a change too
    (b / "sub" / "rules2.py").write_text("LIMIT = 3\n")
    assert source_digest(a) != source_digest(b)


def test_compiled_files_do_not_count_and_symlinked_subpackages_do(tmp_path: Path) -> None:
    a = package(tmp_path / "a")
    before = source_digest(a)
    (a / "__pycache__").mkdir()
    (a / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00compiled")
    (a / "native.so").write_bytes(b"\x7fELF")
    assert source_digest(a) == before
    outside = tmp_path / "alerts"
    outside.mkdir()
    (outside / "notify.py").write_text("SENT = 1\n")
    (a / "alerts").symlink_to(outside)  # how this checkout's top-level folders are the package's subpackages
    linked = source_digest(a)
    assert linked != before
    (outside / "notify.py").write_text("SENT = 2\n")
    assert source_digest(a) != linked


def test_this_release_is_the_version_and_a_digest_of_the_package() -> None:
    version, plus, digest = release().partition("+")
    assert version == installed_version() and plus == "+" and len(digest) == 10
    assert release() == release()  # once per process
    assert parse_fingerprint(f"0123456789ab-v{release()}").version == release()


def test_a_record_of_a_release_that_wrote_the_bare_version_reads_as_another_release() -> None:
    store = MemoryStore()
    for process, rel, at in (("hosta:101:a:b", installed_version(), 0), ("hostb:202:b:b", release(), 1)):
        r = HeartbeatRecorder(store, every=0.0, process=process, live=True, interval=10.0, command="run", release=rel)
        r.cycle(T0 + timedelta(seconds=at), 1.0, {})
    line = processes_line(processes_seen(heartbeat(store), T0 + timedelta(seconds=2), may_live=lambda _: True))
    assert line is not None
    assert f"their releases differ ({installed_version()}, {release()})" in line


def test_the_fingerprint_of_an_older_build_names_it_as_another_release() -> None:
    old, new = f"0123456789ab-v{installed_version()}", f"0123456789ab-v{release()}"
    assert difference(old, new) == f"the same rules on another watchfloor version ({installed_version()})"


def test_version_prints_this_release() -> None:
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    first, second = res.output.splitlines()
    assert first == f"watchfloor {release()}"
    assert second == f"CHANGELOG.md: up to its entries of {CHANGELOG_POINT}; store schema version {latest_version()}"


def test_the_changelog_point_and_schema_version_are_the_changelogs_newest() -> None:
    """Outside trial 83, F4: `--version` names the newest CHANGELOG.md heading its code answers to, so that heading
    must move with every entry added (a stale point would send an operator to the wrong entries)."""
    text = (Path(__file__).resolve().parents[2] / "CHANGELOG.md").read_text("utf-8")
    version_heading = re.search(r"^## (\S+) \(.*schema version (\d+)\)$", text, re.M)
    assert version_heading is not None and int(version_heading[2]) == latest_version()
    newest = re.search(r"^### (.+)$", text, re.M)
    assert newest is not None and newest[1] == CHANGELOG_POINT, (
        f"CHANGELOG.md's newest heading is {newest[1] if newest else None!r}: set fingerprint.CHANGELOG_POINT to it"
    )
