"""A feed answer cut short is a failed fetch, not a good poll (outside trial 52, MED-1).

A server answered the feed cut inside an item's description (with a Content-Length that matched). feedparser's
lenient reading took the item as whole: it was stored with its title and no body, the source counted as polled,
and when the whole feed came next poll the item's text came in as an edit (an `#edition-…`), with other alert ids
and times than a backtest of the feed. Now the cut answer stores nothing, the source fails for that cycle (exit 4),
its validators do not move, and the next poll reads the item once, whole. Served over HTTP and read through
`run --once`, and a saved capture of the cut answer through `backtest`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.http_server import QuietHandler, serving
from watchfloor.cli import app
from watchfloor.stream_processors.stores import open_store

runner = CliRunner()
DATED = datetime.now(UTC) - timedelta(hours=1)  # inside the rules' window and on time
BODY = "Officials in Kyiv said North Korean soldiers were killed in fighting in Russia's Kursk region on Monday."


def whole_feed() -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Delta Post</title>'
        "<link>https://delta.example/</link><description>news</description>\n"
        "<item><title>Update from the Kursk front</title><link>https://delta.example/1</link>"
        f"<guid>https://delta.example/1</guid><description>{BODY}</description>"
        f"<pubDate>{format_datetime(DATED, usegmt=True)}</pubDate></item>\n</channel></rss>"
    ).encode()


def cut_feed() -> bytes:
    whole = whole_feed()
    return whole[: whole.index(b" on Monday")]  # inside the item's description


class Feed:
    """What /feed.xml answers, with its ETag; and the If-None-Match of each request."""

    data: bytes = b""
    etag: str = ""
    asked_with: list[str | None] = []


class Handler(QuietHandler):
    def do_GET(self) -> None:
        Feed.asked_with.append(self.headers.get("If-None-Match"))
        if self.headers.get("If-None-Match") == Feed.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", Feed.etag)
        self.send_header("Content-Length", str(len(Feed.data)))
        self.end_headers()
        self.wfile.write(Feed.data)


@pytest.fixture
def server() -> Iterator[str]:
    Feed.asked_with = []
    with serving(Handler) as base:
        yield base


def stored(db: Path, kind: str) -> list[dict]:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{db}")
    try:
        return [se.event.payload for se in store.read(types={kind}, limit=1000)]
    finally:
        store.close()


def test_a_feed_cut_short_stores_nothing_fails_the_source_and_is_read_whole_next_poll(
    tmp_path: Path, server: str
) -> None:
    url = f"{server}/feed.xml"
    db = tmp_path / "wf.db"
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{db}\nrules: [builtin:dprk_russia]\nsources:\n  - {{kind: rss, url: {url}}}\n"
        f"channels:\n  - {{type: file, name: log, path: {tmp_path / 'alerts.jsonl'}}}\n",
        encoding="utf-8",
    )
    Feed.data, Feed.etag = cut_feed(), '"cut"'
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 4, first.output  # a source failed (README, "Exit status")
    assert f"source {url} failed: feed cut short at line 2, column" in first.output, first.output
    assert "it ends inside entry 1, before the entry's end tag" in first.output, first.output
    assert "(1 failed)" in first.output, first.output
    assert "read leniently" not in first.output, first.output
    assert stored(db, "news.article") == []

    Feed.data, Feed.etag = whole_feed(), '"whole"'
    second = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert second.exit_code == 0, second.output
    assert Feed.asked_with == [None, None], "the cut answer's ETag was not kept: the feed is fetched again whole"
    docs = stored(db, "news.article")
    assert [(d["id"], d["body"]) for d in docs] == [("https://delta.example/1", BODY)], docs
    assert "edited in place" not in second.output, second.output
    made = stored(db, "detection")
    assert made, second.output
    assert "#edition-" not in json.dumps(made), made  # the alerts rest on the item itself, not on an edition
    assert {e["url"] for a in made for e in a["evidence"]} == {"https://delta.example/1"}, made


def test_a_backtest_of_a_capture_cut_short_names_the_file_and_reads_nothing_of_it(tmp_path: Path) -> None:
    cut = tmp_path / "capture-cut.xml"
    cut.write_bytes(cut_feed())
    whole = tmp_path / "capture-whole.xml"
    whole.write_bytes(whole_feed())
    out = tmp_path / "bt.json"
    res = runner.invoke(app, ["backtest", "--rules", "builtin:dprk_russia", str(cut), str(whole), "--json", str(out)])
    assert f"{cut}: feed cut short at line 2, column" in res.output, res.output
    report = json.loads(out.read_text())
    assert [s["source"] for s in report["sources_failed"]] == [str(cut)], report["sources_failed"]
    assert res.exit_code == 4, res.output  # an input that could not be used (docs/backtest.md)
    assert report["stats"]["documents"] == 1, report["stats"]  # the whole capture's item, once
    assert report["alerts"], report
