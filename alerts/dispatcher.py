"""Alert dispatcher: detections (and retractions) in the log -> deliveries in the ledger -> channels.

Small stages, like Alertmanager's notification pipeline:

    route -> silence -> dedup -> claim -> notify -> record
    (intake: once per detection, in log order)   (delivery: every cycle, for every due row of the ledger)

Intake reads new detection and retraction events after its checkpoint, routes each detection (a pure function
of the detection and the routing table), holds back what a silence covers (recorded `suppressed` with the
silence id), and enqueues one ledger row per channel: an alert of its own, a follow-up in the channel's thread of
the detection's story (decided once for all channels from the detections in the log: `StoryBook`), a revision,
or a withdrawal (alerts.intake). Enqueueing is
insert-if-absent, so a replay or a second dispatcher adds nothing; the checkpoint moves after the rows are in.

Delivery claims due rows with a lease (so any number of dispatchers on one store send each row once), looks
in the channel first when an earlier attempt may have got through, sends, and records the outcome with its
`delivery` event (alerts.delivery). A row that fails stays outstanding and is tried again by later cycles on
a capped exponential backoff (a Retry-After is honoured, capped, and scheduled, never slept), and by every
process start, until its maximum age; then it is `expired`, and `watchfloor alerts redeliver` re-sends it.
The clock is injected: nothing here sleeps or reads the time except through `now`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import orjson
from pydantic import ValidationError

from watchfloor.schemas import plural
from watchfloor.schemas.config import RetryPolicy, Subscription, ThrottleSpec
from watchfloor.schemas.control import AlertAcknowledged, ControlType
from watchfloor.schemas.detection_fields import detection_fields
from watchfloor.schemas.events import (
    Alert,
    DeadLetter,
    Delivery,
    Detection,
    Event,
    EventType,
    Retraction,
    alert_event,
    dead_letter_event,
    delivery_event,
    detection_event_id,
)
from watchfloor.schemas.rules import format_duration
from watchfloor.stream_processors.ports import DeliveryRecord, ReplanRefused, Settlement, Store, StoredEvent
from watchfloor.stream_processors.processing import pull_and_process

from .control import ControlLog
from .delivery import Deliverer, Tally
from .digest import DigestPlanner
from .intake import (
    COMPACT_MIN,
    Stories,
    Story,
    continues_thread,
    detection_thread,
    plan_detection,
    plan_retold,
    plan_retraction,
    retraction_thread,
    revises_told,
    standing_copy,
)
from .notice import ACK_KIND, DIGEST_KIND, REPLACEABLE, AlertCatalog, Digest, ack_key, alert_of, as_listed, thread_key
from .notifiers.base import (
    AckShowing,
    Checking,
    HistoryUnreadable,
    InFlight,
    Lasting,
    Misconfigured,
    Notifier,
    NotifierError,
    Reconciling,
    Targeted,
    landing_window,
)
from .routing import RoutingProvider, RoutingTable, Spellings, StaticRouting, route, silenced_by, thread_only, too_old
from .schedule import RetrySchedule
from .throttle import (
    HELD,
    Held,
    Mark,
    decide,
    held_detail,
    next_window_end,
    plan_summary,
    revised_into,
    summaries_of_held,
    summary_id,
    summary_thread,
    window_start,
)

log = logging.getLogger(__name__)

PROCESSOR = "alerts"
INTAKE_TYPES = frozenset({EventType.DETECTION.value, EventType.RETRACTION.value})
STORY_KEYS_KEPT = 4096  # the stories whose thread key in a channel is kept (_story_key), the oldest let go first
STORY_TYPES = INTAKE_TYPES  # a retraction can end a story (every alert of it withdrawn): stories read both
# What intake reads: also the acknowledgements, each a ledger row per channel holding the alert's message, so that the
# message shows it (ACK_KIND). Under intake's checkpoint: an acknowledgement recorded before it is not taken again.
TAKEN_TYPES = INTAKE_TYPES | {ControlType.ALERT_ACKNOWLEDGED.value}
PENDING_PAGE = 1000  # detections not taken in yet that summary planning reads; more: intake is behind, it waits
READ_BATCH = 5000  # detections per read of the log for stories
# A story is kept while a detection within the lateness plus this of the newest could join it: the dispatcher sees no
# watermark, and a source that lags the others holds the engine's back (its on-time reports fire behind the newest).
STORY_MARGIN = timedelta(days=30)
SHOWN_READ = READ_BATCH  # a read for stories over this many positions is shown (StoryProgress): a start-up's


class StoryProgress(Protocol):
    """What the StoryBook says while it reads many detections (at start-up, every detection in the log): the
    command line's bar on a terminal, else one line with the count and the time (watchfloor.cli)."""

    def begin(self, positions: int) -> None:
        """A read of the log's next `positions` positions begins."""
        ...

    def advance(self, positions: int) -> None:
        """`positions` of them are read so far."""
        ...

    def end(self, detections: int) -> None:
        """The read is done: `detections` detections were taken."""
        ...


REPORTED = ("outstanding", "expired")  # the ledger states a cycle reports (counted by the status index, each cycle)


@dataclass
class CycleReport:
    """One dispatcher cycle: what came in, what went out, and what the ledger holds after it."""

    taken: int = 0  # detection and retraction events read
    enqueued: int = 0  # deliveries added to the ledger
    tally: Tally = field(default_factory=Tally)
    counts: dict[str, int] = field(default_factory=dict)  # ledger rows per status (of REPORTED), after the cycle
    elsewhere: int = 0  # of the outstanding rows, those another dispatcher holds a live lease on (being sent)
    outstanding_by_channel: dict[str, int] = field(default_factory=dict)  # of the outstanding rows, per channel
    held_back: bool = False  # nothing was delivered: a backlog being read holds its alerts (cycle(deliver=False))

    @property
    def outstanding(self) -> int:
        return self.counts.get("outstanding", 0)

    @property
    def expired_total(self) -> int:
        return self.counts.get("expired", 0)

    def merged(self, earlier: Sequence[CycleReport]) -> CycleReport:
        """This report with what `earlier` cycles of the same pass did added in (the ledger counts are this
        one's, the latest)."""
        out = dataclasses.replace(self, tally=dataclasses.replace(self.tally))
        for r in earlier:
            out.taken += r.taken
            out.enqueued += r.enqueued
            out.tally.add(r.tally)
        return out

    @property
    def ok(self) -> bool:
        """Nothing left to deliver and nothing given up in this cycle (the `--once` exit status). A row another
        dispatcher is sending under its lease is not left: that process records its outcome (and reports a failure
        itself); counting it here made two `--once` runs on one store fail each other."""
        return self.outstanding - self.elsewhere == 0 and self.tally.expired == 0


@dataclass(frozen=True)
class ChannelCheck:
    channel: str
    ok: bool
    message: str
    fatal: bool = False  # the channel's config cannot work (Misconfigured): the start stops
    # a failure a delivery sent there later shows fixed (all but HistoryUnreadable): what status and /healthz read
    cleared_by_delivery: bool = True


