"""An alert raised again with its own id after a revision replaced it is the same alert, reinstated (trial 30, F2).

`watchfloor run --once` (SQLite, the real slack-sdk against the local Slack server) over a JSON Lines file (reports at
T-30m and T-5m) and a feed (T-15m), read in one poll. The T-5m report confirms the story (HIGH, alert A), and the
feed's older report, read after it, revises A, before it was sent, into B. `alerts ack A` then takes an alert no one
was shown. The feed's item is edited to a denial: B loses its report and is revised back into A's very content, so A's
id again (ids are made of the reports). Before: `alerts list` showed A twice, "A (revised by B)" and "B (revised by
A)", a cycle, with kim's acknowledgement on both; the thread's first message said "Acknowledged by kim" while the
reply below it and the revised message offered A's Acknowledge button. Now A is listed once, reinstated, the blind
acknowledgement is of its earlier raising and counts for nothing the desk sees (every message of A offers its button),
and acknowledging A again is recorded and shown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import texts
from watchfloor.alerts.slackapp.buttons import parse_button_value
from watchfloor.cli import app

pytestmark = pytest.mark.functional

runner = CliRunner()
NOW = datetime.now(UTC)
CLAIM = "North Korean troops killed in fighting in Kursk, officials say"
DENIAL = "Officials deny reports that North Korean troops were killed in fighting in Kursk"
CHANNEL = "#desk"


def iso(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat()


REPORTS = [
    {
        "type": "news.article",
        "id": "k",
        "published_at": iso(30),
        "source": "Kyiv Desk",
        "url": "https://k.example/1",
        "title": "Dozens of North Korean troops killed in heavy fighting in Kursk, Ukrainian officials say",
    },
    {
        "type": "news.article",
        "id": "o",
        "published_at": iso(5),
        "source": "Other Wire",
        "url": "https://o.example/1",
        "title": "North Korean troops killed in heavy fighting in Kursk, officials say",
    },
]


def feed(title: str) -> str:
    date = format_datetime(NOW - timedelta(minutes=15), usegmt=True)
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Wire</title><link>https://h.example/</link>'
        f"<description>x</description><item><guid>urn:h:1</guid><title>{title}</title>"
        f"<link>https://h.example/1</link><pubDate>{date}</pubDate></item></channel></rss>\n"
    )


class Desk:
    def __init__(self, tmp: Path, server: FakeSlack) -> None:
        self.server = server
        self.wire = tmp / "wire.xml"
        inbox = tmp / "in.jsonl"
        inbox.write_text("".join(json.dumps(r) + "\n" for r in REPORTS), encoding="utf-8")
        self.cfg = tmp / "watchfloor.yaml"
        self.cfg.write_text(
            f"store: sqlite:///{tmp / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
            f"sources: [{{kind: jsonl, path: {inbox}}}, {{kind: rss, url: {self.wire}}}]\n"
            f'channels: [{{type: slack, name: desk, channel: "{CHANNEL}", token_env: WF_TEST_SLACK, '
            f'base_url: "{server.base_url}"}}]\n'
            "subscriptions: [{channel: desk}]\n",
            encoding="utf-8",
        )

    def wf(self, *args: str, columns: int = 400) -> str:
        res = runner.invoke(
            app,
            [*args, "--config", str(self.cfg)],
            env={"WF_TEST_SLACK": self.server.token, "WATCHFLOOR_STORE": "", "COLUMNS": str(columns)},
        )
        assert res.exit_code == 0, res.output
        return str(res.output if args[0] == "run" else res.stdout)  # (run's summary line is on stderr)

    def poll(self, title: str | None = None) -> str:
        if title is not None:
            self.wire.write_text(feed(title), encoding="utf-8")
        return self.wf("run", "--once")

    def listed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.wf("alerts", "list", "--json").splitlines()]

    def table_rows(self) -> list[list[str]]:
        """The table's rows, each cell's lines joined."""
        rows: list[list[str]] = []
        for line in self.wf("alerts", "list").splitlines():
            if not line.startswith("│"):
                continue
            cells = [c.strip() for c in line.strip("│").split("│")]
            if cells[0]:
                rows.append(cells)
            elif rows:
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        return rows

    def messages_of(self, alert_id: str) -> list[dict[str, Any]]:
        """The channel's messages (as they read now) that show alert `alert_id`."""
        return [m for m in self.server.messages if f"alert {alert_id}" in texts(m.get("blocks") or [])]


def ack_buttons(message: dict[str, Any]) -> list[str]:
    return [
        parse_button_value(e["value"]).alert_id
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "wf_ack"
    ]


