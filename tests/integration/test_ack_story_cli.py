"""`watchfloor alerts ack --story` (outside trial 74, F6): a desk that reads alerts by email or the console takes a
whole story in one step, every group's of a `thread_by` story (France's sanctions on Niger, its confirmation, the EU's
in the same thread), each alert an `alert.acknowledged` event of its own in the channel told it, as the Acknowledge
button on a thread's first message records them; and the dispatcher's next cycle shows them on the Slack messages.

The CLI through typer's CliRunner against the real store (SQLite on disk and PostgreSQL); Slack is the local
Slack-compatible server, reached by the real slack-sdk."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, slack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.cli import app
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Detection
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration

RULE = "niger-sanctions"
NAMES = {"NER": "Niger", "MLI": "Mali", "FRA": "France", "EU": "European Union"}
CATALOG = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)}, thread_by={RULE: ("country",)})
runner = CliRunner()


def sanction(n: int, imposer: str, minutes: int, country: str = "NER", **kw: Any) -> Detection:
    return detection(n, rule=RULE, group={"country": country, "imposer": imposer}, minutes=minutes, **kw)


def config(tmp_path: Path, store: SqlStore, server: FakeSlack) -> Path:
    """The desk's config: its Slack channel `desk` (so the command says when its messages will show the ack)."""
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: "{store.url.render_as_string(hide_password=False)}"
rules: [builtin:dprk_russia]
sources: []
channels:
  - {{type: slack, name: desk, channel: "#dprk-russia", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return cfg


def wf(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return res.exit_code, res.output


def acks(store: SqlStore) -> list[tuple[str, str | None, str | None]]:
    return sorted(
        (se.event.payload["alert_id"], se.event.payload.get("channel"), se.event.payload["by"].get("name"))
        for se in store.read(0, types={"alert.acknowledged"})
    )


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks")) + str(message.get("text"))


def test_ack_story_takes_every_groups_standing_alerts_once_and_slack_shows_it(
    sql_store: SqlStore, slack_server: FakeSlack, tmp_path: Path
) -> None:
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="desk")])
    d = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [], now=Clock(), routing=control, catalog=CATALOG
    )
    feed(
        store,
        sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"),  # France: the story's first alert
        sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"),  # the EU's, a new alert of the story
        sanction(3, "FRA", 120, sources=("Coastal Observer", "Harbour Daily")),  # France confirmed: its follow-up
        sanction(5, "FRA", 30, country="MLI"),  # Mali: another story, not taken
    )
    assert d.cycle().ok
    (france,) = slack_server.messages_for("det0001")
    (eu,) = slack_server.messages_for("det0002")
    assert eu.get("thread_ts") == france["ts"]
    cfg = str(config(tmp_path, store, slack_server))

    # Named by the EU's alert: the whole story, France's two standing alerts and the EU's, in the channel told it
    code, said = wf("alerts", "ack", "--story", "det0002", "--by", "kim", "--note", "on it", "--config", cfg)
    assert code == 0, said
    assert "the story of alert det0001 (Niger, France) in desk (named by det0002): 2 groups' alerts, 3 alerts" in said
    for alert_id in ("det0001", "det0002", "det0003"):
        assert f"  acknowledged {alert_id} (" in said and "by kim (via cli) in desk at " in said, said
    assert "det0005" not in said, said
    assert "its messages in desk show it after the dispatcher's next cycle" in said, said
    assert acks(store) == [("det0001", "desk", "kim"), ("det0002", "desk", "kim"), ("det0003", "desk", "kim")]

    # Run again, by the story's own id as `alerts list` shows it ("new alert in the story of det0001"): nothing new
    code, listed = wf("alerts", "list", "det0002", "--json", "--config", cfg)
    assert code == 0 and '"story": "det0001"' in listed, listed
    code, again = wf("alerts", "ack", "--story", "det0001", "--by", "lee", "--config", cfg)
    assert code == 0, again
    assert again.count("already acknowledged: ") == 3 and "by kim (via cli) in desk" in again, again
    assert "show it after the dispatcher's next cycle" not in again  # (nothing new to show)
    assert len(acks(store)) == 3

    # An id that is no alert: refused, nothing recorded
    code, refused = wf("alerts", "ack", "--story", "det9999", "--config", cfg)
    assert code == 1 and "no alert with the id det9999" in refused, refused
    assert len(acks(store)) == 3

    # The dispatcher's next cycle: the story's first message (France's, showing its HIGH confirmation) and the EU's
    # message say so, their Acknowledge buttons gone; Mali's is left as it was
    assert d.cycle().ok
    (mali,) = slack_server.messages_for("det0005")
    for ts in (france["ts"], eu["ts"]):
        shown = next(m for m in slack_server.messages if m["ts"] == ts)
        assert "Acknowledged by kim" in _text(shown) and "on it" in _text(shown), _text(shown)
        assert "'action_id': 'wf_ack'" not in _text(shown), _text(shown)
    shown = next(m for m in slack_server.messages if m["ts"] == mali["ts"])
    assert "Acknowledged" not in _text(shown) and "'action_id': 'wf_ack'" in _text(shown)


