"""A GDELT source's documents and its saved position when the store fails part-way through a poll: both or neither."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.functional.gdelt_live_server import GdeltServer, gdelt_server
from tests.unit.test_gdelt_producer import line, row
from watchfloor.producers.poller import checkpoint_name
from watchfloor.stream_processors.stores import open_store

__all__ = ["gdelt_server"]

# The store's files may not grow past this in the failing run (RLIMIT_FSIZE: Python ignores SIGXFSZ, so the write
# fails with EFBIG and SQLite says "disk I/O error"). A fresh store with the two small files' rows is ~100 KB; the
# big file's one transaction is over 2 MB.
FILE_SIZE_LIMIT = 1 << 20
BIG_ROWS = 900  # under the poller's batch size (1,000): the big file is one transaction, which fails whole


SMALL_ROWS = {"20241022100000": ["7101", "7102"], "20241022101500": ["7201", "7202", "7203"]}
BIG = "20241022103000"  # an export of BIG_ROWS rows with long URLs: its documents do not fit under FILE_SIZE_LIMIT


def _rows(ids: list[str]) -> list[str]:
    long_path = "/harbour/" + "cranes-idle-at-the-terminal-" * 50
    return [line(row(i, url=f"https://www.port-gazette.example.org{long_path}{i}.html")) for i in ids]


def _exports() -> dict[str, list[str]]:
    """Two small export files, then one whose documents do not fit under FILE_SIZE_LIMIT: stamp -> its rows' ids."""
    return {**SMALL_ROWS, BIG: [str(8000 + i) for i in range(BIG_ROWS)]}


def _ingest(source: str, store_url: str, *, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """`watchfloor ingest` of the GDELT source in a process of its own, its files capped at `file_size_limit` bytes."""

    def cap() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "watchfloor", "ingest", source, "--source-kind", "gdelt", "--store", store_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        preexec_fn=cap,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},  # this tree's watchfloor, as the test's
    )


def _log_and_position(store_url: str, source: str) -> tuple[list[str], dict[str, object]]:
    """The documents' ids in the log (in log order, repeats kept) and the source's checkpoint."""
    store = open_store(store_url)
    try:
        ids = [s.event.id for s in store.read(limit=100_000) if s.event.type == "news.article"]
        state = store.load_checkpoint(checkpoint_name(source)).state or {}
    finally:
        store.close()
    return ids, state


def test_a_gdelt_folder_file_and_its_position_are_committed_together_when_the_store_fails(tmp_path: Path) -> None:
    folder = tmp_path / "gdelt"
    folder.mkdir()
    files: dict[str, list[str]] = {}
    for stamp, ids in _exports().items():
        path = folder / f"{stamp}.export.CSV"
        path.write_text("".join(r + "\n" for r in _rows(ids)), encoding="utf-8")
        files[str(path)] = [f"gdelt:{i}" for i in ids]
    store_url = f"sqlite:///{tmp_path / 'store.db'}"

    failed = _ingest(str(folder), store_url, file_size_limit=FILE_SIZE_LIMIT)
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert "disk I/O error" in failed.stderr
    ids, state = _log_and_position(store_url, str(folder))
    small = sorted(files)[:2]
    # The fault fell on the big file (not earlier): the small files' documents are in, none of the big one's.
    assert set(ids) == {i for f in small for i in files[f]}
    # Each file's documents and its mark in the checkpoint went in together: a file whose documents are in is marked
    # read (before, the checkpoint was saved only at the end of the poll: it was lost with the big file), and no file
    # is marked read without its documents.
    assert set(state.get("files") or {}) == set(small)

    again = _ingest(str(folder), store_url)  # the restart: the store is whole again
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{BIG_ROWS} new documents, 0 already in the log" in again.stdout  # the small files are not read again
    ids, state = _log_and_position(store_url, str(folder))
    assert sorted(ids) == sorted(i for f in files.values() for i in f)  # none lost, none twice
    assert set(state.get("files") or {}) == set(files)


def test_a_gdelt_live_export_and_the_position_past_it_are_committed_together_when_the_store_fails(
    tmp_path: Path, gdelt_server: GdeltServer
) -> None:
    exports = _exports()
    first, second = SMALL_ROWS
    source = gdelt_server.url("/gdeltv2/lastupdate.txt")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    gdelt_server.publish(first, _rows(exports[first]))
    gdelt_server.announce(first)
    assert _ingest(source, store_url).returncode == 0  # a new source: the latest file only
    gdelt_server.publish(second, _rows(exports[second]))
    gdelt_server.publish(BIG, _rows(exports[BIG]))
    gdelt_server.announce(BIG)

    failed = _ingest(source, store_url, file_size_limit=FILE_SIZE_LIMIT)
    assert failed.returncode != 0 and "disk I/O error" in failed.stderr, failed.stdout + failed.stderr
    ids, state = _log_and_position(store_url, source)
    assert set(ids) == {f"gdelt:{i}" for i in exports[first] + exports[second]}
    assert state == {"at": second, "export": gdelt_server.export_url(second)}  # past the second export, not the big one

    again = _ingest(source, store_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{BIG_ROWS} new documents, 0 already in the log" in again.stdout
    ids, state = _log_and_position(store_url, source)
    assert sorted(ids) == sorted(f"gdelt:{i}" for rows in exports.values() for i in rows)  # none lost, none twice
    assert state == {"at": BIG, "export": gdelt_server.export_url(BIG)}