# Slack channels subscribed from Slack checked at start, at most: each costs an auth.test and a conversations.info
# (Slack's tier 3, about 50 a minute), made one after the other before the first cycle.
SUBSCRIBED_CHECKED = 20


def check_channels(notifiers: Mapping[str, Notifier], subscribed: Iterable[str] = ()) -> list[ChannelCheck]:
    """Each configured channel's own check (Slack: auth.test and the channel look-up), then each channel of
    `subscribed` that is not configured (`slack:<id>`, subscribed from Slack: the same check, by its ID, with the
    notifier the mapping builds for it; the first SUBSCRIBED_CHECKED, then one line, channel "", saying how many
    more were not), one line each. A failing channel is reported, not fatal: the others go on, and its
    deliveries are tried anyway (one that fails stays outstanding in the ledger and is retried). A channel whose
    config cannot work (`Misconfigured`: a file channel's path that is a directory) is marked `fatal`, for the
    start to stop on."""
    out: list[ChannelCheck] = []
    names = list(notifiers)
    extra = sorted({ch for ch in subscribed if ch.startswith("slack:")} - set(names))
    for name in [*names, *extra[:SUBSCRIBED_CHECKED]]:
        try:
            notifier = notifiers[name]
        except KeyError:  # a `slack:<id>` without the token to post there: its deliveries fail the same way
            why = getattr(notifiers, "unbuilt", "") or "no notifier for it"
            out.append(ChannelCheck(name, False, f"cannot post there: {why}"))
            continue
        except Exception as e:  # a lazy mapping that cannot build it: a check must never stop the pipeline
            out.append(ChannelCheck(name, False, f"check failed: {type(e).__name__}: {e}"))
            continue
        if not isinstance(notifier, Checking):
            continue
        try:
            out.append(ChannelCheck(name, True, notifier.check()))
        except Misconfigured as e:
            out.append(ChannelCheck(name, False, e.message, fatal=True))
        except NotifierError as e:
            out.append(ChannelCheck(name, False, e.message, cleared_by_delivery=not isinstance(e, HistoryUnreadable)))
        except Exception as e:  # a check must never stop the pipeline
            out.append(ChannelCheck(name, False, f"check failed: {type(e).__name__}: {e}"))
    if len(extra) > SUBSCRIBED_CHECKED:
        more = len(extra) - SUBSCRIBED_CHECKED
        out.append(
            ChannelCheck(
                "",
                True,
                f"{more} more Slack channel{'s' if more > 1 else ''} subscribed from Slack not checked at start "
                "(`watchfloor subscriptions list` names them; a delivery that fails there says why)",
            )
        )
    return out


def dispatcher_id() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is someone else), and where its
    pid means something (holder_may_live): the machine's boot and the process's pid namespace."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}:{_pid_space()}"


def _pid_space() -> str:
    """This boot and pid namespace (Linux), so a pid is only compared within them: two containers can share a
    host name and not their pids. "" where it cannot be told."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}.{ns}"


def holder_may_live(owner: str) -> bool:
    """Whether the process a lease names may still be running: False only for a process of this host that is
    gone (killed mid-send); its row is outstanding, not being sent, until its lease runs out."""
    parts = owner.split(":")
    if len(parts) < 4 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return True  # another host's process (or an owner written before the pid space was): cannot be told
    if not parts[3] or parts[3] != _pid_space():
        return True  # another boot or pid namespace (a container with the same host name): its pid is not ours
    pid_text = parts[1]
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


class StoryBook:
    """The stories of the log's detections (intake.Stories), kept up with the log. The story of the detection at
    a position is decided from every detection event before it in the log, routed or not (the ledger and the alert
    events only hold those some channel took), so it is the same in every dispatcher and every replay; a process
    reads the detections it has not seen (all of them, once, at its first detection) before deciding. After that
    it reads the log only when intake did not read the event before a detection in the same read (the first event
    of an intake pass, or one after a gap another dispatcher took): intake's reads hold every detection in order."""

    def __init__(
        self,
        store: Store,
        catalog: AlertCatalog,
        progress: StoryProgress | None = None,
        *,
        bounded: bool = True,
        compact_min: int = COMPACT_MIN,
    ) -> None:
        self.store = store
        self.catalog = catalog
        # Stories over for good are forgotten: those no detection within the lateness (and a margin) can join.
        self.stories = Stories(catalog.lateness + STORY_MARGIN if bounded else None, compact_min=compact_min)
        self.read_to = 0  # every detection event up to here is taken
        self.progress = progress

    def passed(self, after: int, position: int) -> None:
        """The caller read the log's detection (and retraction) events in order and found none between `after`
        and `position` (exclusive): when every detection up to `after` is taken, so is every one before
        `position`, and the story at `position` needs no read."""
        if self.read_to >= after:
            self.read_to = max(self.read_to, position - 1)

    def story(self, position: int, key: str, det: Detection) -> Story:
        """The story of `det` (delivery key `key`), the detection event at `position`."""
        self._read_before(position)
        self.read_to = max(self.read_to, position)
        rule = det.rule
        return self.stories.take(
            position, key, det, self.catalog.open_period(rule), self.catalog.confirmation_reach(rule)
        )

    def withdrawn(self, position: int, retraction: Retraction) -> None:
        """The retraction event at `position`: its alert no longer keeps its story going."""
        self._read_before(position)
        self.read_to = max(self.read_to, position)
        self.stories.withdraw(position, retraction_thread(retraction), retraction.alert_id)

    def _read_before(self, position: int) -> None:
        """Take every detection before `position` not taken yet. Of each only what its story needs is read (its
        payload's JSON, decoded into a few fields: schemas.detection_fields), not an Event and a Detection: at
        start-up that is every detection in the log."""
        first = self.read_to
        shown = self.progress if self.progress is not None and position - 1 - first > SHOWN_READ else None
        if shown is None:
            self._read(position)
            return
        shown.begin(position - 1 - first)
        taken = self.stories.taken
        try:
            self._read(position, lambda at: shown.advance(at - first))
        finally:
            shown.end(self.stories.taken - taken)

    def _read(self, position: int, on_batch: Callable[[int], None] | None = None) -> None:
        """_read_before's reads; `on_batch` is told the position each batch read to."""
        while self.read_to < position - 1:
            # At most one detection per position between: never read far past `position` (later ones are unused).
            limit = min(READ_BATCH, position - 1 - self.read_to)
            batch = self.store.read_payloads(self.read_to, types=STORY_TYPES, limit=limit)
            # Every position before `position` is committed (positions are gap-free in commit order): a read that
            # comes back short, or reaches `position`, has found every detection before it.
            done = len(batch) < limit
            while batch and batch[-1][0] >= position:
                batch.pop()
                done = True
            for at, text in batch:
                fields = detection_fields(text)
                if fields is None:
                    retraction = _retraction(text)
                    if retraction is not None:
                        self.stories.withdraw(at, retraction_thread(retraction), retraction.alert_id)
                    continue  # (else intake dead-letters it: no alert, no story)
                tk = thread_key(fields.rule, fields.group)
                period = self.catalog.open_period(fields.rule)
                self.stories.add(
                    at,
                    fields.key,
                    fields.id,
                    tk,
                    fields.fired_at,
                    fields.revises,
                    period,
                    ahead=fields.ahead,
                    reach=self.catalog.confirmation_reach(fields.rule),
                    reports_from=fields.reports_from,
                )
            if on_batch is not None:
                on_batch(position - 1 if done or not batch else batch[-1][0])
            if done:
                break
            self.read_to = batch[-1][0]


