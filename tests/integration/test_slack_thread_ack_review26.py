"""What a click on a thread's first message may take (review 26 of the thread acknowledgements, outside trial 29 F1):
only alerts the thread stands on now, whatever the button's value names (a value naming another thread's alert, or
one withdrawn since); a button drawn before buttons said what the message stands for takes the newer alert only when
the clicked message shows it; a message redrawn since the click's rendering is not written back; and an
acknowledgement of the newer alert elsewhere leaves a button of today that names the first alert alone. The real
slack-sdk and slack-bolt against the local Slack server, `run --once` as a subprocess."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.fixtures.slack_server import SlackRequests
from tests.integration import test_slack_thread_ack as T
from tests.integration.test_slack_app import DESK, Env
from tests.integration.test_slack_thread_ack import (
    RULE,
    SAMPLES,
    ack_values,
    acked,
    fresh,
    run_once,
    story,
    text_of,
)
from watchfloor.alerts.slackapp.buttons import ACK_ACTION
from watchfloor.schemas.events import Alert, EventType, Retraction, alert_event, retraction_event
from watchfloor.stream_processors.stores import open_store

env = T.env
app = T.app


def alerts_of(env: Env) -> list[dict[str, Any]]:
    st = open_store(env.store_url)
    try:
        return [se.event.payload for se in st.read(0, types={EventType.ALERT.value})]
    finally:
        st.close()


def value(a: str, s: list[str] | None) -> str:
    d: dict[str, Any] = {"a": a, "r": RULE, "c": "desk", "g": {}}
    if s is not None:
        d["s"] = s
    return json.dumps(d, separators=(",", ":"))


def test_a_value_naming_another_threads_alert_takes_only_this_threads(env: Env, app: SlackRequests) -> None:
    """`s` is trusted: any alert of the same rule (another thread/group, never delivered to #desk) is acknowledged."""
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    # another story of the same rule, in another group: a different thread, never posted to #desk
    src = next(a for a in alerts_of(env) if a["id"] == medium)
    other = Alert.model_validate(src).model_copy(deep=True)
    det = other.detection.model_copy(update={"id": "other-story-alert", "group": {"country": "Elsewhere"}})
    other = Alert(id="other-story-alert", detection=det, channels=("elsewhere",))
    st = open_store(env.store_url)
    st.append([alert_event(other)])
    st.close()
    forged = value(high, [medium, "other-story-alert"])
    assert app.block_action(ACK_ACTION, forged, message=fresh(env, first), channel_id=DESK).status == 200
    assert acked(env, "other-story-alert") == []  # not an alert this thread stands on
    assert acked(env, high) != [] and acked(env, medium) != []


def test_a_stale_button_takes_no_withdrawn_alert_and_is_not_written_back(env: Env, app: SlackRequests) -> None:
    """The first message drawn as a=HIGH, s=[MEDIUM]; then MEDIUM is withdrawn (the message is redrawn). A click on
    the message as the clicker's client had it (stale `s`) acknowledges the withdrawn MEDIUM alert, and the click's
    chat.update writes the stale rendering back over the redrawn message."""
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    seen = fresh(env, first)
    [v] = ack_values(seen)
    assert v.alert_id == high and v.standing == (medium,)
    src = Alert.model_validate(next(a for a in alerts_of(env) if a["id"] == medium))
    d = src.detection
    r = Retraction(
        alert_id=medium,
        rule=d.rule,
        group=dict(d.group),
        reason="a late report walked it back",
        superseded_by=None,
        revision=(getattr(d, "revision", 0) or 0) + 1,
        at=d.fired_at + timedelta(minutes=1),
    )
    st = open_store(env.store_url)
    st.append([retraction_event(r)])
    st.close()
    run_once(env)
    redrawn = fresh(env, first)
    button = next(e["value"] for b in seen["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert app.block_action(ACK_ACTION, button, message=seen, channel_id=DESK).status == 200
    after = fresh(env, first)
    assert acked(env, medium) == []  # not through a stale `s`
    assert acked(env, high) != []  # what it showed and still stands is taken
    assert after["blocks"] == redrawn["blocks"]  # the stale rendering is not written back over "Withdrawn"


def _as_posted(env: Env, first: dict[str, Any]) -> dict[str, Any]:
    [posted] = [r.body for r in env.slack.requests_for("chat.postMessage") if r.response.get("ts") == first["ts"]]
    return {**first, "blocks": posted["blocks"], "text": posted["text"]}


def test_an_ack_of_the_newer_alert_leaves_a_button_of_today_for_the_first(env: Env) -> None:
    """A first message whose new-style button names the first (MEDIUM) alert with s=[] (drawn while the thread stood on
    it; its update to HIGH not drawn, e.g. given up after the maximum age). An acknowledgement of the HIGH alert
    elsewhere is shown on it: 'Acknowledged', button gone, though the MEDIUM alert it offers is not acknowledged."""
    from slack_sdk import WebClient

    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    seen = _as_posted(env, first)
    WebClient(token=env.slack.token, base_url=env.slack.base_url).chat_update(
        channel=DESK, ts=first["ts"], text=seen["text"], blocks=seen["blocks"]
    )
    assert env.cli("alerts", "ack", high, "--by", "kim", "--config", str(env.config)).returncode == 0
    run_once(env)
    now = fresh(env, first)
    assert ack_values(now) != [] and acked(env, medium) == []  # its alert's button stays: MEDIUM is not taken


def test_an_old_button_on_a_rendering_before_the_newer_alert_takes_what_was_drawn(env: Env, app: SlackRequests) -> None:
    """A legacy (no `s`) button clicked on the first message as the client had it before the HIGH follow-up: the
    click acknowledges the HIGH alert the clicker never saw (the 'newer' guard only works for new-style values)."""
    env.inbox.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    run_once(env)
    medium, high, first, _ = story(env)
    seen = _as_posted(env, first)
    old = T.old_value(medium)
    seen = {
        **seen,
        "blocks": [
            {**b, "elements": [{**e, "value": old} for e in b["elements"]]} if b["type"] == "actions" else b
            for b in seen["blocks"]
        ],
    }
    assert app.block_action(ACK_ACTION, old, message=seen, channel_id=DESK).status == 200
    now = fresh(env, first)
    assert acked(env, high) == [] and acked(env, medium) != []  # what was drawn is taken, the unseen HIGH said
    assert "*Updated*" in text_of(now)  # the rendering of before the HIGH alert is not written back
    assert "is *not* acknowledged" in env.slack.responses[-1]["text"]
