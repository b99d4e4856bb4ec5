"""A copy counts with its original, and captures of one feed are one source (outside trial 64, HIGH-1 and HIGH-2).

HIGH-1: an outlet that confirmed a story in its own words and later also carried the first outlet's copy stopped
counting as independent (the copy linked the two outlets): the confirmed HIGH was withdrawn though nothing was taken
back. HIGH-2: a backtest of two captures of one feed counted each capture file as a source, so the feed's second
report confirmed its first. Real feed files, read by feedparser through `backtest` and, live, `run --once` over HTTP.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.http_server import ServedFiles, serving_files
from watchfloor.cli import app
from watchfloor.stream_processors.stores import open_store

runner = CliRunner()
# Dated a few hours before the test runs, so every report is inside the rules' windows and on time.
FIRST = datetime.now(UTC) - timedelta(hours=3)
CLAIM_ID = "https://harbour.example/kursk-losses"
CLAIM = "Dozens of North Korean soldiers killed in fighting in Russia's Kursk region, officials say"
OWN_ID = "https://courier.example/kursk-own"
OWN = "North Korean troops suffered heavy losses in combat in Kursk, the Ukrainian military reports"
LATER_ID = "https://courier.example/kursk-later"
LATER = "More North Korean soldiers died in battles near Sudzha in the Kursk region, a Ukrainian commander said"


def rss(title: str, *items: tuple[str, datetime, str]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><link>{guid}</link><pubDate>{format_datetime(at, usegmt=True)}</pubDate>"
        f"<title>{html.escape(text)}</title><description>{html.escape(text)}.</description></item>"
        for guid, at, text in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://{title.lower().replace(' ', '-')}.example/</link><description>d</description>{body}"
        "</channel></rss>"
    ).encode()


HARBOUR = rss("Harbour Wire", (CLAIM_ID, FIRST, CLAIM))
COURIER = rss("Baltic Courier", (OWN_ID, FIRST + timedelta(minutes=40), OWN))
# The Courier also lists the Harbour Wire's item (its guid, its text), dated a few minutes after it: a copy.
COURIER_WITH_COPY = rss(
    "Baltic Courier", (OWN_ID, FIRST + timedelta(minutes=40), OWN), (CLAIM_ID, FIRST + timedelta(minutes=5), CLAIM)
)


def backtest(tmp_path: Path, feeds: dict[str, bytes]) -> dict:  # type: ignore[type-arg]
    """A backtest of feed files (capture name -> bytes, named in this order); its --json result."""
    for name, data in feeds.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / f"bt-{'-'.join(feeds)}.json"
    args = ["backtest", *(str(tmp_path / n) for n in feeds), "--rules", "builtin:dprk_russia", "--json", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def engagement(result: dict) -> set[tuple[str, str, frozenset[str]]]:  # type: ignore[type-arg]
    """(severity, confidence, the outlets its evidence names) of each troop-engagement alert that stands."""
    return {
        (a["severity"], a["confidence"], frozenset(e["source"] for e in a["evidence"]))
        for a in result["alerts"]
        if a["rule"] == "troop-engagement"
    }


def test_an_outlet_that_also_carries_the_first_outlets_copy_still_confirms_in_its_own_words(tmp_path: Path) -> None:
    both = frozenset({"Harbour Wire", "Baltic Courier"})
    without = backtest(tmp_path, {"harbour.xml": HARBOUR, "courier.xml": COURIER})
    assert ("high", "confirmed", both) in engagement(without)
    result = backtest(tmp_path, {"harbour.xml": HARBOUR, "courier-copy.xml": COURIER_WITH_COPY})
    assert result["stats"]["retractions"] == 0
    assert ("high", "confirmed", both) in engagement(result), result["alerts"]


def test_a_copy_alone_adds_no_source(tmp_path: Path) -> None:
    """The Courier carrying only the Harbour Wire's copy: one story, the Harbour Wire's; nothing goes high."""
    only_copy = rss("Baltic Courier", (CLAIM_ID, FIRST + timedelta(minutes=5), CLAIM))
    result = backtest(tmp_path, {"harbour.xml": HARBOUR, "courier.xml": only_copy})
    assert {a[0] for a in engagement(result)} == {"medium"}, result["alerts"]
    # The copy's near miss says why it did not confirm (before: "1 outlet(s) carried a copy …: counted once").
    res = runner.invoke(app, ["backtest", str(tmp_path / "harbour.xml"), str(tmp_path / "courier.xml")])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert (
        "1 of 2 distinct sources within 3d (1 outlet carried only a copy of another's story: counted with it)" in said
    )


def test_two_captures_of_one_feed_count_as_one_source(tmp_path: Path) -> None:
    """The Courier's feed captured twice, one poll apart: its later report (other words) does not confirm its
    first, as when the feed is captured once."""
    first = rss("Baltic Courier", (OWN_ID, FIRST, OWN))
    second = rss("Baltic Courier", (LATER_ID, FIRST + timedelta(minutes=30), LATER), (OWN_ID, FIRST, OWN))
    once = backtest(tmp_path, {"courier-both.xml": second})
    twice = backtest(tmp_path, {"courier-a.xml": first, "courier-b.xml": second})
    assert engagement(once) == engagement(twice) == {("medium", "unconfirmed", frozenset({"Baltic Courier"}))}
    # Two outlets' feeds stay two sources.
    other = rss("Harbour Wire", (CLAIM_ID, FIRST + timedelta(minutes=30), CLAIM))
    two = backtest(tmp_path, {"courier-a.xml": first, "harbour-b.xml": other})
    assert any(a[0] == "high" for a in engagement(two)), two["alerts"]


Feeds = ServedFiles(rss("nothing yet"))  # what each path serves; a test changes it between polls


@pytest.fixture
def server() -> Iterator[str]:
    Feeds.files = {}
    with serving_files(Feeds) as base:
        yield base


def run(tmp_path: Path, base: str) -> None:
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\nsources:\n"
        f"  - {{kind: rss, url: {base}/harbour.xml}}\n  - {{kind: rss, url: {base}/courier.xml}}\n"
        f"channels:\n  - {{type: file, name: archive, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: archive}\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output


def read(tmp_path: Path, kind: str) -> list[dict]:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [se.event.payload for se in store.read(types={kind}, limit=1000)]
    finally:
        store.close()


def test_live_a_late_copy_does_not_withdraw_the_confirmed_alert(tmp_path: Path, server: str) -> None:
    Feeds.files = {"/harbour.xml": HARBOUR, "/courier.xml": COURIER}
    run(tmp_path, server)
    high = [d for d in read(tmp_path, "detection") if d["rule"] == "troop-engagement" and d["severity"] == "high"]
    assert len(high) == 1 and high[0]["confidence"] == "confirmed"
    Feeds.files["/courier.xml"] = COURIER_WITH_COPY  # one poll later the Courier also lists the Harbour's copy
    run(tmp_path, server)
    assert len({d["id"] for d in read(tmp_path, "news.article")}) == 3  # the copy was read
    notices = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    withdrawn = [(n["id"], n.get("reason")) for n in notices if n.get("kind") == "retraction"]
    assert withdrawn == [], withdrawn
    assert notices[-1]["detection"]["id"] == high[0]["id"] and notices[-1]["detection"]["severity"] == "high"