def test_ack_story_of_an_alert_told_nowhere_or_of_an_unknown_channel_is_refused_before_anything_is_recorded(
    sql_store: SqlStore, slack_server: FakeSlack, tmp_path: Path
) -> None:
    """`--channel` names a channel that was told the story, else the command says where it was; an alert told in no
    channel has no story to take (the command says how to take the alert itself)."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="desk", min_severity="high")])
    d = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [], now=Clock(), routing=control, catalog=CATALOG
    )
    feed(store, sanction(1, "FRA", 0), sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"))
    assert d.cycle().ok
    cfg = str(config(tmp_path, store, slack_server))
    code, said = wf("alerts", "ack", "--story", "det0002", "--config", cfg)  # MEDIUM: routed to no channel
    assert code == 1 and "alert det0002 was told in no channel" in said, said
    assert "`watchfloor alerts ack det0002` acknowledges the alert itself" in " ".join(said.split()), said
    code, said = wf("alerts", "ack", "--story", "det0001", "--channel", "nowhere", "--config", cfg)
    assert code == 1 and "unknown channel 'nowhere'" in said, said
    assert acks(store) == []
    code, said = wf("alerts", "ack", "--story", "det0001", "--config", cfg)
    assert code == 0 and "1 alert standing" in said and "acknowledged det0001 (HIGH)" in said, said


def test_list_story_lists_every_groups_alerts_of_the_story_each_saying_its_story_in_json(
    sql_store: SqlStore, slack_server: FakeSlack, tmp_path: Path
) -> None:
    """Outside trial 79, F1: `alerts list --story ID` (any alert of the story, as `alerts ack --story` takes it) lists
    the story's alerts, every group's and their follow-ups, and not another story's; in `--json` each of them says
    `story` (the story's first alert), its follow-ups and its first alert too, not only other groups' first alerts."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="desk")])
    d = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [], now=Clock(), routing=control, catalog=CATALOG
    )
    feed(
        store,
        sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"),  # France: the story's first alert
        sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"),  # the EU's, a new alert of the story
        sanction(3, "FRA", 120, sources=("Coastal Observer", "Harbour Daily")),  # France confirmed: its follow-up
        sanction(4, "EU", 180, sources=("Coastal Observer", "Harbour Daily")),  # the EU confirmed: its follow-up
        sanction(5, "FRA", 30, country="MLI"),  # Mali: another story
    )
    assert d.cycle().ok
    cfg = str(config(tmp_path, store, slack_server))
    for named in ("det0004", "det0001"):
        code, listed = wf("alerts", "list", "--story", named, "--json", "--config", cfg)
        assert code == 0, listed
        lines = [json.loads(x) for x in listed.splitlines() if x.startswith("{")]
        assert sorted((x["id"], x.get("story")) for x in lines) == [
            ("det0001", "det0001"),
            ("det0002", "det0001"),
            ("det0003", "det0001"),
            ("det0004", "det0001"),
        ], lines
    code, table = wf("alerts", "list", "--story", "det0003", "--config", cfg)
    assert code == 0 and "det0004" in table and "det0005" not in table, table
    code, every = wf("alerts", "list", "--json", "--config", cfg)
    assert code == 0 and '"story"' not in next(x for x in every.splitlines() if '"det0005"' in x), every
    code, refused = wf("alerts", "list", "--story", "det9999", "--config", cfg)
    assert code == 1 and "--story det9999: no alert with that id" in refused, refused
