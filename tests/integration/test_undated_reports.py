"""An undated feed entry is dated when it was first seen (producers/feed_entries.py); wherever a reader is shown that
time it is marked so, never shown as if the publisher had dated it: `first seen 2024-12-01 12:03 UTC (undated)`.
The alert is made by the engine from a JSON Feed read as the poller reads it, then sent through the real notifiers:
Slack (slack-sdk against the local Slack server), email (smtplib against a local SMTP server) and the console.
Short news items in our own words."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fixtures.blockkit import readable
from tests.fixtures.slack_server import FakeSlack
from tests.fixtures.smtp_server import LocalSMTP
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.producers.rss import fetch_feed
from watchfloor.schemas.events import Alert, Document
from watchfloor.stream_processors.replay import replay
from watchfloor.wiring import build_engine

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[2] / "rules" / "dprk_russia.yaml"
SEEN = datetime(2024, 12, 1, 12, 3, tzinfo=UTC)
MARKED = "first seen 2024-12-01 12:03 UTC (undated)"
# an alert's footer: the verb before the time, the mark after (outside trial 10, F4: "fired first seen …")
FIRED = "fired 2024-12-01 12:03 UTC (first seen, undated)"


def feed_alert(tmp_path: Path, dated: bool = False) -> Alert:
    """The alert the engine raises on one entry of a JSON Feed, with no date of its own unless `dated`."""
    item = {
        "id": "urn:border-desk:9",
        "url": "https://border-desk.example.org/9",
        "title": "North Korean soldiers killed in fighting in Kursk, Kyiv says",
    }
    if dated:
        item["date_published"] = "2024-12-01T11:40:00Z"
    feed = tmp_path / "border.json"
    feed.write_text(
        json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Border Desk", "items": [item]}),
        encoding="utf-8",
    )
    [doc] = fetch_feed(str(feed), seen_at=SEEN).items
    assert isinstance(doc, Document) and (doc.metadata.get("date") == "first seen") is not dated
    [det] = replay([doc], build_engine([str(RULES)]), received_at=SEEN).detections
    assert [e.first_seen for e in det.evidence] == [not dated]
    return Alert(id=det.id, detection=det, channels=("slack-ops",))


def strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in strings(v)]
    if isinstance(obj, list | tuple):
        return [t for v in obj for t in strings(v)]
    return []


def test_slack_marks_the_first_seen_time_of_an_undated_report(slack_server: FakeSlack, tmp_path: Path) -> None:
    slack = SlackNotifier("slack-ops", "#dprk-russia", slack_server.token, base_url=slack_server.base_url)
    slack.send(notice_of(feed_alert(tmp_path), "slack-ops"))
    body = readable("\n".join(strings(slack_server.messages[-1]["blocks"])))  # (date tokens as their UTC text)
    assert f"|Border Desk> · {MARKED}" in body  # the evidence
    assert f"· {FIRED}" in body and "fired first seen" not in body  # the alert's time is that report's
    assert "12:03 UTC" not in body.replace(MARKED, "").replace(FIRED, "")  # never unmarked


def test_slack_shows_a_dated_report_as_before(slack_server: FakeSlack, tmp_path: Path) -> None:
    slack = SlackNotifier("slack-ops", "#dprk-russia", slack_server.token, base_url=slack_server.base_url)
    slack.send(notice_of(feed_alert(tmp_path, dated=True), "slack-ops"))
    body = readable("\n".join(strings(slack_server.messages[-1]["blocks"])))  # (date tokens as their UTC text)
    assert "|Border Desk> · 2024-12-01 11:40 UTC" in body and "fired 2024-12-01 11:40 UTC" in body
    assert "first seen" not in body and "undated" not in body


def test_email_marks_it_in_the_text_and_the_html(smtp_server: LocalSMTP, tmp_path: Path) -> None:
    mail = EmailNotifier(
        "mail",
        to=["desk@example.org"],
        sender="watchfloor <alerts@example.org>",
        host=smtp_server.host,
        port=smtp_server.port,
        tls="none",
        timeout=5,
        **({"username": smtp_server.username, "password": smtp_server.password} if smtp_server.username else {}),
    )
    mail.send(notice_of(feed_alert(tmp_path), "mail"))
    [got] = smtp_server.received
    text, page = got.part("plain"), got.part("html")
    assert f"- Border Desk · {MARKED}" in text and FIRED in text
    assert f"· {MARKED}<br>" in page and FIRED in page


def test_the_console_marks_it(tmp_path: Path) -> None:
    screen = io.StringIO()
    ConsoleNotifier(stream=screen).send(notice_of(feed_alert(tmp_path), "console"))
    shown = " ".join(screen.getvalue().split())
    assert f"Border Desk {MARKED}" in shown


def test_the_status_page_marks_the_alert_time(tmp_path: Path) -> None:
    import urllib.request

    from watchfloor.producers.publish import ingest
    from watchfloor.schemas.config import AppConfig, ConsoleChannel, Subscription
    from watchfloor.web.build import build_services
    from watchfloor.web.server import WebServer, create_app
    from watchfloor.wiring import EmbeddedPipeline

    feed = tmp_path / "border.json"
    item = {"id": "urn:border-desk:9", "title": "North Korean soldiers killed in fighting in Kursk, Kyiv says"}
    feed.write_text(
        json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Border Desk", "items": [item]})
    )
    cfg = AppConfig(
        store=f"sqlite:///{tmp_path / 'wf.db'}",
        rules=[str(RULES)],
        sources=[],
        channels=[ConsoleChannel(name="desk")],
        subscriptions=[Subscription(channel="desk")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    try:
        ingest(pipeline.store, fetch_feed(str(feed), seen_at=SEEN).items, str(feed), editions=True, now=SEEN)
        pipeline.runner.run_once()
        assert pipeline.dispatcher.cycle().ok
        services = build_services(
            pipeline.cfg, pipeline.store, pipeline.control, pipeline.rules, env={}, now=lambda: SEEN
        )
        server = WebServer(create_app(services), "127.0.0.1", 0).start()
        try:
            with urllib.request.urlopen(server.url + "/", timeout=30) as resp:
                page = resp.read().decode()
        finally:
            server.stop()
    finally:
        pipeline.close()
    alerts = page.split('id="alerts"')[1].split("</section>")[0]
    assert alerts.count('class="alert"') == 1 and MARKED in alerts
    # `watchfloor alerts list` too (its times have seconds)
    from typer.testing import CliRunner

    from watchfloor.cli import app

    listed = CliRunner().invoke(app, ["alerts", "list", "--store", cfg.store])
    assert listed.exit_code == 0, listed.output
    assert "first seen 2024-12-01 12:03:00 UTC (undated)" in " ".join(listed.output.split())


def test_the_backtest_report_marks_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from watchfloor.cli import app

    feed = tmp_path / "border.json"
    undated = {"id": "urn:border-desk:9", "title": "North Korean soldiers killed in fighting in Kursk, Kyiv says"}
    feed.write_text(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Border", "items": [undated]}))
    out, page = tmp_path / "result.json", tmp_path / "report.html"
    args = ["backtest", str(feed), "--rules", str(RULES), "--received-at", SEEN.isoformat()]
    res = CliRunner().invoke(app, [*args, "--json", str(out), "--html", str(page)])
    assert res.exit_code == 0, res.output
    [alert] = json.loads(out.read_text())["alerts"]
    assert [e.get("first_seen") for e in alert["evidence"]] == [True]
    html = page.read_text(encoding="utf-8")
    alerts = html.split('id="alerts"')[1].split("</section>")[0]
    # written "UTC" as every other output writes it (outside trial 10, F4: "+00:00" here alone)
    assert alerts.count(MARKED) == 2  # the alert's time and its evidence's
    assert "+00:00" not in html
    # the terminal table marks it too (outside trial 10, F4), its lines kept as narrow as a time
    assert "first seen" in res.output and "(undated)" in res.output, res.output
