"""Two configured feeds listing one guid are two outlets, not one publisher editing its item (outside trial 52, HIGH-2).

A publisher's feed and a syndication/aggregator feed that keeps the original link as guid list the same id. The
second feed's item was read as the first outlet's edition: its denial withdrew the first outlet's alert ("corrected
by the publisher"), its confirmation never corroborated, and which outlet "owned" the story depended on which feed
answered first. Real feed files are served over HTTP and read by feedparser through `run --once`.
"""

from __future__ import annotations

import html
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
GUID = "https://syn.example/w/story"
# Dated a few hours before the test runs, so every report is inside the rules' windows and on time.
FIRST = datetime.now(UTC) - timedelta(hours=3)
SECOND = FIRST + timedelta(hours=1)
CLAIM = "North Korean troops killed in combat in Russia's Kursk region, officials say"
CONFIRM = "Hundreds of North Korean troops killed or wounded in Kursk, Seoul confirms"
DENIAL = "Officials deny reports that North Korean troops were killed in Russia's Kursk region"


def rss(title: str, *items: tuple[str, datetime, str]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><link>{guid}</link><pubDate>{format_datetime(at, usegmt=True)}</pubDate>"
        f"<title>{html.escape(text)}</title><description>{html.escape(text)}.</description></item>"
        for guid, at, text in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://wire.example/</link><description>d</description>{body}</channel></rss>"
    ).encode()


class Feeds:
    """What each path serves (a path not in it: a feed listing nothing yet); a test changes it between polls."""

    files: dict[str, bytes] = {}


class Handler(QuietHandler):
    def do_GET(self) -> None:
        data = Feeds.files.get(self.path) or rss("nothing yet")
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    Feeds.files = {}
    with serving(Handler) as base:
        yield base


def run(tmp_path: Path, base: str, order: tuple[str, ...] = ("a", "b")) -> str:
    """One `run --once` of the feeds /a.xml and /b.xml, configured in `order`; its output."""
    cfg = tmp_path / "wf.yaml"
    sources = "".join(f"  - {{kind: rss, url: {base}/{name}.xml}}\n" for name in order)
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\nsources:\n{sources}"
        f"channels:\n  - {{type: file, name: archive, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: archive}\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "0 dead letters" in res.output, res.output
    return res.output


def read(tmp_path: Path, kind: str) -> list[dict]:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [se.event.payload for se in store.read(types={kind}, limit=1000)]
    finally:
        store.close()


def standing(tmp_path: Path) -> set[tuple[str, str, frozenset[str]]]:
    """(rule, severity, the configured feeds its evidence counts) of each alert that stands (not withdrawn)."""
    withdrawn = {r["detection_id"] for r in read(tmp_path, "detection.retraction")}
    revised = {d["revises"] for d in read(tmp_path, "detection") if d.get("revises")}
    return {
        (d["rule"], d["severity"], frozenset(e["feed"] for e in d["evidence"]))
        for d in read(tmp_path, "detection")
        if d["id"] not in withdrawn and d["id"] not in revised
    }


def test_another_feeds_denial_under_the_same_guid_does_not_withdraw_the_first_outlets_alert(
    tmp_path: Path, server: str
) -> None:
    Feeds.files["/a.xml"] = rss("Alpha News", (GUID, FIRST, CLAIM))
    run(tmp_path, server)  # b.xml lists nothing yet: Alpha's story alerts alone
    assert read(tmp_path, "detection"), "Alpha's claim alerts"
    Feeds.files["/b.xml"] = rss("Beta Wire", (GUID, SECOND, DENIAL))
    out = run(tmp_path, server)
    assert "edited in place" not in out, out
    assert read(tmp_path, "detection.retraction") == [], "another outlet's denial is no correction by Alpha"
    docs = {d["id"]: d for d in read(tmp_path, "news.article")}
    beta = [d for d in docs.values() if d["source"]["name"] == "Beta Wire"]
    assert len(beta) == 1 and beta[0]["id"].startswith(GUID + "#via-"), docs
    assert beta[0]["metadata"]["guid"] == GUID
    assert "edition_of" not in beta[0]["metadata"], beta[0]
    assert docs[GUID]["source"]["name"] == "Alpha News"


def test_another_feeds_confirmation_under_the_same_guid_corroborates_whichever_feed_answers_first(
    tmp_path: Path, server: str
) -> None:
    claim, confirm = rss("Alpha News", (GUID, FIRST, CLAIM)), rss("Beta Wire", (GUID, SECOND, CONFIRM))
    results = []
    for first, order in (("a", ("a", "b")), ("b", ("b", "a"))):
        where = tmp_path / first
        where.mkdir()
        # Only `first` lists the story on the first poll (the other lists nothing yet): it holds the guid.
        Feeds.files = {f"/{first}.xml": claim if first == "a" else confirm}
        run(where, server, order)
        Feeds.files = {"/a.xml": claim, "/b.xml": confirm}
        run(where, server, order)
        assert read(where, "detection.retraction") == []
        results.append(standing(where))
        # Each outlet's own later text is still an edition, of its own document.
        Feeds.files = {
            "/a.xml": rss("Alpha News", (GUID, FIRST, CLAIM + ", update")),
            "/b.xml": rss("Beta Wire", (GUID, SECOND, CONFIRM + ", update")),
        }
        out = run(where, server, order)
        assert "2 edited in place" in out, out
        of = sorted(d["metadata"]["edition_of"] for d in read(where, "news.article") if "edition_of" in d["metadata"])
        assert len(of) == 2 and of[0] == GUID and of[1].startswith(GUID + "#via-"), of
    # Two independent sources: the story goes high (an escalation, beside the first outlet's medium alert).
    assert {(r[1], len(r[2])) for r in results[0] if r[0] == "troop-engagement"} == {("medium", 1), ("high", 2)}
    assert results[0] == results[1], results


def test_a_feed_whose_url_moved_lists_its_items_again_as_its_own_not_as_another_sources(
    tmp_path: Path, server: str
) -> None:
    """The feed's old url is no longer configured: its documents are no other source's, so the items it lists again
    under the new url are what they were (duplicates, or its editions), not new documents that would corroborate
    their own earlier versions."""
    Feeds.files["/a.xml"] = rss("Alpha News", (GUID, FIRST, CLAIM))
    run(tmp_path, server, ("a",))
    before = read(tmp_path, "detection")
    assert before, "Alpha's claim alerts"
    Feeds.files["/b.xml"] = Feeds.files["/a.xml"]  # the same feed, moved to another url
    run(tmp_path, server, ("b",))
    assert [d["id"] for d in read(tmp_path, "news.article")] == [GUID]
    assert read(tmp_path, "detection") == before
