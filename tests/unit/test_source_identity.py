"""Corroboration counts a document's configured source (`source.feed`) when it has one, else its name (trial 16, H1)."""

from __future__ import annotations

import json

from watchfloor.producers.publish import ingest
from watchfloor.schemas.config import GdeltSource, JsonlSource, RssSource
from watchfloor.schemas.events import Detection, Document, Event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores import open_store

from .engine_helpers import DATA, doc, engine_for

COMPOSED = str(DATA / "rules" / "composed.yaml")
FIRST = "Alphaland closed the border."
SECOND = "Officials in Alphaland closed the border crossing at dawn, a second outlet reports."


def fed(d: Document, feed: str | None) -> Document:
    return d.model_copy(update={"source": d.source.model_copy(update={"feed": feed})})


def confirmed(*docs: Document, round_trip: bool = False) -> bool:
    engine = engine_for(COMPOSED)
    state = engine.initial_state()
    out = []
    for d in docs:
        state, outs = engine.process_document(state, d)
        out += [o for o in outs if isinstance(o, Detection)]
        if round_trip:  # a checkpoint read back: the same answer (replay == live)
            state = engine.restore(json.loads(json.dumps(state)))
    return "closure-confirmed" in [o.rule for o in out]


def pair(feed_a: str | None, feed_b: str | None) -> tuple[Document, Document]:
    a = doc(FIRST, at=0, source="Wire A", doc_id="d1")
    b = doc(SECOND, at=2, source="Wire B", doc_id="d2")
    return fed(a, feed_a), fed(b, feed_b)


def test_one_configured_source_under_two_names_is_one_source() -> None:
    assert not confirmed(*pair("rss:https://wire.example/feed", "rss:https://wire.example/feed"))
    assert not confirmed(*pair("rss:https://wire.example/feed", "rss:https://wire.example/feed"), round_trip=True)


def test_two_configured_sources_are_two() -> None:
    assert confirmed(*pair("rss:https://a.example/feed", "rss:https://b.example/feed"))


def test_without_a_feed_the_name_counts_as_before() -> None:
    # Events stored before the field existed, and an aggregator's items (each names its outlet).
    assert confirmed(*pair(None, None))
    assert confirmed(*pair(None, None), round_trip=True)


FEED = "rss:https://wire.example/feed"


def test_a_feed_does_not_confirm_itself_across_the_upgrade() -> None:
    # Review 13, F5: its report stored before feeds were kept (no feed: its name) and its next one (its feed)
    # counted as two sources. A report counted by name and a feed's report showing that name are one source.
    before = fed(doc(FIRST, at=0, source="Wire A", doc_id="d1"), None)
    after = fed(doc(SECOND, at=2, source="Wire A", doc_id="d2"), FEED)
    assert not confirmed(before, after)
    assert not confirmed(before, after, round_trip=True)
    # whichever comes first (a late old report), and with the feed renamed since (linked through its other report)
    renamed = fed(doc("Alphaland has closed the border, the agency says.", at=3, source="Wire A+", doc_id="d3"), FEED)
    assert not confirmed(after, before)
    assert not confirmed(before, after, renamed)


def test_other_sources_across_the_upgrade_still_confirm() -> None:
    # an old report of one outlet and a feed of another; and an old report of another name beside a feed
    assert confirmed(*pair(None, FEED))
    assert confirmed(*pair(FEED, None))
    assert confirmed(*pair(None, "rss:https://b.example/feed"))


def test_an_event_written_before_reads_as_today() -> None:
    d = doc(FIRST, source="Wire A", doc_id="d1")
    payload = d.model_dump(mode="json")
    del payload["source"]["feed"]
    ev = Event(id="d1", type="news.article", time=d.published_at, payload=payload)
    engine = engine_for(COMPOSED)
    _state, outs = engine.process(engine.initial_state(), ev)
    assert outs and all(getattr(o, "feed", None) is None for o in outs if hasattr(o, "document_id"))


def test_an_input_record_cannot_claim_a_feed() -> None:
    # Accepted (a document dumped from a store reads back as input) and ignored: the producer stamps it.
    d = parse_document(
        {
            "type": "news.article",
            "published_at": "2025-03-01T00:00:00Z",
            "source": {"name": "Wire A", "feed": "rss:https://a.example/feed"},
            "body": FIRST,
        }
    )
    assert d.source.feed is None and d.source.name == "Wire A"


def test_ingest_stamps_the_configured_source_on_every_document() -> None:
    store = open_store("memory://")
    a, b = pair(None, None)
    ingest(store, [a, b], "https://wire.example/feed", feed="rss:https://wire.example/feed")
    feeds = {se.event.payload["source"]["feed"] for se in store.read(types={"news.article"}, limit=10)}
    assert feeds == {"rss:https://wire.example/feed"}
    names = {se.event.payload["source"]["name"] for se in store.read(types={"news.article"}, limit=10)}
    assert names == {"Wire A", "Wire B"}


