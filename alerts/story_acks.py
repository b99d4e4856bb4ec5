"""What an acknowledgement of a thread or a story takes: the alerts a channel's thread stands on now (the Acknowledge
button on its first message) or every group's thread of a story (a rule's `thread_by`: `alerts ack --story`), read
from the delivery ledger, each acknowledged as an `alert.acknowledged` event of its own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from watchfloor.schemas.control import Actor, AlertAcknowledged
from watchfloor.schemas.events import Alert
from watchfloor.stream_processors.ports import DeliveryLedger, DeliveryRecord

from .control import ControlLog
from .notice import REPLACEABLE, ThreadState, alert_of, story_root_of, thread_of, thread_state


@dataclass(frozen=True)
class ChannelStory:
    """A story as one channel was told it: the thread of each of its groups there (ThreadState), the story's first
    message's first (one thread without `thread_by`; with it, each other group's alert posted in the story's thread
    as a new alert of it starts its group's own)."""

    channel: str
    threads: tuple[ThreadState, ...]

    @property
    def first(self) -> DeliveryRecord:
        """The row of the story's first message in the channel."""
        return self.threads[0].first

    @property
    def standing(self) -> tuple[Alert, ...]:
        """The alerts the story stands on in the channel now: each group thread's standing alerts, each alert once."""
        seen: dict[str, Alert] = {}
        for state in self.threads:
            for alert in state.standing:
                seen.setdefault(alert.id, alert)
        return tuple(seen.values())


def ledger_thread(ledger: DeliveryLedger, key: str, channel: str) -> tuple[list[DeliveryRecord], ThreadState | None]:
    """The rows of `channel` under the thread key of the row keyed `key` (its delivery key) and the state of the
    thread that row is in; ([], None) when the channel has no such row."""
    found = ledger.deliveries(alert_ids={key}, channel=channel)
    if not found:
        return [], None
    rows = ledger.deliveries(channel=channel, thread_key=found[0].thread_key)
    return rows, thread_state(rows, found[0].alert_id)


def channel_story(rows: Sequence[DeliveryRecord], key: str) -> ChannelStory | None:
    """The story that the row keyed `key` is in, among `rows` (its channel's rows of its thread key): the thread it is
    in, and, for a story of several groups (`thread_by`), the thread of the story's first alert and of every other
    group's alert posted in the story's thread (`story_root`). None when its thread's first row is not among them."""
    state = thread_state(rows, key)
    if state is None:
        return None
    root = story_root_of(state.first) or state.first.alert_id
    roots = [root, *(r.alert_id for r in rows if r.kind == "alert" and story_root_of(r) == root)]
    threads: list[ThreadState] = []
    for one in dict.fromkeys(roots):
        group = state if one == state.first.alert_id else thread_state(rows, one)
        if group is not None and group.first.alert_id == one:
            threads.append(group)
    return ChannelStory(state.first.channel, tuple(threads)) if threads else None


def story_alert_ids(rows: Sequence[DeliveryRecord], story: ChannelStory) -> list[str]:
    """Every alert of `story` its channel was told (each group's thread, withdrawn or not), by alert id, in the order
    of `rows` (the channel's rows of the story's thread key): what `alerts list --story` lists."""
    ids: dict[str, None] = {}
    for state in story.threads:
        for r in thread_of(rows, state.first.alert_id):
            if r.kind in REPLACEABLE and (a := alert_of(r.payload)) is not None:
                ids.setdefault(a.id)
    return list(ids)


def stories_of(ledger: DeliveryLedger, rows: Iterable[DeliveryRecord]) -> dict[str, str]:
    """Of `rows` (alerts' rows in the ledger), those told in a story of several groups (`thread_by`) -> the alert id
    of the story's first alert (its thread's first message), the story's own first alert included: what `alerts list
    --json` says as `story` on each of them (outside trial 79, F1: only other groups' first alerts said it)."""
    read: dict[tuple[str, str], list[DeliveryRecord]] = {}  # (channel, thread key) -> its rows, read once
    out: dict[str, str] = {}
    for r in rows:
        if r.kind not in REPLACEABLE or r.alert_id in out:
            continue
        where = (r.channel, r.thread_key)
        if where not in read:
            read[where] = ledger.deliveries(channel=r.channel, thread_key=r.thread_key)
        story = channel_story(read[where], r.alert_id)
        if story is not None and len(story.threads) > 1:
            first = alert_of(story.first.payload)
            out[r.alert_id] = first.id if first is not None else story.first.alert_id
    return out


def acknowledge_each(
    control: ControlLog,
    alert_ids: Iterable[str],
    *,
    by: Actor,
    channel: str | None,
    slack_channel: str | None = None,
    message_ts: str | None = None,
    note: str = "",
) -> list[tuple[AlertAcknowledged, bool]]:
    """Acknowledge each of `alert_ids` (in order, each once) in `channel`, each an `alert.acknowledged` event of its
    own (ControlLog.acknowledge: the first per alert and channel counts): (the acknowledgement that counts, True if
    this call made it), per alert."""
    return [
        control.acknowledge(
            alert_id, by=by, channel=channel, slack_channel=slack_channel, message_ts=message_ts, note=note
        )
        for alert_id in dict.fromkeys(alert_ids)
    ]
