"""The three buttons on every Slack alert: action ids and the value each carries (shared by the notifier that
renders them and the app that handles the clicks).

The value is compact JSON: the alert id, its rule, the routing channel the message was posted for, the
alert's group (dropped when it would pass Slack's 2,000-character limit; the handler then reads it from the
log), and `s`: the other alerts the message stands for. A thread's first message, once it shows the thread's state
("Updated · now HIGH"), carries the thread's newest standing alert as its alert (what it shows) and the thread's
earlier standing alerts in `s`: its Acknowledge takes them together (docs/slack.md, "The thread's first message").
Every other message has `s` empty; a value without `s` was drawn before buttons carried it (the handler then reads
what the message stands for from the delivery ledger). Values come back from Slack inside a signed request, but
are still parsed defensively.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ACK_ACTION = "wf_ack"
SILENCE_ACTION = "wf_silence"
UNSUBSCRIBE_ACTION = "wf_unsubscribe"
ACTIONS_BLOCK_ID = "wf_alert_actions"
VALUE_LIMIT = 2000  # Slack: a button's value
SILENCE_FOR_HOURS = 24


@dataclass(frozen=True)
class ButtonValue:
    alert_id: str
    rule: str
    channel: str  # the routing channel (configured name or slack:<id>) the message was posted for
    group: dict[str, str] | None = field(default=None)  # None: not carried, look it up
    # The other alerts the message stands for (a thread's first message: the thread's earlier standing alerts), taken
    # with `alert_id` by Acknowledge. None: a value drawn before buttons said (or too long to say it): look it up.
    standing: tuple[str, ...] | None = field(default=None)


def button_value(
    alert_id: str, rule: str, channel: str, group: dict[str, str], standing: tuple[str, ...] | None = ()
) -> str:
    """The value of an alert's buttons; `standing`: the other alerts the message stands for (None: not said, as
    before buttons carried it). What does not fit Slack's limit is dropped, the group first, then `standing`: the
    handler then reads them from the log and the ledger."""
    data: dict[str, Any] = {"a": alert_id, "r": rule, "c": channel, "g": group}
    if standing is not None:
        data["s"] = list(standing)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    for drop in ("g", "s"):
        if len(text) <= VALUE_LIMIT:
            break
        data.pop(drop, None)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text


def parse_button_value(text: str) -> ButtonValue:
    """The value of one of our buttons, or ValueError."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        raise ValueError("not a watchfloor button value") from None
    if not isinstance(data, dict):
        raise ValueError("not a watchfloor button value")
    alert_id, rule, channel, group = data.get("a"), data.get("r"), data.get("c"), data.get("g")
    standing = data.get("s")
    if not (isinstance(alert_id, str) and isinstance(rule, str) and isinstance(channel, str)):
        raise ValueError("not a watchfloor button value")
    if group is not None and not (
        isinstance(group, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in group.items())
    ):
        raise ValueError("not a watchfloor button value")
    if standing is not None and not (isinstance(standing, list) and all(isinstance(i, str) for i in standing)):
        raise ValueError("not a watchfloor button value")
    return ButtonValue(alert_id, rule, channel, group, tuple(standing) if standing is not None else None)


@dataclass(frozen=True)
class ButtonLabels:
    """The buttons' visible text (a Slack channel's `language`: alerts.notifiers.wording); the default is English. Only
    the text: what a click does is read from the action id and the value, the same in every language."""

    ack: str = "Acknowledge"
    silence: str = f"Silence {SILENCE_FOR_HOURS}h"
    unsubscribe: str = "Unsubscribe"
    unsubscribe_title: str = "Unsubscribe?"
    unsubscribe_text: str = "This channel will stop getting alerts of this rule."
    cancel: str = "Cancel"


ENGLISH_LABELS = ButtonLabels()


def actions_block(
    alert_id: str,
    rule: str,
    channel: str,
    group: dict[str, str],
    standing: tuple[str, ...] = (),
    labels: ButtonLabels = ENGLISH_LABELS,
) -> dict[str, Any]:
    """The Block Kit `actions` block with the three buttons, for a message posted to `channel` that shows alert
    `alert_id` (and stands for the alerts `standing` too: a thread's first message, showing the thread's state)."""
    value = button_value(alert_id, rule, channel, group, standing)
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK_ID,
        "elements": [
            {
                "type": "button",
                "action_id": ACK_ACTION,
                "text": {"type": "plain_text", "text": labels.ack},
                "style": "primary",
                "value": value,
            },
            {
                "type": "button",
                "action_id": SILENCE_ACTION,
                "text": {"type": "plain_text", "text": labels.silence},
                "value": value,
            },
            {
                "type": "button",
                "action_id": UNSUBSCRIBE_ACTION,
                "text": {"type": "plain_text", "text": labels.unsubscribe},
                "value": value,
                "confirm": {
                    "title": {"type": "plain_text", "text": labels.unsubscribe_title},
                    "text": {"type": "plain_text", "text": labels.unsubscribe_text},
                    "confirm": {"type": "plain_text", "text": labels.unsubscribe},
                    "deny": {"type": "plain_text", "text": labels.cancel},
                },
            },
        ],
    }
