"""An event-time dead letter names where its document was read as an ingest dead letter does: `FILE:LINE` (trial 30,
F7: a future-dated record's letter named the file only, beside `FILE:2` for the ingest letter of the line before)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import EventType, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.migrations import latest_version
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url

pytestmark = pytest.mark.functional

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
GDELT_EXPORT = REPO / "examples" / "gdelt" / "20241021-20241028.export.CSV"
DEPLOYED = "NATO Chief Says North Korean Troops Sent to Russia's Kursk Region"
KILLED = "North Korean troops killed in heavy fighting in Kursk, officials say"


def article(doc_id: str, published: str, title: str, source: str = "A") -> dict[str, Any]:
    return {"type": "news.article", "id": doc_id, "published_at": published, "source": source, "title": title}


def config(tmp_path: Path, sources: str) -> Path:
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\nsources: {sources}\n"
        f"channels: [{{type: file, name: a, path: {tmp_path / 'a.jsonl'}}}]\nsubscriptions: [{{channel: a}}]\n",
        encoding="utf-8",
    )
    return cfg


def letters(tmp_path: Path) -> list[dict[str, Any]]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [se.event.payload for se in store.read(types={EventType.DEAD_LETTER.value}, limit=1000)]
    finally:
        store.close()


def test_a_future_dated_line_is_named_by_its_line_as_an_ingest_dead_letter_is(tmp_path: Path) -> None:
    """The trial's file: line 2 reuses line 1's id with other text (an ingest dead letter), line 3 is dated 2099."""
    inbox = tmp_path / "in.jsonl"
    rows = [
        article("x1", "2024-10-28T16:00:00+00:00", DEPLOYED),
        article("x1", "2024-10-28T16:00:00+00:00", "changed text, same id"),
        article("f1", "2099-03-01T09:00:00+00:00", KILLED, "B"),
    ]
    inbox.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = config(tmp_path, f"[{{kind: jsonl, path: {inbox}}}]")
    run = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert f"dead letter {inbox}:2 (field id)" in said, said
    assert f"event time {inbox}:3: dated in the future: document f1 is published 2099-03-01" in said, said
    assert f"({inbox}: 1 dated in the future)" in said  # the summary counts per source, as before
    places = {(p["stage"], p["origin"], p["line"]) for p in letters(tmp_path)}
    assert places == {("ingest", str(inbox), 2), ("event-time", str(inbox), 3)}
    listed = runner.invoke(app, ["dead-letters", "--config", str(cfg), "--json"])
    assert listed.exit_code == 0, listed.output
    rows_listed = [json.loads(x) for x in listed.output.splitlines() if x.startswith("{")]
    assert {(r["stage"], r["line"]) for r in rows_listed} == {("ingest", 2), ("event-time", 3)}
    table = runner.invoke(app, ["dead-letters", "--config", str(cfg), "--stage", "event-time"], env={"COLUMNS": "200"})
    assert f"{inbox}:3" in table.output, table.output
    # Backtested from the run's log in its order: the same place.
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    replayed = runner.invoke(app, ["backtest", "--config", str(cfg), "--from-store", store, "--order", "log"])
    assert replayed.exit_code == 0, replayed.output
    assert f"event time {inbox}:3: dated in the future" in " ".join(replayed.output.split()), replayed.output


def test_a_line_dated_at_the_unix_epoch_is_reported_with_its_line(tmp_path: Path) -> None:
    """Trial 33, L2: an item dated 1970-01-01 (what a feed or CMS writes for a missing date) was taken without a word
    and alerted as "fired 1970-01-01", while one dated 2099 was reported. It is processed as dated, as before, and
    reported where the 2099 one is: on the console with FILE:LINE, in the dead-letter log, counted per source, and
    by a backtest of the run's log."""
    inbox = tmp_path / "in.jsonl"
    rows = [
        article("x1", "2024-10-28T16:00:00+00:00", DEPLOYED),
        article("e1", "1970-01-01T00:00:00+00:00", KILLED, "B"),
        article("e2", "1969-12-31T19:00:00-05:00", "Weather: snow expected in the north", "C"),  # (no signal)
    ]
    inbox.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = config(tmp_path, f"[{{kind: jsonl, path: {inbox}}}]")
    run = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert (
        f"event time {inbox}:2: dated at the Unix epoch: document e1 is published 1970-01-01T00:00:00+00:00" in said
    ), said
    assert f"event time {inbox}:3: dated at the Unix epoch: document e2 is published 1969-12-31T19:00:00-05:00" in said
    assert f"({inbox}: 2 dated at the Unix epoch)" in said, said
    assert "dated in the future" not in said
    places = {(p["stage"], p["origin"], p["line"]) for p in letters(tmp_path)}
    assert places == {("event-time", str(inbox), 2), ("event-time", str(inbox), 3)}
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    out = tmp_path / "bt.json"
    replayed = runner.invoke(
        app, ["backtest", "--config", str(cfg), "--from-store", store, "--order", "log", "--json", str(out)]
    )
    assert replayed.exit_code == 0, replayed.output
    assert f"event time {inbox}:2: dated at the Unix epoch" in " ".join(replayed.output.split()), replayed.output
    stats = json.loads(out.read_text(encoding="utf-8"))["stats"]
    assert (stats["epoch_dated"], stats["future_dated"], stats["late_documents"]) == (1, 0, 0)  # (e1: a signal)


