"""What the three alert buttons do, without Slack: record the click in the control log and say what happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, timedelta
from typing import Any

from pydantic import ValidationError

from watchfloor.schemas.control import Actor, AlertAcknowledged
from watchfloor.schemas.events import Detection, EventType
from watchfloor.stream_processors.ports import EventLog

from ..notifiers.slack import escape
from .buttons import ACK_ACTION, ACTIONS_BLOCK_ID, SILENCE_FOR_HOURS, ButtonValue
from .commands import Announce, AppContext, announced, unsubscribe, who

ACK_BLOCK_ID = "wf_acknowledged"


def acknowledge(
    ctx: AppContext, value: ButtonValue, actor: Actor, slack_channel: str | None, message_ts: str | None
) -> tuple[AlertAcknowledged, bool]:
    return ctx.control.acknowledge(
        value.alert_id, by=actor, channel=value.channel, slack_channel=slack_channel, message_ts=message_ts
    )


def ack_line(ack: AlertAcknowledged) -> str:
    return f":white_check_mark: Acknowledged by {who(ack.by)} at {ack.at.astimezone(UTC):%Y-%m-%d %H:%M UTC}"


def acknowledged_blocks(blocks: Sequence[Mapping[str, Any]], ack: AlertAcknowledged) -> list[dict[str, Any]]:
    """The message's blocks with the Acknowledge button gone and a line saying who acknowledged it and when
    (in place of our buttons block, or at the end). Everything else is kept as Slack sent it."""
    line = {"type": "context", "block_id": ACK_BLOCK_ID, "elements": [{"type": "mrkdwn", "text": ack_line(ack)}]}
    out: list[dict[str, Any]] = []
    placed = False
    for block in blocks:
        if block.get("block_id") == ACK_BLOCK_ID:
            continue  # an older line: replaced
        if block.get("type") == "actions" and block.get("block_id") == ACTIONS_BLOCK_ID:
            out.append(line)
            placed = True
            rest = [e for e in block.get("elements", []) if e.get("action_id") != ACK_ACTION]
            if rest:
                out.append({**block, "elements": rest})
            continue
        out.append(dict(block))
    if not placed:
        out.append(line)
    return out


def alert_detection(log: EventLog, alert_id: str) -> dict[str, Any] | None:
    """The detection of the alert `alert_id` as the log has it, None when the log has no such alert."""
    position = 0
    while True:
        got = log.read(position, types={EventType.ALERT.value}, limit=2000)
        if not got:
            return None
        for se in got:
            if se.event.payload.get("id") == alert_id:
                detection = se.event.payload.get("detection")
                return detection if isinstance(detection, dict) else {}
        position = got[-1].position


def refusal(ctx: AppContext, value: ButtonValue) -> str | None:
    """Why a click cannot be acted on (None: it can). A value comes back inside a signed request but is still
    not trusted: an ack of an alert that never was, or a silence of a rule that does not exist, would be
    recorded as if real."""
    detection = alert_detection(ctx.control.store, value.alert_id)
    if detection is None:
        return f":warning: Alert `{escape(value.alert_id[:80])}` is not in watchfloor's log; nothing was recorded."
    if detection.get("rule") not in (None, value.rule):
        return ":warning: This button does not match its alert in watchfloor's log; nothing was recorded."
    return None


def group_of(log: EventLog, value: ButtonValue) -> dict[str, str]:
    """The alert's group: from the button, else from the alert event in the log ({} when not found)."""
    if value.group is not None:
        return value.group
    group = (alert_detection(log, value.alert_id) or {}).get("group") or {}
    return {str(k): str(v) for k, v in group.items()}


def silence(ctx: AppContext, value: ButtonValue, actor: Actor, *, announce: Announce | None = None) -> str:
    """Silence the alert's rule and group in the channel it was posted to, for 24 hours; once: a second click
    while that silence holds says so, as a second Acknowledge does, in whichever app process it arrives (the
    silence's id is computed from the rule, group, channel and the silences of them so far, not from the click:
    two clicks at once record one silence; see ControlLog.plan_button_silence). A new silence is also said in the
    channel (`announce`), as the command's is."""
    refused = refusal(ctx, value)
    if refused:
        return refused
    if value.rule not in ctx.rules:
        return f":warning: Unknown rule `{escape(value.rule[:80])}`: nothing was silenced."
    group = group_of(ctx.control.store, value)
    what = f"`{escape(value.rule)}`" + (f" ({ctx.group_text(group)})" if group else "")
    s, new = ctx.control.button_silence(
        value.rule,
        group=group,
        channel=value.channel,
        duration=timedelta(hours=SILENCE_FOR_HOURS),
        by=actor,
        reason=f"Silence button on alert {value.alert_id}",
    )
    if not new:
        return (
            f":mute: {what} is already silenced in this channel until "
            f"{s.ends_at.astimezone(UTC):%Y-%m-%d %H:%M UTC}, by {who(s.by)}. (`{s.id}`)"
        )
    until = f"{s.ends_at.astimezone(UTC):%Y-%m-%d %H:%M UTC}"
    public = (
        f":mute: {who(actor)} silenced {what} in this channel for {SILENCE_FOR_HOURS}h, until {until} (the "
        f"*Silence {SILENCE_FOR_HOURS}h* button on an alert). (`{s.id}`; `{ctx.command} unsilence {s.id}` ends it)"
    )
    reply = (
        f":mute: Silenced {what} in this channel for {SILENCE_FOR_HOURS}h, until "
        f"{until}. (`{s.id}`; `{ctx.command} unsilence {s.id}` ends it)"
    )
    return reply + announced(announce, public)


def unsubscribe_click(ctx: AppContext, value: ButtonValue, actor: Actor) -> str:
    """Unsubscribe the channel the alert was posted for from the alert's rule; the reply names the channel's
    other subscriptions that still deliver this alert (routing's own match on the alert as the log has it)."""
    refused = refusal(ctx, value)
    if refused:
        return refused
    detection = alert_detection(ctx.control.store, value.alert_id) or {}
    try:
        det: Detection | None = Detection.model_validate(detection)
    except ValidationError:
        det = None  # an alert this version cannot read: the rule's own tags and severity are used
    return unsubscribe(ctx, [value.channel], value.rule, actor, detection=det)
