"""What `run --once`, `notify --once` and `alerts list|redeliver` say and return about deliveries, against the
local Slack-compatible server: non-zero while deliveries are outstanding, channel checks at start, counts of
sent / outstanding / expired, re-sending what expired."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.control import ControlLog
from watchfloor.cli import app
from watchfloor.cli.alerts import UNDELIVERED_EXIT
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.activity import ActivityView
from watchfloor.web.metrics import LogCollector, registry_for

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
runner = CliRunner()


def config(tmp_path: Path, server: FakeSlack, *, retry: str = "", channel: str = "#desk") -> Path:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "{channel}", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
subscriptions:
  - {{channel: desk, min_severity: high}}
  - {{channel: archive, min_severity: high}}
{retry}""",
        encoding="utf-8",
    )
    return path


def invoke(*args: str, server: FakeSlack, token: str | None = None) -> object:
    return runner.invoke(app, list(args), env={"WF_TEST_SLACK": token or server.token, "WATCHFLOOR_STORE": ""})


def listed(cfg: Path, server: FakeSlack, *extra: str) -> list[dict[str, object]]:
    res = invoke("alerts", "list", "--config", str(cfg), "--json", *extra, server=server)
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    rows = [json.loads(x) for x in res.output.splitlines() if x.startswith("{")]  # type: ignore[attr-defined]
    return [r for r in rows if r["deliveries"]]  # routed somewhere (high and critical)


def test_run_once_fails_while_deliveries_are_outstanding_then_delivers_each_once(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.channels = {"#desk"}  # the workspace's channels
    cfg = config(tmp_path, slack_server)
    slack_server.fail_next("chat.postMessage", status=500, times=3)

    first = invoke("run", "--once", "--config", str(cfg), server=slack_server)

    assert first.exit_code == UNDELIVERED_EXIT, first.output  # type: ignore[attr-defined]
    out = first.output  # type: ignore[attr-defined]
    assert "outstanding" in out and "alerts dispatched" not in out and "not everything was delivered" in out
    archived = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert archived  # the file channel was not held up by Slack's trouble
    waiting = listed(cfg, slack_server, "--undelivered")
    assert waiting and all(r["deliveries"]["desk"] == "outstanding" for r in waiting)  # type: ignore[index]
    # The cycle's summary counts what was sent (the file's lines), what is outstanding (Slack's), and expired,
    # each with the channel it was (trial 19, L3: "7 sent" read as Slack's).
    summary = re.search(
        r"deliveries: (\d+) sent \(archive (\d+)\), "
        r"(\d+) outstanding \(desk (\d+); next attempt in \d+s\), (\d+) expired",
        " ".join(out.split()),
    )
    assert summary is not None, out
    assert [int(n) for n in summary.groups()] == [len(archived)] * 2 + [len(waiting)] * 2 + [0]

    for _ in range(4):  # every process start tries what is outstanding, whatever its backoff
        again = invoke("run", "--once", "--config", str(cfg), server=slack_server)
        if again.exit_code == 0:  # type: ignore[attr-defined]
            break
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert "0 outstanding, 0 expired" in again.output  # type: ignore[attr-defined]
    rows = listed(cfg, slack_server)
    assert rows and all(r["deliveries"]["desk"] == "sent" for r in rows)  # type: ignore[index]
    for r in rows:
        assert len(slack_server.messages_for(str(r["id"]))) == 1
    assert (tmp_path / "alerts.jsonl").read_text().splitlines() == archived
    assert listed(cfg, slack_server, "--undelivered") == []


def test_channel_checks_at_start_name_the_fault_and_the_other_channels_go_on(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server, channel="#nowhere")
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server, token="xoxb-revoked-long-ago")
    out = res.output  # type: ignore[attr-defined]
    assert res.exit_code == UNDELIVERED_EXIT
    assert "channel desk: check failed" in out and "invalid_auth" in out
    assert "xoxb-revoked-long-ago" not in out
    assert "channel archive: appends to" in out
    assert (tmp_path / "alerts.jsonl").read_text().splitlines()

    cfg = config(tmp_path, slack_server, channel="#nowhere")
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert "not found by conversations.list" in res.output  # type: ignore[attr-defined]
    cfg = config(tmp_path, slack_server, channel="#desk")  # the operator fixes the channel
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert "channel desk: bot watchfloor can post to #desk" in res.output  # type: ignore[attr-defined]