def test_a_late_line_dated_at_the_unix_epoch_is_reported_and_counted_once(tmp_path: Path) -> None:
    """Review of cdacb99 (MED): a 1970-01-01 line read after the watermark had moved on (a 2026 line read by an earlier
    `run --once`) had two letters, "dated at the Unix epoch" and "late", and run's line counted it twice
    ("1 dated at the Unix epoch, 1 late"), as did a backtest's stats. It has one letter, the late one, which says
    the epoch date, and is counted once, as late, by run and by a backtest of the run's log."""
    inbox = tmp_path / "in.jsonl"
    cfg = config(tmp_path, f"[{{kind: jsonl, path: {inbox}}}]")
    inbox.write_text(json.dumps(article("n1", "2026-11-01T09:00:00+00:00", DEPLOYED)) + "\n", encoding="utf-8")
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    with inbox.open("a", encoding="utf-8") as f:
        f.write(json.dumps(article("e1", "1970-01-01T00:00:00+00:00", KILLED, "B")) + "\n")
    run = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert f"event time {inbox}:2: late: document e1 (1970-01-01T00:00:00+00:00) is " in said, said
    assert "It is dated at the Unix epoch (1970-01-01T00:00:00+00:00)" in said, said
    assert said.count(f"event time {inbox}:2:") == 1, said
    assert f"1 event-time report ({inbox}: 1 late)" in said, said
    [letter] = letters(tmp_path)
    assert (letter["stage"], letter["origin"], letter["line"]) == ("event-time", str(inbox), 2)
    assert letter["reason"].startswith("late: document e1 "), letter
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    out = tmp_path / "bt.json"
    replayed = runner.invoke(
        app, ["backtest", "--config", str(cfg), "--from-store", store, "--order", "log", "--json", str(out)]
    )
    assert replayed.exit_code == 0, replayed.output
    assert " ".join(replayed.output.split()).count(f"event time {inbox}:2:") == 1, replayed.output
    stats = json.loads(out.read_text(encoding="utf-8"))["stats"]
    assert (stats["epoch_dated"], stats["future_dated"], stats["late_documents"]) == (0, 0, 1)


def schema_12(url: str) -> None:
    """Make the store at `url` one of schema 12: its events table without the line column (migration 13), no
    channel_backoffs table (14)."""
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE events DROP COLUMN line"))
        conn.execute(text("DROP TABLE channel_backoffs"))  # (migration 14's)
        conn.execute(text("UPDATE watchfloor_schema SET version = 12"))
    engine.dispose()


def test_a_document_stored_before_lines_were_kept_reads_as_before(tmp_path: Path) -> None:
    """A store of schema 12 holds a future-dated document without its line: migrated, it is processed, and its
    letter names its file alone, as letters did then."""
    inbox = tmp_path / "in.jsonl"
    inbox.write_text("", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    old = SqlStore(url)
    doc = parse_document(article("f1", "2099-03-01T09:00:00+00:00", KILLED))
    old.append([document_event(doc, str(inbox), datetime(2026, 1, 1, tzinfo=UTC))])
    old.close()
    schema_12(url)
    cfg = config(tmp_path, f"[{{kind: jsonl, path: {inbox}}}]")
    run = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert (
        f"schema migrated 12 → {latest_version()}" in said
        and f"event time {inbox}: dated in the future: document f1" in said
    ), said
    [letter] = letters(tmp_path)
    assert (letter["stage"], letter["origin"], letter["line"]) == ("event-time", str(inbox), None)
    store = open_store(url)
    try:
        [stored] = [se.event for se in store.read(types={"news.article"})]
    finally:
        store.close()
    assert stored.line is None and stored.origin == str(inbox)


def stored_lines(tmp_path: Path) -> set[int | None]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return {se.event.line for se in store.read(types={"news.article"}, limit=1000)}
    finally:
        store.close()


def test_a_gdelt_row_keeps_its_line_only_when_the_source_is_its_file(tmp_path: Path) -> None:
    """One export file: each document keeps its row's line. A folder: the line would name a line of the folder, so a
    document keeps none (its id, the GDELT event id, names the row)."""
    one = tmp_path / "one"
    one.mkdir()
    got = runner.invoke(
        app, ["ingest", "--source-kind", "gdelt", str(GDELT_EXPORT), "--config", str(config(one, "[]"))]
    )
    assert got.exit_code == 0, got.output
    lines = stored_lines(one)
    assert None not in lines and len(lines) == 7 and min(lines) >= 1, lines
    folder = tmp_path / "folder"
    (folder / "exports").mkdir(parents=True)
    shutil.copy(GDELT_EXPORT, folder / "exports" / GDELT_EXPORT.name)
    cfg = config(folder, "[]")
    got = runner.invoke(app, ["ingest", "--source-kind", "gdelt", str(folder / "exports"), "--config", str(cfg)])
    assert got.exit_code == 0, got.output
    assert stored_lines(folder) == {None}
