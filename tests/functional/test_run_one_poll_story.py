"""`watchfloor run --once` over feeds that each hold one report of a story, the newest on the feed read first
(trial 24, F1): the poll's reports are delivered together, so Slack gets the story as in event time, one thread
whose first message is confirmed, and nothing posted to be withdrawn. Feed texts written for this test."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app

pytestmark = pytest.mark.functional

REPORTS = {  # feed: (time, title), each feed its own outlet
    "alpha": ("2024-12-17T23:00:00+00:00", "A U.S. official says hundreds of North Korean troops were killed in Kursk"),
    "beta": ("2024-12-16T20:00:00+00:00", "North Korean soldiers killed in fighting in Kursk, Kyiv says"),
    "gamma": ("2024-12-17T09:00:00+00:00", "Seoul lawmakers told North Korean troops killed in Kursk combat"),
}


def feed(path: Path, name: str, at: str, title: str) -> None:
    when = format_datetime(datetime.fromisoformat(at), usegmt=True)
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name.title()} Wire</title><link>https://{name}.example/</link><description>wire</description>"
        f"<item><title>{title}</title><link>https://{name}.example/1</link><guid>https://{name}.example/1</guid>"
        f"<pubDate>{when}</pubDate><description>{title}.</description></item></channel></rss>",
        encoding="utf-8",
    )


def top_level(server: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]


def run_poll(tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, settings: str = "") -> str:
    """One `run --once` over the three feeds, listed newest report first; its output."""
    for name, (at, title) in REPORTS.items():
        feed(tmp_path / f"{name}.xml", name, at, title)
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n{settings}"
        "sources:\n"
        + "".join(f"  - {{kind: rss, url: {tmp_path / name}.xml}}\n" for name in REPORTS)
        + f"slack: {{token_env: SLACK_BOT_TOKEN, base_url: '{slack.base_url}'}}\n"
        "channels: [{type: slack, name: desk, channel: '#kursk'}]\nsubscriptions: [{channel: desk}]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_one_poll_of_feeds_read_newest_first_posts_the_story_as_in_event_time(
    tmp_path: Path, slack_server: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = run_poll(tmp_path, slack_server, monkeypatch)
    combat = [m for m in top_level(slack_server) if "(troop-engagement)" in m["text"]]
    assert [m["text"] for m in combat] == ["[HIGH] North Korean troops in combat (Kursk) (troop-engagement)"]
    [first] = combat
    assert "2024-12-16 20:00" in str(first["blocks"])  # the story's first report, Beta's
    replies = slack_server.thread(first["ts"])
    assert [r["metadata"]["event_payload"]["kind"] for r in replies] == ["followup"]
    assert not [m for m in slack_server.messages if m["text"].startswith("Withdrawn")]
    assert "withdrawn before sending" in said


def test_poll_settle_0s_delivers_each_source_as_it_is_read(
    tmp_path: Path, slack_server: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The config's `poll_settle` (was a constant): 0s is each source's alerts as soon as it is read, the way a desk
    # that wants the first word at once, and takes the revisions that follow, runs it.
    said = run_poll(tmp_path, slack_server, monkeypatch, "poll_settle: 0s\n")
    combat = [m for m in top_level(slack_server) if "(troop-engagement)" in m["text"]]
    # Alpha's report (the newest) went out alone, read first, and was withdrawn once Beta's older one came in.
    assert "2024-12-17 23:00" in str(combat[0]["blocks"]) and combat[0]["text"].startswith("Withdrawn: [HIGH]")
    assert len(combat) == 2 and "withdrawn before sending" not in said
