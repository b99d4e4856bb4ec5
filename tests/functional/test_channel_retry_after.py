"""A channel's Retry-After holds the channel, for every dispatcher on the store and for alerts queued after it.

Outside audit: after one Slack 429 with `Retry-After: 60`, `watchfloor run --interval 10` ran 274 cycles in 20 s
("next attempt in 0s"): alerts enqueued after the 429 had no `not_before` of their own, so `next_due()` counted
them due now while the deliverer skipped their channel (paused in that process only). And a second process,
`watchfloor notify --once` 21 s into the 60 s, posted three of them. The pause is now recorded in the store
(`defer_channel(..., server_asked=True)` -> `channel_pauses`), claims respect it, and `next_due()` counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, make
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.cli.alerts import delivery_summary, next_wait
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional


@pytest.fixture(params=["memory", "sqlite"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Store objects on the same data: one MemoryStore shared, or one SqlStore per call on one file (like
    processes)."""
    if request.param == "memory":
        shared = MemoryStore()
        yield lambda: shared
        return
    opened: list[SqlStore] = []

    def open_one() -> Store:
        opened.append(SqlStore(f"sqlite:///{tmp_path / 'wf.db'}"))
        return opened[-1]

    yield open_one
    for st in opened:
        st.close()


def posts(server: FakeSlack) -> list[str]:
    """The alert keys of the messages the channel got, in order."""
    return [str(((m.get("metadata") or {}).get("event_payload") or {}).get("alert_id", "")) for m in server.messages]


def group(n: int) -> dict[str, str]:
    return {"route": f"ROUTE-{n}"}  # a thread of its own each: no follow-up waits for another's first message


def test_a_retry_after_holds_the_channel_for_every_dispatcher_and_for_alerts_queued_after_it(
    stores: Callable[[], Store], slack_server: FakeSlack, tmp_path: Path
) -> None:
    clock = Clock()
    archive = tmp_path / "alerts.jsonl"
    first = stores()
    feed(first, detection(1, group=group(1)))
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "60"})
    d1 = make(first, slack_server, archive, clock)
    d1.cycle()
    rows = ledger(first)
    assert rows[("det0001", "slack-ops")].status == "outstanding" and rows[("det0001", "archive")].status == "sent"
    assert posts(slack_server) == []

    # New alerts arrive 5 s into the Retry-After: queued after the 429, without a not_before of their own.
    clock.advance(5)
    feed(first, detection(2, group=group(2)), detection(3, group=group(3)))
    report = d1.cycle()
    assert report.enqueued == 4 and report.tally.sent == 2  # the archive took them; Slack is paused
    assert posts(slack_server) == []
    # (1) Nothing of the channel is due before the pause ends: the live loop sleeps, it does not spin.
    assert d1.next_due() == 55
    assert next_wait(d1, 10) == 10 and next_wait(d1, 600) == 55
    assert "3 outstanding (slack-ops 3; next attempt in 55s)" in delivery_summary(report, d1)

    # (2) A second dispatcher on the store (a `notify --once` started now, which tries every backoff at once)
    # posts nothing before the Retry-After ends, neither the alert that met the 429 nor those queued since,
    # nor one it takes in itself.
    clock.advance(16)
    second = stores()
    feed(second, detection(4, group=group(4)))
    d2 = make(second, slack_server, archive, clock)
    report2 = d2.cycle()
    assert report2.tally.sent == 1 and report2.tally.failed == 0  # det0004 to the archive; no Slack attempt
    assert posts(slack_server) == [] and not report2.ok
    assert d2.next_due(digests=False) == 39
    clock.advance(38)
    for d in (d1, d2, make(stores(), slack_server, archive, clock)):
        assert d.cycle().tally.sent == 0 and d.next_due(digests=False) == 1
    assert posts(slack_server) == []
    assert [r.method for r in slack_server.requests if r.method == "chat.postMessage"] == ["chat.postMessage"]

    # (3) Once it ends, everything goes, once each, in order, whichever dispatcher gets there.
    clock.advance(1)
    sent = d2.cycle().tally.sent + d1.cycle().tally.sent
    assert sent == 4
    assert posts(slack_server) == ["det0001", "det0002", "det0003", "det0004"]
    assert all(r.status == "sent" for r in ledger(first).values())
    assert d1.cycle().ok and d2.cycle().ok and d1.next_due() is None


