"""A feed is one source for corroboration whatever name it claims (outside trial 16, H1).

The source name of an RSS document came from the feed's own <title> on each poll, and corroboration counted
distinct names: a feed that renamed itself between two polls made its own story `confirmed` and `high`, and paged
the high-severity subscription. Real feed files are served over HTTP and read by feedparser through `run --once`.
"""

from __future__ import annotations

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
# Dated a few hours before the test runs, so both reports are inside the rule's window and on time.
FIRST = datetime.now(UTC) - timedelta(hours=5)
SECOND = FIRST + timedelta(hours=2)
ENGLISH = "Hundreds of North Korean troops killed or wounded in Kursk, officials say"
RUSSIAN = "В Курской области погибли сотни северокорейских военных, заявили в Киеве"


def rss(title: str, *items: tuple[str, datetime, str]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><pubDate>{format_datetime(at, usegmt=True)}</pubDate><title>{text}</title>"
        f"<link>https://{guid}.example/story</link></item>"
        for guid, at, text in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://wire.example/</link><description>d</description>{body}</channel></rss>"
    ).encode()


Feeds = ServedFiles()  # what each path serves; a test changes it between polls


@pytest.fixture
def server() -> Iterator[str]:
    Feeds.files = {}
    with serving_files(Feeds) as base:
        yield base


def run(tmp_path: Path, sources: str) -> list[dict]:  # type: ignore[type-arg]
    """One `run --once` with `sources`; every alert the pager (min severity high) and the log got so far."""
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\nsources:\n{sources}"
        f"channels:\n  - {{type: file, name: pager, path: {tmp_path / 'pager.jsonl'}}}\n"
        "subscriptions:\n  - {channel: pager, rules: [troop-engagement], min_severity: high}\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "0 dead letters" in res.output, res.output
    pager = tmp_path / "pager.jsonl"
    return [json.loads(line) for line in pager.read_text().splitlines()] if pager.exists() else []


