"""`run`'s cycle line splits its deliveries by channel when more than one channel is in it (trial 19, L3)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.delivery import Tally
from watchfloor.alerts.dispatcher import CycleReport
from watchfloor.cli import app
from watchfloor.cli.alerts import delivery_summary

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "data" / "events"


def _config(tmp_path: Path, slack: FakeSlack) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{slack.base_url}"}}
subscriptions:
  - {{channel: archive}}
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return cfg


def test_a_slack_outage_shows_on_the_cycle_line_as_the_file_channel_sent_and_slack_outstanding(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Slack answers 500 to every post: the file channel's alerts go out, Slack's stay outstanding, and the line
    says whose is which, not "N sent, N outstanding" that reads as Slack's."""
    slack_server.fail_next("chat.postMessage", status=500, times=1000)
    cfg = _config(tmp_path, slack_server)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "400"}
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    said = " ".join(res.output.split())
    assert res.exit_code == 3, said  # Slack's deliveries outstanding
    archived = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert archived, said
    n = len(archived)
    line = re.search(r"deliveries: \d+ sent \([^)]*\), \d+ outstanding \([^)]*\), \d+ expired", said)
    assert line, said
    assert f"deliveries: {n} sent (archive {n}), {n} outstanding (desk {n}; next attempt in " in line.group(0), said
    assert not slack_server.messages

    # Slack back: the next run sends Slack's alone (those due by now), and names the one channel in the line
    slack_server.reset()
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    said = " ".join(res.output.split())
    sent = re.search(r"deliveries to desk: (\d+) sent, \d+ outstanding", said)  # (the file channel has all)
    assert sent and int(sent.group(1)) == len(slack_server.messages) > 0, said


def test_many_channels_are_named_the_busiest_three_first_then_counted() -> None:
    tally = Tally(sent=11, sent_by_channel={"a": 1, "b": 4, "c": 2, "d": 2, "e": 2}, expired=1)
    tally.expired_by_channel = {"b": 1}
    report = CycleReport(tally=tally, counts={"outstanding": 2}, outstanding_by_channel={"z": 2})
    no_due = SimpleNamespace(next_due=lambda digests: None)
    assert delivery_summary(report, no_due) == (
        "deliveries: 11 sent (b 4, c 2, d 2, +2 more), 2 outstanding (z 2), 1 expired (b 1)"
    )


def test_a_cycle_of_several_passes_adds_their_channels_up() -> None:
    first = CycleReport(tally=Tally(sent=2, sent_by_channel={"a": 2}))
    second = CycleReport(tally=Tally(sent=1, sent_by_channel={"a": 1, "b": 1}))
    merged = second.merged([first])
    assert merged.tally.sent_by_channel == {"a": 3, "b": 1}
    assert second.tally.sent_by_channel == {"a": 1, "b": 1}  # the parts are left as they were
    assert first.tally.sent_by_channel == {"a": 2}


def test_the_line_says_messages_rewritten_for_an_acknowledgement_and_alerts_held_for_a_backlog() -> None:
    # Outside trial 26, F8: a pass that rewrote two Slack messages for an `alerts ack` said only "0 sent"; and F3: a
    # backlog's alerts held until it is read are outstanding, with no next attempt to wait for.
    no_due = SimpleNamespace(next_due=lambda digests: None)
    acked = CycleReport(tally=Tally(acks_shown=2))
    assert delivery_summary(acked, no_due).endswith(", 2 messages rewritten to show an acknowledgement")
    held = CycleReport(counts={"outstanding": 3}, outstanding_by_channel={"z": 3}, held_back=True)
    assert "3 outstanding (held until the backlog is read, then sent in event time)" in delivery_summary(held, no_due)
