"""A re-listed GDELT event through publish.ingest into SQLite and PostgreSQL (outside trial 85, F12): the changed row
is the one dead letter, at its own line, whichever version follows it; the first version again is a repeat. Rows
of our own (examples/gdelt), read from an export of a folder as the poller reads it (`places`)."""

from __future__ import annotations

from pathlib import Path

from watchfloor.producers.gdelt import read_gdelt
from watchfloor.producers.poller import _rows_of_another_file
from watchfloor.producers.publish import ingest
from watchfloor.stream_processors.stores.sql import SqlStore

EXPORT = Path(__file__).resolve().parents[2] / "examples" / "gdelt" / "20241021-20241028.export.CSV"


def _changed(line: str) -> str:
    fields = line.split("\t")
    fields[31] = "9"  # NumMentions
    fields[-1] = "https://other-desk.example.net/drills"
    return "\t".join(fields)


def _ingest(store: SqlStore, export: Path) -> tuple[int, int, list[tuple[str, int | None]]]:
    places: dict[str, tuple[str, int]] = {}
    got = ingest(store, _rows_of_another_file(read_gdelt(export, places=places)), "folder", places=places)
    return got.accepted, got.duplicates, [(d.origin, d.line) for d in got.dead_letters]


def test_the_changed_row_is_the_dead_letter_whichever_version_follows(sql_store: SqlStore, tmp_path: Path) -> None:
    lines = EXPORT.read_text(encoding="utf-8").splitlines()
    one = tmp_path / "20241022120000.export.CSV"
    one.write_text("\n".join([lines[0], lines[2], _changed(lines[2]), lines[2]]) + "\n", encoding="utf-8")
    assert _ingest(sql_store, one) == (2, 1, [(str(one), 3)])
    later = tmp_path / "20241022121500.export.CSV"
    later.write_text("\n".join([_changed(lines[2]), lines[2], lines[5]]) + "\n", encoding="utf-8")
    # (the changed row's dead letter is new: another file and line)
    assert _ingest(sql_store, later) == (1, 1, [(str(later), 1)])