def test_the_defaults() -> None:
    from watchfloor.producers.poller import source_identity

    assert source_identity(RssSource(url="https://a.example/feed")) == "rss:https://a.example/feed"
    assert source_identity(RssSource(url="https://a.example/feed", source_name="Wire")) == "Wire"
    assert source_identity(RssSource(url="https://a.example/feed", aggregator=True)) is None
    assert source_identity(JsonlSource(path="corpus.jsonl")) is None  # a corpus file: many outlets
    assert source_identity(JsonlSource(path="partner.jsonl", aggregator=False)) == "jsonl:partner.jsonl"
    assert source_identity(GdeltSource(path="exports/")) is None


def test_a_file_backtest_counts_a_configured_file_as_run_does(tmp_path: object) -> None:
    # (outside trial 23, M2-5) iter_event_blocks' `feeds`: checked inputs (the backtest's fast path) and documents
    # alike carry the identity, and a file the config does not name counts by name as before.
    from pathlib import Path

    from watchfloor.backtest import ReadReport, iter_event_blocks
    from watchfloor.schemas.inputs import CheckedInput

    root = Path(str(tmp_path))
    lines = [
        {"type": "news.article", "id": f"r{i}", "published_at": f"2025-03-01T0{i}:00:00+00:00", "source": name}
        | {"title": FIRST}
        for i, name in enumerate(["Wire A", "Wire B"])
    ]
    named, other = root / "partner.jsonl", root / "corpus.jsonl"
    for p in (named, other):
        p.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")

    def feeds_read(**kw: object) -> dict[str, set[str | None]]:
        got: dict[str, set[str | None]] = {}
        for p in (named, other):
            blocks = iter_event_blocks([str(p)], report=ReadReport(), **kw)  # type: ignore[arg-type]
            items = [x for b in blocks for x in b if x is not None and not isinstance(x, float)]
            assert any(isinstance(x, CheckedInput) for x in items)  # the fast path's lazy inputs are covered
            docs = [x.build() if isinstance(x, CheckedInput) else x for x in items]
            got[p.name] = {d.source.feed for d in docs}
        return got

    assert feeds_read() == {"partner.jsonl": {None}, "corpus.jsonl": {None}}
    configured = {str(named): "jsonl:partner.jsonl"}
    assert feeds_read(feeds=configured) == {"partner.jsonl": {"jsonl:partner.jsonl"}, "corpus.jsonl": {None}}


def test_a_feed_file_backtest_counts_as_its_configured_source() -> None:
    from watchfloor.backtest import ReadReport, iter_event_blocks

    feed = str(DATA / "feeds" / "world_rss2.xml")

    def feeds_of(**kw: object) -> set[str | None]:
        blocks = iter_event_blocks([feed], report=ReadReport(), **kw)  # type: ignore[arg-type]
        return {x.source.feed for b in blocks for x in b if isinstance(x, Document)}

    assert feeds_of() == {f"rss:{feed}"}  # as `run` counts a feed with the defaults: one source
    assert feeds_of(feeds={feed: None}) == {None}  # `aggregator: true`: each item by its outlet's name
    assert feeds_of(feeds={feed: "Wire"}) == {"Wire"}  # `source_name: Wire`


def test_the_config_names_a_file_by_a_file_url_or_its_folder(tmp_path: object) -> None:
    # Review of e5a6945, finding 8: a feed configured as a file:// URL, and an export file inside a configured GDELT
    # folder, were not matched: the setting was not applied, and nothing said.
    from pathlib import Path

    from watchfloor.cli.backtest import config_feeds
    from watchfloor.config import load_config

    root = Path(str(tmp_path))
    (root / "exports").mkdir()
    export = root / "exports" / "20240101000000.export.CSV"
    export.write_text("", encoding="utf-8")
    feed = root / "feed.xml"
    feed.write_text("", encoding="utf-8")
    cfg_file = root / "wf.yaml"
    cfg_file.write_text(
        "store: memory://\nrules: [builtin:dprk_russia]\nsources:\n"
        f"  - {{kind: gdelt, path: {root / 'exports'}, aggregator: false}}\n"
        f"  - {{kind: rss, url: 'file://{feed}', source_name: Wire}}\n",
        encoding="utf-8",
    )
    feeds, notes = config_feeds(load_config(cfg_file), [str(export), str(feed), str(root / "other.jsonl")])
    assert feeds == {str(export): f"gdelt:{root / 'exports'}", str(feed): "Wire"}
    assert len(notes) == 2 and f"{export} is in {root / 'exports'}, a source of the config" in notes[0]