def test_a_file_channel_whose_path_is_a_directory_stops_the_start_as_a_bad_config(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Trial 33, L3: the start said `channel archive: appends to …/alerts.jsonl` of a directory, and every delivery to
    it then failed (IsADirectoryError) until someone looked. No retry makes a directory a file: an error naming the
    channel and the path, exit 1 as for any bad config, before anything is read or sent."""
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server)
    (tmp_path / "alerts.jsonl").mkdir()
    for command in (["run", "--once"], ["notify", "--once"], ["run"]):
        res = invoke(*command, "--config", str(cfg), server=slack_server)
        out = " ".join(res.output.split())  # type: ignore[attr-defined]
        assert res.exit_code == 1, out  # type: ignore[attr-defined]
        assert f"error: channel archive: its path {tmp_path / 'alerts.jsonl'} is a directory, not a file" in out
        assert "appends to" not in out and "polled" not in out
        assert "channel desk: bot watchfloor can post to #desk" in out  # the other channels' checks are said
    assert slack_server.messages == []
    assert listed(cfg, slack_server) == []  # nothing read, nothing queued
    (tmp_path / "alerts.jsonl").rmdir()  # the operator fixes it
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert "channel archive: appends to" in res.output  # type: ignore[attr-defined]
    assert (tmp_path / "alerts.jsonl").read_text().splitlines()


def test_expired_deliveries_are_listed_and_redelivered(tmp_path: Path, slack_server: FakeSlack) -> None:
    # A maximum age of 0 gives every delivery up at its first look: what a day-long outage does.
    cfg = config(tmp_path, slack_server, retry="retry: {max_age: 0s}\n")
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == UNDELIVERED_EXIT and "expired" in res.output  # type: ignore[attr-defined]
    assert slack_server.messages == []
    expired = listed(cfg, slack_server, "--undelivered")
    counted = re.search(r"deliveries: 0 sent, 0 outstanding, (\d+) expired", " ".join(res.output.split()))  # type: ignore[attr-defined]
    assert counted is not None and int(counted.group(1)) == 2 * len(expired)  # desk and archive
    assert expired and all(r["deliveries"]["desk"] == "expired" for r in expired)  # type: ignore[index]
    res = invoke("alerts", "redeliver", "--config", str(cfg), server=slack_server)
    assert res.exit_code != 0 and "say which" in res.output  # type: ignore[attr-defined]

    cfg = config(tmp_path, slack_server)  # back to the default day
    res = invoke("alerts", "redeliver", "--all-expired", "--channel", "desk", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0 and f"{len(expired)} deliveries will be sent again" in res.output  # type: ignore[attr-defined]
    res = invoke("notify", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert len(slack_server.messages) == len(expired)
    left = listed(cfg, slack_server, "--undelivered")  # the archive's are still given up
    assert {r["deliveries"]["archive"] for r in left} == {"expired"}  # type: ignore[index]
    first_id = str(left[0]["id"])
    res = invoke("alerts", "redeliver", first_id, "--send", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0 and "1 delivery will be sent again" in res.output  # type: ignore[attr-defined]
    assert [json.loads(x)["id"] for x in (tmp_path / "alerts.jsonl").read_text().splitlines()] == [first_id]
    res = invoke("alerts", "redeliver", "--all-expired", "--send", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert listed(cfg, slack_server, "--undelivered") == []
    assert len(slack_server.messages) == len(expired)  # nothing sent twice


def test_a_post_found_already_in_the_channel_is_counted_apart_from_those_posted(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Trial 33, L5: after an attempt that got through but looked failed, the next run found the post and did not
    post it again, and its line said "5 sent" as if five had been posted. Now the find is counted apart."""
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server)
    slack_server.fail_after_next("chat.postMessage", status=500)  # posted, then answered 500
    first = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert first.exit_code == UNDELIVERED_EXIT, first.output  # type: ignore[attr-defined]
    assert "found already posted" not in first.output  # type: ignore[attr-defined]
    rows = listed(cfg, slack_server)
    again = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    out = " ".join(again.output.split())  # type: ignore[attr-defined]
    assert f"deliveries to desk: {len(rows)} sent (1 of them found already posted, not posted again), " in out, out
    assert [len(slack_server.messages_for(str(r["id"]))) for r in rows] == [1] * len(rows)
    # ... and so do `alerts list` and /metrics, after the cycle (they said plain "sent")
    after = {str(r["id"]): r for r in listed(cfg, slack_server)}
    found = [k for k, r in after.items() if r["delivery_details"]["desk"].get("found_already_posted")]  # type: ignore[index, union-attr]
    assert len(found) == 1, after
    text = " ".join(invoke("alerts", "list", "--config", str(cfg), server=slack_server).output.split())  # type: ignore[attr-defined]
    assert f"deliveries: {2 * len(rows)} sent (1 of them found already posted, not posted again)" in text, text
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        metrics = generate_latest(registry_for(LogCollector(store, ActivityView(store), ControlLog(store)))).decode()
    finally:
        store.close()
    assert 'watchfloor_deliveries_found_total{channel="desk"} 1.0' in metrics, metrics
    assert 'watchfloor_deliveries_found_total{channel="archive"} 0.0' in metrics, metrics


