"""Outside trial 11, LOW 3: every id a reader sees can be looked up. A withdrawal in Slack (and in mail) carries
its own delivery key (Slack metadata, the Message-ID), which idempotency rests on and which stays; its footer names
the withdrawn alert by the id `alerts list` shows, and `alerts list KEY` (or an email's `<KEY@watchfloor>`) finds
that alert's row, with the withdrawal's own deliveries under it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import CLAIM, DENIAL, Desk, feed, kind, texts
from watchfloor.alerts.notifiers.email import message_id
from watchfloor.cli import app

pytestmark = pytest.mark.functional
runner = CliRunner()


def listed(desk: Desk, *args: str) -> Any:
    return runner.invoke(
        app, ["alerts", "list", "--config", str(desk.cfg), *args], env={"WATCHFLOOR_STORE": "", "COLUMNS": "300"}
    )


def test_a_withdrawal_names_its_alert_and_its_key_finds_the_alert(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM))
    [sent] = desk.standing().values()
    desk.poll(feed(DENIAL))
    [first] = desk.top_level()
    [reply] = slack_server.thread(first["ts"])
    assert kind(reply) == "retraction"
    key = reply["metadata"]["event_payload"]["alert_id"]  # the withdrawal's delivery key: kept, idempotency
    assert key != sent.id
    footer = texts(reply["blocks"][-1])
    assert f"alert {sent.id}" in footer and key not in footer  # the id `alerts list` shows

    every = [json.loads(line) for line in listed(desk, "--json").stdout.splitlines()]
    assert [a["id"] for a in every] == [sent.id] and key not in {a["delivery_key"] for a in every}
    for given in (key, message_id(key), sent.id):  # as Slack's metadata, an email's Message-ID, the alert id
        res = listed(desk, given, "--json")
        assert res.exit_code == 0, res.output
        [line] = [json.loads(x) for x in res.stdout.splitlines()]
        assert line["id"] == sent.id and line["standing"].startswith("withdrawn: ")
        assert line["withdrawal"]["desk"]["delivery_key"] == key and line["withdrawal"]["desk"]["status"] == "sent"
    table = listed(desk, key)
    assert table.exit_code == 0 and sent.id in table.output and "desk: sent (retraction)" in table.output

    res = listed(desk, "0123456789abcdef0123")
    assert res.exit_code == 1 and "no alert or delivery with the id 0123456789abcdef0123" in res.output
