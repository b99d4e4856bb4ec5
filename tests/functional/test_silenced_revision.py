"""A silence holds back new alerts, not the correction of one the channel was told (trial 34, M5: after `silences add`,
a late report revised an alert already posted, the revision was recorded "suppressed (silenced by …)" and the Slack
message went on showing the superseded alert for good, while a withdrawal under the same silence was sent).

`watchfloor run --once` (SQLite, the real slack-sdk against the local Slack server) over a JSON Lines inbox: two
reports raise alert A, posted; the desk silences the rule; an older report, read late, revises A into B."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import texts
from watchfloor.cli import app

pytestmark = pytest.mark.functional

runner = CliRunner()
NOW = datetime.now(UTC)


def report(id_: str, minutes_ago: int, source: str, title: str) -> dict[str, str]:
    when = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {
        "type": "news.article",
        "id": id_,
        "published_at": when,
        "source": source,
        "url": f"https://{id_}.example/",
        "title": title,
    }


FIRST = [
    report(
        "k", 30, "Kyiv Desk", "Dozens of North Korean troops killed in heavy fighting in Kursk, Ukrainian officials say"
    ),
    report("o", 5, "Other Wire", "North Korean troops killed in heavy fighting in Kursk, officials say"),
]
LATE = report("h", 15, "Harbour Wire", "North Korean troops killed in fighting in Kursk, officials say")


def test_a_revision_of_an_alert_posted_goes_under_a_silence(tmp_path: Path, slack_server: FakeSlack) -> None:
    inbox = tmp_path / "in.jsonl"
    inbox.write_text("".join(json.dumps(r) + "\n" for r in FIRST), encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {inbox}}}]\n"
        f'channels: [{{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, '
        f'base_url: "{slack_server.base_url}"}}]\n'
        "subscriptions: [{channel: desk}]\n",
        encoding="utf-8",
    )

    def wf(*args: str) -> str:
        res = runner.invoke(
            app, [*args, "--config", str(cfg)], env={"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
        )
        assert res.exit_code == 0, res.output
        return str(res.output if args[0] == "run" else res.stdout)

    def listed() -> list[dict[str, Any]]:
        return [json.loads(line) for line in wf("alerts", "list", "--json").splitlines()]

    wf("run", "--once")
    [a] = [d for d in listed() if d["rule"] == "troop-engagement" and d["severity"] == "high"]
    assert a["deliveries"] == {"desk": "sent"}
    posted = len(slack_server.messages)
    wf("silences", "add", "troop-engagement", "-d", "2h", "-m", "enough on this")

    with inbox.open("a", encoding="utf-8") as f:
        f.write(json.dumps(LATE) + "\n")
    wf("run", "--once")
    [b] = [d for d in listed() if d.get("revises") == a["id"]]
    assert b["deliveries"] == {"desk": "sent"}, b  # before: "suppressed" (silenced by sil-…)
    assert b["silenced_by"] == {}
    # The channel no longer shows A as it stood: its message now tells the revision.
    # The channel no longer shows A as it stood: the message that told it now tells the revision.
    [told] = [m for m in slack_server.messages if f"now alert {b['id']}" in texts(m["blocks"])]
    assert "*Revised* by a late report" in texts(told["blocks"])
    assert len(slack_server.messages) == posted + 1  # the revision's reply, and nothing new

    # A new alert of the silenced rule is still held back.
    with inbox.open("a", encoding="utf-8") as f:
        f.write(
            json.dumps(
                report("n", 1, "Night Desk", "North Korean troops engaged in combat near Sudzha in Kursk region")
            )
            + "\n"
        )
    wf("run", "--once")
    assert len(slack_server.messages) == posted + 1
