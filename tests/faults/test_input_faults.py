"""Hostile records: each must become a dead letter with its place and reason, and cost nothing else.

The live pipeline used to stop on every cycle (0 alerts instead of 9) for a `metadata` nested 300 deep
(the store could not write it), 1,000 deep (it could not be read back) or, on PostgreSQL, an id with a NUL;
a year-9999 date broke the notifiers and the backtest's outputs. Here each sits among the bundled samples
and the pipeline must raise exactly the alerts of the clean samples.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.config import package_dir
from watchfloor.producers.jsonl import read_jsonl
from watchfloor.producers.poller import SourcePoller
from watchfloor.producers.publish import append_isolating, ingest
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.events import DeadLetter, Document, Event, EventType, SourceRef, document_event
from watchfloor.schemas.inputs import (
    MAX_ID_CHARS,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_NAME_CHARS,
    MAX_SHORT_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    check_json_line,
    max_record_bytes,
)
from watchfloor.schemas.timefmt import utc_iso, utc_text
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore

runner = CliRunner()
SAMPLES = package_dir() / "samples"
GOOD: dict[str, Any] = {
    "type": "news.article",
    "published_at": "2024-10-04T08:30:00+00:00",
    "source": "Harbour Gazette",
    "title": "Port authority posts shipping figures",
    "body": "Cargo volumes at the northern terminal rose for a third month.",
}


def nested(depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _ in range(depth - 1):
        out = {"a": out}
    return out


def line(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def deep_line(depth: int, **changes: Any) -> str:
    """A line whose metadata nests `depth` objects, written as text (json.dumps would recurse too deep)."""
    meta = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
    return line(metadata="@META@", **changes).replace('"@META@"', meta)


HOSTILE = {
    "metadata 300 deep": deep_line(300, id="deep-300"),
    "metadata 1,000 deep": deep_line(1000, id="deep-1000"),
    "NUL in id": line(id="doc\u0000nul"),
    "year 9999": line(id="far-future", published_at="9999-12-31T23:00:00-05:00"),
    "year 1": line(id="far-past", published_at="0001-01-01T00:30:00+01:00"),
    "huge title": line(id="huge-title", title="x" * (MAX_TITLE_CHARS + 1)),
}


def hostile_samples(tmp_path: Path) -> Path:
    """The bundled sample articles with every hostile record between them."""
    good = (SAMPLES / "dprk_russia_2024.jsonl").read_text(encoding="utf-8").splitlines()
    lines: list[str] = []
    for i, raw in enumerate(good):
        lines.append(raw)
        if i < len(HOSTILE):
            lines.append(list(HOSTILE.values())[i])
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_pipeline(tmp_path: Path, store: str, articles: Path) -> list[dict[str, Any]]:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: {store!r}\n"
        f"sources:\n  - {{kind: jsonl, path: {str(articles)!r}}}\n"
        f"  - {{kind: rss, url: {str(SAMPLES / 'wire_feed.xml')!r}}}\n"
        f"channels:\n  - {{type: console, name: console}}\n"
        f"  - {{type: file, name: archive, path: {str(tmp_path / 'alerts.jsonl')!r}}}\n"
        "subscriptions: [{channel: console}, {channel: archive}]\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    listed = runner.invoke(app, ["alerts", "list", "--json", "--store", store])
    assert listed.exit_code == 0, listed.output
    return [json.loads(x) for x in listed.stdout.splitlines() if x.strip()]


def _dead_letters(store_url: str) -> list[dict[str, Any]]:
    st = open_store(store_url)
    try:
        return [se.event.payload for se in st.read(types={EventType.DEAD_LETTER.value}, limit=10_000)]
    finally:
        st.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_hostile_records_cost_no_alert_in_the_live_pipeline(tmp_path: Path, store_url: str) -> None:
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean = run_pipeline(clean_dir, f"sqlite:///{clean_dir / 'clean.db'}", SAMPLES / "dprk_russia_2024.jsonl")
    assert len(clean) >= 9
    got = run_pipeline(tmp_path, store_url, hostile_samples(tmp_path))
    assert sorted(a["id"] for a in got) == sorted(a["id"] for a in clean)
    assert len((tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()) == len(clean)
    dead = {d["line"]: d for d in _dead_letters(store_url)}
    # Each hostile record is a dead letter on its own line (every second line from line 2), naming the field.
    assert {d["line"]: d["field"] for d in dead.values()} == {
        2: "metadata",
        4: "metadata",
        6: "id",
        8: "published_at",
        10: "published_at",
        12: "title",
    }
    assert "outside the accepted years 1800 to 2999" in dead[8]["reason"]
    assert "NUL" in dead[6]["reason"]


# -- the limits of the contract, one by one: just inside is a document, just over is a dead letter ---------


LIMITS: list[tuple[str, Callable[[int], dict[str, Any]], int, str]] = [
    ("title", lambda n: {"title": "t" * n}, MAX_TITLE_CHARS, "title"),
    ("id", lambda n: {"id": "i" * n}, MAX_ID_CHARS, "id"),
    ("url", lambda n: {"url": "https://x.example/" + "p" * (n - 18)}, MAX_URL_CHARS, "url"),
    ("language", lambda n: {"language": "l" * n}, MAX_SHORT_CHARS, "language"),
    ("source name", lambda n: {"source": "s" * n}, MAX_NAME_CHARS, "source"),
    ("source.name", lambda n: {"source": {"name": "s" * n}}, MAX_NAME_CHARS, "source.name"),
    ("source.url", lambda n: {"source": {"name": "s", "url": "u" * n}}, MAX_URL_CHARS, "source.url"),
    ("source.kind", lambda n: {"source": {"name": "s", "kind": "k" * n}}, MAX_SHORT_CHARS, "source.kind"),
    (
        "issuer.name",
        lambda n: {"type": "official.statement", "issuer": {"name": "n" * n}},
        MAX_NAME_CHARS,
        "issuer.name",
    ),
    ("metadata depth", lambda n: {"metadata": nested(n)}, MAX_METADATA_DEPTH, "metadata"),
    ("metadata size", lambda n: {"metadata": {"k": "v" * (n - 8)}}, MAX_METADATA_BYTES, "metadata"),
]


@pytest.mark.parametrize(("name", "make", "limit", "field"), LIMITS, ids=[x[0] for x in LIMITS])
def test_each_limit_of_the_contract(
    tmp_path: Path, name: str, make: Callable[[int], dict[str, Any]], limit: int, field: str
) -> None:
    path = tmp_path / "limits.jsonl"
    path.write_text(line(**make(limit)) + "\n" + line(**make(limit + 1)) + "\n", encoding="utf-8")
    at, over = list(read_jsonl(path))
    assert isinstance(at, Document), at
    assert isinstance(over, DeadLetter)
    assert (over.line, over.field) == (2, field), over
    assert "over the limit" in over.reason or "deeper than" in over.reason
    # The msgspec fast path takes the first (or leaves it to the full check), never the second.
    assert check_json_line(line(**make(limit + 1)).encode()) is None


def test_dates_outside_the_accepted_years(tmp_path: Path) -> None:
    path = tmp_path / "dates.jsonl"
    dates = [
        "1800-01-01T00:00:00Z",
        "2999-12-31T23:59:59Z",
        "1799-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-05:00",
    ]
    path.write_text("\n".join(line(id=f"d{i}", published_at=d) for i, d in enumerate(dates)) + "\n", "utf-8")
    got = list(read_jsonl(path))
    assert [type(x).__name__ for x in got] == ["Document", "Document", "DeadLetter", "DeadLetter", "DeadLetter"]


def test_an_over_long_line_is_a_dead_letter_without_being_held_in_memory(tmp_path: Path) -> None:
    """A gzip bomb in a JSON Lines file: one 64 MB line in a 64 KB .gz, between two good lines."""
    limit = max_record_bytes(1000)
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(line(id="before").encode() + b"\n")
        f.write(b'{"title": "' + b"A" * (16 * limit) + b'"}\n')
        f.write(line(id="after").encode() + b"\n")
    assert path.stat().st_size < 200_000
    got = list(read_jsonl(path, max_body_chars=1000, block_bytes=1 << 20))
    assert [type(x).__name__ for x in got] == ["Document", "DeadLetter", "Document"]
    assert got[1].line == 2 and "over" in got[1].reason  # type: ignore[union-attr]
    assert [x.id for x in got if isinstance(x, Document)] == ["before", "after"]


# -- the store: a record it refuses is isolated, the rest of the batch is written ------------------------------


def _doc(doc_id: str, title: str = "A title") -> Document:
    return Document(
        id=doc_id, type="news.article", published_at=datetime(2024, 5, 1, tzinfo=UTC), source=SourceRef(name="W"),
        title=title,
    )  # fmt: skip


def test_a_record_the_store_refuses_is_a_dead_letter_with_its_line(store_url: str) -> None:
    """Documents handed to ingest directly (not through the contract): the store's own check refuses the
    NUL id, on SQLite and PostgreSQL alike, and the other 2,499 documents of its batches go in."""
    st = open_store(store_url)
    try:
        items: list[tuple[int | None, Document | DeadLetter]] = [(i + 1, _doc(f"ok-{i}")) for i in range(2500)]
        items[1234] = (1235, _doc("bad\x00id"))
        summary = ingest(st, items, "hostile.jsonl", batch_size=1000)
        assert summary.accepted == 2499
        assert [(d.line, d.field) for d in summary.dead_letters] == [(1235, "id")]
        assert "NUL" in summary.dead_letters[0].reason
        assert st.count(types={"news.article"}) == 2499
        assert st.count(types={EventType.DEAD_LETTER.value}) == 1
    finally:
        st.close()


class _PickyStore(MemoryStore):
    """A store whose database refuses some rows with a driver error of its own (not a RecordRejected)."""

    def append(self, events: Any) -> int:
        if any(ev.id.startswith("poison") for ev in events):
            raise ValueError("value too long for type character varying")
        return super().append(events)


def test_a_store_error_of_one_row_is_narrowed_down_to_that_row() -> None:
    st = _PickyStore()
    events = [Event(id=f"e{i}", type="signal", time=datetime(2024, 1, 1, tzinfo=UTC), payload={}) for i in range(100)]
    events[17] = events[17].model_copy(update={"id": "poison-17"})
    events[80] = events[80].model_copy(update={"id": "poison-80"})
    added, refused = append_isolating(st, events)
    assert added == 98
    assert [i for i, _reason, _field in refused] == [17, 80]
    assert "value too long" in refused[0][1]
    # When every row fails alone, the rows are not at fault: the error is raised, nothing is dead-lettered.
    with pytest.raises(ValueError):
        append_isolating(st, [e.model_copy(update={"id": f"poison-{i}"}) for i, e in enumerate(events[:5])])


# -- the same id with other content --------------------------------------------------------------------------


def test_the_same_id_with_other_content_is_a_dead_letter(tmp_path: Path, store_url: str) -> None:
    first = tmp_path / "first.jsonl"
    first.write_text(line(id="a-1") + "\n" + line(id="a-2") + "\n", encoding="utf-8")
    second = tmp_path / "second.jsonl"
    second.write_text(
        line(id="a-1")  # the same: a re-ingest, not reported
        + "\n"
        + line(id="a-2", title="The headline, corrected")  # other content under a known id
        + "\n"
        + line(id="a-3")
        + "\n"
        + line(id="a-3", body="Another body under the same id, later in the same file")
        + "\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["ingest", str(first), "--store", store_url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["ingest", str(second), "--store", store_url])
    assert res.exit_code == 0, res.output
    assert "1 new document, 1 already in the log, 2 dead letters" in res.output
    assert f"{second}:2 (field id): id 'a-2' is already in the log with different content" in res.output
    assert f"{second}:4 (field id): id 'a-3' is already in the log with different content" in res.output
    st = open_store(store_url)
    try:
        kept = {se.event.id: se.event.payload["title"] for se in st.read(types={"news.article"})}
    finally:
        st.close()
    assert kept == {"a-1": GOOD["title"], "a-2": GOOD["title"], "a-3": GOOD["title"]}  # first version stands


# -- truncated .gz: every whole line read before the error is kept ---------------------------------------------


def _truncated_gz(tmp_path: Path, n: int = 2500) -> tuple[Path, int]:
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(b"".join(line(id=f"g-{i}").encode() + b"\n" for i in range(n)), compresslevel=6)
    path.write_bytes(data[: int(len(data) * 0.7)])
    # What can be recovered: the whole lines in what decompresses before the cut.
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(path.read_bytes())
    return path, readable.count(b"\n")


def test_ingest_keeps_every_whole_line_of_a_truncated_gz(tmp_path: Path, store_url: str) -> None:
    path, whole = _truncated_gz(tmp_path)
    assert 1000 < whole < 2500 and whole % 1000 != 0  # not a multiple of the batch: the old loss
    res = runner.invoke(app, ["ingest", str(path), "--store", store_url])
    assert res.exit_code == 1
    assert f"{whole} new documents" in res.output
    assert "cannot read JSON Lines file" in res.output
    st = open_store(store_url)
    try:
        assert st.count(types={"news.article"}) == whole
    finally:
        st.close()


def test_the_poller_keeps_every_whole_line_of_a_truncated_gz(tmp_path: Path) -> None:
    path, whole = _truncated_gz(tmp_path)
    st: Store = MemoryStore()
    summary = SourcePoller(st, [JsonlSource(path=str(path))]).poll_once()
    (src,) = summary.sources
    assert src.error is not None and "cannot read JSON Lines file" in src.error
    assert src.ingested is not None and src.ingested.accepted == whole
    assert st.count(types={"news.article"}) == whole


# -- year 9999: refused by the contract; and formatting never raises anyway -------------------------------------


def test_times_at_the_edge_of_python_format_without_raising() -> None:
    from datetime import timedelta, timezone

    edge = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))  # is year 10000 in UTC
    early = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # is year 0 in UTC
    with pytest.raises(OverflowError):
        edge.astimezone(UTC)  # what the notifiers used to call
    assert utc_text(edge) == "9999-12-31T23:00:00-05:00"
    assert utc_text(early) == "0001-01-01T00:30:00+01:00"
    assert utc_iso(edge) == "9999-12-31T23:00:00-05:00"
    assert utc_text(datetime(2024, 11, 12, 8, tzinfo=timezone(timedelta(hours=9)))) == "2024-11-11 23:00 UTC"


def test_the_notifiers_format_a_year_9999_alert() -> None:
    """An alert from outside the contract (an old store, another producer): console and Slack render it."""
    from datetime import timedelta, timezone

    from watchfloor.alerts.notifiers.console import ConsoleNotifier
    from watchfloor.alerts.notifiers.slack import build_blocks
    from watchfloor.schemas.events import Alert, Detection, Evidence

    edge = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    ev = Evidence(event_id="d", signal="s", source="W", published_at=edge, sentence="Troops crossed.")
    det = Detection(id="x", rule="r", title="Far future", severity="high", fired_at=edge, evidence=(ev,))
    alert = Alert(id="x", detection=det, channels=("console",))
    blocks = build_blocks(alert)
    assert "9999-12-31T23:00:00-05:00" in json.dumps(blocks)
    out = io.StringIO()
    ConsoleNotifier("console", stream=out).send(alert)
    assert "9999-12-31T23:00:00-05:00" in out.getvalue()


def test_backtest_outputs_with_a_year_9999_record(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    text = (SAMPLES / "dprk_russia_2024.jsonl").read_text(encoding="utf-8")
    events.write_text(HOSTILE["year 9999"] + "\n" + text, encoding="utf-8")
    out_json, out_html = tmp_path / "alerts.json", tmp_path / "report.html"
    res = runner.invoke(app, ["backtest", str(events), "--json", str(out_json), "--html", str(out_html)])
    assert res.exit_code == 0, res.output
    assert "OverflowError" not in res.output
    assert json.loads(out_json.read_text(encoding="utf-8"))["alerts"]
    assert out_html.stat().st_size > 0


def test_the_exported_schema_states_the_limits() -> None:
    from watchfloor.schemas.export import input_document_schema

    props = input_document_schema()["properties"]
    assert props["title"]["maxLength"] == MAX_TITLE_CHARS
    assert props["id"]["maxLength"] == MAX_ID_CHARS
    assert props["url"]["maxLength"] == MAX_URL_CHARS
    assert str(MAX_METADATA_DEPTH) in props["metadata"]["description"]
    assert "1800" in props["published_at"]["description"] and "3000" in props["published_at"]["description"]


# -- a document the engine itself fails on: a dead letter, and the cycle goes on ---------------------------------


def _year_one_events(samples: list[str]) -> list[Event]:
    """The sample articles again, dated 0001-01-01T00:30+01:00 (year 0 in UTC), as an older release (before the
    contract bounded the years) or an archive of a topic other producers write to put them in the log. Read
    back, such a document is invalid (outside the accepted years): the engine never gets to raise on it."""
    out: list[Event] = []
    early = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    for i, raw in enumerate(samples):
        rec = json.loads(raw)
        rec["id"] = f"year-one-{i}"
        if isinstance(rec["source"], str):
            rec["source"] = {"name": rec["source"]}
        doc = Document.model_validate(rec).model_copy(update={"published_at": early})  # as an old release wrote it
        ev = document_event(doc, origin="old-release.jsonl", received_at=datetime(2024, 12, 1, tzinfo=UTC))
        assert ev.payload["published_at"] == "0001-01-01T00:30:00+01:00"
        out.append(ev)
    return out


def test_a_document_the_engine_fails_on_is_a_dead_letter_and_the_cycle_goes_on(tmp_path: Path, store_url: str) -> None:
    samples = (SAMPLES / "dprk_russia_2024.jsonl").read_text(encoding="utf-8").splitlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(samples[:6]) + "\n", encoding="utf-8")
    second.write_text("\n".join(samples[6:]) + "\n", encoding="utf-8")

    def pipeline(store: str, poison: list[Event]) -> tuple[list[dict[str, Any]], str]:
        for path in (first, second):
            res = runner.invoke(app, ["ingest", str(path), "--store", store])
            assert res.exit_code == 0, res.output
            if poison and path == first:
                st = open_store(store)
                try:
                    assert st.append(poison) == len(poison)
                finally:
                    st.close()
        cfg = tmp_path / f"{len(poison)}.yaml"
        cfg.write_text(f"store: {store!r}\nsources: []\nchannels: [{{type: console, name: console}}]\n", "utf-8")
        res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
        assert res.exit_code == 0, res.output
        listed = runner.invoke(app, ["alerts", "list", "--json", "--store", store])
        assert listed.exit_code == 0, listed.output
        return [json.loads(x) for x in listed.stdout.splitlines() if x.strip()], res.output

    clean, _ = pipeline(f"sqlite:///{tmp_path / 'clean.db'}", [])
    assert len(clean) >= 9
    poison = _year_one_events(samples)
    got, output = pipeline(store_url, poison)
    assert sorted(a["id"] for a in got) == sorted(a["id"] for a in clean)
    dead = [d for d in _dead_letters(store_url) if d["stage"] == "engine"]
    assert {d["reason"].split("'")[1] for d in dead} == {ev.id for ev in poison}  # each, named
    for d in dead:
        assert d["origin"] == "old-release.jsonl"
        assert "outside the accepted years" in d["reason"] and "log position" in d["reason"], d["reason"]
        assert f"dead letter old-release.jsonl: {d['reason']}" in " ".join(output.split())
    # A backtest of that log, in either order, skips them with the same letters and gives the live alerts.
    for order in ("event-time", "log"):
        report = tmp_path / f"backtest-{order}.json"
        res = runner.invoke(app, ["backtest", "--from-store", store_url, "--order", order, "--json", str(report)])
        assert res.exit_code == 0, res.output
        out = json.loads(report.read_text(encoding="utf-8"))
        assert sorted(a["id"] for a in out["alerts"]) == sorted(a["id"] for a in clean), order
        assert out["stats"]["dead_letters"] == len(poison)
        assert sorted(d["reason"] for d in out["dead_letters"]) == sorted(d["reason"] for d in dead)
    # Processed once: a second cycle neither stops on them nor reports them again.
    cfg = tmp_path / f"{len(poison)}.yaml"
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0 and "old-release" not in res.output, res.output


def test_a_line_still_being_written_is_read_at_the_next_poll_not_dead_lettered(tmp_path: Path) -> None:
    """Outside audit: a writer had flushed the first 150 bytes of a record when the poller read the file; the
    half line was dead-lettered ("malformed JSON"), and the letter stayed after the whole record was ingested at
    the next poll. A last line without its newline that is not yet whole JSON is left for the next poll. A last
    line without a newline that is whole JSON is a record (files often end so); a backtest, which reads a
    finished file, still dead-letters a broken last line."""
    path = tmp_path / "inbox.jsonl"
    second = line(id="doc-2", title="Second report")
    path.write_text(line(id="doc-1") + "\n" + second[:60], encoding="utf-8")
    st = MemoryStore()
    poller = SourcePoller(st, [JsonlSource(path=str(path))])
    (src,) = poller.poll_once().sources
    assert src.ingested is not None and (src.ingested.accepted, src.ingested.dead_lettered) == (1, 0)
    with path.open("a", encoding="utf-8") as f:
        f.write(second[60:])  # whole now, still without its newline
    (src,) = poller.poll_once().sources
    assert src.ingested is not None and (src.ingested.accepted, src.ingested.dead_lettered) == (1, 0)
    assert st.count(types={"news.article"}) == 2 and st.count(types={EventType.DEAD_LETTER.value}) == 0
    broken = tmp_path / "broken.jsonl"
    broken.write_text(line(id="doc-3") + "\n" + second[:60], encoding="utf-8")
    assert [type(x).__name__ for x in read_jsonl(broken)] == ["Document", "DeadLetter"]
    # Left alone longer than GROWING_S, a cut line is a record cut short (its writer died): a dead letter, live
    # as in a backtest, instead of an info line at every poll for ever (review).
    old = time.time() - 3600
    os.utime(broken, (old, old))
    poller = SourcePoller(st, [JsonlSource(path=str(broken))])
    (src,) = poller.poll_once().sources
    assert src.ingested is not None and (src.ingested.accepted, src.ingested.dead_lettered) == (1, 1)