def test_an_alert_revised_back_to_its_own_id_is_reinstated_and_a_blind_ack_is_not_carried_onto_it(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    desk = Desk(tmp_path, slack_server)
    out = desk.poll(CLAIM)
    assert "1 replaced before sending by a later revision" in out, out
    raised = desk.listed()
    [a] = [d for d in raised if d["severity"] == "high" and "revises" not in d]
    [b] = [d for d in raised if d.get("revises") == a["id"]]
    assert a["deliveries"] == {"desk": "suppressed"} and b["deliveries"] == {"desk": "sent"}
    said = desk.wf("alerts", "ack", a["id"], "--by", "kim")
    assert f"it does not stand now (revised by {b['id']}) and was never posted to a channel" in said, said
    assert "should a later change raise it again (reinstated), that is acknowledged anew" in said, said

    desk.poll(DENIAL)
    raised = desk.listed()
    again = [d for d in raised if d["id"] == a["id"]]
    assert [d.get("revision", 0) for d in again] == [0, 2]  # the engine raised A's id again, revising B
    earlier, now = again
    assert now["revises"] == b["id"] and now["deliveries"] == {"desk": "sent"}
    # The record: kim's acknowledgement is of A's first raising, made after B had replaced it; the alert shown now
    # (A reinstated) is not acknowledged, and says what it reinstates.
    assert now["acknowledged"] == [] and now["reinstates"] == earlier["delivery_key"]
    [kim] = earlier["acknowledged"]
    assert kim["by"] == "kim" and kim["while"] == f"revised by {b['id']}"
    assert earlier["standing"] == f"revised by {b['id']}; reinstated since"
    assert "reinstates" not in earlier

    # The table: A once, at its latest state; B revised back into it; no cycle.
    rows = {r[0]: r for r in desk.table_rows()}
    assert len(desk.table_rows()) == len(rows) == 3
    assert f"(reinstated; revised by {b['id']} earlier)" in rows[a["id"]][4]
    assert f"(revised back into {a['id']}, which it had revised)" in rows[b["id"]][4]
    assert "desk: sent (revision)" in rows[a["id"]][5] and "earlier: desk: suppressed (followup)" in rows[a["id"]][5]
    # (what went in its place, named as the table names it: by its alert id, not its delivery key alone)
    assert f"alert {b['id']} (delivery {b['delivery_key']}) revises it and goes instead" in rows[a["id"]][5]
    assert "kim (via cli) at " in rows[a["id"]][6] and "not taken for it since it was reinstated" in rows[a["id"]][6]

    # Slack agrees with the record: every message that shows A offers A's Acknowledge button, none says kim took it.
    first = next(m for m in slack_server.messages if m.get("thread_ts") in (None, m["ts"]))
    shown = [first, *desk.messages_of(a["id"])]  # (the first message shows the thread's state: A, its newest)
    assert len(shown) >= 3, [texts(m["blocks"]) for m in slack_server.messages]
    for m in shown:
        assert "Acknowledged by" not in texts(m["blocks"]), texts(m["blocks"])
        assert a["id"] in ack_buttons(m), texts(m["blocks"])
    # ... and the messages rewritten since say what kim took, and that it does not take the alert shown
    said = f"lert {a['id']} was acknowledged by kim at "
    [b_posted] = slack_server.messages_for(b["delivery_key"])  # (B's reply, which stood for A's: it shows A now)
    for m in (first, b_posted):
        assert said in texts(m["blocks"]), texts(m["blocks"])
        assert "before a later change raised it again (reinstated): it is not acknowledged since" in texts(m["blocks"])

    # The status page agrees: A in one row, marked reinstated, its earlier raising's delivery with it.
    page = status_page_html(desk)
    assert page.count(f'data-alert="{a["id"]}"') == 1, page
    assert page.count(f'data-alert="{b["id"]}"') == 1, page
    assert "(reinstated)" in page and "desk (earlier raising): replaced" in page, page
    row = page.split(f'data-alert="{a["id"]}"')[1].split("</tr>")[0]
    assert row.index("desk: sent") < row.index("desk (earlier raising): replaced"), row  # its latest raising's

    # A desk that acknowledges A now is recorded (not "already acknowledged" by the blind one), and Slack shows it.
    said = desk.wf("alerts", "ack", a["id"], "--by", "lee")
    assert said.startswith(f"acknowledged {a['id']} by lee (via cli) at "), said
    desk.poll()
    now = next(d for d in desk.listed() if d["id"] == a["id"] and d.get("revision") == 2)
    assert [x["by"] for x in now["acknowledged"]] == ["lee"]
    for m in desk.messages_of(a["id"]):
        assert "Acknowledged by lee" in texts(m["blocks"]) or a["id"] not in ack_buttons(m), texts(m["blocks"])
        assert "not acknowledged since" not in texts(m["blocks"]), texts(m["blocks"])
    first = slack_server.message(CHANNEL, first["ts"])
    assert "Acknowledged by lee" in texts(first["blocks"]) and "kim" not in texts(first["blocks"])


def status_page_html(desk: Desk) -> str:
    """The status page `watchfloor serve` shows for the desk's store."""
    import urllib.request

    from watchfloor.config import load_config
    from watchfloor.web.build import build_services
    from watchfloor.web.server import WebServer, create_app
    from watchfloor.wiring import EmbeddedPipeline

    pipeline = EmbeddedPipeline(load_config(desk.cfg), env={"WF_TEST_SLACK": desk.server.token})
    try:
        services = build_services(pipeline.cfg, pipeline.store, pipeline.control, pipeline.rules, env={})
        server = WebServer(create_app(services), "127.0.0.1", 0).start()
        try:
            with urllib.request.urlopen(server.url + "/", timeout=30) as resp:
                return str(resp.read().decode("utf-8"))
        finally:
            server.stop()
    finally:
        pipeline.close()
