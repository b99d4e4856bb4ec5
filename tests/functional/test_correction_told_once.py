"""One publisher correction in a thread of two sources is told once, with counts that leave the withdrawn report out.

Outside trial 10, F2: Harbour Wire's claim, Coastal Times' word-for-word copy and Metro Daily's light edit make a
thread (MEDIUM, then HIGH with two independent sources). Harbour Wire then edits its item into a denial. The engine
revises both alerts of the thread in one change; each revision used to be a "Revised" reply of its own, and the
first, told while the second was still unsent, counted the withdrawn report among "3 independent sources" next to
"MEDIUM (unconfirmed)". `watchfloor run --once` after each version (SQLite, the real slack-sdk against the local
Slack server).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import kind, runner, texts
from watchfloor.cli import app
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

TITLE = "North Korean troops killed in Kursk fighting, officials say"
BODY = "Dozens of North Korean soldiers were killed in clashes with Ukrainian forces in Russia's Kursk region, {}"
CLAIM = (TITLE, BODY.format("Ukrainian officials said on Tuesday."))
COPY = (TITLE, BODY.format("Ukrainian officials said Tuesday."))  # the wire story word for word
OTHER = (
    "Seoul says North Korean soldiers suffer casualties in Kursk battles",
    "South Korea's spy agency said North Korean troops fighting Ukrainian forces in Kursk had taken heavy casualties.",
)
EDITED = (
    "North Korean troops die in Kursk fighting, officials say",
    "Dozens of North Korean soldiers were killed in clashes with Ukrainian forces in the Kursk region of Russia, "
    "Ukrainian officials said on Tuesday.",
)
DENIAL = (
    "Officials deny North Korean troops were killed in Kursk fighting",
    "Ukrainian officials denied reports that North Korean soldiers were killed in clashes in Russia's Kursk region.",
)


def item(outlet: str, guid: str, text: tuple[str, str], date: str) -> str:
    title, body = text
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title><link>http://x/</link>'
        f"<description>d</description><item><title>{title}</title><description>{body}</description>"
        f'<guid isPermaLink="false">{guid}</guid><link>http://x/{guid}</link><pubDate>{date}</pubDate></item>'
        "</channel></rss>\n"
    )


def sources(message: dict[str, Any]) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+) independent sources?", texts(message.get("blocks") or message["text"]))]


def test_one_correction_is_one_reply_that_counts_no_withdrawn_report(tmp_path: Path, slack_server: FakeSlack) -> None:
    date = format_datetime(datetime.now(UTC) - timedelta(minutes=10), usegmt=True)
    feeds = {name: tmp_path / f"b{n}.xml" for n, name in enumerate(("hw", "ct", "md", "fr"), 1)}
    feeds["hw"].write_text(item("Harbour Wire", "hw-10", CLAIM, date), encoding="utf-8")
    feeds["ct"].write_text(item("Coastal Times", "ct-77", COPY, date), encoding="utf-8")
    feeds["md"].write_text(item("Metro Daily", "md-5", EDITED, date), encoding="utf-8")
    feeds["fr"].write_text(item("Frontline Report", "fr-2", OTHER, date), encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\nsources:\n"
        + "".join(f"  - {{kind: rss, url: {p}}}\n" for p in feeds.values())
        + "channels:\n"
        f'  - {{type: slack, name: desk, channel: "#dprk-russia", token_env: WF_TEST_SLACK, '
        f'base_url: "{slack_server.base_url}"}}\n'
        "subscriptions:\n  - {channel: desk, rules: [troop-engagement]}\n",
        encoding="utf-8",
    )

    def run() -> None:
        env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
        res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
        assert res.exit_code == 0, res.output

    run()
    [first] = [m for m in slack_server.messages if m.get("thread_ts") in (None, m["ts"])]
    before = [kind(m) for m in slack_server.thread(first["ts"])]
    assert before == ["followup"]  # HIGH: Metro Daily's edit confirms the wire story (finding F3, not fixed here)
    feeds["hw"].write_text(item("Harbour Wire", "hw-10", DENIAL, date), encoding="utf-8")
    run()
    replies = slack_server.thread(first["ts"])[len(before) :]
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        events = [se.event for se in store.read(types={EventType.DETECTION.value, EventType.RETRACTION.value})]
    finally:
        store.close()
    standing = [d for d in current_alerts(events).values() if d.rule == "troop-engagement"]
    assert sorted(d.severity for d in standing) == ["high", "medium"]  # both alerts of the thread changed
    # Each alert's revision is a reply of its own, and each tells the thread as the whole correction left it: HIGH on
    # Coastal Times and Metro Daily, the withdrawn Harbour Wire report counted nowhere.
    assert [kind(m) for m in replies] == ["revision", "revision"]
    for m in replies:
        assert sources(m) == [2], texts(m["blocks"])
        assert "HIGH" in texts(m["blocks"]), texts(m["blocks"])
    # The first message says the same.
    [*_, last] = [u for u in slack_server.updates if u["ts"] == first["ts"]]
    assert sources(last) == [2] and "HIGH" in texts(last.get("blocks") or last["text"])