def alerts(tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [se.event.payload for se in store.read(types={"detection"}, limit=1000)]
    finally:
        store.close()


def test_a_feed_that_renames_itself_between_polls_does_not_corroborate_its_own_story(
    tmp_path: Path, server: str
) -> None:
    sources = f"  - {{kind: rss, url: {server}/feed.xml}}\n"
    Feeds.files["/feed.xml"] = rss("Example Wire", ("g1", FIRST, ENGLISH))
    assert run(tmp_path, sources) == []
    Feeds.files["/feed.xml"] = rss("Пример", ("g2", SECOND, RUSSIAN), ("g1", FIRST, ENGLISH))
    assert run(tmp_path, sources) == []  # nothing paged
    made = alerts(tmp_path)
    assert made, "the story still alerts, once"
    assert {a["severity"] for a in made} == {"medium"}, made
    assert {a.get("confidence") for a in made} != {"confirmed"}, made
    # The names shown are still the feed's own.
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        docs = [se.event.payload for se in store.read(types={"news.article"}, limit=100)]
    finally:
        store.close()
    assert {d["source"]["name"] for d in docs} == {"Example Wire", "Пример"}
    assert {d["source"]["feed"] for d in docs} == {f"rss:{server}/feed.xml"}
    # Replay == live: the identity is in the events, so the log replayed raises the same medium alert.
    out = tmp_path / "bt.json"
    res = runner.invoke(
        app, ["backtest", "--from-store", f"sqlite:///{tmp_path / 'wf.db'}", "--order", "log", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    replayed = json.loads(out.read_text())["alerts"]
    assert [(a["severity"], a["confidence"]) for a in replayed] == [("medium", "unconfirmed")], replayed


def test_two_configured_feeds_still_corroborate(tmp_path: Path, server: str) -> None:
    sources = f"  - {{kind: rss, url: {server}/a.xml}}\n  - {{kind: rss, url: {server}/b.xml}}\n"
    Feeds.files["/a.xml"] = rss("Example Wire", ("g1", FIRST, ENGLISH))
    Feeds.files["/b.xml"] = rss("Other Wire")
    assert run(tmp_path, sources) == []
    Feeds.files["/b.xml"] = rss("Other Wire", ("g2", SECOND, RUSSIAN))
    paged = run(tmp_path, sources)
    assert [a["detection"]["severity"] for a in paged] == ["high"], paged
    assert paged[0]["detection"]["confidence"] == "confirmed", paged


def test_two_feeds_the_operator_names_alike_are_one_source(tmp_path: Path, server: str) -> None:
    # Two feeds of one outlet: the operator's source_name (trusted, unlike a feed's <title>) is their identity.
    sources = (
        f"  - {{kind: rss, url: {server}/world.xml, source_name: Wire}}\n"
        f"  - {{kind: rss, url: {server}/europe.xml, source_name: Wire}}\n"
    )
    Feeds.files["/world.xml"] = rss("World", ("g1", FIRST, ENGLISH))
    Feeds.files["/europe.xml"] = rss("Europe", ("g2", SECOND, RUSSIAN))
    assert run(tmp_path, sources) == []
    assert {d["severity"] for d in alerts(tmp_path)} == {"medium"}


def test_a_declared_aggregator_counts_its_items_outlets(tmp_path: Path, server: str) -> None:
    sources = f"  - {{kind: rss, url: {server}/agg.xml, aggregator: true}}\n"
    Feeds.files["/agg.xml"] = rss("Outlet A", ("g1", FIRST, ENGLISH))
    run(tmp_path, sources)
    Feeds.files["/agg.xml"] = rss("Outlet B", ("g2", SECOND, RUSSIAN), ("g1", FIRST, ENGLISH))
    paged = run(tmp_path, sources)
    assert [a["detection"]["severity"] for a in paged] == ["high"], paged


def test_a_backtest_of_feed_files_counts_them_as_the_live_run_does(tmp_path: Path) -> None:
    # Two feed files that give themselves one <title> and <link>: live, two configured sources; the backtest with
    # that config agrees. Without one, the files read as two captures of one feed (docs/backtest.md): one source,
    # as a live poll of that feed counts it (outside trial 64, HIGH-2: each capture file counted as a source).
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_bytes(rss("Example Wire", ("g1", FIRST, ENGLISH)))
    b.write_bytes(rss("Example Wire", ("g2", SECOND, RUSSIAN)))
    paged = run(tmp_path, f"  - {{kind: rss, url: {a}}}\n  - {{kind: rss, url: {b}}}\n")
    assert [(x["detection"]["severity"], x["detection"]["confidence"]) for x in paged] == [("high", "confirmed")]
    for config in (["--config", str(tmp_path / "wf.yaml")], []):
        out = tmp_path / "bt.json"
        args = ["backtest", str(a), str(b), "--rules", "builtin:dprk_russia", "--json", str(out), *config]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        replayed = [(x["severity"], x["confidence"]) for x in json.loads(out.read_text())["alerts"]]
        assert (("high", "confirmed") in replayed) == bool(config), (config, replayed)


def test_a_backtest_says_which_feed_files_it_counts_as_one_source(tmp_path: Path) -> None:
    # Two outlets' feeds under one channel link (one host or aggregator), as outside trial 67 (MED-1) made them: the
    # backtest without --config counts them as one source and dropped a confirmation `run` makes, silently. It says
    # so now, once for the set, on the terminal, in --json and in the HTML report; a third feed of its own is not named.
    a, b, c = tmp_path / "a.xml", tmp_path / "b.xml", tmp_path / "c.xml"
    a.write_bytes(rss("Example Wire", ("g1", FIRST, ENGLISH)))
    b.write_bytes(rss("Seoul Ledger", ("g2", SECOND, RUSSIAN)))
    c.write_bytes(rss("Other Post", ("g3", SECOND, "Weather in Seoul")).replace(b"wire.example", b"other.example"))
    out, html = tmp_path / "bt.json", tmp_path / "bt.html"
    args = ["backtest", str(a), str(b), str(c), "--rules", "builtin:dprk_russia", "--json", str(out)]
    res = runner.invoke(app, [*args, "--html", str(html)])
    assert res.exit_code == 0, res.output
    said = (
        "note: feeds a.xml and b.xml share the channel link https://wire.example/: counted as one source, as "
        "captures of one feed are (name them as sources in --config to count them apart"
    )
    assert res.output.count(said) == 1, res.output
    assert "c.xml share" not in res.output, res.output
    merged = json.loads(out.read_text())["merged_sources"]
    assert [(m["files"], m["shared"]) for m in merged] == [([str(a), str(b)], {"link": "https://wire.example/"})]
    assert said in html.read_text(encoding="utf-8").replace("&#x27;", "'")
    # Named as sources in a config, they count apart, and nothing is said.
    run(tmp_path, f"  - {{kind: rss, url: {a}}}\n  - {{kind: rss, url: {b}}}\n")
    res = runner.invoke(app, [*args, "--config", str(tmp_path / "wf.yaml")])
    assert res.exit_code == 0, res.output
    assert "share the channel" not in res.output, res.output
    assert "merged_sources" not in json.loads(out.read_text())
