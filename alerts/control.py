"""Subscriptions, silences and acknowledgements as a projection of the log, and the operations that change them.

`ControlState` is a pure fold over control events (schemas.control). `ControlLog` keeps one up to date by
reading only the events appended since its last look, so the dispatcher's routing, the Slack app, the CLI and
the status page, in one process or in several on the same store, all see what the others recorded. Each
operation appends one event with a deterministic id, after reading the log's tail: two processes making the
same change at once leave one event.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import (
    CONFIG_ACTOR,
    CONTROL_TYPES,
    SYSTEM_ACTOR,
    WHERE_ANY_KEY,
    Actor,
    AlertAcknowledged,
    ControlType,
    DigestSent,
    Silence,
    SilenceExpired,
    SlackEventHandled,
    SubscriptionCreated,
    SubscriptionRemoved,
    alert_acknowledged_event,
    button_silence_id,
    same_digest,
    silence_created_event,
    silence_expired_event,
    silence_id,
    slack_event_handled_event,
    slack_request_taken_event,
    subscription_created_event,
    subscription_id,
    subscription_removed_event,
)
from watchfloor.schemas.events import Severity
from watchfloor.schemas.spellings import close_hint
from watchfloor.stream_processors.ports import EventLog, StoredEvent
from watchfloor.stream_processors.vocabulary import SOURCE_KEY, RuleVocabulary

from .routing import RoutingTable

log = logging.getLogger(__name__)

LAPSED = "reached its end"  # the reason of a `silence.expired` that watchfloor records when a silence lapses
# A silence's reason is shown in every Slack `silences` reply and on the status page: unbounded, one paste of a
# document made the page 213 KB. Checked where every silence is made (ControlLog.silence), for Slack and the CLI.
MAX_REASON = 500


@dataclass
class ControlState:
    """What the control events say so far. Mutable, folded in log order by `apply`."""

    position: int = 0
    subscriptions: dict[str, SubscriptionCreated] = field(default_factory=dict)  # active, by id
    removals: dict[str, int] = field(default_factory=dict)  # subscription id -> times removed
    created_at_position: dict[str, int] = field(default_factory=dict)  # active subscription -> its event's position
    silences: dict[str, Silence] = field(default_factory=dict)  # every silence ever made, by id
    expired: dict[str, SilenceExpired] = field(default_factory=dict)  # ended (early, or lapsed), by silence id
    acks: dict[str, list[AlertAcknowledged]] = field(default_factory=dict)  # alert id -> acknowledgements
    # alert id -> the log position of each of its acknowledgements (as `acks`): which raising of the alert each took
    ack_positions: dict[str, list[int]] = field(default_factory=dict)
    digests: dict[str, DigestSent] = field(default_factory=dict)  # subscription id -> last digest sent

    def apply(self, stored: StoredEvent) -> None:
        self.position = max(self.position, stored.position)
        ev = stored.event
        try:
            if ev.type == ControlType.SUBSCRIPTION_CREATED:
                sub = SubscriptionCreated.model_validate(ev.payload)
                if sub.id not in self.subscriptions:  # a second create of an active id changes nothing
                    self.subscriptions[sub.id] = sub
                    self.created_at_position[sub.id] = stored.position
            elif ev.type == ControlType.SUBSCRIPTION_REMOVED:
                rem = SubscriptionRemoved.model_validate(ev.payload)
                if self.subscriptions.pop(rem.id, None) is not None:
                    self.removals[rem.id] = self.removals.get(rem.id, 0) + 1
            elif ev.type == ControlType.SILENCE_CREATED:
                s = Silence.model_validate(ev.payload)
                self.silences.setdefault(s.id, s)
            elif ev.type == ControlType.SILENCE_EXPIRED:
                e = SilenceExpired.model_validate(ev.payload)
                self.expired.setdefault(e.id, e)
            elif ev.type == ControlType.ALERT_ACKNOWLEDGED:
                a = AlertAcknowledged.model_validate(ev.payload)
                self.acks.setdefault(a.alert_id, []).append(a)
                self.ack_positions.setdefault(a.alert_id, []).append(stored.position)
            elif ev.type == ControlType.DIGEST_SENT:
                d = DigestSent.model_validate(ev.payload)
                if d.status == "sent":
                    self.digests[d.subscription_id] = d
        except ValidationError as e:
            # A control event this version cannot read must not stop routing for everyone else.
            log.warning("control: skipping unreadable %s event %s: %s", ev.type, ev.id, e.errors()[0]["msg"])

    # -- queries --

    def acks_between(self, alert_id: str, after: int, before: int | None = None) -> list[AlertAcknowledged]:
        """The acknowledgements of `alert_id` recorded after log position `after` (and before `before`): those of the
        raising of the alert at `after` (up to its next raising at `before`), in the order they were made."""
        return [a for p, a in self.acks_at(alert_id) if p > after and (before is None or p < before)]

    def acks_at(self, alert_id: str) -> list[tuple[int, AlertAcknowledged]]:
        """(log position, acknowledgement) of each acknowledgement of `alert_id`, in the order they were made."""
        return list(zip(self.ack_positions.get(alert_id, ()), self.acks.get(alert_id, ()), strict=True))

    def silence_end(self, s: Silence) -> datetime:
        """When `s` stops (or stopped) holding alerts back: its end, or the time it was expired early."""
        exp = self.expired.get(s.id)
        return min(s.ends_at, exp.at) if exp is not None else s.ends_at

    def live_silences(self, now: datetime) -> list[Silence]:
        """Silences active now or starting later, with an early expiry applied to their end."""
        out = []
        for s in self.silences.values():
            end = self.silence_end(s)
            if end > now:
                out.append(s if end == s.ends_at else s.model_copy(update={"ends_at": end}))
        return sorted(out, key=lambda s: (s.starts_at, s.id))

    def ended_silences(self, now: datetime) -> list[Silence]:
        out = []
        for s in self.silences.values():
            end = self.silence_end(s)
            if end <= now:
                out.append(s.model_copy(update={"ends_at": end}))
        return sorted(out, key=lambda s: (s.ends_at, s.id), reverse=True)


def as_subscription(sub: SubscriptionCreated) -> Subscription:
    """The routing view of a subscription (what alerts.routing matches on)."""
    return Subscription.model_construct(
        channel=sub.channel,
        rules=list(sub.rules),
        tags=list(sub.tags),
        min_severity=sub.min_severity,
        digest=sub.digest,
        max_age=sub.max_age,
        where=dict(sub.where),
    )


class ControlError(ValueError):
    """An operation that cannot be done as asked (unknown id, config-managed subscription, ...)."""


def check_silence(duration: timedelta, reason: str) -> None:
    """A silence's duration and reason as ControlLog.silence takes them, or ControlError: the CLI checks them before
    it opens the store, so a refused silence leaves none behind."""
    if duration <= timedelta(0):
        raise ControlError("a silence needs a positive duration")
    if len(reason) > MAX_REASON:
        raise ControlError(
            f"a silence's reason is at most {MAX_REASON} characters (this one has {len(reason)}); shorten it"
        )


def parse_group(
    text: str,
    entity_names: Mapping[str, str],
    group_keys: Collection[str] | None = None,
    vocabulary: RuleVocabulary | None = None,
    rule: str = "*",
) -> dict[str, str]:
    """A silence's group as people type it -> its matchers: `KEY=VALUE`, or a VALUE under any key (`*`), the
    value an entity id (`RUS`) or an entity name (`Russia`, any case) resolved to the id, which is what a
    detection's group holds. The one reading of a group, for `/watchfloor silence` and `watchfloor silences add`.

    With `group_keys` (the `group_by` keys of the rules the silence is for), a group that could never match is
    refused: a key they do not group by, or a value that is no entity of the packs (a source name is taken as it
    is under `source`, or under any key when a rule groups by source); with the packs' `vocabulary` too, a value
    `rule` can never take under that key (a closed capture's: `party` is PRK or RUS, never Kursk), as a `where` is
    (outside trial 26, F6: the silence was accepted and announced, and held nothing back)."""
    text = text.strip()
    key, sep, value = text.partition("=")
    key, value = (key.strip(), value.strip()) if sep else ("*", text)
    if not value or not key:
        raise ControlError(f"group {text!r}: give KEY=VALUE, an entity id (RUS) or an entity name (Russia)")
    resolved = _resolve_entity(entity_names, value)
    if group_keys is not None:
        if not group_keys:
            raise ControlError(f"group {text!r}: the rule has no groups (no group_by); silence it without a group")
        if key != "*" and key not in group_keys:
            raise ControlError(
                f"group {text!r}: no capture {key!r} to group by; the rule groups by {_listed(group_keys)}"
            )
        free = SOURCE_KEY in group_keys if key == "*" else key == SOURCE_KEY
        if resolved not in entity_names and not free:
            known = {k.casefold(): k for k in [*entity_names, *entity_names.values()]}  # ids and names, any case
            near = [known[k] for k in difflib.get_close_matches(value.casefold(), list(known), n=3, cutoff=0.6)]
            hint = f" (did you mean {_listed(near)}?)" if near else ""
            raise ControlError(f"group {text!r}: {value!r} names no entity of the rule packs{hint}")
    if vocabulary is not None and group_keys:
        # (a bare value matches a group value under any of the rule's group keys, not its other attributes)
        problems = [vocabulary.where_problem((rule,), (), k, resolved) for k in ([key] if key != "*" else group_keys)]
        if all(p is not None for p in problems):
            said = sorted({p for p in problems if p is not None})
            raise ControlError(f"group {text!r}: {'; '.join(said)}")
    return {key: resolved}


def uncarried_tags(tags: Iterable[str], carried: Iterable[str]) -> list[str]:
    """What a subscription to `tags` is told of those no rule carries (`carried`: the tags the rules on offer carry),
    one line each, in plain text: `no rule carries the tag 'trops' (did you mean troops?; tags: …)`. Said, not
    refused: a rule that carries it may come later. The CLI (`subscriptions add --tag`) and `/watchfloor subscribe
    tag:…` say the same."""
    known = sorted(set(carried))
    lines = []
    for t in sorted(set(tags) - set(known)):
        hint = close_hint(t, known).strip().removeprefix("(").removesuffix(")")
        shown = ", ".join(known[:30]) + (f", … ({len(known)} in all)" if len(known) > 30 else "")
        listed = f"tags: {shown}" if known else "no rule carries any tag"
        lines.append(f"no rule carries the tag {t!r} ({hint + '; ' if hint else ''}{listed})")
    return lines


def parse_where(
    words: Sequence[str],
    vocabulary: RuleVocabulary | None = None,
    rules: Collection[str] = ("*",),
    tags: Collection[str] = (),
) -> dict[str, tuple[str, ...]]:
    """A subscription's `where` as people type it -> key: values. Each word `KEY=VALUE`, or a VALUE under any key
    (`*`, as a silence's group); a key given again adds a value (any of them). Values are kept as typed: routing
    compares an entity by id, name or alias (alerts.routing.Spellings). The one reading of a `where`, for
    `/watchfloor subscribe … where …`, `watchfloor subscriptions add --where` and the config check.

    With the rule packs' `vocabulary`, a filter that could never match an alert of the subscribed `rules` and
    `tags` is refused (RuleVocabulary.where_problem): a key none of them carries, a value that names no entity, a
    value none of them can take under that key (a closed capture's, `place`'s), a bare value no key of theirs can
    hold. A source name is taken as it is under `source`, and a rule over other alerts takes anything.

    A value of several words typed without quotes (`place=Белгородская область`, which Slack's words split in two)
    is read as one when that is the only sound reading (spaced_values), as a silence's group is; where it is not, a
    refusal says to quote it."""
    if vocabulary is not None:
        words = spaced_values(words, lambda v: bool(vocabulary.spellings.entities(v)))
    out: dict[str, list[str]] = {}
    for i, word in enumerate(words):
        key, sep, value = word.partition("=")
        key, value = (
            (" ".join(key.split()), " ".join(value.split())) if sep else (WHERE_ANY_KEY, " ".join(word.split()))
        )
        if not key or not value:
            raise ControlError(
                f"where {word!r}: give KEY=VALUE (place=Kursk, party=North Korea) or a value under any key (RUS)"
            )
        if vocabulary is not None:
            problem = vocabulary.where_problem(rules, tags, key, value)
            if problem is not None:
                raise ControlError(f"where {word!r}: {problem}{_quote_hint(words, i)}")
        values = out.setdefault(key, [])
        if value not in values:
            values.append(value)
    return {k: tuple(v) for k, v in out.items()}


def spaced_values(words: Sequence[str], names: Callable[[str], bool]) -> list[str]:
    """`where` words with a value the shell split at its spaces joined again (`place=Белгородская`, `область` ->
    `place=Белгородская область`), as a silence reads its `group=` up to `for` (trial 35, L3). A word here is also
    a value of its own (a bare VALUE is one under any key), so words are joined only when that is the one sound
    reading: the value with the bare words after it names an entity (`names`: by id, name or alias), and either the
    value alone names none or none of the words taken does (either way a reading apart would be refused). The
    longest such run is taken."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        value = word.partition("=")[2] if "=" in word else word
        end = i
        for j in range(i + 1, len(words)):
            if "=" in words[j]:
                break  # the next filter
            if names(" ".join([value, *words[i + 1 : j + 1]])):
                end = j
        taken = words[i + 1 : end + 1]
        if taken and (not names(value) or not any(names(w) for w in taken)):
            word, i = " ".join([word, *taken]), end
        out.append(word)
        i += 1
    return out


def _quote_hint(words: Sequence[str], at: int) -> str:
    """For a refused `where` word among bare words after a filter (`place=Курская обл`): how to write one value of
    several words, in case that was meant (' (a value of several words is quoted: where place="Курская обл")')."""
    start = at
    while start > 0 and "=" not in words[start]:
        start -= 1  # back to the filter the word may be a part of (or the first word)
    end = at + 1
    while end < len(words) and "=" not in words[end]:
        end += 1
    if end - start < 2:
        return ""
    key, sep, value = words[start].partition("=")
    head, first = (f"{key}=", value) if sep else ("", words[start])
    return f' (a value of several words is quoted: where {head}"{" ".join([first, *words[start + 1 : end]])}")'


def _resolve_entity(entity_names: Mapping[str, str], value: str) -> str:
    """An entity id as it is; an entity name (any case) -> its id; anything else as typed."""
    if value in entity_names:
        return value
    by_name = {name.casefold(): eid for eid, name in entity_names.items()}
    return by_name.get(value.casefold(), value)


def _listed(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


class ControlLog:
    """The control projection of one store, kept current by reading the log's tail, plus the operations.

    Thread-safe: the Slack app's request threads, the pipeline's dispatcher and the status page share one.
    It is also the dispatcher's `RoutingProvider`."""

    def __init__(self, store: EventLog, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.now = now
        self.state = ControlState()
        self._lock = threading.RLock()

    def refresh(self) -> ControlState:
        with self._lock:
            while True:
                got = self.store.read(self.state.position, types=CONTROL_TYPES, limit=1000)
                if not got:
                    return self.state
                for stored in got:
                    self.state.apply(stored)

    # -- RoutingProvider --

    def routing(self) -> RoutingTable:
        with self._lock:
            self.expire_lapsed()
            st = self.refresh()
            subs = tuple(as_subscription(s) for s in self.subscriptions())
            return RoutingTable(subs, tuple(st.live_silences(self.now())))

    # -- queries --

    def subscriptions(self, channel: str | None = None) -> list[SubscriptionCreated]:
        with self._lock:
            subs = self.refresh().subscriptions.values()
            return sorted((s for s in subs if channel is None or s.channel == channel), key=lambda s: (s.channel, s.at))

    def channel_names(self) -> dict[str, str]:
        """Routing channel -> the Slack channel's name its subscriptions made in Slack carry (the newest)."""
        return channel_names(self.subscriptions())

    def silences(self, *, include_ended: bool = False) -> list[Silence]:
        with self._lock:
            st = self.refresh()
            now = self.now()
            return st.live_silences(now) + (st.ended_silences(now) if include_ended else [])

    def silence_by_id(self, sil_id: str) -> Silence | None:
        """The silence `sil_id` as it was made (in force or not), None when the log has none."""
        with self._lock:
            return self.refresh().silences.get(sil_id)

    def expiry(self, sil_id: str) -> SilenceExpired | None:
        """How a silence ended (`silence.expired`: early, by whom; or lapsed, by watchfloor), None while it holds."""
        with self._lock:
            return self.refresh().expired.get(sil_id)

    def acknowledgements(self, alert_id: str) -> list[AlertAcknowledged]:
        """The acknowledgements that count for the alert now, first first: those recorded since its latest raising.
        An alert raised again with its own id by a later change of its group's history (reinstated, after a revision
        or a withdrawal replaced it) is told to the desk again, and an acknowledgement of its earlier raising, maybe
        made while it did not stand and no channel showed it (outside trial 30, F2), does not take it
        (`ControlState.acks` keeps them all; docs/slack.md)."""
        with self._lock:
            st = self.refresh()
            if not st.acks.get(alert_id):
                return []
            latest = self._raisings(alert_id)
            return st.acks_between(alert_id, latest[-1][0] if latest else 0)

    def acknowledgements_before(self, alert_id: str) -> list[AlertAcknowledged]:
        """The acknowledgements of the alert that do not count for it now: recorded before its latest raising, when
        it was raised more than once (reinstated). Its messages say them (docs/slack.md), and offer its button."""
        with self._lock:
            st = self.refresh()
            if not st.acks.get(alert_id):
                return []
            raisings = self._raisings(alert_id)
            if len(raisings) < 2:
                return []
            return [a for p, a in st.acks_at(alert_id) if p < raisings[-1][0]]

    def _raisings(self, alert_id: str) -> list[tuple[int, str]]:
        """(log position, delivery key) of each raising of the alert (its detection events), in log order. Not a
        revision that kept its id (`revises` its own id: the same reports, at another point): the alert stood and
        was revised in place, so an acknowledgement of it still counts (it is no raising after a withdrawal)."""
        return [
            (se.position, se.event.id)
            for se in self.store.detections_of([alert_id])
            if se.event.payload.get("revises") != alert_id
        ]

    # -- operations --

    def subscribe(
        self,
        channel: str,
        *,
        rules: Sequence[str] = ("*",),
        tags: Sequence[str] = (),
        min_severity: Severity = "low",
        digest: str | None = None,
        max_age: timedelta | None = None,
        where: Mapping[str, Sequence[str]] | None = None,
        by: Actor,
        managed_by: str | None = None,
        channel_name: str | None = None,
    ) -> tuple[SubscriptionCreated, bool]:
        """(the subscription, True if it is new). Subscribing again to the same thing is a no-op. `channel_name`: the
        Slack channel's name, for people (SubscriptionCreated.channel_name)."""
        with self._lock:
            st = self.refresh()
            sub = SubscriptionCreated(
                id=subscription_id(channel, tuple(rules), tuple(tags), min_severity, digest, max_age, where),
                channel=channel,
                rules=tuple(rules),
                tags=tuple(tags),
                min_severity=min_severity,
                digest=digest,
                max_age=max_age,
                where={k: tuple(v) for k, v in (where or {}).items()},
                managed_by=managed_by or by.via,
                by=by,
                at=self.now(),
                channel_name=channel_name or None,
            )
            existing = st.subscriptions.get(sub.id)
            if existing is None and sub.digest is not None and sub.managed_by != "config":
                # the same digest under another name of its zone (`UTC`, `Etc/UTC`) or spelling of its time (`8:00`,
                # `08:00`): one digest, not two identical ones (trial L4). (The config file's are its own, by id.)
                def spelt(digest: str) -> str:  # this subscription's id with `digest` spelt as another's
                    return subscription_id(channel, tuple(rules), tuple(tags), min_severity, digest, max_age, where)

                same = (h for h in st.subscriptions.values() if h.digest and same_digest(h.digest, sub.digest))
                existing = next((h for h in same if h.id == spelt(str(h.digest))), None)
            if existing is not None:
                return existing, False
            self.store.append([subscription_created_event(sub, st.removals.get(sub.id, 0))])
            self.refresh()
            return st.subscriptions.get(sub.id, sub), True

    def unsubscribe(
        self, sub_id: str, *, by: Actor, reason: str = "", allow_config: bool = False
    ) -> SubscriptionCreated:
        """Remove an active subscription. Config-managed ones change only with the config file."""
        with self._lock:
            st = self.refresh()
            sub = st.subscriptions.get(sub_id)
            if sub is None:
                raise ControlError(f"no active subscription {sub_id!r}")
            if sub.managed_by == "config" and not allow_config:
                raise ControlError(
                    f"subscription {sub_id} is managed by the config file: remove it there "
                    "(or silence the rule instead)"
                )
            rem = SubscriptionRemoved(id=sub_id, by=by, at=self.now(), reason=reason)
            self.store.append([subscription_removed_event(rem, st.removals.get(sub_id, 0))])
            self.refresh()
            return sub

    def silence(
        self,
        rule: str,
        *,
        duration: timedelta,
        by: Actor,
        group: dict[str, str] | None = None,
        channel: str | None = None,
        reason: str = "",
        starts_at: datetime | None = None,
    ) -> Silence:
        check_silence(duration, reason)
        with self._lock:
            start = starts_at or self.now()
            s = Silence(
                id=silence_id(rule, group or {}, channel, start, by),
                rule=rule,
                group=group or {},
                channel=channel,
                starts_at=start,
                ends_at=start + duration,
                reason=reason,
                by=by,
            )
            self.store.append([silence_created_event(s)])
            self.refresh()
            return s

    def plan_button_silence(
        self,
        rule: str,
        *,
        group: dict[str, str],
        channel: str | None,
        duration: timedelta,
        by: Actor,
        reason: str = "",
    ) -> Silence:
        """What the Silence button does now: the silence of `rule`, `group` and `channel` in force (one already in the
        log), else a new one to record (`record_silence`) under `button_silence_id`, which every process that has
        seen the same silences computes alike: two clicks at once, in one app process or two, record one."""
        with self._lock:
            st = self.refresh()
            now = self.now()
            key = (rule, group, channel)
            for s in st.live_silences(now):
                if (s.rule, s.group, s.channel) == key and s.starts_at <= now:
                    return s
            generation = sum(1 for s in st.silences.values() if (s.rule, s.group, s.channel) == key)
            return Silence(
                id=button_silence_id(rule, group, channel, generation),
                rule=rule,
                group=group,
                channel=channel,
                starts_at=now,
                ends_at=now + duration,
                reason=reason,
                by=by,
            )

    def record_silence(self, s: Silence) -> tuple[Silence, bool]:
        """Append `s` unless its id is in the log: (the silence the log holds under that id, True if this call
        recorded it; False: another click or process did first, and its silence, with its start and author,
        is the one returned)."""
        with self._lock:
            if s.id in self.refresh().silences:
                return self._current(s), False
            added = self.store.append([silence_created_event(s)])
            self.refresh()
            return self._current(s), bool(added)

    def _current(self, s: Silence) -> Silence:
        """`s` as the log holds it, with an early end applied."""
        held = self.state.silences.get(s.id, s)
        end = self.state.silence_end(held)
        return held if end == held.ends_at else held.model_copy(update={"ends_at": end})

    def button_silence(
        self,
        rule: str,
        *,
        group: dict[str, str],
        channel: str | None,
        duration: timedelta,
        by: Actor,
        reason: str = "",
    ) -> tuple[Silence, bool]:
        """(the silence of `rule`, `group` and `channel` now, True if this call made it): plan, then record."""
        with self._lock:
            planned = self.plan_button_silence(
                rule, group=group, channel=channel, duration=duration, by=by, reason=reason
            )
            return self.record_silence(planned)

    def claim_slack_event(
        self, event_id: str, event_type: str, *, channel: str | None = None, user: str | None = None
    ) -> bool:
        """True the first time any process on this store asks for `event_id` (a Slack event to answer); False for
        Slack's retries of it, wherever they arrive: the store keeps one event per id."""
        handled = SlackEventHandled(event_id=event_id, event_type=event_type, channel=channel, user=user, at=self.now())
        return bool(self.store.append([slack_event_handled_event(handled)]))

    def claim_slack_request(self, digest: str) -> bool:
        """True the first time any process on this store takes the signed Slack request whose signature's digest is
        `digest`; False for the same signed bytes again (a replay), whichever process they reach and whether or not
        it restarted since: the store keeps one event per id (SlackHttpHandler's replay guard)."""
        return bool(self.store.append([slack_request_taken_event(digest, self.now())]))

    def unsilence(self, sil_id: str, *, by: Actor, reason: str = "") -> Silence:
        """Expire a silence now (amtool's `silence expire`)."""
        with self._lock:
            st = self.refresh()
            s = st.silences.get(sil_id)
            now = self.now()
            if s is None:
                raise ControlError(f"no silence {sil_id!r}")
            if st.silence_end(s) <= now:
                raise ControlError(f"silence {sil_id} has already ended")
            added = self.store.append([silence_expired_event(SilenceExpired(id=sil_id, by=by, at=now, reason=reason))])
            self.refresh()
            if not added:  # another process recorded its end first (ended early, or lapsed by its clock)
                raise ControlError(f"silence {sil_id} has already ended")
            return s

    def expire_lapsed(self) -> list[Silence]:
        """Record `silence.expired` for each silence whose end has passed (at its end, by watchfloor); returns
        them. Every process that routes or serves calls this; the event's id is the silence's, the same as an
        early expiry's, so however many record a lapse, and whether or not someone ended it early at the same
        moment, the log holds one `silence.expired` per silence."""
        with self._lock:
            st = self.refresh()
            now = self.now()
            lapsed = [s for s in st.silences.values() if s.id not in st.expired and s.ends_at <= now]
            if not lapsed:
                return []
            events = [
                silence_expired_event(SilenceExpired(id=s.id, by=SYSTEM_ACTOR, at=s.ends_at, reason=LAPSED))
                for s in sorted(lapsed, key=lambda s: (s.ends_at, s.id))
            ]
            self.store.append(events)
            self.refresh()
            return lapsed

    def acknowledge(
        self,
        alert_id: str,
        *,
        by: Actor,
        channel: str | None = None,
        slack_channel: str | None = None,
        message_ts: str | None = None,
        note: str = "",
    ) -> tuple[AlertAcknowledged, bool]:
        """(the acknowledgement that counts, True if this one is new): the first per alert and channel wins, of the
        alert's latest raising (`acknowledgements`). The one way an acknowledgement is recorded: the Slack button's and
        `watchfloor alerts ack`'s."""
        if len(note) > MAX_REASON:  # shown on the status page and in `alerts list`, as a silence's reason is
            raise ControlError(
                f"an acknowledgement's note is at most {MAX_REASON} characters (this one has {len(note)}); shorten it"
            )
        with self._lock:
            st = self.refresh()
            key = channel or slack_channel
            # Of the alert's latest raising: an alert reinstated since an acknowledgement is acknowledged anew
            # (`acknowledgements`), under an event id of its own (that raising's), not found as the earlier one.
            raisings = self._raisings(alert_id)
            after = raisings[-1][0] if raisings else 0
            raising = raisings[-1][1] if len(raisings) > 1 else None
            for a in st.acks_between(alert_id, after):
                if _covers(a, key):
                    return a, False
            ack = AlertAcknowledged(
                alert_id=alert_id,
                channel=channel,
                slack_channel=slack_channel,
                message_ts=message_ts,
                by=by,
                at=self.now(),
                note=note,
            )
            self.store.append([alert_acknowledged_event(ack, raising)])
            self.refresh()
            for a in st.acks_between(alert_id, after):
                if _covers(a, key):
                    return a, a == ack
            return ack, True

    def reconcile_config(self, subs: Iterable[Subscription]) -> tuple[int, int]:
        """Make the config file's subscriptions the log's config-managed ones: (created, removed)."""
        wanted: dict[str, Subscription] = {}
        for sub in subs:
            sid = subscription_id(
                sub.channel, tuple(sub.rules), tuple(sub.tags), sub.min_severity, sub.digest, sub.max_age, sub.where
            )
            wanted.setdefault(sid, sub)
        created = removed = 0
        with self._lock:
            st = self.refresh()
            for sid, sub in wanted.items():
                if sid not in st.subscriptions:
                    self.subscribe(
                        sub.channel,
                        rules=sub.rules,
                        tags=sub.tags,
                        min_severity=sub.min_severity,
                        digest=sub.digest,
                        max_age=sub.max_age,
                        where=sub.where,
                        by=CONFIG_ACTOR,
                        managed_by="config",
                    )
                    created += 1
            for sid, active in list(st.subscriptions.items()):
                if active.managed_by == "config" and sid not in wanted:
                    self.unsubscribe(sid, by=CONFIG_ACTOR, reason="no longer in the config file", allow_config=True)
                    removed += 1
        return created, removed


def channel_names(subs: Iterable[SubscriptionCreated]) -> dict[str, str]:
    """Routing channel -> its Slack channel's name, from the subscriptions made in that channel (the newest one's
    name: a channel renamed since is shown as it was last typed in); channels without one are left out."""
    names: dict[str, str] = {}
    for sub in sorted(subs, key=lambda s: s.at):
        if sub.channel_name:
            names[sub.channel] = sub.channel_name
    return names


def missing_targets(
    sub: SubscriptionCreated, rules: Collection[str], tags: Collection[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the rule ids of `sub` that no loaded pack has, the tags of it no loaded rule carries)."""
    return (
        tuple(r for r in sub.rules if r != "*" and r not in rules),
        tuple(t for t in sub.tags if t not in tags),
    )


def orphaned_subscriptions(
    subs: Iterable[SubscriptionCreated], rules: Collection[str], tags: Collection[str]
) -> list[tuple[SubscriptionCreated, str]]:
    """The subscriptions made from Slack or the CLI that name a rule no loaded pack has, or only tags no loaded rule
    carries, each with what to tell the operator. Creating such a subscription is refused, but one made before the
    rule was renamed or removed would silently get nothing (outside trial 69, M1: a pack edit left #ops without its
    alerts and no line said so). The config file's own are checked when it is loaded (an error there)."""
    out: list[tuple[SubscriptionCreated, str]] = []
    for sub in subs:
        if sub.managed_by == "config":
            continue
        gone, untagged = missing_targets(sub, rules, tags)
        if gone:
            hints = [f"{r!r}{close_hint(r, rules)}" for r in gone]
            what = "rule " + hints[0] if len(hints) == 1 else "rules " + ", ".join(hints)
            it = "it" if len(gone) == 1 else "them"
            out.append((sub, f"names {what}, which no loaded rule pack has: it gets no alerts of {it}"))
        elif untagged and len(untagged) == len(sub.tags):
            shown = ", ".join(repr(t) for t in untagged)
            out.append((sub, f"takes alerts tagged {shown}, which no loaded rule carries: it gets nothing"))
    return out


def _covers(earlier: AlertAcknowledged, channel: str | None) -> bool:
    """Whether an earlier acknowledgement of an alert is the one that counts for a new one in `channel` (None: for
    the alert, `alerts ack` without --channel): one of the same channel, one for the alert (which covers every
    channel), or, for one for the alert, any (the alert shows acknowledged everywhere already). Outside trial 81, F7:
    `alerts ack ID` then `alerts ack --story ID` recorded the alert again in each channel, and the reverse said
    "acknowledged" twice."""
    theirs = earlier.channel or earlier.slack_channel
    return theirs == channel or theirs is None or channel is None
