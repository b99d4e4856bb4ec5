"""A feed item edited in place (same guid, new headline) is read again as an edition, live and in a backtest.

Outside trial 6 (H1): a hedged "may be heading" item later re-headlined "has sent troops, Seoul confirms" under
the same guid was a dead letter ("give a changed document a new id"), so the confirmed report never alerted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.producers.publish import edition_id, ingest
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores import open_store

runner = CliRunner()
GUID = "https://desk.example/wire/417"


# Dated a few hours before the test runs: edits seen now are within the lateness (engine/corrections.py).
ITEM_TIME = datetime.now(UTC) - timedelta(hours=3)
ITEM_DATE = format_datetime(ITEM_TIME, usegmt=True)


def feed(title: str, body: str, date: str = ITEM_DATE, link: str = GUID) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Harbour Wire</title>'
        "<link>https://desk.example/</link><description>test</description>"
        f"<item><title>{title}</title><link>{link}</link><guid>{GUID}</guid><pubDate>{date}</pubDate>"
        f"<description>{body}</description></item></channel></rss>\n"
    )


HEDGED = feed("Pyongyang may be moving soldiers toward Russia", "Officials could not say whether units had left.")
CONFIRMED = feed(
    "North Korea has sent troops to Russia, Seoul confirms", "Seoul said about 1,500 North Korean soldiers arrived."
)


def live(tmp_path: Path, *versions: str) -> tuple[list[str], list[str], list[dict]]:  # type: ignore[type-arg]
    """`run --once` after writing each version of the feed in turn: the outputs, the stored documents' ids, and
    the alerts the file channel got."""
    path = tmp_path / "wire.xml"
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'live.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: rss, url: {path}}}\n"
        f"channels:\n  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    outputs = []
    for text in versions:
        path.write_text(text, encoding="utf-8")
        res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
        assert res.exit_code == 0, res.output
        outputs.append(res.output)
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        ids = [se.event.id for se in store.read(types={"news.article"}, limit=1000)]
    finally:
        store.close()
    sent = tmp_path / "alerts.jsonl"
    alerts = [json.loads(line) for line in sent.read_text().splitlines()] if sent.exists() else []
    return outputs, ids, alerts


def test_an_item_edited_in_place_is_read_again_as_an_edition_and_alerts(tmp_path: Path) -> None:
    outputs, ids, alerts = live(tmp_path, HEDGED, CONFIRMED, CONFIRMED, HEDGED)
    assert "0 alerts" in outputs[0]  # hedged: no alert
    assert all("0 dead letters" in o for o in outputs), outputs
    assert "1 new document (1 edited in place)" in outputs[1] and "1 alert" in outputs[1], outputs[1]
    # Polled again: nothing new.
    assert "0 new documents, 1 already seen" in outputs[2], outputs[2]
    # Edited back to its first text: the item as it reads now, an edition again (compared with the item's latest
    # version, not its first), which hedges the claim again and so withdraws the alert (engine/corrections.py).
    assert "1 new document (1 edited in place)" in outputs[3], outputs[3]
    edition = edition_id(
        GUID,
        "North Korea has sent troops to Russia, Seoul confirms",
        "Seoul said about 1,500 North Korean soldiers arrived.",
    )
    back = edition_id(
        GUID,
        "Pyongyang may be moving soldiers toward Russia",
        "Officials could not say whether units had left.",
        edition,
    )
    assert ids == [GUID, edition, back]
    alert, withdrawn = alerts
    assert alert["detection"]["rule"] == "troops-deployed"
    assert [e["event_id"] for e in alert["detection"]["evidence"]] == [edition]
    assert withdrawn["kind"] == "retraction" and withdrawn["detection"]["id"] == alert["detection"]["id"]


def test_a_change_outside_the_text_is_no_edition_and_no_dead_letter(tmp_path: Path) -> None:
    moved = feed(
        "Pyongyang may be moving soldiers toward Russia",
        "Officials could not say whether units had left.",
        date=format_datetime(ITEM_TIME + timedelta(minutes=90), usegmt=True),
        link="https://desk.example/wire/417?utm=rss",
    )
    outputs, ids, _ = live(tmp_path, HEDGED, moved)
    assert ids == [GUID]
    assert "0 new documents, 1 already seen, 0 dead letters" in outputs[1], outputs[1]


def test_a_backtest_of_both_captures_reads_the_edition_as_live(tmp_path: Path) -> None:
    _, _, live_alerts = live(tmp_path, HEDGED, CONFIRMED)
    first, second = tmp_path / "v1.xml", tmp_path / "v2.xml"
    first.write_text(HEDGED, encoding="utf-8")
    second.write_text(CONFIRMED, encoding="utf-8")
    out = tmp_path / "bt.json"
    # The second capture read twice: the edition, then a repeat of it (the item's latest version).
    res = runner.invoke(app, ["backtest", str(first), str(second), str(second), "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert [a["rule"] for a in data["alerts"]] == [a["detection"]["rule"] for a in live_alerts]
    assert data["stats"]["documents"] == 2 and data["stats"]["dead_letters"] == 0
    assert data["stats"]["already_seen"] == 1


def test_json_lines_keep_their_first_version(tmp_path: Path) -> None:
    """Editions are for feeds, whose ids are the publisher's: a JSON line's id is the sender's, who can give a
    changed document a new one, so another content under a known id stays a dead letter."""
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        base = {"type": "news.article", "id": "j-1", "published_at": "2024-10-18T10:00:00Z", "source": "Wire"}
        one = parse_document({**base, "title": "Pyongyang may be moving soldiers toward Russia"})
        two = parse_document({**base, "title": "North Korea has sent troops to Russia, Seoul confirms"})
        assert ingest(store, [one], "a.jsonl").accepted == 1
        summary = ingest(store, [two], "a.jsonl")
        assert (summary.accepted, summary.conflicts) == (0, 1)
        summary = ingest(store, [two], "feed", editions=True)
        assert (summary.accepted, summary.conflicts) == (1, 0)
        assert ingest(store, [two, one], "feed", editions=True).duplicates == 2
    finally:
        store.close()


UNDATED = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Harbour Wire</title>'
    "<link>https://desk.example/</link><description>test</description>"
    f"<item><title>North Korea has sent troops to Russia, Seoul confirms</title><link>{GUID}</link>"
    f"<guid>{GUID}</guid><description>No date on this one.</description></item></channel></rss>\n"
)


def test_an_undated_entry_is_dated_when_first_seen_and_read_once(tmp_path: Path) -> None:
    """Outside trial 6 (M2): entries without a date (real captures have them) were dead letters, so such a feed
    never alerted. They are dated by the poll that first read them; a later poll's date is no edit."""
    outputs, ids, alerts = live(tmp_path, UNDATED, UNDATED)
    assert ids == [GUID] and len(alerts) == 1, outputs
    assert "0 dead letters" in outputs[0] and "0 new documents, 1 already seen, 0 dead letters" in outputs[1]
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        (stored,) = store.read(types={"news.article"}, limit=10)
    finally:
        store.close()
    assert stored.event.payload["metadata"]["date"] == "first seen"
    assert stored.event.received_at is not None
    assert abs((stored.event.received_at - stored.event.time).total_seconds()) < 60
    # A backtest of the file dates it when the files are read (--received-at), as a poll at that time would.
    path = tmp_path / "undated.xml"
    path.write_text(UNDATED, encoding="utf-8")
    out = tmp_path / "bt.json"
    res = runner.invoke(app, ["backtest", str(path), "--received-at", "2024-10-20T08:00:00Z", "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["stats"]["dead_letters"] == 0
    assert [a["fired_at"] for a in data["alerts"]] == ["2024-10-20T08:00:00+00:00"]


@pytest.mark.parametrize("suffix", [" (update 2)", " (updated)"])  # hashes sorting before and after
def test_a_later_edit_never_reads_as_an_earlier_report(tmp_path: Path, suffix: str) -> None:
    """Outside trial 7 (H2): editions kept the item's date, so two editions of one item were ordered by their
    hashes: an edit whose hash sorted first read as a report earlier than the one that alerted, and revised the
    alert "by a late report" (with " (updated)" it did, with " (update 3)" it did not). Editions are dated when
    seen, live, and after the newest entry read before them in a backtest: an edit follows what came before."""
    again = feed(
        "North Korea has sent troops to Russia, Seoul confirms" + suffix,
        "Seoul said about 1,500 North Korean soldiers arrived.",
    )
    _, ids, alerts = live(tmp_path, HEDGED, CONFIRMED, again)
    assert len(ids) == 3 and all("#edition-" in i for i in ids[1:])
    assert [a["kind"] for a in alerts] == ["alert"], alerts  # no revision, no second alert (realert)
    versions = []
    for n, text in enumerate((HEDGED, CONFIRMED, again)):
        versions.append(tmp_path / f"v{n}.xml")
        versions[-1].write_text(text, encoding="utf-8")
    out = tmp_path / "bt.json"
    res = runner.invoke(app, ["backtest", *map(str, versions), "--order", "log", "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert len(data["alerts"]) == 1 and "raised" not in data, data.get("raised")
