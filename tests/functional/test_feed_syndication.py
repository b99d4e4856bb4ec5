"""Two configured feeds listing one guid are two outlets, not one publisher editing its item (outside trial 52, HIGH-2).

A publisher's feed and a syndication/aggregator feed that keeps the original link as guid list the same id. The
second feed's item was read as the first outlet's edition: its denial withdrew the first outlet's alert ("corrected
by the publisher"), its confirmation never corroborated, and which outlet "owned" the story depended on which feed
answered first. Real feed files are served over HTTP and read by feedparser through `run --once`.
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
        f"<link>https://{title.lower().replace(' ', '-')}.example/</link><description>d</description>{body}"
        "</channel></rss>"
    ).encode()


Feeds = ServedFiles(rss("nothing yet"))  # what each path serves; a test changes it between polls


@pytest.fixture
def server() -> Iterator[str]:
    Feeds.files = {}
    with serving_files(Feeds) as base:
        yield base


def run(tmp_path: Path, base: str, order: tuple[str, ...] = ("a", "b"), settings: str = "") -> str:
    """One `run --once` of the feeds /a.xml and /b.xml, configured in `order` (each with `settings`, e.g.
    ", aggregator: true"); its output."""
    cfg = tmp_path / "wf.yaml"
    sources = "".join(f"  - {{kind: rss, url: {base}/{name}.xml{settings}}}\n" for name in order)
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


def test_another_aggregators_denial_under_the_same_guid_does_not_withdraw_the_first_aggregators_alert(
    tmp_path: Path, server: str
) -> None:
    """Two `aggregator: true` feeds (each item counts by its outlet) list one guid: their documents carry no
    `source.feed` to tell them apart, so the second aggregator's item was read as the first one's edition, and its
    denial withdrew the alert the first aggregator's item raised. The origin each was read from tells them apart."""
    Feeds.files["/a.xml"] = rss("Alpha Aggregator", (GUID, FIRST, CLAIM))
    run(tmp_path, server, settings=", aggregator: true")
    assert read(tmp_path, "detection"), "the first aggregator's claim alerts"
    Feeds.files["/b.xml"] = rss("Beta Aggregator", (GUID, SECOND, DENIAL))
    out = run(tmp_path, server, settings=", aggregator: true")
    assert "edited in place" not in out, out
    assert read(tmp_path, "detection.retraction") == [], "another aggregator's denial is no correction"
    ids = sorted(d["id"] for d in read(tmp_path, "news.article"))
    assert len(ids) == 2 and ids[0] == GUID and ids[1].startswith(GUID + "#via-"), ids
    # Its own later text is still its own edition, of its own copy.
    Feeds.files["/b.xml"] = rss("Beta Aggregator", (GUID, SECOND, DENIAL + ", again"))
    out = run(tmp_path, server, settings=", aggregator: true")
    assert "1 edited in place" in out, out
    of = [d["metadata"]["edition_of"] for d in read(tmp_path, "news.article") if "edition_of" in d["metadata"]]
    assert len(of) == 1 and of[0].startswith(GUID + "#via-"), of


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


def backtest(tmp_path: Path, feeds: dict[str, bytes], order: tuple[str, ...]) -> dict:  # type: ignore[type-arg]
    """A backtest of feed files (capture name -> bytes), named on the command line in `order`; its --json result."""
    for name, data in feeds.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / f"bt-{'-'.join(order)}.json"
    res = runner.invoke(app, ["backtest", *(str(tmp_path / name) for name in order), "--json", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def alerts_of(result: dict) -> set[tuple[str, str, int]]:  # type: ignore[type-arg]
    """(rule, severity, how many sources its evidence counts) of each alert the backtest leaves standing."""
    return {(a["rule"], a["severity"], len({e["source"] for e in a["evidence"]})) for a in result["alerts"]}


def test_a_backtest_of_two_outlets_feed_files_reads_the_second_outlets_item_as_its_own_copy(tmp_path: Path) -> None:
    """Each capture file is its own location, so the location cannot tell two outlets from two captures of one feed:
    the channel's own link and title do. Beta Wire's denial under Alpha's guid was read as Alpha's edition and
    withdrew both alerts (0 standing), in whichever order the files were named."""
    feeds = {"alpha.xml": rss("Alpha News", (GUID, FIRST, CLAIM)), "beta.xml": rss("Beta Wire", (GUID, SECOND, DENIAL))}
    for order in (("alpha.xml", "beta.xml"), ("beta.xml", "alpha.xml")):
        result = backtest(tmp_path, feeds, order)
        assert result["stats"]["retractions"] == 0, order
        assert alerts_of(result) == {("troops-deployed", "medium", 1), ("troop-engagement", "medium", 1)}, order


def test_a_backtest_of_two_outlets_feed_files_counts_the_second_outlets_confirmation_as_a_source(
    tmp_path: Path, server: str
) -> None:
    """As live (the test above): two independent sources take the story high, whichever file comes first; the
    copy's id is the live ingest's own copy's."""
    claim, confirm = rss("Alpha News", (GUID, FIRST, CLAIM)), rss("Beta Wire", (GUID, SECOND, CONFIRM))
    seen = []
    for order in (("alpha.xml", "beta.xml"), ("beta.xml", "alpha.xml")):
        result = backtest(tmp_path, {"alpha.xml": claim, "beta.xml": confirm}, order)
        seen.append(alerts_of(result))
        copies = {e["event_id"] for a in result["alerts"] for e in a["evidence"] if "#via-" in e["event_id"]}
        assert len(copies) == 1, result["alerts"]
    assert (
        seen[0]
        == seen[1]
        == {
            ("troops-deployed", "medium", 1),
            ("troop-engagement", "medium", 1),
            ("troop-engagement", "high", 2),
        }
    )
    # The same two feeds served and polled live, Alpha's first: the same alerts stand.
    Feeds.files = {"/a.xml": claim}
    run(tmp_path, server)
    Feeds.files = {"/a.xml": claim, "/b.xml": confirm}
    run(tmp_path, server)
    assert {(rule, severity, len(feeds)) for rule, severity, feeds in standing(tmp_path)} == seen[0]


def test_a_backtest_of_two_captures_of_one_feed_still_reads_its_edit_as_an_edition(tmp_path: Path) -> None:
    """Two captures of Alpha's feed (one channel): the later capture's new text under the guid is Alpha's own
    correction, which withdraws what it takes back, as the live poll of that feed reads it; also when the second
    capture's channel gives another title, or another link (either one in common is one outlet)."""
    first = rss("Alpha News", (GUID, FIRST, CLAIM))
    for second in (
        rss("Alpha News", (GUID, FIRST, DENIAL)),
        rss("Alpha News", (GUID, FIRST, DENIAL)).replace(b"<title>Alpha News<", b"<title>Alpha News (beta)<"),
        rss("Alpha News", (GUID, FIRST, DENIAL)).replace(b"https://alpha-news.example/", b"https://alpha.example/"),
    ):
        result = backtest(tmp_path, {"alpha-1.xml": first, "alpha-2.xml": second}, ("alpha-1.xml", "alpha-2.xml"))
        assert result["alerts"] == [] and result["stats"]["retractions"] == 2, result["stats"]
