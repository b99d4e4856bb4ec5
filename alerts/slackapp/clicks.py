"""What the three alert buttons do, without Slack: record the click in the control log and say what happened."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from watchfloor.schemas.control import Actor, AlertAcknowledged
from watchfloor.schemas.events import Detection, EventType
from watchfloor.stream_processors.ports import DeliveryLedger, EventLog

from ..notice import ThreadState
from ..notifiers.slack import escape
from ..notifiers.slack_blocks import when_text
from ..notifiers.wording import ENGLISH, Wording
from ..story_acks import acknowledge_each, channel_story, ledger_thread
from .buttons import ACK_ACTION, ACTIONS_BLOCK_ID, SILENCE_FOR_HOURS, ButtonValue
from .commands import Announce, AppContext, announced, unsubscribe, who

ACK_BLOCK_ID = "wf_acknowledged"


@dataclass(frozen=True)
class AckClick:
    """What an Acknowledge click recorded. `record`: the acknowledgement of the alert the message shows (the
    button's, or, on a thread's first message drawn before buttons said what it stands for, the thread's newest
    standing alert), `new` whether the click made it; `taken`: the other alerts the message stands for that the click
    acknowledged with it (the thread's earlier standing alerts); `drawn_for`: the alert the button named when the
    click acknowledged another (what the message shows now); `newer`: a newer alert of the thread that came after the
    message was drawn, left unacknowledged (the reader never saw it)."""

    record: AlertAcknowledged
    new: bool
    taken: tuple[AlertAcknowledged, ...] = ()
    drawn_for: str | None = None
    newer: str | None = None
    severities: Mapping[str, str] = field(default_factory=dict)  # alert id -> severity label, for the reply
    stale: bool = False  # the message was drawn for other alerts than the thread stands on now: not written back
    # The first message of a story of several groups (`thread_by`): the other groups' standing alerts of the story
    # that the click did not take and that are not acknowledged in the channel (outside trial 79, F1: the reply said
    # nothing of them), and the story's first alert (what `alerts ack --story` is named by)
    left: tuple[str, ...] = ()
    story: str = ""


def _ledger(ctx: AppContext) -> DeliveryLedger | None:
    store = ctx.control.store
    return store if isinstance(store, DeliveryLedger) else None


def message_thread(
    ctx: AppContext, value: ButtonValue, slack_channel: str | None, message_ts: str | None
) -> ThreadState | None:
    """The state of the thread whose first message was clicked (from the delivery ledger of the store the app
    shares with the dispatcher), None when the click was on another message or the ledger cannot say."""
    ledger = _ledger(ctx)
    if ledger is None or not slack_channel or not message_ts:
        return None
    _, state = ledger_thread(ledger, value.alert_id, value.channel)
    if state is None or state.first.ref != f"{slack_channel}:{message_ts}":
        return None
    return state


def acknowledge(
    ctx: AppContext,
    value: ButtonValue,
    actor: Actor,
    slack_channel: str | None,
    message_ts: str | None,
    message: Mapping[str, Any] | None = None,
) -> AckClick:
    """Record the acknowledgements of an Acknowledge click: of the alert the message shows, and of the other alerts it
    stands for (a thread's first message, showing the thread's state: its earlier standing alerts), each an
    `alert.acknowledged` event of its own (idempotent: the first per alert and channel counts).

    What the value names is not trusted beyond what the ledger says the clicked message stands for (review 26): the
    other alerts it names are taken only when they are the thread's standing alerts now (not another thread's or
    channel's, not one withdrawn since); with no thread read from the ledger, only the button's own alert. A button
    drawn before buttons said what the message stands for acknowledges the thread's newest standing alert when the
    clicked message (`message`, as the client sent it) shows that alert's state, else only its own alert, the newer one
    said. A message drawn for another set of alerts than the thread stands on now (a newer alert came, one was
    withdrawn) is not written back over the newer rendering (`stale`)."""
    shown = value.alert_id
    others: list[str] = []
    drawn_for: str | None = None
    newer: str | None = None
    stale = False
    state = message_thread(ctx, value, slack_channel, message_ts)
    if state is not None and state.newest is not None:
        newest = state.newest
        now_ids = [a.id for a in state.standing]
        if value.standing is None:  # drawn before buttons said (or the list did not fit Slack's limit)
            if newest.id != value.alert_id:
                if _shows_state(message, newest):
                    drawn_for, shown = value.alert_id, newest.id
                else:
                    newer, stale = newest.id, True
            if shown == newest.id:
                others = [i for i in now_ids if i != shown]
        else:
            drawn = {value.alert_id, *value.standing}
            others = [i for i in dict.fromkeys(value.standing) if i in now_ids and i != shown]
            if newest.id not in drawn:
                newer = newest.id
            stale = drawn != set(now_ids)
    left, story = _story_left(ctx, value, state) if state is not None else ((), "")
    detections = alert_detections(ctx.control.store, {shown, *others, *([newer] if newer else []), *left})
    severities = {i: severity_word(d) for i, d in detections.items()}
    # (an alert the log has not of this rule: nothing is recorded for it)
    also = [i for i in others if (detections.get(i) or {}).get("rule") == value.rule]
    # (the same recording as `alerts ack --story`: story_acks)
    (record, new), *rest = acknowledge_each(
        ctx.control, [shown, *also], by=actor, channel=value.channel, slack_channel=slack_channel, message_ts=message_ts
    )
    taken = [ack for ack, fresh in rest if fresh]
    return AckClick(record, new, tuple(taken), drawn_for, newer, severities, stale, left, story)


def _story_left(ctx: AppContext, value: ButtonValue, state: ThreadState) -> tuple[tuple[str, ...], str]:
    """Of a click on the first message of a story of several groups (`thread_by`), the other groups' alerts that
    stand in the story and are not acknowledged in the button's channel (the click takes its own group's only: the
    other groups' messages have their own buttons), and the story's first alert's id; ((), "") for any other thread."""
    ledger = _ledger(ctx)
    if ledger is None:
        return (), ""
    rows, _ = ledger_thread(ledger, state.first.alert_id, value.channel)
    story = channel_story(rows, state.first.alert_id)
    if story is None or len(story.threads) < 2 or story.first.alert_id != state.first.alert_id:
        return (), ""
    mine = {a.id for a in state.standing}
    left = [
        a.id
        for group in story.threads[1:]
        for a in group.standing
        if a.id not in mine and not any(k.channel in (None, value.channel) for k in ctx.control.acknowledgements(a.id))
    ]
    return tuple(dict.fromkeys(left)), state.first_id


def _shows_state(message: Mapping[str, Any] | None, alert: Any) -> bool:
    """Whether the clicked message (as the client sent it) shows a thread's state as of `alert`: it reads "now
    SEVERITY" with that alert's severity and confirmation (a button drawn before buttons said what it stands for)."""
    if not isinstance(message, Mapping):
        return False
    from ..notifiers.slack_blocks import severity_label

    det = alert.detection
    label = "now " + severity_label(det.severity, det.confidence)
    try:
        text = json.dumps(message.get("blocks") or [], ensure_ascii=False)
    except (TypeError, ValueError):
        return False
    return label in text


def severity_word(detection: Mapping[str, Any]) -> str:
    severity = str(detection.get("severity") or "?").upper()
    return severity + (" unconfirmed" if detection.get("confidence") == "unconfirmed" else "")


def ack_said(click: AckClick) -> str:
    """What a click did beyond its own alert, for the clicker's reply ("" when it acknowledged just that alert)."""
    if not (click.taken or click.drawn_for or click.newer or click.stale or click.left):
        return ""

    def named(alert_id: str) -> str:
        severity = click.severities.get(alert_id)
        return f"`{escape(alert_id[:80])}`" + (f" ({escape(severity)})" if severity else "")

    shown = click.record.alert_id
    done = "Acknowledged" if click.new else f"Already acknowledged by {who(click.record.by)}"
    text = f":white_check_mark: {done}: alert {named(shown)}, which this message shows"
    if click.taken:
        text += f", and the thread's earlier alert{'s' if len(click.taken) > 1 else ''} "
        text += ", ".join(named(a.alert_id) for a in click.taken) + " with it"
    text += "."
    if click.drawn_for:
        text += (
            f" (This message's button was drawn for alert {named(click.drawn_for)}, the thread's first, before the "
            "message showed the thread's state.)"
        )
    if click.stale and not click.newer:
        text += (
            "\n(This message was redrawn after your Slack loaded it: it shows the acknowledgement once watchfloor "
            "next updates it.)"
        )
    if click.newer:
        text += (
            f"\n:warning: Alert {named(click.newer)} came in this thread after this message was drawn and is *not* "
            "acknowledged: the message shows it now, with its own Acknowledge button."
        )
    if click.left:
        many = len(click.left) > 1
        text += (
            f"\n:warning: This story's other group{'s' if many else ''} {'are' if many else 'is'} *not* acknowledged: "
            f"alert{'s' if many else ''} {', '.join(named(a) for a in click.left)} (each on its own message in this "
            f"thread, with its own button). `watchfloor alerts ack --story {escape(click.story[:80])}` takes the whole "
            "story."
        )
    return text


def ack_line(ack: AlertAcknowledged, words: Wording = ENGLISH) -> str:
    """Who acknowledged the alert and when, in `words`, with the note they gave (`alerts ack --note`: trial 62, L4,
    written and never shown)."""
    said = words.text("acknowledged", who=who(ack.by), when=when_text(ack.at))
    return said + (words.text("ack_note", note=escape(" ".join(ack.note.split())[:300])) if ack.note else "")


def acknowledged_blocks(
    blocks: Sequence[Mapping[str, Any]], ack: AlertAcknowledged, words: Wording = ENGLISH
) -> list[dict[str, Any]]:
    """The message's blocks with the Acknowledge button gone and a line saying who acknowledged it and when
    (in place of our buttons block, or at the end). Everything else is kept as Slack sent it, but the line above the
    button that said what it had not taken yet ("… is not acknowledged yet"), which it has now."""
    from ..notifiers.slack_blocks import EARLIER_ACKS_BLOCK_ID

    line = {"type": "context", "block_id": ACK_BLOCK_ID, "elements": [{"type": "mrkdwn", "text": ack_line(ack, words)}]}
    out: list[dict[str, Any]] = []
    placed = False
    for block in blocks:
        if block.get("block_id") in (ACK_BLOCK_ID, EARLIER_ACKS_BLOCK_ID):
            continue  # an older line: replaced; what was not taken yet: taken now
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


def alert_detections(log: EventLog, alert_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The detections of the alerts `alert_ids` as the log has them (one read of its alerts); those not found are
    left out."""
    out: dict[str, dict[str, Any]] = {}
    position = 0
    while len(out) < len(set(alert_ids)):
        got = log.read(position, types={EventType.ALERT.value}, limit=2000)
        if not got:
            break
        for se in got:
            alert_id = se.event.payload.get("id")
            if isinstance(alert_id, str) and alert_id in alert_ids and alert_id not in out:
                detection = se.event.payload.get("detection")
                out[alert_id] = detection if isinstance(detection, dict) else {}
        position = got[-1].position
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
    # (the group as the alert's Group field and a `group=` silence show it: trial 62, M3, `(place=Суджа)`)
    what = f"`{escape(value.rule)}`" + (f" ({ctx.group_shown(group)})" if group else "")
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
            f"{when_text(s.ends_at)}, by {who(s.by)}. (`{s.id}`)"
        )
    until = when_text(s.ends_at)
    said = ctx.words([value.channel])  # said in the channel for everyone: in its language, naming its button
    public = said.text(
        "silenced_by_button",
        who=who(actor),
        what=what,
        hours=SILENCE_FOR_HOURS,
        until=until,
        button=said.text("silence", hours=SILENCE_FOR_HOURS),
        ends=said.text("silence_ends", id=s.id, command=ctx.command),
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
