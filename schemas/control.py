"""Control events: subscriptions, silences, acknowledgements and digests, appended to the log like any fact.

Routing is a projection of these events (alerts.control), so a subscription typed in Slack or on the command
line reaches the dispatcher on its next cycle without a restart, and the log says who changed what and when.
Event ids are deterministic (the subscription or silence id plus a generation or the alert and channel), so
two processes recording the same change at once (e.g. a `run` and a `serve` reconciling the config at start)
leave one event in the log.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .events import Event, Severity, stable_id
from .rules import Duration


class ControlType(StrEnum):
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_REMOVED = "subscription.removed"
    SILENCE_CREATED = "silence.created"
    SILENCE_EXPIRED = "silence.expired"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    DIGEST_SENT = "digest.sent"
    SLACK_EVENT_HANDLED = "slack.event.handled"


CONTROL_TYPES = frozenset(t.value for t in ControlType)

Via = Literal["config", "slack", "cli", "system"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Frozen):
    """Who made a change: a Slack user (id and name), a CLI user, the config file, or watchfloor itself."""

    via: Via
    user: str | None = None  # Slack user id, or the login name on the CLI
    name: str | None = None  # display name, when known

    def label(self) -> str:
        if self.via == "config":
            return "config file"
        who = self.name or self.user or "?"
        return f"{who} (via {self.via})" if self.via != "system" else "watchfloor"


CONFIG_ACTOR = Actor(via="config")
SYSTEM_ACTOR = Actor(via="system")

_DIGEST = re.compile(r"^daily\s+([01]?\d|2[0-3]):([0-5]\d)(?:\s+(\S+))?$")


class DigestSchedule(_Frozen):
    """`daily HH:MM [Area/City]`: one digest message a day at that local time (UTC when no zone is given)."""

    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)
    zone: str = "UTC"

    @classmethod
    def parse(cls, text: str) -> DigestSchedule:
        m = _DIGEST.match(" ".join(text.split()))
        zone = (m.group(3) if m else None) or "UTC"
        if not m or not known_zone(zone):
            named = f" {text!r}" if len(text.split()) > 1 else ""  # a lone word is named by its problem
            problems = digest_problems(text) or ["write 'daily HH:MM [Area/City]', e.g. 'daily 08:00 Europe/London'"]
            raise ValueError(f"bad digest{named}: " + "; ".join(problems))
        return cls(hour=int(m.group(1)), minute=int(m.group(2)), zone=zone)

    def __str__(self) -> str:
        return f"daily {self.hour:02d}:{self.minute:02d} {self.zone}"

    def last_slot(self, now: datetime) -> datetime:
        """The latest scheduled time at or before `now` (aware; in the schedule's zone)."""
        tz = ZoneInfo(self.zone)
        local = now.astimezone(tz)
        slot = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if slot > local:
            # Step back a calendar day in local time (a day may be 23 or 25 hours around DST changes).
            prev = (local - timedelta(days=1)).date()
            slot = datetime(prev.year, prev.month, prev.day, self.hour, self.minute, tzinfo=tz)
        return slot


_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def digest_problems(spec: str, quote: Callable[[str], str] = repr) -> list[str]:
    """What is wrong with a digest schedule, each wrong word named (by `quote`: the CLI's 'word', the Slack app's
    `word`); [] when `spec` is one. Shared, so the CLI and Slack say the same thing."""
    words = spec.split()
    example = f"write {quote('daily HH:MM [Area/City]')}, e.g. {quote('daily 08:00 Europe/London')}"
    if not words:
        return [f"no schedule: {example}"]
    if words[0].lower() == "daily" and words[0] != "daily":
        return [f"{quote(words[0])}: write it {quote('daily')}, in lower case"]
    if words[0] != "daily":
        return [f"{quote(words[0])}: only daily digests: {example}"]
    problems = []
    if len(words) < 2:
        problems.append(f"no time: {example}")
    elif not _TIME.match(words[1]):
        problems.append(f"{quote(words[1])}: a time HH:MM, from 00:00 to 23:59")
    if len(words) >= 3 and not known_zone(words[2]):
        problems.append(f"unknown time zone {quote(words[2])}: an IANA time zone such as Europe/London")
    if len(words) > 3:
        problems.append(f"{quote(' '.join(words[3:]))}: nothing comes after the time zone")
    return problems


# The names of UTC itself (tzdata's links to Etc/UTC, and the zero-offset Etc/GMT zones): one zone, whose names
# differ only in the abbreviation they show
_UTC_NAMES = frozenset(
    z.casefold()
    for z in (
        "UTC", "UCT", "Zulu", "Universal", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Etc/UTC", "Etc/UCT",
        "Etc/Zulu", "Etc/Universal", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "Etc/Greenwich",
    )
)  # fmt: skip


def same_zone(a: str, b: str) -> bool:
    """Whether two time zone names keep the same time: one name, two names of UTC (`UTC`, `Etc/UTC`, `GMT`, `Zulu`,
    …), or two zones whose offsets agree every 6 hours from 2015 to 2040 (tzdata's links: `Asia/Calcutta` and
    `Asia/Kolkata`), which is what a digest's daily slot depends on."""
    if a == b or (a.casefold() in _UTC_NAMES and b.casefold() in _UTC_NAMES):
        return True
    return _same_offsets(*sorted((a, b)))


@functools.lru_cache(maxsize=256)
def _same_offsets(a: str, b: str) -> bool:
    try:
        za, zb = ZoneInfo(a), ZoneInfo(b)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    at = datetime(2015, 1, 1, tzinfo=UTC)
    while at.year < 2040:
        if at.astimezone(za).utcoffset() != at.astimezone(zb).utcoffset():
            return False
        at += timedelta(hours=6)
    return True


def same_digest(a: str | None, b: str | None) -> bool:
    """Whether two digest schedules send at the same moments (`daily 23:53 UTC` and `daily 23:53 Etc/UTC`, `daily
    8:00` and `daily 08:00 UTC`): one digest, not two identical ones (trial L4). Not schedules: compared as given."""
    if a is None or b is None:
        return a == b
    try:
        x, y = DigestSchedule.parse(a), DigestSchedule.parse(b)
    except ValueError:
        return a == b
    return (x.hour, x.minute) == (y.hour, y.minute) and same_zone(x.zone, y.zone)


def check_digest(value: str | None) -> str | None:
    """A digest spec normalised (`daily 08:00 Europe/London`), or ValueError."""
    return None if value is None else str(DigestSchedule.parse(value))


def fold(text: str) -> str:
    """How a `where` key or value compares: Unicode NFKC, case folded, runs of whitespace one space, trimmed
    (`Kursk  oblast`, `KURSK OBLAST` and a full-width `Ｋｕｒｓｋ Oblast` are one value)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


WHERE_ANY_KEY = "*"  # a `where` key: the value under any group key or attribute, like a silence's '*'


def _where_key(key: str) -> str:
    key = " ".join(key.split())
    if not key:
        raise ValueError("where: an empty key; write a group or capture name (place, party, …) or * for any")
    return key


def _where_value(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("where: an empty value; write an entity id or name (KURSK, Kursk) or a source name")
    return value


def _one_or_many(value: Any) -> Any:
    # `place: Kursk` is the list of that one value; `place:` (null) is no value at all, refused after this.
    if isinstance(value, str):
        return (value,)
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (str(value),)  # YAML reads `code: 38` as a number; it is compared as text
    raise ValueError("where: a value, or a list of values (any of them), for each key")


def _some(values: tuple[str, ...]) -> tuple[str, ...]:
    if not values:
        raise ValueError("where: a key with no value; give one value, or a list of values (any of them)")
    return values


WhereValues = Annotated[
    tuple[Annotated[str, AfterValidator(_where_value)], ...],
    BeforeValidator(_one_or_many),
    AfterValidator(_some),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ]
        }
    ),
]
Where = dict[Annotated[str, AfterValidator(_where_key)], WhereValues]
"""A subscription's `where`: key -> the values it may have (any of them); every key must hold (alerts.routing)."""


def where_text(where: Mapping[str, Sequence[str]]) -> str:
    """`where` as it is typed: `place=Kursk party=PRK`, a repeated key for each further value, `"…"` around a
    value with spaces; a value under any key bare (`RUS`), as a silence's group is typed."""
    words = []
    for key, values in where.items():
        for v in values:
            shown = f'"{v}"' if any(c.isspace() for c in v) else v
            words.append(shown if key == WHERE_ANY_KEY else f"{key}={shown}")
    return " ".join(words)


def where_id_part(where: Mapping[str, Sequence[str]]) -> str:
    """The `where` clause in a subscription id: folded and sorted, so the same filter however it is spelt or
    ordered is the same subscription."""
    keys: dict[str, set[str]] = {}
    for key, values in where.items():
        keys.setdefault(fold(key), set()).update(fold(v) for v in values)
    return "where=" + ";".join(f"{k}:{','.join(sorted(vs))}" for k, vs in sorted(keys.items()))


class SubscriptionCreated(_Frozen):
    """Channel `channel` gets alerts of `rules` (or '*') with any of `tags`, at or above `min_severity`.

    With `digest`, the channel gets one message per scheduled slot listing those alerts instead of one
    message per alert. `managed_by: config` subscriptions mirror the config file and change only with it."""

    id: str
    channel: str  # routing channel: a configured channel name, or `slack:<channel id>`
    # For people only, never routes: the Slack channel's name as the command typed there gave it ("kursk-desk"), so
    # lists and summaries can say `slack:C… (#kursk-desk)` (trial 29, F6); None from the CLI, config and older events.
    channel_name: str | None = None
    rules: tuple[str, ...] = ("*",)
    tags: tuple[str, ...] = ()
    min_severity: Severity = "low"
    digest: str | None = None
    max_age: Duration | None = None  # older alerts start no thread here (config.Subscription.max_age)
    # Only alerts carrying these group or attribute values (config.Subscription.where). Events written before it
    # existed have none: every alert of the rules, as then.
    where: Where = Field(default_factory=dict)
    managed_by: Via
    by: Actor
    at: AwareDatetime

    @field_validator("digest")
    @classmethod
    def _digest(cls, v: str | None) -> str | None:
        return check_digest(v)

    @model_validator(mode="after")
    def _max_age_not_with_digest(self) -> SubscriptionCreated:
        check_max_age(self.digest, self.max_age)
        return self


class SubscriptionRemoved(_Frozen):
    id: str
    by: Actor
    at: AwareDatetime
    reason: str = ""


class Silence(_Frozen):
    """Alerts of `rule` ('*': any) whose group matches `group` are not sent to `channel` (None: any channel)
    between `starts_at` and `ends_at`; they are recorded as suppressed with this silence's id instead.

    `group` maps a group key to a value; the key '*' matches a value under any key (`group=RUS` typed in
    Slack matches `{party: RUS}` and `{country: RUS}`)."""

    id: str
    rule: str
    group: dict[str, str] = Field(default_factory=dict)
    channel: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = ""
    by: Actor

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class SilenceExpired(_Frozen):
    """A silence ended: before its time (`watchfloor silences remove`, `/watchfloor unsilence`; `at` is then), or
    when its end passed (recorded once by whichever watchfloor process saw it first; `by` watchfloor, `at` its
    end). One per silence: the event id is the silence's."""

    id: str
    by: Actor
    at: AwareDatetime
    reason: str = ""


class AlertAcknowledged(_Frozen):
    """Someone took an alert: who, when, and which message they clicked."""

    alert_id: str
    channel: str | None = None  # routing channel, when known
    slack_channel: str | None = None
    message_ts: str | None = None
    by: Actor
    at: AwareDatetime
    note: str = ""  # `watchfloor alerts ack --note`: what the person is doing about it


class DigestSent(_Frozen):
    """One digest message: the alerts of a subscription raised in log positions (after, through]."""

    id: str  # deterministic: subscription id + slot
    subscription_id: str
    channel: str
    slot: AwareDatetime
    after_position: int
    through_position: int
    alert_ids: tuple[str, ...] = ()
    status: Literal["sent", "failed"] = "sent"
    detail: str = ""
    at: AwareDatetime


class SlackEventHandled(_Frozen):
    """The Slack app took an Events API delivery (`event_id`) to answer it. Appended before the answer, under an id
    made of the event id: Slack sends an event again (X-Slack-Retry-Num) when the first delivery was not answered
    within 3 s, perhaps to another app process or after a restart, and the append of the retry adds nothing."""

    event_id: str
    event_type: str  # app_mention, ...
    channel: str | None = None
    user: str | None = None
    at: AwareDatetime


def check_max_age(digest: str | None, max_age: timedelta | None) -> None:
    """A digest lists what came since the last one, whatever its age: an age limit would be silently ignored."""
    if digest is not None and max_age is not None:
        raise ValueError(
            "max_age applies to alerts sent one by one, not to a digest (which lists every alert since the last)"
        )


def subscription_id(
    channel: str,
    rules: tuple[str, ...],
    tags: tuple[str, ...],
    min_severity: str,
    digest: str | None,
    max_age: timedelta | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The same subscription always has the same id, whoever makes it: subscribing twice is a no-op. (A
    `max_age` and a `where` are part of it only when set: the ids of subscriptions made before they existed
    stay the same.)"""
    parts = [channel, ",".join(sorted(rules)), ",".join(sorted(tags)), min_severity, digest or ""]
    if max_age is not None:
        parts.append(f"max_age={int(max_age.total_seconds())}s")
    if where:
        parts.append(where_id_part(where))
    return "sub-" + stable_id(*parts, length=10)


def silence_id(rule: str, group: dict[str, str], channel: str | None, starts_at: datetime, by: Actor) -> str:
    parts = [f"{k}={v}" for k, v in sorted(group.items())]
    return "sil-" + stable_id(rule, *parts, channel or "", starts_at.isoformat(), by.via, by.user or "", length=10)


def button_silence_id(rule: str, group: dict[str, str], channel: str | None, generation: int) -> str:
    """The silence the Silence button makes for an alert's rule, group and channel: the same for every click that
    sees the same silences (`generation`: how many silences of that rule, group and channel the log holds), in
    whichever app process, so two clicks at once leave one silence (the store keeps the first event of an id)."""
    parts = [f"{k}={v}" for k, v in sorted(group.items())]
    return "sil-" + stable_id("button", rule, *parts, channel or "", str(generation), length=10)


def subscription_created_event(sub: SubscriptionCreated, generation: int) -> Event:
    """`generation` counts earlier removals of this id, so re-creating after a removal is a new event."""
    return Event(
        id=stable_id(ControlType.SUBSCRIPTION_CREATED.value, sub.id, str(generation)),
        type=ControlType.SUBSCRIPTION_CREATED.value,
        time=sub.at,
        key=sub.channel,
        payload=sub.model_dump(mode="json"),
    )


def subscription_removed_event(rem: SubscriptionRemoved, generation: int) -> Event:
    return Event(
        id=stable_id(ControlType.SUBSCRIPTION_REMOVED.value, rem.id, str(generation)),
        type=ControlType.SUBSCRIPTION_REMOVED.value,
        time=rem.at,
        payload=rem.model_dump(mode="json"),
    )


def silence_created_event(s: Silence) -> Event:
    return Event(
        id=stable_id(ControlType.SILENCE_CREATED.value, s.id),
        type=ControlType.SILENCE_CREATED.value,
        time=s.starts_at,
        key=s.rule,
        payload=s.model_dump(mode="json"),
    )


def silence_expired_event(e: SilenceExpired) -> Event:
    return Event(
        id=stable_id(ControlType.SILENCE_EXPIRED.value, e.id),
        type=ControlType.SILENCE_EXPIRED.value,
        time=e.at,
        payload=e.model_dump(mode="json"),
    )


def alert_acknowledged_event(a: AlertAcknowledged, raising: str | None = None) -> Event:
    """One acknowledgement per alert and channel: the first click counts, later ones are the same event. `raising`: the
    delivery key of the alert's raising it takes, when the alert was raised more than once (reinstated: raised again
    with its own id by a later change of its group's history), which is acknowledged anew (alerts.control); None
    keeps the id an alert raised once always had."""
    parts = [ControlType.ALERT_ACKNOWLEDGED.value, a.alert_id, a.channel or a.slack_channel or ""]
    return Event(
        id=stable_id(*parts, *([raising] if raising else [])),
        type=ControlType.ALERT_ACKNOWLEDGED.value,
        time=a.at,
        key=a.alert_id,
        # Without a note, the payload an older version reads (its model forbids keys it does not know).
        payload=a.model_dump(mode="json", exclude=None if a.note else {"note"}),
    )


def slack_event_handled_event(h: SlackEventHandled) -> Event:
    """One per Slack event id: a retry of the event, in any app process, is the same event."""
    return Event(
        id=stable_id(ControlType.SLACK_EVENT_HANDLED.value, h.event_id),
        type=ControlType.SLACK_EVENT_HANDLED.value,
        time=h.at,
        key=h.event_id,
        payload=h.model_dump(mode="json"),
    )


SLACK_REQUEST_TAKEN = "slack.request.taken"
"""The Slack app took a signed request (a command, a click, an event): its replay guard, across `serve` processes
and restarts. Not a control type (CONTROL_TYPES): the control log's state never reads these, they change nothing."""


def slack_request_taken_event(digest: str, at: datetime) -> Event:
    """One per signed request, under an id made of a digest of its signature: the same signed bytes again (a replay,
    to any process on the store, before or after a restart) are the same event, and their append adds nothing."""
    return Event(
        id=stable_id(SLACK_REQUEST_TAKEN, digest),
        type=SLACK_REQUEST_TAKEN,
        time=at,
        key=digest,
        payload={"digest": digest},
    )


def digest_sent_event(d: DigestSent) -> Event:
    return Event(
        id=stable_id(ControlType.DIGEST_SENT.value, d.id, d.status),
        type=ControlType.DIGEST_SENT.value,
        time=d.at,
        key=d.subscription_id,
        payload=d.model_dump(mode="json"),
    )
