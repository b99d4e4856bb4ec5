"""A story's Slack thread does not depend on the order its reports arrive in (outside trial 23, M2-1): the engine's
outputs for reports read in one poll, feed after feed, delivered by the dispatcher to the local Slack server, put
the corroboration under the story's first message, as reports read in event time do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, make
from tests.unit.engine_helpers import DATA, doc, engine_for
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import (
    Detection,
    Document,
    Retraction,
    detection_event,
    detection_event_id,
    retraction_event,
)
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.wiring import build_catalog

pytestmark = pytest.mark.functional

SUBS = [Subscription(channel="slack-ops")]


def strike_pack(tmp_path: Path) -> Path:
    """strike-escalation: realert 4h (an alert stays open for follow-ups 4h), corroboration by two wires in 12h."""
    pack = tmp_path / "pack.yaml"
    text = (DATA / "rules" / "eventtime.yaml").read_text(encoding="utf-8")
    pack.write_text(text.replace("at_least: 2, within: 3h", "at_least: 2, within: 12h"), encoding="utf-8")
    return pack


REPORTS = {
    "a": doc("A strike hit Port Gamma.", at=0, source="Wire A", doc_id="a"),
    "b": doc("Witnesses report a strike in Port Gamma.", at=3, source="Wire B", doc_id="b"),
    "c": doc("Another strike hit Port Gamma.", at=6.5, source="Wire A", doc_id="c"),
}


def deliver(tmp_path: Path, server: FakeSlack, order: str, *, each: bool = True) -> list[Detection]:
    """Feed the reports in `order` through the engine, each one's outputs into the log and delivered at once (a
    message posted before the next report is read; with `each` False, one delivery cycle after the last, as one
    poll of several feeds, or a Slack outage, leaves them); returns the alerts raised."""
    pack = strike_pack(tmp_path)
    engine = engine_for(str(pack))
    store = MemoryStore()
    catalog = build_catalog(load_rules([str(pack)])[1])  # (the catalog the runner builds)
    d = make(store, server, tmp_path / f"archive-{order}.jsonl", Clock(), subs=SUBS, catalog=catalog)
    state = engine.initial_state()
    raised: list[Detection] = []
    for name in order:
        document: Document = REPORTS[name]
        state, outs = engine.process_document(state, document)
        events = []
        for o in outs:
            if isinstance(o, Detection):
                raised.append(o)
                events.append(detection_event(o))
            elif isinstance(o, Retraction):
                events.append(retraction_event(o))
        store.append(events)
        if each:
            assert d.cycle().ok
    if not each:
        assert d.cycle().ok
    return raised


def top_level(server: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]


def alert_id(message: dict[str, Any]) -> str:
    return str(message["metadata"]["event_payload"]["alert_id"])


def kind(message: dict[str, Any]) -> str:
    return str(message["metadata"]["event_payload"]["kind"])


@pytest.mark.parametrize("order", ["abc", "acb"])
def test_the_confirmation_is_under_the_first_message_whatever_the_arrival_order(
    tmp_path: Path, slack_server: FakeSlack, order: str
) -> None:
    raised = deliver(tmp_path, slack_server, order)
    first = next(m for m in top_level(slack_server) if alert_id(m) == detection_event_id(raised[0]))
    high = next(r for r in raised if r.severity == "high")
    replies = slack_server.thread(first["ts"])
    assert [(alert_id(r), kind(r)) for r in replies] == [(detection_event_id(high), "followup")]
    assert high.revises is None
    # The first message says the story is confirmed.
    assert "*Updated* · now :large_orange_circle: HIGH · 2 independent sources" in str(first["blocks"])
    if order == "acb":
        # c's alert, posted before b was read, is withdrawn in its own thread: the realert of the confirmation
        # holds it back in event time. Its reply names what superseded it.
        later = next(m for m in top_level(slack_server) if alert_id(m) != detection_event_id(raised[0]))
        [withdrawn] = slack_server.thread(later["ts"])
        assert kind(withdrawn) == "retraction"
        assert later["text"].startswith("Withdrawn: [LOW (unconfirmed)]")
    else:
        assert len(top_level(slack_server)) == 1


def test_an_alert_withdrawn_before_it_was_sent_is_not_posted(tmp_path: Path, slack_server: FakeSlack) -> None:
    # The same reports as above, arrived before one delivery cycle: c's alert is withdrawn (superseded by the
    # confirmation) before anything was sent, so neither it nor its withdrawal goes; the channel reads as if the
    # reports had come in event time.
    raised = deliver(tmp_path, slack_server, "acb", each=False)
    [first] = top_level(slack_server)
    assert alert_id(first) == detection_event_id(raised[0])
    high = next(r for r in raised if r.severity == "high")
    assert [(alert_id(r), kind(r)) for r in slack_server.thread(first["ts"])] == [
        (detection_event_id(high), "followup")
    ]
    assert len(slack_server.messages) == 2