_COUNT_PAGE = 5000  # ledger rows per read when counting a throttled channel's decisions


@dataclass
class _Admitted:
    """A throttled channel's rows admitted per window, from its ledger rows of seq <= `through`."""

    through: int = 0
    windows: dict[datetime, int] = field(default_factory=dict)


def _retraction(text: str) -> Retraction | None:
    """The retraction of a payload that is no detection (the stories read both), or None when intake refuses it
    too. Retractions are rare: the model reads them, no fast path."""
    try:
        data = orjson.loads(text)
        return Retraction.model_validate(data) if isinstance(data, dict) and "alert_id" in data else None
    except (orjson.JSONDecodeError, ValidationError):
        return None


class AlertDispatcher:
    """Intake of detections into the delivery ledger, and delivery of what is due; see the module docstring."""

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        subscriptions: Sequence[Subscription] = (),
        retry: RetryPolicy | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        routing: RoutingProvider | None = None,
        catalog: AlertCatalog | None = None,
        owner: str | None = None,
        story_progress: StoryProgress | None = None,
        throttles: Mapping[str, ThrottleSpec] | None = None,
        update_waits: Mapping[str, float] | None = None,
        count_page: int = _COUNT_PAGE,
    ) -> None:
        self.store = store
        self._count_page = count_page  # ledger rows per read when counting a throttled channel's decisions
        # channel -> its throttle (`throttle: 10 per 1h` in the config): new top-level alerts past it are held and
        # listed in one summary when their window ends (alerts.throttle).
        self.throttles = dict(throttles or {})
        self._windows: dict[str, _Admitted] = {}  # throttled channel -> its admitted rows per window, counted so far
        self._summarised_through: dict[str, int] = {}  # channel -> the position its last summary listed through
        self._orphans: list[str] | None = None  # channels with held alerts and no throttle now (read once)
        # Not copied: a mapping may build notifiers on demand (Slack channels subscribed from Slack itself).
        self.notifiers = notifiers
        self.subscriptions = tuple(subscriptions)
        # `routing` replaces `subscriptions` when given (the control projection of subscriptions and silences).
        self.routing = routing if routing is not None else StaticRouting(self.subscriptions)
        self.retry = retry if retry is not None else RetryPolicy()
        self.schedule = RetrySchedule.from_policy(self.retry)
        self.catalog = catalog if catalog is not None else AlertCatalog()
        # A subscription's `where` names entities by id, name or alias: every spelling, from the rule packs.
        self.spellings = Spellings(self.catalog.entity_names, self.catalog.entity_aliases)
        self._now = now
        self.owner = owner or dispatcher_id()
        # When the last attempt a dead process may have had on its way has surely ended (Unix time; 0: none taken
        # over): the rows it held wait until then (`_take_over_dead_claims`), which a `--once` waits out (landing_wait).
        self._landing = 0.0
        # A long read of the log's detections for stories (the first detection after start-up) says how it goes.
        self.stories = StoryBook(store, self.catalog, story_progress)
        self._story_keys: dict[tuple[str, str], str] = {}  # (channel, story root) -> its rows' thread key (_story_key)
        # Digests come from subscriptions in the control log (config, CLI, Slack); a fixed routing table has none.
        self.digests = (
            DigestPlanner(
                store,
                self.routing,
                entity_names=self.catalog.entity_names,
                entity_aliases=self.catalog.entity_aliases,
                story_of=lambda position, det: self.stories.story(position, detection_event_id(det), det).root,
                catalog=self.catalog,
            )
            if isinstance(self.routing, ControlLog)
            else None
        )
        self.deliverer = Deliverer(
            store,
            notifiers,
            self.schedule,
            self._clock,
            self.owner,
            self._clock(),
            self._find_alert,
            self._acked,
            self._subscribed,
            update_waits=update_waits,
            acknowledged_before=self._acked_before,
        )

    def _clock(self) -> float:
        return self._now().timestamp()

    def channel_names(self) -> dict[str, str]:
        """Routing channel -> the Slack channel's name its subscriptions made in Slack keep, for summaries."""
        return self.routing.channel_names() if isinstance(self.routing, ControlLog) else {}

    def _subscribed(self, subscription_id: str) -> bool:
        """Whether a subscription is in force now (asked only for digests, which only the control log makes)."""
        routing = self.routing
        if not isinstance(routing, ControlLog):
            return True
        return any(s.id == subscription_id for s in routing.subscriptions())

    # -- the loop ---------------------------------------------------------------------------------------------

    def run_once(self, limit: int = 500) -> int:
        """Take in up to `limit` new events and deliver what is due; returns how many events were taken in
        (callers loop while it is positive)."""
        return self.cycle(limit, drain=False).taken

    def plan_digests(self) -> int:
        """Enqueue the digests whose slot has come (insert-if-absent: one row per slot, whoever plans it first);
        returns how many rows went in. They are then delivered like alerts."""
        if self.digests is None:
            return 0
        rows = self.digests.plan(self._now(), self._clock())
        if not rows or not self.store.enqueue(rows):
            return 0
        # (the digests, not the settled marks under the pre-merge keys enqueued with them: digest._merged_marks)
        return sum(r.kind == DIGEST_KIND for r in rows)

    def plan_summaries(self) -> int:
        """Enqueue the throttle summaries whose alerts' windows have ended (insert-if-absent under a key of the
        channel and the position the list starts after: one row whoever plans it first); returns how many rows went
        in. They are then delivered like digests."""
        channels = self._summarised()
        if not channels:
            return 0
        # Only once intake has taken in every detection in the log raised in a window that has ended (ours or another
        # process's pass): a summary planned while another process's intake is still in the window's detections
        # would list part of them, and the rest would make a second summary of the same window. Detections raised
        # in the open window do not hold it up: waiting for none at all to be pending put summaries off for as long
        # as the store was written to (the Kafka sink appending while `worker --dispatch` cycles; review 13, F9), so
        # a summary now goes out in the first pass after its window's detections are taken in. (A detection that
        # comes after, raised in a window already summarised, is listed by the next summary.)
        taken = self.store.checkpoint_position(PROCESSOR)
        pending = self._pending_raises(taken)
        if pending is None:
            return 0
        now = self._now()
        rows = []
        for channel in channels:
            spec = self.throttles.get(channel)  # (none: a throttle left the config, and it holds no new alert)
            if spec is not None and any(window_start(at, spec.per) + spec.per <= now for at in pending):
                continue  # one of its ended windows may get a held alert yet: the next pass, once intake took it in
            row = self._summary(channel, spec, taken)
            if row is not None:
                rows.append(row)
        return self.store.enqueue(rows) if rows else 0

    def _pending_raises(self, taken: int) -> list[datetime] | None:
        """The raise times (as the throttle decides by: `_throttled`) of the detections in the log after intake's
        position `taken`; None when there are PENDING_PAGE or more (intake is behind: it catches up first)."""
        got = self.store.read(taken, types={EventType.DETECTION.value}, limit=PENDING_PAGE)
        if len(got) >= PENDING_PAGE:
            return None
        out = []
        for stored in got:
            at = stored.event.received_at
            if at is None:
                try:
                    at = Detection.model_validate(stored.event.payload).fired_at
                except ValidationError:
                    continue  # (intake makes it a dead letter: never an alert)
            out.append(at)
        return out

    def _summarised(self) -> list[str]:
        """The channels whose held alerts are told in summaries: those with a throttle, and also one whose throttle
        was taken out of the config since it held alerts (they are told all the same; the config is read at start,
        so the held rows of every channel are read once per process, for their channels)."""
        if self._orphans is None:
            held = {r.channel for r in self.store.deliveries(statuses={HELD})}
            self._orphans = sorted(held - set(self.throttles))
        return [*self.throttles, *self._orphans]

    def _held(self, channel: str, spec: ThrottleSpec | None) -> tuple[list[Held], int]:
        """The channel's held alerts (each marked withdrawn or revised when a later row of its rule and group says
        so) and the position its last summary listed through (0: none yet)."""
        # A summary's row has the position it lists through as its seq, and each lists after the one before: the
        # last one's seq is where the next starts (only summaries newer than those seen before are read).
        after = self._summarised_through.get(channel, 0)
        for r in self.store.deliveries(channel=channel, thread_key=summary_thread(channel), after_seq=after):
            after = max(after, r.seq)
        self._summarised_through[channel] = after
        fresh = self.store.deliveries(channel=channel, statuses={HELD}, after_seq=after)
        gone: dict[str, str] = {}
        first: dict[str, int] = {}  # thread -> its earliest held row's seq
        for r in fresh:
            first[r.thread_key] = min(first.get(r.thread_key, r.seq), r.seq)
        for tk, since in first.items():
            # A withdrawal or revision of a held row comes after it in the log (a greater seq): the thread's rows
            # from its first held row on, not the whole thread, which a long story makes thousands of rows each pass.
            for r in self.store.deliveries(channel=channel, thread_key=tk, after_seq=since - 1):
                if r.kind == "retraction" and r.parent_id is not None:
                    gone[r.parent_id] = "withdrawn"
                elif (a := alert_of(r.payload)) is not None and a.detection.revises is not None:
                    for h in fresh:
                        if h.alert_id != r.alert_id and (b := alert_of(h.payload)) and b.id == a.detection.revises:
                            gone.setdefault(h.alert_id, "revised")
        out = []
        for r in fresh:
            mark, alert = Mark.of(r.payload), alert_of(r.payload)
            decided = (mark.spec if mark is not None else None) or spec
            if mark is None or alert is None or decided is None:
                continue  # (not a row the throttle held: nothing to list)
            end = mark.end(decided)
            out.append(Held(r.alert_id, r.seq, mark.window, end, alert.detection, gone.get(r.alert_id, ""), decided))
        return out, after

    def _summary(self, channel: str, spec: ThrottleSpec | None, taken: int) -> DeliveryRecord | None:
        held, after = self._held(channel, spec)
        if not held:
            return None
        plan = plan_summary(held, after, taken, self._now())
        if plan is None:
            return None
        key = summary_id(channel, plan.after)
        if self.store.delivery_status(key, channel) is not None:
            return None  # planned already (by us or another process): its row decides
        digest = Digest(
            id=key,
            subscription_id=f"throttle:{channel}",
            channel=channel,
            slot=plan.until,
            since=plan.since,
            after_position=plan.after,
            through_position=plan.through,
            # the ledger keeps what the message lists: each alert's report, not the evidence behind it
            detections=tuple(as_listed(h.detection, self.catalog.entity_names) for h in plan.listed),
            throttle=str(plan.spec or spec),
            withdrawn=len(plan.withdrawn),
            revised=len(plan.revised),
            revised_listed=len(revised_into(plan.revised, plan.listed)),
        )
        log.info("throttle summary %s -> %s due: %d alert(s) held", key, channel, len(plan.listed))
        return DeliveryRecord(
            key,
            channel,
            kind=DIGEST_KIND,
            payload=digest.to_payload(),
            thread_key=summary_thread(channel),
            seq=plan.through,
            created_at=self._clock(),
        )

    def _admitted(self, channel: str, position: int) -> Mapping[datetime, int]:
        """How many rows of `channel` at log positions before `position` were admitted by the throttle, per window:
        the decisions recorded in the ledger, read once and then only the rows added since (`after_seq`)."""
        counted = self._windows.get(channel)
        if counted is None or counted.through >= position:  # first look, or a position before those counted
            counted = self._windows[channel] = _Admitted()
        after = counted.through
        while True:
            got = self.store.deliveries(channel=channel, after_seq=after, limit=self._count_page)
            full = len(got) == self._count_page
            if full:  # rows of the page's last seq may go on past it: read them again with the next page
                last = got[-1].seq
                got = [r for r in got if r.seq < last]
            for r in got:
                if r.seq >= position:
                    break
                m = Mark.of(r.payload)
                if m is not None and not m.held:
                    counted.windows[m.window] = counted.windows.get(m.window, 0) + 1
                after = r.seq
            if not full or (got and got[-1].seq >= position) or not got:
                break
        # Rows of the positions before `position` are all in the ledger (intake goes in log order): none is added
        # at a seq counted past, but the row of `position - 1` may be another process's and not read yet: counted
        # through the last row read, below `position`.
        counted.through = min(max(after, counted.through), position - 1)
        return counted.windows

    def _throttled(
        self, row: DeliveryRecord, stored: StoredEvent, det: Detection, spec: ThrottleSpec
    ) -> DeliveryRecord:
        """`row` (a new top-level alert for a throttled channel) with the throttle's decision: sent as it is, or
        held. Deterministic (alerts.throttle): the raise time is the log's, and the count is of the decisions
        recorded in the channel's rows of earlier log positions, which every process has enqueued (or found) before
        this one."""
        raised = stored.event.received_at or det.fired_at
        mark = decide(spec, raised, self._admitted(row.channel, stored.position))
        payload = {**(row.payload or {}), "throttle": mark.to_json(spec)}
        if not mark.held:
            return dataclasses.replace(row, payload=payload)
        log.info("alerts: %s -> %s held by the channel's throttle (%s)", row.alert_id, row.channel, spec)
        return dataclasses.replace(row, payload=payload, status=HELD, detail=held_detail(spec, mark))

    def cycle(
        self, limit: int = 500, *, drain: bool = True, finish_slow: bool = True, deliver: bool = True
    ) -> CycleReport:
        """Take in new events (all of them when `drain`, else up to `limit`), enqueue the digests whose time has
        come, then deliver every due row (without `finish_slow`, a slow channel's rows past its budget wait for
        the next cycle: a pipeline that delivers after each batch leaves them to its closing cycle; without
        `deliver`, none: a backlog being read holds its alerts until it is read, `watchfloor run`)."""
        report = CycleReport()
        while True:
            taken, enqueued = self.intake(limit)
            report.taken += taken
            report.enqueued += enqueued
            if not drain or taken < limit:
                break
        report.enqueued += self.plan_digests()
        report.enqueued += self.plan_summaries()
        if not deliver:
            report.counts = self.store.delivery_counts(REPORTED)
            report.held_back = True
            return report
        # A killed process's claims, free before this pass (outside trial 12, L2: taken over only after it, the
        # claimed alert went out and its follow-up, deferred meanwhile as "waiting for" it, a whole cycle later).
        # (An index read of the outstanding rows: none, most cycles.)
        self._take_over_dead_claims()
        report.tally = self.deliverer.run(finish_slow=finish_slow)
        report.counts = self.store.delivery_counts(REPORTED)
        if report.outstanding and self._take_over_dead_claims():
            # A process killed during the pass: its claims sent in this cycle, not after their lease (2 min) runs out.
            again = self.deliverer.run(finish_slow=finish_slow)
            report.tally = CycleReport(tally=again).merged([CycleReport(tally=report.tally)]).tally  # both passes
            report.counts = self.store.delivery_counts(REPORTED)
        if report.outstanding:
            # Per channel for the cycle line (trial 19, L3). Read only when something is outstanding (most cycles
            # nothing is), and the total taken from it, so the line's parts add up to its total.
            report.outstanding_by_channel = {
                ch: n for (ch, _), (n, _) in self.store.delivery_stats(("outstanding",)).items() if n
            }
            report.counts["outstanding"] = sum(report.outstanding_by_channel.values())
        if report.outstanding:
            now = self._clock()
            leased = sum(
                1
                for r in self.store.deliveries(statuses={"outstanding"})
                if r.lease_owner not in (None, self.owner)
                and r.lease_until is not None
                and r.lease_until > now
                and holder_may_live(r.lease_owner)
            )
            # (A second read: rows enqueued and leased by another process in between must not make it exceed
            # the count it is part of.)
            report.elsewhere = min(leased, report.outstanding)
        return report

    def _take_over_dead_claims(self) -> int:
        """Release the live leases of processes of this host that are gone (kill -9 mid-send: `holder_may_live`),
        so their deliveries are claimed well before the lease runs out (outside trial 11, LOW 4: 2 minutes late).
        Released as the dead owner (`settle_delivery` checks it still holds the lease: a compare-and-set, so two
        dispatchers doing this at once release it once) and `unsure`: the next attempt looks in the channel first,
        as after a lease that ran out. Not before the dead process's attempt could have landed, though: a post it
        had on its way when killed can still be carried out (outside trial 36, H1: Slack slow to post, a `kill -9`
        and a restart within its 2-4 s, and the look found nothing yet and posted a copy), so the row's next
        attempt is no earlier than the channel's longest attempt from now (`InFlight`: Slack's look and post, a
        webhook's POST; `Lasting`: email's exchanges), nor later than the lease. A pid reused by another process
        reads as alive: the lease is waited out, as before (the safe side). Returns how many were released."""
        now = self._clock()
        released = 0
        for r in self.store.deliveries(statuses={"outstanding"}):
            owner = r.lease_owner
            if owner in (None, self.owner) or r.lease_until is None or r.lease_until <= now:
                continue  # no claim, ours, or run out already (claimable as it is)
            if holder_may_live(owner):
                continue
            landed = self._landed_by(r.channel, r.lease_until, now)
            keep = Settlement(
                r.status,
                r.detail,
                attempts=r.attempts,
                next_attempt_at=max(r.next_attempt_at, landed),
                not_before=r.not_before,
                unsure=True,
            )
            if self.store.settle_delivery(r.alert_id, r.channel, owner, keep, now):
                released += 1
                self._landing = max(self._landing, landed)
                if landed > now:
                    # The channel's later rows wait with it, so that it still goes first, in event time: sent after
                    # them it read "Sent late" in every channel though its attempt never reached Slack (outside
                    # trial 69, M2: a routine SIGTERM mid-send, and later alerts of its rule went first).
                    self.store.defer_channel(r.channel, landed, now, hold_channel=True)
                wait = (
                    f" from {datetime.fromtimestamp(landed, UTC).strftime('%H:%M:%S UTC')}, when an attempt it had on "
                    "its way has landed,"
                    if landed > now
                    else ""
                )
                log.warning(
                    "alerts: %s -> %s was claimed by %s, a process of this host that is no longer running (stopped "
                    "or killed mid-send): taken over%s %s",
                    r.alert_id,
                    r.channel,
                    owner,
                    wait or " now,",
                    self._next_attempt(r.channel),
                )
        return released

    def _next_attempt(self, channel: str) -> str:
        """What the attempt after a take-over does: a look first where the channel can be looked in (Slack, file); a
        webhook or a mailbox cannot be, and gets the same request again (trial 42, MED-1: the line said it looked)."""
        notifier = self._notifier(channel)
        if isinstance(notifier, Reconciling):
            return "looking in the channel before sending"
        if isinstance(notifier, Lasting):  # (email: its attempts may outlast the lease)
            return "it cannot be looked in: sending again with the same Message-ID; the receiver de-duplicates"
        if isinstance(notifier, InFlight):  # (a webhook: its POST may land after its process died)
            return "it cannot be looked in: sending again with the same Idempotency-Key; the receiver de-duplicates"
        return "it cannot be looked in: sending again"

    def landing_wait(self) -> float:
        """Seconds until the rows this dispatcher took over from a dead process may be tried (an attempt that process
        had on its way has landed by then), or the rows whose own attempt timed out here (`Deliverer.landing`: a post
        Slack may still carry out), 0 when none waits for that: a `run --once` waits it out and delivers them,
        instead of ending with them outstanding (trial 36, H1's cost; trial 54, HIGH-1)."""
        return max(max(self._landing, self.deliverer.landing) - self._clock(), 0.0)

    def landing_for(self) -> str:
        """What `landing_wait` waits for, said by a `--once` that waits (or will not wait that long)."""
        now = self._clock()
        what = []
        if self._landing > now:
            what.append("the deliveries taken over from a process stopped mid-send (an attempt it had on its way)")
        if self.deliverer.landing > now:
            what.append("the deliveries whose attempt timed out here (a post the channel may still carry out)")
        return " and ".join(what) or "nothing"

    def _landed_by(self, channel: str, lease_until: float, now: float) -> float:
        """When an attempt of `channel` that a process found dead at `now` may have had on its way has surely
        ended: `now` plus the channel's longest attempt (it started before now; when is not recorded, and another
        process's lease may be of another length), never past the lease itself; `now` for a channel that says none."""
        return min(lease_until, now + landing_window(self._notifier(channel)))

    def intake(self, limit: int = 500) -> tuple[int, int]:
        """Route new detections and retractions into the ledger; returns (events read, rows enqueued).

        Each event's rows go into the ledger with its alert and suppressed-delivery events, in one transaction;
        the checkpoint follows with the same events (dedup by id), so a crash in between repeats the event, and
        the ledger keeps the first rows and the log their events."""
        tables: list[RoutingTable] = []  # read once per intake, and only when there is something to route
        enqueued = 0
        # The event this pass took last: pull_and_process hands over the events of INTAKE_TYPES one by one as it
        # read them, in order, so none lies between it and the next (a pass that lost a race stops there).
        last: list[int] = []

        def take(events: Sequence[StoredEvent], state: None) -> tuple[None, list[Event]]:
            nonlocal enqueued
            if events[0].event.type == ControlType.ALERT_ACKNOWLEDGED.value:  # no detection: stories untouched
                enqueued += self.store.enqueue(self._stamped(self._take_ack(events[0])))
                return None, []
            if not tables:
                tables.append(self.routing.routing())
            if last:
                self.stories.passed(last[0], events[0].position)
            last[:] = [events[0].position]
            retold: list[DeliveryRecord] = []
            rows, outputs = self._take(events[0], tables[0], retold=retold)
            # The rows go in with the alert and delivery events they summarise, in one transaction: a row is never
            # sent (another dispatcher may claim it at once) without its `alert` in the log (outside review 49, H3).
            # The checkpoint commits them again after (dedup by id): a crash in between repeats the event, a no-op.
            try:
                enqueued += self.store.enqueue(self._stamped(rows), outputs, replacing=retold)
            except ReplanRefused as e:
                # A row of the thread it told again was taken meanwhile (another dispatcher's claim): planned as
                # before, from what the ledger holds now (the thread goes on as it began).
                log.info("alerts: %s; %s planned in the thread as it stands", e, events[0].event.id)
                rows, outputs = self._take(events[0], tables[0])
                enqueued += self.store.enqueue(self._stamped(rows), outputs)
            return None, outputs

        taken = pull_and_process(self.store, PROCESSOR, TAKEN_TYPES, take, batch_size=limit, limit=limit, each=True)
        return taken, enqueued

    def route_again(
        self, stored: StoredEvent, table: RoutingTable, channel: str | None = None
    ) -> tuple[list[DeliveryRecord], int]:
        """An alert taken in before any subscription routed it, routed now through `table` by intake's own step
        (alerts redeliver --route), through `channel`'s subscriptions only when given: its rows enqueued and its
        outputs (its `alert` event, a suppressed row's `delivery` event) appended in one transaction, so an
        interruption leaves neither. Returns (the rows, none when `table` routes it nowhere either; how many of
        them went in, the others being in the ledger already)."""
        if channel is not None:
            table = dataclasses.replace(
                table, subscriptions=tuple(s for s in table.subscriptions if s.channel == channel)
            )
        # An operator's named alerts, routed now: sent as asked, not held by a throttle (a held row at an old log
        # position, behind its channel's summaries, would be listed by none).
        rows, outputs = self._take(stored, table, throttle=False)
        if not rows:
            return [], 0
        return rows, self.store.enqueue(self._stamped(rows), outputs)

    def _stamped(self, rows: list[DeliveryRecord]) -> list[DeliveryRecord]:
        now = self._clock()  # the maximum age counts from here, on the dispatcher's clock
        return [dataclasses.replace(r, created_at=r.created_at or now) for r in rows]

    # -- intake -----------------------------------------------------------------------------------------------

    def _take(
        self,
        stored: StoredEvent,
        table: RoutingTable,
        *,
        throttle: bool = True,
        retold: list[DeliveryRecord] | None = None,
    ) -> tuple[list[DeliveryRecord], list[Event]]:
        """The rows and events of the detection or retraction `stored`. With `retold`, a detection that fired before
        the first message of its story's thread in a channel, none of whose rows was sent or tried yet (a held
        backlog read out of event time), starts that thread instead (intake.plan_retold): the thread's rows planned
        again are added to `retold`, to be written in place of theirs (`enqueue(replacing=)`)."""
        ev = stored.event
        try:
            if ev.type == EventType.RETRACTION.value:
                return self._take_retraction(stored, Retraction.model_validate(ev.payload)), []
            det = Detection.model_validate(ev.payload)
        except ValidationError as e:
            log.warning("alerts: unreadable %s event %s at position %d", ev.type, ev.id, stored.position)
            dead = DeadLetter(
                origin=f"event:{ev.id}",
                line=stored.position,
                reason=(
                    f"invalid {ev.type} payload: {plural.counted(e.error_count(), 'error')}: {e.errors()[0]['msg']}"
                ),
                raw=orjson.dumps(ev.payload).decode()[:2000],
                stage="notify",
            )
            return [], [dead_letter_event(dead, self._now())]
        key = detection_event_id(det)
        tk = detection_thread(det, self.catalog)
        story = self.stories.story(stored.position, key, det)  # whatever its channels, and when it has none
        channels = route(det, table.subscriptions, self.spellings)
        # A channel whose `where` this detection misses still takes it into a thread it has of the same rule and
        # group (a follow-up whose reports name another place, a revision): never as an alert of its own.
        channels += tuple(
            channel
            for channel in thread_only(det, table.subscriptions, self.spellings)
            if continues_thread(
                key,
                det,
                story,
                self.deliverer.threads.read(channel, self._story_key(channel, tk, story, det)),
                self.catalog,
                self._story_key(channel, tk, story, det),
            )
        )
        if not channels:
            log.debug("alerts: detection %s (%s) matches no subscription", det.id, det.rule)
            return [], []
        alert = Alert(id=det.id, detection=det, channels=channels)
        now = self._now()
        rows: list[DeliveryRecord] = []
        outputs: list[Event] = [alert_event(alert)]
        same = self._same_place(channels, tk)
        of_rule = tk
        for channel in channels:
            tk = self._story_key(channel, of_rule, story, det)
            if channel in same:
                # One Slack channel reached under two routing names (`#desk` in the config, `slack:C…` from the
                # Slack app or the CLI): one message per real channel, under the routing name that keeps it.
                kept, where = same[channel]
                why = f"the same channel as {kept} ({where}), which takes it"
                rows.append(self._suppressed(key, channel, alert, tk, stored.position, why, outputs))
                continue
            silence = silenced_by(det, channel, table.silences, now)
            if silence is not None and not revises_told(det, self.deliverer.threads.read(channel, tk)):
                why = f"silenced by {silence.id}"
                rows.append(self._suppressed(key, channel, alert, tk, stored.position, why, outputs))
                continue
            thread = self.deliverer.threads.read(channel, tk)
            copy = standing_copy(det, key, thread)
            if copy is not None:
                why = f"the same alert as {copy.alert_id}, already {copy.status} here (its reports arrived again)"
                rows.append(self._suppressed(key, channel, alert, tk, stored.position, why, outputs))
                continue
            row = plan_detection(key, alert, channel, thread, story, self.catalog, stored.position, tk)
            spec = self.throttles.get(channel)
            # (a follow-up goes no earlier than its thread's first message: ordered after its own time, it fired
            # before that message, the one case plan_retold looks further into)
            later = row.order_at > det.fired_at.timestamp()
            if row.kind == "followup" and later and retold is not None and (spec is None or not throttle):
                again = plan_retold(key, alert, channel, thread, story, self.catalog, stored.position, tk)
                if again is not None and too_old(det, channel, table.subscriptions, now, self.spellings) is None:
                    row = again[0]
                    retold.extend(again[1])
                    rows.append(row)
                    continue
            limit = too_old(det, channel, table.subscriptions, now, self.spellings) if row.kind == "alert" else None
            if limit is not None:
                # Old news (a backfill, a feed's archive, a report long late): no new thread. A follow-up or
                # revision of an alert the channel has still goes: it keeps what the channel was told true.
                why = f"older than {format_duration(limit)} when raised (max_age of its subscriptions): not sent"
                rows.append(self._suppressed(key, channel, alert, tk, stored.position, why, outputs))
                continue
            if spec is not None and row.kind == "alert" and throttle:
                row = self._throttled(row, stored, det, spec)
            rows.append(row)
        return rows, outputs

    def _joined_key(self, channel: str, tk: str, det: Detection, story: Story) -> str:
        """Of a detection that starts its group's story, of a rule with `thread_by`: the thread key of the story of
        those values it is a new alert of, when that story's rows in `channel` are under another key (the rule's
        `thread_by` changed while it was open: outside trial 74, F3, the EU-on-Niger story went on in a new thread
        for the groups raised after the change), else `tk`. Kept per channel and story, as _story_key."""
        keys = self.catalog.thread_by.get(det.rule)
        if keys is None:
            return tk
        known = self._story_keys.get((channel, story.root))
        if known is not None:
            return known
        found = tk
        probe = Alert(id=det.id, detection=det, channels=())
        here = plan_detection(
            story.root, probe, "", self.deliverer.threads.read(channel, tk), story, self.catalog, 0, tk
        )
        if "story_root" not in (here.payload or {}):
            period = self.catalog.open_period(det.rule)
            near = self.stories.stories.near_groups(det.rule, det.group, keys, det.fired_at, period)
            others = dict.fromkeys(
                r.thread_key
                for r in (self.store.deliveries(alert_ids=near, channel=channel) if near else [])
                if r.kind == "alert" and r.thread_key and r.thread_key != tk
            )
            # The story it joins is chosen as in one thread key (intake._joins_story: the latest alert of another
            # group before it within the open period), from the rows of every key those alerts are under.
            rows = [r for other in others for r in self.deliverer.threads.read(channel, other)]
            rows.sort(key=lambda r: (r.seq, r.alert_id))
            root = (plan_detection(story.root, probe, "", rows, story, self.catalog, 0, tk).payload or {}).get(
                "story_root"
            )
            joined = next((r for r in rows if r.alert_id == root), None) if root else None
            if joined is not None and joined.thread_key:
                found = joined.thread_key
        self._story_keys[(channel, story.root)] = found
        while len(self._story_keys) > STORY_KEYS_KEPT:
            self._story_keys.pop(next(iter(self._story_keys)))
        return found

    def _story_key(self, channel: str, tk: str, story: Story, det: Detection) -> str:
        """The ledger thread key of a detection of `story` in `channel`: `tk` (its rule's `thread_by` now), unless the
        channel's rows of the story's earlier detections are under another key (the rule's `thread_by` changed while
        the story was open): theirs, so a follow-up updates its group's own message where it is and the story goes on
        in its thread (outside trial 74, F3: it became a new alert, "another group", in a new thread). Read from the
        store only when the thread of `tk` holds none of them; the answer is kept per channel and story, as the key a
        dispatcher writes a story's rows under does not change while it runs (its catalog is fixed)."""
        if not story.members:
            return self._joined_key(channel, tk, det, story)
        known = self._story_keys.get((channel, story.root))
        if known is not None:
            return known
        if any(r.alert_id in story.members for r in self.deliverer.threads.read(channel, tk)):
            found = tk
        else:
            rows = self.store.deliveries(alert_ids=sorted(story.members), channel=channel)
            elsewhere = [r.thread_key for r in rows if r.kind != "retraction" and r.thread_key and r.thread_key != tk]
            found = elsewhere[-1] if elsewhere else tk
        self._story_keys[(channel, story.root)] = found
        while len(self._story_keys) > STORY_KEYS_KEPT:
            self._story_keys.pop(next(iter(self._story_keys)))
        return found

    def _same_place(self, channels: Sequence[str], tk: str) -> dict[str, tuple[str, str]]:
        """Of `channels`, those that post where another of them does (a Slack channel's ID, told by the notifiers):
        routing name -> (the one that takes the alert, the place). The one kept is the one already holding a row of
        this rule and group there (its thread goes on), else a configured name before a `slack:<id>`, else the
        first. A place that cannot be told now (Slack unreachable) is not merged: a duplicate rather than a loss."""
        targeted: list[tuple[str, Targeted]] = []
        for channel in channels:
            notifier = self._notifier(channel)
            if isinstance(notifier, Targeted):
                targeted.append((channel, notifier))
        if len(targeted) < 2:  # nothing to compare: no call to Slack
            return {}
        places: dict[str, list[str]] = {}
        for channel, told in targeted:
            place = told.target()
            if place is not None:
                places.setdefault(place, []).append(channel)
        out: dict[str, tuple[str, str]] = {}
        for place, names in places.items():
            if len(names) < 2:
                continue
            ranks = []
            for i, name in enumerate(names):
                rows = self.deliverer.threads.read(name, tk)
                threaded = any(r.kind != "retraction" and r.status != "suppressed" for r in rows)
                ranks.append((0 if threaded else 1, 1 if name.startswith("slack:") else 0, i, name))
            kept = min(ranks)[3]
            for name in names:
                if name != kept:
                    out[name] = (kept, place)
        return out

    def _notifier(self, channel: str) -> Notifier | None:
        try:
            return self.notifiers.get(channel)
        except Exception:  # a lazy mapping that cannot build it: it fails at delivery, said there
            return None

    def _suppressed(
        self, key: str, channel: str, alert: Alert, tk: str, seq: int, detail: str, outputs: list[Event]
    ) -> DeliveryRecord:
        status = self.store.delivery_status(key, channel)
        # A row decided otherwise stays as it is (a replay). A suppressed row still gets its event: the one who
        # enqueued it may have lost the race to commit (another dispatcher's intake, or a crash in between), and
        # the event's id is fixed by (alert, channel, status), so the log keeps one whoever commits.
        if status is None or status == "suppressed":
            if status is None:
                log.info("alerts: %s -> %s suppressed (%s)", key, channel, detail)
            delivery = Delivery(
                alert_id=key, channel=channel, status="suppressed", attempts=0, detail=detail, at=self._now()
            )
            outputs.append(delivery_event(delivery))
        payload = {
            "alert": alert.model_dump(mode="json"),
            "group_label": self.catalog.group_label(alert.detection.group),
        }
        return DeliveryRecord(
            key,
            channel,
            status="suppressed",
            payload=payload,
            thread_key=tk,
            seq=seq,
            detail=detail,
            created_at=self._clock(),
            order_at=alert.detection.fired_at.timestamp(),  # (were it sent after all: `alerts redeliver`)
        )

    def _take_ack(self, stored: StoredEvent) -> list[DeliveryRecord]:
        """An acknowledgement: a row for each channel that can show it and holds a message of the alert (sent, or
        still to be: the row waits for it), whichever way it was recorded. The Slack button's own message was
        rewritten by the click already: its row finds no Acknowledge button there and changes nothing."""
        try:
            ack = AlertAcknowledged.model_validate(stored.event.payload)
        except ValidationError:
            return []  # (ControlState says so too)
        found: set[str] = set()  # the ledger keys of every raising of the alert it took (not of one raised after it)
        for se in self.store.detections_of([ack.alert_id]):
            if se.position > stored.position:  # reinstated since: acknowledged anew (ControlLog.acknowledgements)
                continue
            try:
                found.add(detection_event_id(Detection.model_validate(se.event.payload)))
            except ValidationError:
                continue  # (intake made it a dead letter: no row)
        keys = sorted(found)
        rows = self.store.deliveries(alert_ids=set(keys)) if keys else []
        channels = sorted({r.channel for r in rows if r.kind in REPLACEABLE and r.status in ("sent", "outstanding")})
        payload = {"ack": ack.model_dump(mode="json"), "keys": keys}
        return [
            DeliveryRecord(
                ack_key(stored.event.id),
                channel,
                kind=ACK_KIND,
                payload=payload,
                thread_key=f"{ACK_KIND}\x1f{ack.alert_id}",  # a thread of its own: never one of the alert's threads
                seq=stored.position,
            )
            for channel in channels
            if isinstance(self._notifier(channel), AckShowing)
        ]

    def _take_retraction(self, stored: StoredEvent, retraction: Retraction) -> list[DeliveryRecord]:
        self.stories.withdrawn(stored.position, retraction)  # whatever its channels: stories are the log's
        rows = self.store.deliveries(thread_key=retraction_thread(retraction))
        shared = self.catalog.ledger_thread(retraction.rule, retraction.group)  # (a rule with thread_by)
        read = {retraction_thread(retraction)}
        # ... and the keys the alert's own rows are under: those of a thread_by it had before a change (trial 74, F3)
        for key in (shared, *(r.thread_key for r in self.store.deliveries(alert_ids=[retraction.alert_id]))):
            if key and key not in read:
                read.add(key)
                rows = sorted([*rows, *self.store.deliveries(thread_key=key)], key=lambda r: (r.seq, r.alert_id))
        return plan_retraction(stored.event.id, retraction, rows, self.catalog, stored.position, self._listed(rows))

    def _listed(self, rows: Sequence[DeliveryRecord]) -> dict[tuple[str, str], str]:
        """(held row's key, channel) -> the key of the throttle summary planned already that lists its alert, for
        the held rows of `rows`: the channel was told of those (review 13, F2)."""
        held = [r for r in rows if r.status == HELD]
        out: dict[tuple[str, str], str] = {}
        for channel in sorted({r.channel for r in held}):
            summaries = self.store.deliveries(channel=channel, thread_key=summary_thread(channel))
            of_held = summaries_of_held([*(r for r in held if r.channel == channel), *summaries])
            for r in held:
                summary, alert = of_held.get((r.alert_id, channel)), alert_of(r.payload)
                if summary is None or alert is None:
                    continue
                try:
                    digest = Digest.from_payload(summary.payload)
                except ValueError:  # a summary this version cannot read: it cannot be sent either
                    continue
                if digest is not None and alert.id in digest.alert_ids():  # (one it left out told nothing)
                    out[(r.alert_id, channel)] = summary.alert_id
        return out

    def _acked(self, alert_id: str) -> AlertAcknowledged | None:
        """The first acknowledgement of an alert, when the routing provider keeps them (the control log)."""
        lookup = getattr(self.routing, "acknowledgements", None)
        acks = lookup(alert_id) if callable(lookup) else []
        return acks[0] if acks else None

    def _acked_before(self, alert_id: str) -> AlertAcknowledged | None:
        """The latest acknowledgement of an earlier raising of an alert reinstated since, which does not take it
        (ControlLog.acknowledgements_before), when the routing provider keeps them."""
        lookup = getattr(self.routing, "acknowledgements_before", None)
        acks = lookup(alert_id) if callable(lookup) else []
        return acks[-1] if acks else None

    def _find_alert(self, key: str) -> Alert | None:
        """The alert of a ledger row written by the first version (no payload): its alert event in the log."""
        position = 0
        while batch := self.store.read(position, types={EventType.ALERT.value}, limit=5000):
            for se in batch:
                if se.event.id == f"alert-{key}":
                    return Alert.model_validate(se.event.payload)
            position = batch[-1].position
        return None

    # -- for commands -----------------------------------------------------------------------------------------

    def check_channels(self) -> list[ChannelCheck]:
        """Each configured channel's own check, and each Slack channel subscribed from Slack that the routing
        table holds now (see `check_channels`; trial 29, F6: only configured channels were checked)."""
        return check_channels(self.notifiers, [s.channel for s in self.routing.routing().subscriptions])

    def next_due(self, *, digests: bool = True) -> float | None:
        """Seconds until the earliest outstanding delivery may be tried, or (with `digests`) the next digest
        falls due (0 if one is due now), or None when there is neither. A row of a channel paused by its own
        Retry-After (as the store has it: one `alerts resume` lifted is over) is not due before the pause ends, however
        it was scheduled (rows enqueued after the pause have no not_before of their own); nor one of a channel
        backing off after a failure, recorded since this process started (the claims' rule)."""
        rows = self.store.deliveries(statuses={"outstanding"})
        now = self._clock()
        paused = self.deliverer.pauses_in_force(now)
        for channel, until in self.store.channel_backoffs(now, backoff_set_before=self.deliverer.started_at).items():
            if until > paused.get(channel, now):
                paused[channel] = until
        times = [max(r.next_attempt_at, r.not_before, r.lease_until or 0.0, paused.get(r.channel, 0.0)) for r in rows]
        if digests and self.digests is not None and (slot := self.digests.next_at(self._now())) is not None:
            times.append(slot.timestamp())
        if digests:
            for channel in self._summarised():
                held, after = self._held(channel, self.throttles.get(channel))
                if (end := next_window_end(held, after)) is not None:
                    times.append(end.timestamp())
        if not times:
            return None
        return max(math.ceil((min(times) - now) * 1e6) / 1e6, 0.0)  # whole microseconds: then it is due
