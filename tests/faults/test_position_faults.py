"""A source's documents and its saved position under a store that fails part-way through a poll: both or neither."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.unit.test_gdelt_producer import line, row
from watchfloor.producers.poller import checkpoint_name
from watchfloor.stream_processors.stores import open_store

# The store's files may not grow past this in the failing run (RLIMIT_FSIZE: Python ignores SIGXFSZ, so the write
# fails with EFBIG and SQLite says "disk I/O error"). A fresh store with the two small files' rows is ~100 KB; the
# big file's one transaction is over 2 MB.
FILE_SIZE_LIMIT = 1 << 20
BIG_ROWS = 900  # under the poller's batch size (1,000): the big file is one transaction, which fails whole


def _exports(folder: Path) -> dict[str, list[str]]:
    """Two small export files, then one whose rows (long URLs) do not fit under FILE_SIZE_LIMIT: file -> its ids."""
    folder.mkdir()
    files = {
        "20241022100000.export.CSV": [str(i) for i in (7101, 7102)],
        "20241022101500.export.CSV": [str(i) for i in (7201, 7202, 7203)],
        "20241022103000.export.CSV": [str(8000 + i) for i in range(BIG_ROWS)],
    }
    long_path = "/harbour/" + "cranes-idle-at-the-terminal-" * 50
    for name, ids in files.items():
        url = f"https://www.port-gazette.example.org{long_path}"
        (folder / name).write_text("".join(line(row(i, url=f"{url}{i}.html")) + "\n" for i in ids), encoding="utf-8")
    return {str(folder / name): [f"gdelt:{i}" for i in ids] for name, ids in files.items()}


def _ingest(folder: Path, store_url: str, *, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """`watchfloor ingest` of the folder in a process of its own, its files capped at `file_size_limit` bytes."""

    def cap() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "watchfloor", "ingest", str(folder), "--source-kind", "gdelt", "--store", store_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        preexec_fn=cap,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},  # this tree's watchfloor, as the test's
    )


def _log_and_position(store_url: str, folder: Path) -> tuple[list[str], set[str]]:
    """The documents' ids in the log (in log order, repeats kept) and the files the source's checkpoint marks read."""
    store = open_store(store_url)
    try:
        ids = [s.event.id for s in store.read(limit=100_000) if s.event.type == "news.article"]
        state = store.load_checkpoint(checkpoint_name(str(folder))).state or {}
    finally:
        store.close()
    return ids, set(state.get("files") or {})


def test_a_gdelt_folder_file_and_its_position_are_committed_together_when_the_store_fails(tmp_path: Path) -> None:
    folder = tmp_path / "gdelt"
    files = _exports(folder)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"

    failed = _ingest(folder, store_url, file_size_limit=FILE_SIZE_LIMIT)
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert "disk I/O error" in failed.stderr
    ids, marked = _log_and_position(store_url, folder)
    in_log = set(ids)
    small = sorted(files)[:2]
    # The fault fell on the big file (not earlier): the small files' documents are in, none of the big one's.
    assert in_log == {i for f in small for i in files[f]}
    # Each file's documents and its mark in the checkpoint went in together: a file whose documents are in is marked
    # read (before, the checkpoint was saved only at the end of the poll: it was lost with the big file), and no file
    # is marked read without its documents.
    assert marked == set(small)

    again = _ingest(folder, store_url)  # the restart: the store is whole again
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{BIG_ROWS} new documents, 0 already in the log" in again.stdout  # the small files are not read again
    ids, marked = _log_and_position(store_url, folder)
    assert sorted(ids) == sorted(i for f in files for i in files[f])  # none lost, none twice
    assert marked == set(files)