def test_redeliver_says_a_delivery_that_may_have_got_through_is_looked_for_first(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Trial 33, L5: `alerts redeliver ID --channel desk --send` of a delivery given up as maybe delivered said "1
    delivery will be sent again", then "N sent", though it found the post and sent nothing for it."""
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server, retry="retry: {attempts: 1}\n")
    slack_server.fail_after_next("chat.postMessage", status=500)
    first = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert first.exit_code == UNDELIVERED_EXIT, first.output  # type: ignore[attr-defined]
    rows = listed(cfg, slack_server)
    [given_up] = [str(r["id"]) for r in rows if r["deliveries"]["desk"] == "expired"]  # type: ignore[index]
    res = invoke(
        "alerts", "redeliver", given_up, "--channel", "desk", "--send", "--config", str(cfg), server=slack_server
    )
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    out = " ".join(res.output.split())  # type: ignore[attr-defined]
    assert (
        "1 delivery will be sent again (it may have got through before: looked for in the channel first, and not "
        "posted again if found there)" in out
    ), out
    assert f"deliveries to desk: {len(rows)} sent (1 of them found already posted, not posted again)" in out, out
    assert [len(slack_server.messages_for(str(r["id"]))) for r in rows] == [1] * len(rows)


def test_notify_once_exit_status(tmp_path: Path, slack_server: FakeSlack) -> None:
    cfg = config(tmp_path, slack_server)
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == UNDELIVERED_EXIT
    res = invoke("notify", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == UNDELIVERED_EXIT  # the Retry-After holds, also for a new process
    assert "next attempt in" in res.output  # type: ignore[attr-defined]


def test_an_expired_digest_is_listed_and_redelivered(tmp_path: Path, slack_server: FakeSlack) -> None:
    """`notify` sends digests too (the one dispatch path); a given-up digest is listed and re-sent by its id."""
    from datetime import UTC, datetime, timedelta

    from watchfloor.alerts.control import ControlLog
    from watchfloor.schemas.control import Actor
    from watchfloor.stream_processors.stores import open_store

    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server, retry="retry: {max_age: 0s}\n")
    now = datetime.now(UTC)
    due = now - timedelta(hours=3)  # its slot passed three hours ago, and it was made two days ago
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        control = ControlLog(st, now=lambda: now - timedelta(days=2))
        control.subscribe("desk", digest=f"daily {due.hour:02d}:{due.minute:02d} UTC", by=Actor(via="cli"))
    finally:
        st.close()
    slack_server.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "invalid_auth"}, times=100)
    res = invoke("notify", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == UNDELIVERED_EXIT, res.output  # type: ignore[attr-defined]
    out = invoke("alerts", "list", "--config", str(cfg), "--json", "--undelivered", server=slack_server)
    (digest,) = [json.loads(x) for x in out.output.splitlines() if x.startswith('{"digest"')]  # type: ignore[attr-defined]
    assert digest["deliveries"] == {"desk": "expired"} and str(digest["digest"]).startswith("dig-")
    table = invoke("alerts", "list", "--config", str(cfg), "--undelivered", server=slack_server)
    assert str(digest["digest"]) in table.output  # type: ignore[attr-defined]
    # The digest is counted among the deliveries, not "deliveries: none" under it.
    assert "0 alerts · 1 digest · deliveries: 1 expired" in table.output  # type: ignore[attr-defined]

    slack_server.reset()
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server)  # back to the default day
    res = invoke("alerts", "redeliver", str(digest["digest"]), "--send", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0 and "1 digest sent" in res.output, res.output  # type: ignore[attr-defined]
    assert len(slack_server.messages_for(str(digest["digest"]))) == 1
    res = invoke("notify", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == 0 and len(slack_server.messages_for(str(digest["digest"]))) == 1  # type: ignore[attr-defined]


def test_redeliver_that_changes_nothing_says_why(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Outside trial 9, F7: a bare "0 deliveries will be sent again" for an alert already delivered, or for a
    channel whose deliveries are outstanding rather than expired."""
    slack_server.channels = {"#desk"}
    cfg = config(tmp_path, slack_server)
    slack_server.fail_next("chat.postMessage", status=500, times=100)  # Slack down: desk's deliveries wait
    res = invoke("run", "--once", "--config", str(cfg), server=slack_server)
    assert res.exit_code == UNDELIVERED_EXIT, res.output  # type: ignore[attr-defined]
    waiting = listed(cfg, slack_server, "--undelivered")
    res = invoke("alerts", "redeliver", "--channel", "desk", "--config", str(cfg), server=slack_server)
    said = " ".join(res.output.split())  # type: ignore[attr-defined]
    assert res.exit_code == 0, said  # type: ignore[attr-defined]
    assert (
        f"0 deliveries will be sent again: of the {len(waiting)} deliveries to desk, {len(waiting)} outstanding, "
        "tried again on their own schedule (next " in said
    )
    assert "give their alert ids to make them due at once" in said
    # The archive's went out at once: sent, and said so with when.
    first = str(waiting[0]["id"])
    res = invoke("alerts", "redeliver", first, "--channel", "archive", "--config", str(cfg), server=slack_server)
    said = " ".join(res.output.split())  # type: ignore[attr-defined]
    assert res.exit_code == 0, said  # type: ignore[attr-defined]
    assert re.search(
        r"0 deliveries will be sent again: of the 1 delivery to archive, 1 already sent \(the last 2\d\d\d-", said
    ), said
    res = invoke("alerts", "redeliver", "--all-expired", "--config", str(cfg), server=slack_server)
    assert "0 deliveries will be sent again: of the" in " ".join(res.output.split())  # type: ignore[attr-defined]