def test_a_retry_after_met_by_one_dispatcher_object_is_kept_by_a_fresh_one(
    stores: Callable[[], Store], slack_server: FakeSlack, tmp_path: Path
) -> None:
    """A process that never met the 429 (started after it, with no in-process pause) still waits: the pause
    is the store's, and its `next_due()` says so."""
    clock = Clock()
    archive = tmp_path / "alerts.jsonl"
    feed(stores(), detection(1, group=group(1)))
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "60"})
    make(stores(), slack_server, archive, clock).cycle()
    clock.advance(30)
    late = stores()
    feed(late, detection(2, group=group(2)))
    fresh: AlertDispatcher = make(late, slack_server, archive, clock)
    assert fresh.deliverer.paused == {}
    assert fresh.cycle().tally.sent == 1  # the archive only
    assert posts(slack_server) == [] and fresh.next_due(digests=False) == 30
    clock.advance(30)
    assert fresh.cycle().tally.sent == 2 and posts(slack_server) == ["det0001", "det0002"]


def test_redeliver_says_a_channel_is_paused_and_resume_lifts_the_pause(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Outside audit: `alerts redeliver --send` inside a Retry-After sent nothing and did not say why. It now names
    the pause and its end; `alerts resume CHANNEL` lifts it (the operator's decision) and `--send` delivers."""
    import json

    from typer.testing import CliRunner

    from watchfloor.cli import app

    pack = tmp_path / "pack.yaml"
    pack.write_text(
        'version: 2\nname: crossing\nsignals:\n  closure:\n    match: {any: ["closed the border crossing"]}\n'
        "detections:\n  - id: crossing-closed\n    title: Border crossing closed\n    severity: high\n"
        "    pattern: {any: closure}\n",
        encoding="utf-8",
    )
    inbox = tmp_path / "inbox.jsonl"
    item = {
        "type": "news.article",
        "id": "crossing-1",
        "source": "Border Daily",
        "published_at": "2024-11-02T08:00:00+00:00",
        "title": "Crossing closed",
        "body": "Guards closed the border crossing this morning.",
    }
    inbox.write_text(json.dumps(item) + "\n", encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [{pack}]
sources:
  - {{kind: jsonl, path: {inbox}}}
channels:
  - {{type: slack, name: desk, channel: "#border", token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "600"})
    down = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert down.exit_code == 3 and slack_server.messages == [], down.output

    listed = runner.invoke(app, ["alerts", "list", "--json", "--config", str(cfg)], env=env)
    (alert,) = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    again = runner.invoke(app, ["alerts", "redeliver", alert["id"], "--send", "--config", str(cfg)], env=env)
    assert "channel desk asked to wait (Retry-After) until" in again.output, again.output
    assert "watchfloor alerts resume desk" in again.output and slack_server.messages == []

    resumed = runner.invoke(app, ["alerts", "resume", "desk", "--send", "--config", str(cfg)], env=env)
    assert resumed.exit_code == 0, resumed.output
    assert "channel desk resumed" in resumed.output and "1 delivery outstanding" in resumed.output
    assert posts(slack_server) == [alert["delivery_key"]]
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        assert store.channel_pauses(0) == {}
    finally:
        store.close()
    calm = runner.invoke(app, ["alerts", "resume", "desk", "--config", str(cfg)], env=env)
    assert calm.exit_code == 0 and "channel desk was not paused" in calm.output, calm.output
    # A docs walk: a channel name the config does not know (a typo) said "was not paused" and exit 0, like
    # success; it is refused as `subscriptions add` refuses it, with the names it knows.
    never = runner.invoke(app, ["alerts", "resume", "nowhere", "--config", str(cfg)], env=env)
    assert never.exit_code == 1, never.output
    assert "unknown channel 'nowhere': use one of desk or slack:CHANNEL_ID" in never.output, never.output


def test_a_pause_lifted_by_resume_is_lifted_for_a_live_dispatcher_that_met_it(
    stores: Callable[[], Store], slack_server: FakeSlack, tmp_path: Path
) -> None:
    """Trial 50, MED-2: a running dispatcher met a 429 with a long Retry-After; an operator ran `alerts resume`
    (which lifts the store's pause). The live dispatcher kept its own memory of the pause and held the channel's
    new alerts back for the rest of it. It goes by the store now: the next alert goes at the next cycle."""
    clock = Clock()
    archive = tmp_path / "alerts.jsonl"
    live = stores()
    feed(live, detection(1, group=group(1)))
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "600"})
    d = make(live, slack_server, archive, clock)
    d.cycle()
    assert posts(slack_server) == [] and d.next_due(digests=False) == 300  # (capped: retry.max_retry_after)
    clock.advance(10)
    resumed = stores().resume_channel("slack-ops", clock().timestamp())  # what `alerts resume slack-ops` does
    assert resumed == 1
    feed(live, detection(2, group=group(2)))
    assert d.next_due(digests=False) == 0
    d.cycle()
    assert posts(slack_server) == ["det0001", "det0002"]
    assert d.deliverer.paused == {}
