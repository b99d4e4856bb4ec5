"""Delivery: claim a due row of the ledger, look in the channel when an earlier attempt may have got through,
send, update the thread's first message, record the outcome. One claimed row at a time, never a sleep.

A failed attempt leaves the row outstanding with its next attempt scheduled (capped exponential backoff, or
the channel's Retry-After, capped); the row expires after the maximum age. A channel that failed as a whole
(server down, bad token, a Retry-After) is skipped for the rest of the cycle, so it costs one attempt per
cycle, not one per alert, and never holds up the other channels. A Retry-After also pauses the channel in
the store, for every dispatcher and for rows enqueued later, until it ends. Every notifier call runs in a thread
of its own (`_bounded`): the notifiers' timeouts are per socket read. The calls of one claim (look, send, update)
share one deadline, the claim's lease less a margin, and a call given up at it, or at a stop, keeps its row claimed
(the lease renewed) until it ends, so no other dispatcher looks or sends while it may still post.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from pydantic import ValidationError

from watchfloor.schemas.control import AlertAcknowledged, DigestSent, digest_sent_event
from watchfloor.schemas.events import Alert, Delivery, Event, delivery_event
from watchfloor.schemas.plural import counted
from watchfloor.stream_processors.ports import DeliveryRecord, Settlement, Store
from watchfloor.stream_processors.stores.errors import StoreError

from .compose import (
    QUIET,
    RESTARTED,
    AckAnswers,
    AckAsks,
    Reads,
    Skip,
    Tell,
    Wait,
    base_notice,
    decide,
    may_hold_reply,
    reply_held_until,
    retold_story,
    with_acks,
)
from .notice import (
    ACK_KIND,
    ACK_NOT_SHOWN_REINSTATED,
    DIGEST_KIND,
    REPLACEABLE,
    Digest,
    Notice,
    alert_of,
    story_root_of,
    thread_of,
    thread_state,
)
from .notifiers.base import (
    AckShowing,
    DigestSending,
    EarlierShowing,
    Lasting,
    MessageFrozen,
    MessageGone,
    Notifier,
    NotifierError,
    NotYetLookable,
    PermanentError,
    Reconciling,
    RefLearning,
    Surveying,
    TransientError,
    Unconfirmed,
    Updating,
    landing_window,
)
from .schedule import (
    ChannelWait,
    FailedAttempt,
    RetrySchedule,
    after_failed,
    channel_wait,
    given_up,
    out_of_attempts_why,
    redeliver_advice,
)
from .threads import ThreadRows

log = logging.getLogger(__name__)

QUIET_FAILED = "rewriting its alert's message failed (told quietly: no reply is posted)"
MAX_PER_CYCLE = 10_000  # claims per cycle: a bound, far above what one cycle meets
DEFER_FLOOR = 1.0  # seconds at least that a row waiting for another one waits, whatever `retry.backoff` says
LEASE_MARGIN = 60.0  # seconds past a channel's longest attempt before its claim may be taken over
CHANNEL_BUDGET = 5.0  # seconds of attempts a channel may take in a cycle before the other channels go first
# A channel whose budget ran out is *slow* (a warning) when fewer than this many attempts fit in it (over 1 s each with
# the 5 s budget); else it only had many deliveries due (a catch-up), said at info level (outside trial 18, L1: a local
# file channel was called slow 57 times for sending 20 deliveries a second).
SLOW_ATTEMPTS = 5
STOP_POLL = 0.2  # seconds between looks at `stopping` while a notifier call is under way
# Messages (Slack) or lines (file) posted after the ledger's newest delivery to a channel that the look at start reads
# at most (`Deliverer._survey`): what a store restored from a backup sends again. 1,000 covers days of a desk channel
# (5 pages of conversations.history, within its rate limit); past it, deliveries since the backup are sent again.
SURVEY_LIMIT = 1_000
SETTLE_MARGIN = 5.0  # seconds of a claim's lease kept for recording the outcome after its last call (at most 1/10)
# How long a call given up at its claim's deadline keeps the row claimed while it still runs. Past it (a server
# answering a byte at a time for an hour) the row is let go: another dispatcher looks in the channel and may send
# it again, as after a crash; this process still sends nothing more to that channel while the call runs.
HOLD_LIMIT = 3600.0

_T = TypeVar("_T")


@dataclass
class Tally:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0  # attempts that failed; their deliveries stay outstanding
    expired: int = 0
    deferred: int = 0  # follow-ups waiting for their thread's first message
    suppressed: int = 0
    replaced: int = 0  # revisions not sent: a later revision of the same alert went in their place
    withdrawn: int = 0  # alerts and follow-ups not sent: withdrawn before they could be (and their withdrawals)
    lost: int = 0  # outcomes refused because another dispatcher took the lease over
    digests: int = 0  # of `sent`, digest messages (a subscription's)
    # of `sent`, throttle summaries: a ledger row of kind digest too, but said apart (outside trial 64, LOW-4: a
    # throttle summary read "1 digest(s) sent" where no digest was subscribed)
    summaries: int = 0
    # of `sent`, those an earlier attempt had got through with (found in the channel by looking, not posted again):
    # said apart (trial 33, L5: "2 sent" after a takeover read as two posts, one of which was a find)
    found: int = 0
    acks_shown: int = 0  # messages rewritten to show an acknowledgement recorded elsewhere (not in `sent`)
    slow_channels: set[str] = field(default_factory=set)  # channels that used their budget: the others went first
    busy_channels: set[str] = field(default_factory=set)  # of those, the ones fast but with more due than fit in it
    # channel -> of `sent` / `expired`, that channel's: the cycle line splits them (trial 19, L3: "7 sent" during a
    # Slack outage were the file channel's, and read as Slack's)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    expired_by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        """Count what `other` (another pass of the same cycle or run) did in too."""
        counts = (
            "sent",
            "failed",
            "expired",
            "deferred",
            "suppressed",
            "replaced",
            "withdrawn",
            "lost",
            "digests",
            "summaries",
            "found",
            "acks_shown",
        )
        for name in counts:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.slow_channels = self.slow_channels | other.slow_channels
        self.busy_channels = self.busy_channels | other.busy_channels
        self.sent_by_channel = _summed(self.sent_by_channel, other.sent_by_channel)
        self.expired_by_channel = _summed(self.expired_by_channel, other.expired_by_channel)


def _summed(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """A new dict (never one of a copied Tally's, which `dataclasses.replace` shares) of both counts."""
    out = dict(a)
    for k, n in b.items():
        out[k] = out.get(k, 0) + n
    return out


@dataclass(frozen=True)
class _Claim:
    """The row this process is working on, and the one deadline (time.monotonic()) its notifier calls share."""

    rec: DeliveryRecord
    lease: float  # seconds the store leased it for
    deadline: float


@dataclass(frozen=True)
class _Unsettled:
    """A row of this process whose settlement the store could not take (it went away mid-attempt): recorded first
    when it is back (`Deliverer._settle_unsettled`)."""

    rec: DeliveryRecord
    outcome: Settlement
    events: tuple[Event, ...]
    sent: bool  # the attempt got through (counted in the cycle that records it)


class _Held(Exception):
    """A notifier call given up (the claim's deadline, a stop) that is still running: its row stays claimed and is
    settled when the call ends (`Deliverer._hold`), not by the attempt that gave it up."""


class Deliverer:
    """Works through due deliveries for one dispatcher (`owner`): claim, attempt, settle."""

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        schedule: RetrySchedule,
        clock: Callable[[], float],
        owner: str,
        started_at: float,
        find_alert: Callable[[str], Alert | None] = lambda _key: None,
        acknowledged: Callable[[str], AlertAcknowledged | None] = lambda _alert_id: None,
        subscribed: Callable[[str], bool] = lambda _subscription_id: True,
        channel_budget: float = CHANNEL_BUDGET,
        stopwatch: Callable[[], float] = time.monotonic,
        update_waits: Mapping[str, float] | None = None,
        acknowledged_before: Callable[[str], AlertAcknowledged | None] = lambda _alert_id: None,
    ) -> None:
        self.store = store
        # Its threads' rows, kept between reads: each attempt reads its thread, and a long one read whole each time
        # read (and decoded) rows quadratic in its length.
        self.threads = ThreadRows(store)
        self.notifiers = notifiers
        self.schedule = schedule
        self.clock = clock
        self.owner = owner
        self.started_at = started_at
        self.find_alert = find_alert
        self.acknowledged = acknowledged
        # an acknowledgement of an earlier raising of an alert reinstated since (said on its messages, not taken)
        self.acknowledged_before = acknowledged_before
        self.subscribed = subscribed  # whether a subscription is still in force (its digests are sent)
        # channel -> until: a Retry-After this process met. The store keeps it for every process too
        # (defer_channel(server_asked=True) -> channel_pauses), and claims skip a paused channel's rows.
        self.paused: dict[str, float] = {}
        self.channel_budget = channel_budget
        # Real time by default: what a slow channel costs the others, whatever `clock` says (tests pass the time a
        # local server spent answering, so a loaded machine's slow file write cannot count as a slow channel).
        self.stopwatch = stopwatch
        # channel -> seconds a reply in a thread it already has is held (`update_wait`), so that a newer reply raised
        # meanwhile (a late report's revision) goes in its place; `hold_replies` off (`run --once`): sent at once.
        self.update_waits = dict(update_waits or {})
        self.hold_replies = True
        # Whether the process was asked to stop (SIGTERM): no more claims then, so that a stop waits for the attempt
        # under way (each bounded by its channel's timeout), not for every one still due.
        self.stopping: Callable[[], bool] = lambda: False
        # Called after each attempt: a cycle of slow deliveries can last minutes, and the process's liveness file
        # (`watchfloor health`) must not age meanwhile (trial 50, MED-3); it throttles itself.
        self.between: Callable[[], None] = lambda: None
        # channel -> the keeper of a notifier call given up on (past its claim's deadline, or at a stop) and still
        # running: the channel gets no other call until it ends, so that no two calls of one notifier overlap. The
        # keeper holds the call's row claimed in the store meanwhile (`_hold`), for every other dispatcher.
        self.stuck: dict[str, threading.Thread] = {}
        self._claim: _Claim | None = None  # the row being attempted, and its deadline
        # (alert id, channel) -> what an attempt came to when the store went away before it was recorded: settled as
        # soon as the store is back, at the next cycle's start. Left claimed, the row would wait out its lease
        # (`retry.lease`, 2 min) and the channel's next rows behind it (seen in CI: a live notify cut from PostgreSQL
        # between a post and its settlement delivered nothing for 2 min after the store came back).
        self._unsettled: dict[tuple[str, str], _Unsettled] = {}
        # (row key, channel) -> keys of the rows deferred in this pass until it is settled (`Wait.waits_for`)
        self._waits: dict[tuple[str, str], set[str]] = {}
        self.unserved: set[str] = set()  # channels with deliveries due and no notifier here (said once)
        # Channels one attempt of which may outlast the lease (email's wait for the verdict on a message): their
        # claims are leased for that long and a margin, or another dispatcher would take one over mid-send and send
        # a copy.
        self.leases: dict[str, float] = {}
        # channel -> delivery key -> message reference: what this deployment posted there after the ledger's newest
        # delivery to it, looked at once when this process starts (`_survey`). Empty unless the store is older than
        # the channel: restored from a backup, its sources read again, its alerts raised again under the same ids.
        self.posted: dict[str, dict[str, str]] = {}
        self.restored: set[str] = set()  # channels where something was found so: their thread replies are looked for
        self.unsurveyed: set[str] = set()  # channels whose look at start failed for now (said once)
        # When the latest row whose post timed out here may be tried again (Unix time; 0: none): its post may still
        # land until then (`_fail`), which a `--once` waits out (AlertDispatcher.landing_wait).
        self.landing = 0.0
        for name in list(notifiers):
            n = self._notifier(name)
            if isinstance(n, Lasting) and n.longest_attempt() + LEASE_MARGIN > schedule.lease:
                self.leases[name] = n.longest_attempt() + LEASE_MARGIN

    def pauses_in_force(self, now: float) -> dict[str, float]:
        """The channels paused by a Retry-After, as the store has them now, with their ends; the pauses this process
        met and the store no longer holds are forgotten: `alerts resume` lifted them (every process goes by the
        store; trial 50, MED-2: a live run kept a resumed channel's new alerts back for the rest of the pause)."""
        recorded = self.store.channel_pauses(now)
        self.paused = {c: recorded[c] for c in self.paused if c in recorded}
        return recorded

    def run(self, *, finish_slow: bool = True) -> Tally:
        tally = Tally()
        skip: set[str] = set()
        handled: set[tuple[str, str]] = set()
        # A channel that is slow, not failing (Slack answering each post after 8 s), must not hold up the others:
        # once its attempts in this cycle took `channel_budget` seconds, it waits until the other channels have
        # nothing due, then goes on with the rest in the same cycle (so `--once` still delivers everything), or,
        # without `finish_slow`, in the next one (the pipeline's closing cycle after the batches of a poll).
        spent: dict[str, float] = {}
        tried: dict[str, int] = {}
        waiting: set[str] = set()
        budget = self.channel_budget
        self._waits = {}
        self._settle_unsettled(tally)
        self._survey(skip)
        self.pauses_in_force(self.clock())
        for _ in range(MAX_PER_CYCLE):
            if self.stopping():
                log.info("alerts: stopping: the deliveries still due wait for the next start")
                break
            now = self.clock()
            paused = {c for c, until in self.paused.items() if until > now}
            paused |= {c for c, call in self.stuck.items() if call.is_alive()}
            claiming = time.monotonic()  # before the claim: its lease in the store counts from no earlier
            claimed = self.store.claim_deliveries(
                self.owner,
                now,
                self.schedule.lease,
                skip_channels=skip | paused | waiting,
                backoff_set_before=self.started_at,
                channel_leases=self.leases,
            )
            if not claimed:
                if waiting and finish_slow:
                    waiting.clear()  # the others are done: the slow channels' turn, without a budget now
                    budget = float("inf")
                    continue
                break
            rec = claimed[0]
            if (rec.alert_id, rec.channel) in handled:  # due again within this cycle: leave it to the next
                self._settle(rec, _unchanged(rec), tally)
                break
            handled.add((rec.alert_id, rec.channel))
            started = self.stopwatch()
            lease = self.leases.get(rec.channel, self.schedule.lease)
            self._claim = _Claim(rec, lease, claiming + lease - min(SETTLE_MARGIN, lease / 10))
            try:
                self._attempt(rec, tally, skip)
            except StoreError:
                # The store went away mid-attempt. What the attempt came to, when known, is kept (`_settle`); else the
                # row is given back as unsure, so that its next attempt looks in the channel before it sends again.
                key = (rec.alert_id, rec.channel)
                if key not in self._unsettled:
                    given_back = dataclasses.replace(_unchanged(rec), unsure=True)
                    self._unsettled[key] = _Unsettled(rec, given_back, (), sent=False)
                raise
            except _Held as e:  # the row is the call's keeper's now; the channel did not answer in time
                tally.failed += 1
                # (its keeper settles it and says when it is due again: no backoff of the channel past the row's own,
                # which the keeper's lease on it makes every dispatcher keep meanwhile)
                held = TransientError(str(e), channel_wide=True, maybe_delivered=True)
                now = self.clock()
                wait = channel_wait(self.schedule, rec.attempts + 1, rec.created_at, None, now, retried=False)
                self._channel_waits(rec.channel, wait, held, skip, now)
            finally:
                self._claim = None
            self._wake(rec, handled)
            self.between()
            used = spent[rec.channel] = spent.get(rec.channel, 0.0) + self.stopwatch() - started
            n = tried[rec.channel] = tried.get(rec.channel, 0) + 1
            if used > budget:
                waiting.add(rec.channel)
                rest = "the other channels go first, then the rest of its deliveries" + (
                    "" if finish_slow else " (next cycle)"
                )
                if used / n > self.channel_budget / SLOW_ATTEMPTS:  # each attempt slow: the channel is
                    tally.slow_channels.add(rec.channel)
                    log.warning(
                        "alerts: channel %s is slow (%.1fs of attempts in this cycle, %.1fs each): %s",
                        rec.channel,
                        used,
                        used / n,
                        rest,
                    )
                else:  # fast, but more due than fit in its budget: volume, not slowness
                    tally.busy_channels.add(rec.channel)
                    log.info(
                        "alerts: channel %s: %d deliveries in %.1fs (%.0f ms each) and more due: %s",
                        rec.channel,
                        n,
                        used,
                        1000 * used / n,
                        rest,
                    )
        return tally

    def _settle_unsettled(self, tally: Tally) -> None:
        """Record what attempts came to while the store was away (`_unsettled`), before anything else of the cycle:
        a StoreError here means it is away still, and the cycle ends as it would have at its first read."""
        for key, left in list(self._unsettled.items()):
            rec = left.rec
            kept = self.store.settle_delivery(
                rec.alert_id, rec.channel, self.owner, left.outcome, self.clock(), left.events
            )
            del self._unsettled[key]
            if not kept:  # its lease ran out meanwhile and another dispatcher took it (it looks before it sends)
                tally.lost += 1
                log.warning(
                    "alerts: %s -> %s: the store was away when this attempt ended (%s), and the row was taken over "
                    "meanwhile; its outcome is theirs to record",
                    rec.alert_id,
                    rec.channel,
                    left.outcome.status,
                )
                continue
            if left.sent:
                tally.sent += 1
                tally.sent_by_channel[rec.channel] = tally.sent_by_channel.get(rec.channel, 0) + 1
            log.info(
                "alerts: %s -> %s: recorded (%s) now that the store is back: the attempt ended while it was away",
                rec.alert_id,
                rec.channel,
                left.outcome.status,
            )

    def _survey(self, skip: set[str]) -> None:
        """Once per channel that can list what it posted (Slack, file: `Surveying`), at the first pass: what this
        deployment posted there after the ledger's newest delivery to it (HIGH-1 of trial 42: a `pg_dump` restored
        re-sent on every channel the alert raised after the dump). Found again later, such a delivery is recorded
        as delivered with that message's reference instead of being sent (`_deliver`). A channel that cannot be
        looked in now (Slack unreachable) sends nothing this pass and is looked in at the next; one that never can
        (a missing history scope) sends as before, said. A channel never delivered to has nothing to start from: a
        store restored from before its first delivery sends again what it finds in the sources."""
        for name in list(self.notifiers):
            if name in self.posted:
                continue
            notifier = self._notifier(name)
            if not isinstance(notifier, Surveying):
                continue
            since = self.store.sent_ref(name)
            if not since:
                self.posted[name] = {}
                continue
            try:
                listed = notifier.posted_since(since, SURVEY_LIMIT)
                # (the ledger's own, when `since` is not the newest message: a quiet revision's ref is the older
                # message it rewrote; another process's delivery settled meanwhile)
                rows = {r.alert_id: r for r in self.store.deliveries(alert_ids=list(listed), channel=name)}
                found = {k: ref for k, ref in listed.items() if k not in rows or rows[k].status != "sent"}
                # Rows the ledger holds as attempted and not settled: an attempt that may have got through (a 5xx,
                # a timeout) or a claim of a process gone (killed mid-post). Found posted, they are the ordinary
                # "found already posted, not posted again" of their retry, not a sign of a restore (trial 46, MED-1).
                attempted = {
                    k
                    for k in found
                    if k in rows
                    and rows[k].status == "outstanding"
                    and (rows[k].unsure or rows[k].lease_owner is not None)
                }
            except TransientError as e:
                skip.add(name)
                # Said once per channel and process: a `run --once` passes several times in an outage, and said
                # each time, the same line came three times per channel (trial 54, LOW-3); later ones are debug.
                log.log(
                    logging.DEBUG if name in self.unsurveyed else logging.WARNING,
                    "alerts: channel %s: cannot look now at what was posted there after its newest delivery in the "
                    "ledger (%s); its deliveries wait until it can (a store restored from a backup would send again "
                    "what was delivered since)",
                    name,
                    e,
                )
                self.unsurveyed.add(name)
                continue
            except NotifierError as e:
                found = {}
                log.warning(
                    "alerts: channel %s: cannot look at what was posted there after its newest delivery in the ledger "
                    "(%s): after a store restored from a backup, what was delivered since is sent again",
                    name,
                    e,
                )
            else:
                # Said as a warning when some are found that the ledger knows nothing of (seen by `run`, which shows
                # warnings): the store is behind the channel. Those of attempts the ledger holds as unsettled are not.
                behind = len(found) - len(attempted)
                log.log(
                    logging.WARNING if behind else logging.INFO,
                    "alerts: channel %s: %d deliveries found posted there after its newest one in the ledger (%s; "
                    "read back %s at most)%s%s",
                    name,
                    len(found),
                    since,
                    f"{SURVEY_LIMIT:,}",
                    f"; {len(attempted)} of them by an attempt the ledger holds as unsettled (one that may have got "
                    "through, or a process gone mid-post): found, not posted again when retried"
                    if attempted
                    else "",
                    f": the store is older than the channel (restored from a backup?); {behind} of them are recorded "
                    "as delivered when raised again, not sent again"
                    if behind
                    else "",
                )
                if behind:
                    self.restored.add(name)
            self.posted[name] = found

    def _wake(self, rec: DeliveryRecord, handled: set[tuple[str, str]]) -> None:
        """The rows this pass deferred until `rec` is settled: once it is (sent, or settled otherwise), due now and
        free to be claimed again in this pass. A reply claimed before its thread's first message (a revision that
        replaced it goes later in event time; a withdrawal waiting for a throttle summary) went a cycle late: due
        again after its backoff, it was then taken for a row claimed twice in one pass, which ends the pass
        (review 21, F1/F5)."""
        waiting = self._waits.pop((rec.alert_id, rec.channel), None)
        if not waiting or self.store.delivery_status(rec.alert_id, rec.channel) == "outstanding":
            return  # (still to be sent: they wait for their own time, or for the next pass)
        self.store.redeliver(self.clock(), alert_ids=waiting, channel=rec.channel, statuses=("outstanding",))
        handled.difference_update((key, rec.channel) for key in waiting)

    # -- one attempt ------------------------------------------------------------------------------------------

    def _attempt(self, rec: DeliveryRecord, tally: Tally, skip: set[str]) -> None:
        now = self.clock()
        notifier = self._notifier(rec.channel)
        if notifier is None:
            why = (
                f"{NO_NOTIFIER} {rec.channel!r} in this process (another process on this "
                f"store whose config names it delivers it; removed from every config? re-add it, or drop its "
                f"deliveries: watchfloor alerts cancel --channel {rec.channel})"
            )
            if self.schedule.expired(rec.created_at, now):
                self._expire(rec, why, tally, says_how=True)
                return
            # Not an attempt: a process whose config lacks the channel (another config of a rollout, one that
            # removed it) leaves the row as it is, for one that has it. Counted as a failure, its attempts pushed
            # back that process's backoff and expired alerts it could send (outside trial 23, M1/M2-3).
            kept = _unchanged(rec)
            if not rec.detail or rec.detail.startswith(NO_NOTIFIER):  # another process's own reason is kept
                kept = dataclasses.replace(kept, detail=why)
            self._settle(rec, kept, tally)
            skip.add(rec.channel)
            if rec.channel not in self.unserved:
                self.unserved.add(rec.channel)
                log.warning("alerts: %s -> %s: %s; left as it is", rec.alert_id, rec.channel, why)
            return
        if rec.kind == DIGEST_KIND:
            self._attempt_digest(rec, notifier, tally, skip)
            return
        if rec.kind == ACK_KIND:
            self._attempt_ack(rec, notifier, tally, skip)
            return
        try:
            built = self._notice(rec, now)
            # (a revision's only wait is for the row it revises, down any revisions replaced before they were sent)
            if isinstance(built, Wait) and rec.kind == "revision" and built.waits_for is not None:
                self._replaced_first(rec, built.waits_for, tally, now)
                # Asked again whatever came of it: in the place of the alert it revises; or, when another dispatcher
                # settled that alert meanwhile, at once rather than after a backoff (review 22, F7)
                built = self._notice(rec, now)
        except ValueError as e:  # a payload this version cannot read: nothing can send it
            self._expire(rec, f"unreadable delivery: {e}", tally)
            return
        if isinstance(built, Skip):
            self._skip(rec, built, tally, now)
            return
        if isinstance(built, Wait):
            if self.schedule.expired(rec.created_at, now):
                self._expire(rec, built.why, tally)
                return
            # Our own wait (for its parent), not the channel's Retry-After: `not_before` stays as it was, so the
            # wait ends as soon as the parent is settled (redeliver, above) or a process starts.
            # Due again at the earliest DEFER_FLOOR on: with `retry.backoff: 0s` it was due at once, claimed again in
            # the same pass, which ended the pass, every pass (review 21, F1). Woken sooner when what it waits for
            # is settled in this pass (`_wake`).
            wait = max(built.until, now + DEFER_FLOOR)
            defer = Settlement(
                "outstanding", built.why, attempts=rec.attempts, next_attempt_at=wait, not_before=rec.not_before
            )
            self._settle(rec, dataclasses.replace(defer, unsure=rec.unsure), tally)
            tally.deferred += 1
            if built.waits_for is not None:
                self._waits.setdefault((built.waits_for, rec.channel), set()).add(rec.alert_id)
            return
        notice = built
        wait = self.update_waits.get(rec.channel, 0.0)
        # (its thread read again, as it stands now: only for a reply that may be held)
        if may_hold_reply(rec, notice, wait, self.hold_replies):
            until = reply_held_until(rec, self.threads.read(rec.channel, rec.thread_key), wait, now)
        else:
            until = None
        if until is not None:
            at = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
            why = f"held until {at} in case a newer reply to its thread replaces it (update_wait)"
            held = Settlement(
                "outstanding", why, attempts=rec.attempts, next_attempt_at=until, not_before=rec.not_before
            )
            self._settle(rec, held, tally)
            tally.deferred += 1
            return
        self._deliver(rec, notifier, notice, lambda: notifier.send(notice), tally, skip)

    def _skip(self, rec: DeliveryRecord, built: Skip, tally: Tally, now: float) -> None:
        """Settle `rec`, which is not to be sent (`built` says why); what waits for it is due now."""
        self._settle(rec, Settlement("suppressed", built.why, attempts=rec.attempts), tally, "suppressed")
        if built.withdrawn_by is not None:
            tally.withdrawn += 1
            # Its withdrawal may be waiting for this row: due now, to be settled as nothing to withdraw.
            gone = built.withdrawn_by
            if gone.not_before <= now:
                self.store.redeliver(now, alert_ids={gone.alert_id}, channel=rec.channel, statuses=("outstanding",))
            return
        if built.replaced_by is None:
            tally.suppressed += int(built.counted)
            return
        tally.replaced += 1
        # The revision in its place may be waiting for this row ("waiting for … to be delivered first"): due
        # now, in this cycle, unless the channel asked it to wait (Retry-After) or another dispatcher holds it.
        later = built.replaced_by
        if later.not_before <= now:
            self.store.redeliver(now, alert_ids={later.alert_id}, channel=rec.channel, statuses=("outstanding",))

    def _replaced_first(self, rec: DeliveryRecord, parent: str, tally: Tally, now: float) -> None:
        """Settle the row `parent` that the revision `rec` waits for, never sent, as replaced (by `rec` or a later
        revision of it), when it is, so that the revision goes at once in its place. A revision raised after the alert
        it revises in the log but earlier in event time is claimed first: waiting for the alert's own turn, it went
        after the alerts of other rules raised in between, out of time order in the channel (trial 25, F4). `parent`
        is claimed by name and asked as its own turn would ask it; if it is to be sent after all, it is left as it
        was (and when another dispatcher holds it, `rec` waits for it as before)."""
        lease = self.leases.get(rec.channel, self.schedule.lease)
        got = self.store.claim_delivery(parent, rec.channel, self.owner, now, lease)
        if got is None:
            return
        try:
            built = self._notice(got, now)
        except ValueError:
            built = None  # (unreadable: its own turn expires it)
        if not isinstance(built, Skip) or built.replaced_by is None:
            self._settle(got, _unchanged(got), tally)
            return
        self._skip(got, built, tally, now)

    def _attempt_digest(self, rec: DeliveryRecord, notifier: Notifier, tally: Tally, skip: set[str]) -> None:
        try:
            digest = Digest.from_payload(rec.payload)
        except ValueError as e:  # a payload this version cannot read: nothing can send it
            self._expire(rec, str(e), tally)
            return
        if digest is None:
            self._expire(rec, "unreadable delivery: no digest recorded", tally)
            return
        if not digest.throttle and not any(self.subscribed(s) for s in digest.subscription_ids):
            # (a throttle summary has none) Unsubscribed after the slot was planned: the channel asked for no more
            # digests (of a merged digest, every subscription it lists was removed).
            why = "its subscription was removed before it was sent"
            self._settle(rec, Settlement("suppressed", why, attempts=rec.attempts), tally, "suppressed")
            tally.suppressed += 1
            return
        if not isinstance(notifier, DigestSending):
            err = PermanentError(f"channel {rec.channel!r} cannot take digests", channel_wide=True)
            self._fail(rec, err, tally, skip)
            return
        # Acknowledged (in Slack) before it goes out: its line says who and when, as the alert's own message does.
        acks = {d.id: ack for d in digest.detections if (ack := self.acknowledged(d.id)) is not None}
        if acks:
            digest = dataclasses.replace(digest, acks=acks)
        self._deliver(rec, notifier, digest, lambda: notifier.send_digest(digest), tally, skip)

    def _attempt_ack(self, rec: DeliveryRecord, notifier: Notifier, tally: Tally, skip: set[str]) -> None:
        """Make the channel's messages of an acknowledged alert show it (a row of `ACK_KIND`, one per
        `alert.acknowledged` event): each message of the alert sent there, and its thread's first message (which a
        revision of it makes show it), rewritten when it still offers to acknowledge the alert. A message not sent
        yet is waited for; one deleted in the channel is skipped (said in the log); any other failure leaves the row
        outstanding, retried like a delivery (the messages rewritten already offer no button then: not again)."""
        now = self.clock()
        data = rec.payload or {}
        try:
            ack = AlertAcknowledged.model_validate(data.get("ack"))
        except ValidationError as e:  # a payload this version cannot read: nothing can show it
            self._expire(rec, f"unreadable delivery: {counted(e.error_count(), 'error')}", tally)
            return
        if not isinstance(notifier, AckShowing):  # (intake enqueues none for such a channel; a config changed since)
            why = f"channel {rec.channel!r} cannot rewrite its messages"
            self._settle(rec, Settlement("suppressed", why, attempts=rec.attempts), tally)
            return
        if self.schedule.expired(rec.created_at, now):  # (retry.max_age, as for an alert)
            self._expire(rec, rec.detail or "the acknowledgement was not shown", tally)
            return
        again = [se.event.id for se in self.store.detections_of([ack.alert_id]) if se.position > rec.seq]
        if again:
            # Raised again since (reinstated): its messages show that raising, which this acknowledgement does not
            # take (ControlLog.acknowledgements); the desk acknowledges it anew (outside trial 30, F2).
            why = f"{ACK_NOT_SHOWN_REINSTATED}: {ack.alert_id} was raised again since ({again[-1]})"
            self._settle(rec, Settlement("suppressed", why, attempts=rec.attempts), tally)
            return
        keys = {str(k) for k in data.get("keys") or ()}
        found = self.store.deliveries(alert_ids=keys, channel=rec.channel) if keys else []  # (no keys: no filter)
        rows = [r for r in found if r.kind in REPLACEABLE]
        unsent = [r for r in rows if r.status == "outstanding" and not r.ref]
        if unsent:
            # Sent later, the message is posted as it is (its blocks do not read the acknowledgements): then shown.
            until = max(max(r.next_attempt_at, r.not_before) for r in unsent)
            why = f"waiting for {unsent[0].alert_id} to be delivered first"
            wait = Settlement(
                "outstanding",
                why,
                attempts=rec.attempts,
                next_attempt_at=max(until, now + max(self.schedule.backoff, DEFER_FLOOR)),
                not_before=rec.not_before,
            )
            self._settle(rec, wait, tally)
            tally.deferred += 1
            return
        targets, firsts = self._ack_targets(rows)
        rewritten = self._show_ack(rec, notifier, ack, targets, firsts, tally, skip)
        if rewritten is None:
            return
        shown, gone, frozen = rewritten
        parts = [f"shown on {', '.join(shown)}" if shown else "no message to rewrite (none offers to acknowledge it)"]
        if gone:
            parts.append(f"deleted in the channel: {', '.join(gone)}")
        if frozen:
            parts.append(f"may not be changed any more: {', '.join(frozen)}")
        detail = f"acknowledgement of {ack.alert_id}: {'; '.join(parts)}"
        # No `delivery` event: no alert was delivered (the activity page counts those).
        self._settle(rec, Settlement("sent", detail, ref=shown[0] if shown else "", attempts=rec.attempts + 1), tally)
        tally.acks_shown += len(shown)
        if shown:
            log.info("alerts: %s -> %s: %s", rec.alert_id, rec.channel, detail)

    def _ack_targets(self, rows: Sequence[DeliveryRecord]) -> tuple[dict[str, str | None], dict[str, DeliveryRecord]]:
        """The messages an acknowledgement may show on, from the rows of its alert in the channel: (message ref -> the
        ref of the thread it replies in, None for a message of its own; ref -> the row of a thread's first message)."""
        targets: dict[str, str | None] = {}  # message ref -> the ref of the thread it replies in (None: its own)
        firsts: dict[str, DeliveryRecord] = {}  # ref -> the row of a thread's first message
        for r in rows:
            if not r.ref or r.status not in ("sent", "outstanding"):
                continue
            root = self._thread_root(r)
            targets.setdefault(r.ref, self._replies_under(root) if root is not None else self._story_ref(r))
            if root is None and r.kind == "alert":
                firsts.setdefault(r.ref, r)
            if root is not None:  # it may show this alert (the thread's newest, a revision's), with its button
                targets.setdefault(root.ref, self._story_ref(root))
                firsts.setdefault(root.ref, root)
            # A revision rewrote the message of what it revised (up its chain of revisions: a follow-up revised, maybe
            # replaced before it was sent), which shows this alert now, with its button (outside trial 30, F2: that
            # reply kept offering it, acknowledged already, beside the thread's first message and the "Revised" one).
            up = self._revised_row(r)
            for _ in range(10_000):  # parent links never form a cycle
                if up is None:
                    break
                if up.ref and up.status in ("sent", "outstanding"):
                    above = self._thread_root(up)
                    targets.setdefault(up.ref, self._replies_under(above) if above is not None else self._story_ref(up))
                    if above is None and up.kind == "alert":
                        firsts.setdefault(up.ref, up)
                up = self._revised_row(up)
        return targets, firsts

    def _show_ack(
        self,
        rec: DeliveryRecord,
        notifier: AckShowing,
        ack: AlertAcknowledged,
        targets: Mapping[str, str | None],
        firsts: Mapping[str, DeliveryRecord],
        tally: Tally,
        skip: set[str],
    ) -> tuple[list[str], list[str], list[str]] | None:
        """Rewrite each of `targets` to show `ack` where it still offers to acknowledge the alert: (the refs shown on,
        those deleted in the channel, those that may not be changed any more); None when a rewrite failed (recorded:
        the row retried or given up)."""
        shown: list[str] = []
        gone: list[str] = []
        frozen: list[str] = []
        for ref, thread_ref in targets.items():
            shows, legacy = self._first_shows(firsts[ref], ack) if ref in firsts else (None, frozenset[str]())
            update = partial(notifier.show_acknowledged, ref, thread_ref, ack, shows, legacy)
            try:
                if self._bounded(rec, "update", update):
                    shown.append(ref)
            except MessageGone:
                gone.append(ref)
                log.warning(
                    "alerts: %s -> %s: the message %s was deleted in the channel: its acknowledgement is not shown",
                    rec.alert_id,
                    rec.channel,
                    ref,
                )
            except MessageFrozen as e:
                frozen.append(ref)
                log.warning(
                    "alerts: %s -> %s: the message %s may not be changed any more (%s): its acknowledgement is not "
                    "shown",
                    rec.alert_id,
                    rec.channel,
                    ref,
                    e,
                )
            except _Held:
                raise
            except NotifierError as e:
                self._fail(rec, e, tally, skip, note="showing the acknowledgement of alert " + ack.alert_id)
                return None
            except Exception as e:  # a notifier bug must not stop the others
                log.exception("alerts: notifier %s raised for %s", rec.channel, rec.alert_id)
                self._fail(rec, PermanentError(f"error: {type(e).__name__}"), tally, skip)
                return None
        return shown, gone, frozen

    def _first_shows(
        self, first: DeliveryRecord, ack: AlertAcknowledged
    ) -> tuple[frozenset[str] | None, frozenset[str]]:
        """(shows, legacy) for show_acknowledged on a thread's first message: the alerts whose Acknowledge button there
        `ack` takes, None (its own alert's) while the thread stands on its first alert. Once the message shows a newer
        alert's state ("Updated · now HIGH"), only an acknowledgement of that alert shows on it: on a button that names
        it, or (`legacy`) on one drawn before buttons said what the message stands for, which names the thread's first
        alert (outside trial 29, F1); a button of today that names the first alert is that alert's alone, left as it is
        (review 26, M2: the message was not redrawn since, and its alert is not acknowledged). An acknowledgement of an
        earlier alert of the thread leaves it as it is (its button still has the newest alert to take)."""
        state = thread_state(self.threads.read(first.channel, first.thread_key), first.alert_id)
        if state is None or state.first.alert_id != first.alert_id or state.newest is None:
            return None, frozenset()
        newest = state.newest.id
        if newest == state.first_id:
            return None, frozenset()
        if ack.alert_id != newest:
            return frozenset(), frozenset()
        return frozenset({newest}), frozenset({state.first_id})

    def _revised_row(self, row: DeliveryRecord) -> DeliveryRecord | None:
        """The row of what the revision `row` revised in its channel (None for any other row, or when it has none)."""
        if row.kind != "revision" or row.parent_id is None:
            return None
        found = self.store.deliveries(alert_ids={row.parent_id}, channel=row.channel)
        return found[0] if found else None

    def _story_ref(self, row: DeliveryRecord) -> str | None:
        """Of another group's alert of a story (thread_by), posted in the story's thread: that thread's first message's
        ref (where Slack reads it); None for any other row."""
        joined = story_root_of(row)
        if joined is None or row.detail.startswith(RESTARTED):
            return None
        first = next((r for r in self.threads.read(row.channel, row.thread_key) if r.alert_id == joined), None)
        return first.ref if first is not None and first.ref and first.ref != row.ref else None

    def _replies_under(self, root: DeliveryRecord) -> str:
        """The ref of the message the replies of the thread `root` starts are posted under: `root`'s own, or, for
        another group's alert of a story (thread_by), the story's first message's (Slack threads one level deep)."""
        return self._story_ref(root) or root.ref

    def _thread_root(self, row: DeliveryRecord) -> DeliveryRecord | None:
        """The thread's first message that `row` (a reply) was posted under, None for a message of its own."""
        if row.kind == "alert" or row.parent_id is None or row.detail.startswith(RESTARTED):
            return None
        by_key = {r.alert_id: r for r in self.threads.read(row.channel, row.thread_key)}
        up: DeliveryRecord | None = row
        for _ in range(10_000):  # parent links never form a cycle
            if up is None or up.kind == "alert" or up.parent_id is None:
                break
            up = by_key.get(up.parent_id)
        if up is None or up is row or not up.ref:
            return None
        # A thread whose first message was deleted went on under a reply posted again in its place (RESTARTED).
        again = [r for r in thread_of(list(by_key.values()), up.alert_id) if r.detail.startswith(RESTARTED) and r.ref]
        root = again[-1] if again and row.seq > again[-1].seq else up
        # A revision told quietly (QUIET) that rewrote the thread's first message is that message, not a reply
        return None if root.ref == row.ref else root

    def _deliver(
        self,
        rec: DeliveryRecord,
        notifier: Notifier,
        item: Notice | Digest,
        send: Callable[[], str],
        tally: Tally,
        skip: set[str],
    ) -> None:
        """Look in the channel when an earlier attempt may have got through, send, update the thread, settle. A
        revision told quietly (ThreadView.quiet) is only the update: nothing is posted, and the row's ref is the
        message it rewrites."""
        now = self.clock()
        ref = rec.ref or None  # posted by an earlier attempt whose update of the thread failed
        found = False  # found in the channel by looking: an interrupted attempt had got through
        # Posts nothing: after an interrupted attempt there is nothing to look for, and its update rewrites whole
        # messages from the ledger's state, so doing it again (a retry, a crash's takeover) writes the same.
        quiet = isinstance(item, Notice) and item.thread is not None and item.thread.quiet
        if ref is None and not quiet and not rec.unsure:
            ref = self._posted_before_restore(rec, item)
            found = ref is not None
        # A reply in a thread of a channel found ahead of the store: the look at start listed no replies (Slack)
        replied = rec.channel in self.restored and isinstance(item, Notice) and item.thread is not None
        if ref is None and (rec.unsure or replied) and not quiet and isinstance(notifier, Reconciling):
            settled, ref = self._look_first(rec, notifier, item, tally, skip, now)
            if settled:
                return
            found = ref is not None
        # (told quietly, its ref is no message of its own: given up at the same age, its update not made)
        if (ref is None or quiet) and self.schedule.expired(rec.created_at, now):
            self._expire(rec, rec.detail or "not delivered", tally)
            return
        attempts = rec.attempts
        detail = ""
        if ref is None and quiet:
            assert isinstance(item, Notice) and item.thread is not None
            attempts += 1
            ref = item.thread.target_ref  # the message that shows the alert revised: rewritten below, no reply
        if ref is None:
            attempts += 1
            posted = self._post(rec, notifier, item, send, tally, skip)
            if posted is None:
                return
            ref, detail = posted
        # (posted as a message of its own, `detail` said: nothing of the old thread is left to update)
        if not detail and isinstance(item, Notice) and item.thread is not None and isinstance(notifier, Updating):
            updated = self._update_thread(rec, notifier, item, ref, quiet=quiet, now=now, tally=tally, skip=skip)
            if updated is None:
                return
            ref, detail = updated
        # (only an alert sent after later ones of its rule and group, "Sent late": the usual alert reads no more rows)
        if isinstance(item, Notice) and item.kind == "alert" and item.thread is None and item.later is not None:
            self._retell_later_story(rec, notifier, ref)  # (while the row is still claimed: bounded like an update)
        self._record_sent(rec, item, ref, detail, max(attempts, 1), tally, found=found, quiet=quiet)

    def _retell_later_story(self, rec: DeliveryRecord, notifier: Notifier, ref: str) -> None:
        """After `rec`, a story's first alert, was sent: the first message of the next story of its rule and group
        in event time that reached the channel before it (a late report's story, posted after newer ones) is
        rewritten to name it in its "Again: …" line, which named an older story as the last (outside trial 64,
        LOW-3; retold_story). Done once, as a courtesy to a message sent already: when it fails, the message keeps
        its line, and the log says so (the alert itself is sent)."""
        if not isinstance(notifier, EarlierShowing):
            return
        try:
            rows = self.threads.read(rec.channel, rec.thread_key)
        except StoreError as e:  # (the post went in: recording it comes first, the courtesy is given up)
            log.warning("alerts: %s -> %s: not looking for a later story to rewrite: %s", rec.alert_id, rec.channel, e)
            return
        # (`rec` as sent, its message `ref`: recorded just after this)
        rows = [dataclasses.replace(r, status="sent", ref=ref) if r.alert_id == rec.alert_id else r for r in rows]
        retold = retold_story(rows, rec.alert_id)
        if retold is None:
            return
        target = retold.row.ref
        try:
            if self._bounded(rec, "update", partial(notifier.show_earlier, target, retold.was, retold.now), ref=ref):
                log.info(
                    "alerts: %s -> %s: the message %s of alert %s now names it as the last earlier story (it named %s)",
                    rec.alert_id,
                    rec.channel,
                    target,
                    retold.row.alert_id,
                    retold.was.alert_id,
                )
        except _Held:
            raise
        except NotifierError as e:  # (deleted, frozen, or the channel busy)
            log.warning(
                "alerts: %s -> %s: the message %s of alert %s still names %s as the last earlier story: %s",
                rec.alert_id,
                rec.channel,
                target,
                retold.row.alert_id,
                retold.was.alert_id,
                e,
            )
        except Exception:  # a notifier bug must not stop the others (the alert is sent)
            log.exception("alerts: notifier %s raised rewriting %s for %s", rec.channel, target, rec.alert_id)

    def _posted_before_restore(self, rec: DeliveryRecord, item: Notice | Digest) -> str | None:
        """The message of `item` posted after the ledger's newest delivery to the channel, found at start: the store
        was restored from an older backup and raised the alert again (`_survey`). (An attempt that may have got
        through is looked for by `_look_first`, as before.) None: not found so."""
        if item.key not in self.posted.get(rec.channel, {}):
            return None
        ref = self.posted[rec.channel].pop(item.key)
        log.info(
            "alerts: %s -> %s was posted after the store's newest delivery to it (%s): a store restored from a "
            "backup raised it again; not sending again",
            rec.alert_id,
            rec.channel,
            ref,
        )
        return ref

    def _look_first(
        self,
        rec: DeliveryRecord,
        notifier: Reconciling,
        item: Notice | Digest,
        tally: Tally,
        skip: set[str],
        now: float,
    ) -> tuple[bool, str | None]:
        """Look in the channel for `item` after an attempt that may have got through (or a reply in a channel found
        ahead of the store): (settled, the message found). `settled`: the row was settled here (waiting for another
        delivery to tell where to look, or the look failed for now), nothing more to do; else None is sent (again)."""
        looked = False  # looked for after an attempt that may have got through
        ref: str | None = None
        if isinstance(notifier, RefLearning):
            # Where to look may be known only from an earlier delivery (Slack: a channel conversations.list does
            # not show is looked in by the ID a post was answered with, kept in its ref), maybe another process's.
            known = self.store.sent_ref(rec.channel)
            if known:
                notifier.learn_ref(known)
        try:
            ref = self._bounded(rec, "look", lambda: notifier.find_delivered(item))
            looked = rec.unsure
        except NotYetLookable as e:
            # Where to look is told only by a delivery to the channel that succeeds. One due now goes first, and
            # this one is looked for after it; with none, waiting could only end in expiry: sent again below.
            teller = self._teller(rec, now)
            if teller is not None and not self.schedule.expired(rec.created_at, now):
                why = f"waiting for {teller.alert_id} to be delivered to the channel first, to look in it ({e})"
                wait = Settlement(
                    "outstanding",
                    why,
                    attempts=rec.attempts,
                    next_attempt_at=now + max(self.schedule.delay(1), DEFER_FLOOR),
                    not_before=rec.not_before,
                    unsure=True,
                )
                self._settle(rec, wait, tally)
                tally.deferred += 1
                log.info("alerts: %s -> %s: %s", rec.alert_id, rec.channel, why)
                return True, None
            log.warning(
                "alerts: cannot tell whether %s reached %s after an interrupted attempt (%s); sending it again "
                "(it may arrive twice)",
                rec.alert_id,
                rec.channel,
                e,
            )
        except TransientError as e:  # cannot tell now; sending blind could post it twice
            self._fail(rec, e, tally, skip, note="could not look in the channel for an earlier attempt")
            return True, None
        except NotifierError as e:
            # It cannot, until something changes (a missing scope; a Slack channel that is not listed and was
            # never delivered to, so its ID is unknown): at-least-once, said, since a copy is better than a loss.
            log.warning(
                "alerts: cannot tell whether %s reached %s after an interrupted attempt (%s); sending it again "
                "(it may arrive twice)",
                rec.alert_id,
                rec.channel,
                e,
            )
        if ref is not None:
            log.info("alerts: %s -> %s had got through before (%s); not sending again", rec.alert_id, rec.channel, ref)
        elif looked and (window := landing_window(notifier)):
            # Looked for once the earlier attempt's landing window was over (`_fail`); a post the channel carries
            # out later than that is not seen by any look, and nothing can tell it apart from a lost one.
            log.info(
                "alerts: %s -> %s is not in the channel after an attempt that may have got through; sending it "
                "again (if the channel carries that attempt's post out more than %.0fs after it started, it may "
                "arrive twice)",
                rec.alert_id,
                rec.channel,
                window,
            )
        return False, ref

    def _post(
        self,
        rec: DeliveryRecord,
        notifier: Notifier,
        item: Notice | Digest,
        send: Callable[[], str],
        tally: Tally,
        skip: set[str],
    ) -> tuple[str, str] | None:
        """Send `item`: (its message's ref, the row's detail: "" unless it was posted as a message of its own, its
        thread's first message gone); None when it failed (recorded: the row retried or given up)."""
        posting = self.clock()  # the post's start: it may still land up to its landing window later (`_fail`)
        try:
            return self._bounded(rec, "send", send), ""
        except MessageGone as e:
            # A reply refused because the thread's first message was deleted (Slack: thread_not_found): posted
            # as a message of its own, which the thread goes on under (as when its update finds it gone).
            return self._restart(rec, notifier, item, e, tally, skip)
        except Unconfirmed as e:
            self._unconfirmed(rec, e, tally, skip)
        except NotifierError as e:
            self._fail(rec, e, tally, skip, posted_at=posting)
        except _Held:
            raise
        except Exception as e:  # a notifier bug must not stop the others; it may have sent
            log.exception("alerts: notifier %s raised for %s", rec.channel, rec.alert_id)
            self._fail(rec, PermanentError(f"error: {type(e).__name__}", maybe_delivered=True), tally, skip)
        return None

    def _update_thread(
        self,
        rec: DeliveryRecord,
        notifier: Notifier,
        item: Notice,
        ref: str,
        *,
        quiet: bool,
        now: float,
        tally: Tally,
        skip: set[str],
    ) -> tuple[str, str] | None:
        """Rewrite the thread's first message (or the message a revision changes) after `item` went in as `ref`:
        (its ref, the row's detail: "" when all went as usual); None when the update failed and the row is retried
        (recorded)."""
        assert item.thread is not None and isinstance(notifier, Updating)
        detail = ""
        try:
            self._bounded(rec, "update", lambda: notifier.update(item), ref=ref)
        except MessageGone as e:
            # Deleted in the channel (a desk member removed it): no retry will find it. The update is given up;
            # when it was the thread's first message, the reply under it cannot be seen either: it is posted
            # again as a message of its own, and the thread goes on under that one (`RESTARTED`).
            if e.ref == item.thread.thread_ref:
                return self._restart(rec, notifier, item, e, tally, skip, ref=ref)
            detail = f"{ref} (the message it changes, {e.ref}, was deleted in the channel: not updated)"
            log.warning("alerts: %s -> %s: %s", rec.alert_id, rec.channel, detail)
        except MessageFrozen as e:
            # There, but the channel will not let it change (Slack: cant_update_message, edit_window_closed):
            # no retry can either. The notice itself is in the channel (the reply is posted), so it is sent,
            # the update given up and said, not retried as an outage until retry.max_age (trial 33, L1).
            which = "the thread's first message" if e.ref == item.thread.thread_ref else "the message it changes"
            detail = f"{ref} ({which}, {e.ref}, may not be changed any more: not updated: {e.message})"
            log.warning("alerts: %s -> %s: sent; %s", rec.alert_id, rec.channel, detail)
        except NotifierError as e:
            # (told quietly, the update is the delivery: never expired here, checked above, it is retried)
            if self.schedule.expired(rec.created_at, now):  # the reply is there; give up on the update
                log.warning("alerts: %s -> %s: gave up updating its thread: %s", rec.alert_id, rec.channel, e)
            else:
                note = "sent; updating the thread's first message failed"
                self._fail(rec, e, tally, skip, ref=ref, note=QUIET_FAILED if quiet else note)
                return None
        return ref, detail

    def _record_sent(
        self,
        rec: DeliveryRecord,
        item: Notice | Digest,
        ref: str,
        detail: str,
        attempts: int,
        tally: Tally,
        *,
        found: bool,
        quiet: bool,
    ) -> None:
        """Settle `rec` as sent (`found`: an earlier attempt had got through, found in the channel), and say so."""
        extra = [digest_sent_event(_digest_sent(item, ref, self.clock()))] if isinstance(item, Digest) else []
        if found:  # told apart in the ledger (alerts list) and the log (/metrics), not only in this cycle's line
            detail = f"{detail or ref} ({FOUND_NOTE})"
        if quiet and not detail.startswith(RESTARTED):  # (posted on its own after all: a message of its own)
            detail = f"{QUIET}: {detail or ref}"
        self._settle(
            rec,
            Settlement("sent", detail or ref, ref=ref, attempts=attempts),
            tally,
            "sent",
            extra=extra,
            found=found,
        )
        tally.sent += 1
        tally.sent_by_channel[rec.channel] = tally.sent_by_channel.get(rec.channel, 0) + 1
        if found:
            tally.found += 1
        if isinstance(item, Digest) and item.throttle:
            tally.summaries += 1
        elif isinstance(item, Digest):
            tally.digests += 1
        if not found:  # (a find was said above: "had got through before")
            how = f"{rec.kind}, {QUIET}" if detail.startswith(QUIET) else rec.kind
            log.info("alerts: %s -> %s sent (%s, attempt %d)", rec.alert_id, rec.channel, how, attempts)

    def _restart(
        self,
        rec: DeliveryRecord,
        notifier: Notifier,
        item: Notice | Digest,
        gone: MessageGone,
        tally: Tally,
        skip: set[str],
        *,
        ref: str = "",
    ) -> tuple[str, str] | None:
        """Post `item` as a message of its own, its thread's first message being gone: (its ref, the row's detail),
        or None when that failed (recorded: the row stays outstanding, `ref` the reply already posted, if any)."""
        assert isinstance(item, Notice)
        alone = dataclasses.replace(item, thread=None, story=None)  # (a story's thread: its first message is gone)
        detail = f"{RESTARTED}: the thread's first message ({gone.ref}) was deleted in the channel"
        try:
            posted = self._bounded(rec, "restart", lambda: notifier.send(alone), ref=ref, restarted=detail)
        except NotifierError as again:
            self._fail(rec, again, tally, skip, ref=ref, note="its thread's first message was deleted")
            return None
        log.warning("alerts: %s -> %s: %s", rec.alert_id, rec.channel, detail)
        return posted, detail

    def _bounded(
        self, rec: DeliveryRecord, what: str, call: Callable[[], _T], *, ref: str = "", restarted: str = ""
    ) -> _T:
        """`call()` (one notifier call of the claim on `rec`: a look, a send or an update), given up at the claim's
        deadline or when the process is asked to stop. The notifiers' own timeouts are per socket read (urllib under
        slack-sdk, smtplib), so a server that answers a byte at a time could hold a call, and with it every channel
        and the process, for ever (outside trial 16, M2).

        One deadline for the claim, not a lease per call: a look then a send, each within a lease of its own, ran
        past the claim, and another dispatcher took it over and sent it too (review 13, F3). A call given up keeps
        running in its thread, and its row stays claimed (`_hold`) until it ends: another dispatcher that looked
        meanwhile would find nothing and post it again, and then the call would post it too (F3). Raises `_Held`.
        `ref`: what an earlier call of the claim posted; `restarted`: the detail of a reply posted on its own."""
        claim = self._claim
        if claim is None or claim.rec.alert_id != rec.alert_id or claim.rec.channel != rec.channel:
            lease = self.leases.get(rec.channel, self.schedule.lease)
            claim = _Claim(rec, lease, time.monotonic() + lease - min(SETTLE_MARGIN, lease / 10))
        if time.monotonic() >= claim.deadline:  # the earlier calls took the claim's time: this one is not started
            raise TransientError(
                f"{rec.channel}: the claim's lease ({claim.lease:g}s) was spent before the {what}",
                channel_wide=True,
                maybe_delivered=False,
            )
        done: list[_T] = []
        failed: list[BaseException] = []

        def work() -> None:
            try:
                done.append(call())
            except BaseException as e:  # handed to the caller's thread, as if called there
                failed.append(e)

        worker = threading.Thread(target=work, name=f"deliver {rec.channel}", daemon=True)
        started = time.monotonic()
        worker.start()
        while worker.is_alive() and not self.stopping() and time.monotonic() < claim.deadline:
            worker.join(min(STOP_POLL, max(0.0, claim.deadline - time.monotonic())))
        if worker.is_alive():
            why = "stopping" if self.stopping() else f"no answer within the claim's lease ({claim.lease:g}s)"
            why = f"{rec.channel}: {why}; the {what} may yet get through"
            self._hold(claim, worker, what, done, failed, started, why, ref, restarted)
            raise _Held(why)
        if failed:
            raise failed[0]
        return done[0]

    def _hold(
        self,
        claim: _Claim,
        worker: threading.Thread,
        what: str,
        done: list[Any],
        failed: list[BaseException],
        started: float,
        why: str,
        ref: str,
        restarted: str,
    ) -> None:
        """Keep `claim`'s row claimed while `worker` (a call given up) runs, the lease renewed every third of it, at
        most HOLD_LIMIT; then record what the call did, and log it (review 13, F8: a late outcome was dropped)."""
        rec = claim.rec
        if not self.store.hold_delivery(rec.alert_id, rec.channel, self.owner, self.clock() + claim.lease, why):
            log.warning("alerts: %s -> %s: the claim was lost before its call was given up", rec.alert_id, rec.channel)
        log.warning("alerts: %s -> %s: %s; the row stays claimed until the call ends", rec.alert_id, rec.channel, why)

        def keep() -> None:
            while worker.is_alive():
                if time.monotonic() - started > HOLD_LIMIT:
                    log.error(
                        "alerts: %s -> %s: the %s given up is still running after %.0fs; its row is let go (another "
                        "dispatcher will look in the channel and may send it again)",
                        rec.alert_id,
                        rec.channel,
                        what,
                        HOLD_LIMIT,
                    )
                    worker.join()  # the channel still waits for it here (`stuck`)
                    return
                until = self.clock() + claim.lease
                if not self.store.hold_delivery(rec.alert_id, rec.channel, self.owner, until):
                    log.warning("alerts: %s -> %s: the claim held for a call was lost", rec.alert_id, rec.channel)
                    worker.join()
                    return
                worker.join(max(claim.lease / 3, STOP_POLL))
            try:
                self._late(rec, what, done, failed, time.monotonic() - started, why, ref, restarted)
            except Exception:  # a store failure: the lease runs out and the row comes back unsure, looked for
                log.exception("alerts: %s -> %s: cannot record the late outcome of a call", rec.alert_id, rec.channel)

        keeper = threading.Thread(target=keep, name=f"hold {rec.channel}", daemon=True)
        self.stuck[rec.channel] = keeper
        keeper.start()

    def _late(
        self,
        rec: DeliveryRecord,
        what: str,
        done: list[Any],
        failed: list[BaseException],
        took: float,
        why: str,
        ref: str,
        restarted: str,
    ) -> None:
        """Settle the row of a call given up that has now ended. What it posted is kept (`ref`) and the row is due
        at once: the next attempt goes on from there (no second post: it updates the thread, or settles it), as
        after an update that failed. A look's answer is only a hint: the next attempt looks again."""
        now = self.clock()
        attempts = rec.attempts + 1
        if failed:
            e = failed[0]
            err = e if isinstance(e, NotifierError) else PermanentError(f"error: {type(e).__name__}: {e}")
            outcome = f"failed: {err.message}"
            retry = self.schedule.after_failure(attempts, err.retry_after, now, rec.created_at)
            settle = Settlement(
                "outstanding",
                f"{why}; it ended {took:.0f}s later, {outcome}",
                ref=ref,
                attempts=attempts,
                next_attempt_at=retry.next_attempt_at,
                not_before=retry.not_before,
                unsure=True,
            )
            if self.schedule.out_of_attempts(attempts):
                settle = dataclasses.replace(settle, status="expired", detail=f"given up: {settle.detail}")
            elif err.channel_wide or isinstance(err, TransientError):
                # The channel failed: it backs off with this row, as after any failure of the whole channel
                # (`schedule.channel_wait`), deferred while the row is still ours (trial 46, MED-2)
                self.store.defer_channel(rec.channel, retry.next_attempt_at, now)
        else:
            value = done[0] if done else None
            if what in ("send", "restart") and isinstance(value, str) and value:
                ref, outcome = value, f"posted ({value})"
            elif what == "look":
                outcome = f"found it in the channel ({value})" if value else "not found in the channel"
                ref = str(value or "")
            else:
                outcome = "done"
            settle = Settlement(
                "outstanding",
                f"{why}; it ended {took:.0f}s later, {outcome}; due again to finish",
                ref=ref,
                attempts=attempts,
                next_attempt_at=now,
                unsure=True,
            )
            if what == "restart" and ref:  # a reply posted on its own: the thread goes on under it (`RESTARTED`)
                settle = Settlement("sent", restarted, ref=ref, attempts=attempts)
        event = Delivery(
            alert_id=rec.alert_id,
            channel=rec.channel,
            status="sent" if settle.status == "sent" else "expired" if settle.status == "expired" else "failed",
            attempts=attempts,
            detail=settle.detail[:2000],
            at=datetime.fromtimestamp(now, UTC),
        )
        kept = self.store.settle_delivery(rec.alert_id, rec.channel, self.owner, settle, now, [delivery_event(event)])
        log.log(
            logging.WARNING if failed else logging.INFO,
            "alerts: %s -> %s: the %s given up at its claim's deadline ended %.0fs after it started: %s%s",
            rec.alert_id,
            rec.channel,
            what,
            took,
            outcome,
            "" if kept else " (the row was taken over meanwhile: not recorded)",
        )

    def has_channel(self, channel: str) -> bool:
        """Whether this deliverer can send to `channel` (configured, or a Slack channel the app subscribed)."""
        return self._notifier(channel) is not None

    def _notifier(self, channel: str) -> Notifier | None:
        try:
            return self.notifiers.get(channel)
        except Exception:  # a lazy mapping (channels subscribed from Slack) that cannot build one
            log.exception("alerts: cannot build the notifier of channel %s", channel)
            return None

    # -- what to send -----------------------------------------------------------------------------------------

    def _notice(self, rec: DeliveryRecord, now: float) -> Notice | Wait | Skip:
        """What `rec` is to tell (alerts.compose decides): its alert, its thread's rows, the rows of its channel that
        decision asks for by key, and the acknowledgements its thread view shows, read here."""
        alert = alert_of(rec.payload) if rec.payload else self.find_alert(rec.alert_id)
        if alert is None:
            raise ValueError("no alert recorded for this delivery")
        base = base_notice(rec, alert)
        # The rows of its channel and thread key: every row a reply's chain can pass through (one read, not one a link).
        thread = self.threads.read(rec.channel, rec.thread_key)
        updating = isinstance(self._notifier(rec.channel), Updating)
        read: dict[str, DeliveryRecord | None] = {}
        for _ in range(10_000):  # each round reads a row the last one asked for (parent links never form a cycle)
            built = decide(
                rec, base, thread, read, now, backoff=self.schedule.backoff, owner=self.owner, updating=updating
            )
            if not isinstance(built, Reads):
                break
            for key in built.keys:
                found = self.store.deliveries(alert_ids={key}, channel=rec.channel)
                read[key] = found[0] if found else None
        else:
            raise ValueError("its thread's rows lead nowhere")
        if isinstance(built, Tell):
            return with_acks(built, self._answer(built.asks)) if built.asks is not None else built.notice
        return built

    def _answer(self, asks: AckAsks) -> AckAnswers:
        """The control log's answers to `asks`, each asked in its order, no further than its first acknowledgement."""

        def first_of(ids: Sequence[str]) -> AlertAcknowledged | None:
            return next((k for i in ids if (k := self._acknowledged(i)) is not None), None)

        target = first_of(asks.target)
        target_before = self._acknowledged(asks.target_before, before=True) if target is None else None
        first = first_of(asks.first) if asks.first is not None else None
        if asks.newest is None:
            return AckAnswers(target, target_before, first)
        newest = first_of(asks.newest)
        earlier = tuple(k for i in asks.earlier if (k := self._acknowledged(i)) is not None)
        newest_before = self._acknowledged(asks.newest[0], before=True) if newest is None else None
        return AckAnswers(target, target_before, first, newest, earlier, newest_before)

    def _acknowledged(self, alert_id: str, *, before: bool = False) -> AlertAcknowledged | None:
        """The acknowledgement that takes the alert now; `before`: one of an earlier raising of it, reinstated since."""
        try:
            return (self.acknowledged_before if before else self.acknowledged)(alert_id)
        except Exception:  # a status line is not worth a failed delivery
            log.exception("alerts: cannot read the acknowledgements of %s", alert_id)
            return None

    def _teller(self, rec: DeliveryRecord, now: float) -> DeliveryRecord | None:
        """Another delivery to `rec`'s channel that this pass will try now and that is posted as a message of its own
        (no parent), whose answer, when it succeeds, tells where to look for `rec` (Slack: the channel's ID); not
        one that may itself have got through, which would wait in turn. None: there is no such delivery."""
        for r in self.store.deliveries(statuses={"outstanding"}, channel=rec.channel):
            if r.alert_id == rec.alert_id or r.unsure or r.parent_id is not None or r.not_before > now:
                continue
            if r.kind == ACK_KIND:  # posts nothing (and may wait for `rec` itself)
                continue
            if r.lease_until is not None and r.lease_until > now:  # being sent by another dispatcher
                continue
            if r.next_attempt_at <= now or r.scheduled_at < self.started_at:  # due, as claim_deliveries judges
                return r
        return None

    # -- outcomes ---------------------------------------------------------------------------------------------

    def _fail(
        self,
        rec: DeliveryRecord,
        err: NotifierError,
        tally: Tally,
        skip: set[str],
        *,
        ref: str = "",
        note: str = "",
        posted_at: float | None = None,
    ) -> None:
        """Record a failed attempt as the retry stage decides (`schedule.after_failed`): retried later, or given up."""
        now = self.clock()
        notifier = self._notifier(rec.channel)
        failed = FailedAttempt(
            attempts=rec.attempts,
            created_at=rec.created_at,
            unsure=rec.unsure,
            retry_after=err.retry_after,
            maybe_delivered=err.maybe_delivered,
            unanswered=err.unanswered,
            whole_channel=err.channel_wide or isinstance(err, TransientError),
            posted_at=posted_at,
            # (a channel that is not looked in sends it again as it is: nothing to wait for)
            landing_window=landing_window(notifier) if isinstance(notifier, Reconciling) else 0.0,
        )
        plan = after_failed(self.schedule, failed, now)
        detail = f"{note}: {err.message}" if note else err.message
        tally.failed += 1
        if plan.landed:
            # Its post (`posted_at`) may still be on its way: a look sooner could miss it, and the post go twice (trial
            # 54, HIGH-1: held 15 s before Slack stored it, a 10 s timeout, the look 2 s later), which a `--once`
            # waits out (AlertDispatcher.landing_wait).
            self.landing = max(self.landing, plan.landed)
        # The channel's other rows deferred first, while this one is still ours: settled first, it would be free and
        # backing off, and another dispatcher could claim the channel's next row before the deferral (trial 46, MED-2)
        self._channel_waits(rec.channel, plan.channel, err, skip, now)
        if plan.given_up:  # retry.attempts: given up like a delivery past its age
            tried = dataclasses.replace(rec, attempts=plan.attempts, unsure=plan.unsure)
            self._expire(tried, out_of_attempts_why(detail, plan.attempts), tally, ref=ref)
            return
        self._settle(rec, plan.outstanding(detail, ref), tally, "failed", plan.attempts)
        wait = plan.retry.next_attempt_at - now
        if plan.landed and posted_at is not None:
            log.warning(
                "alerts: %s -> %s attempt %d failed (%s); looked for in the channel in %.0fs, %.0fs after the "
                "attempt started, when a post of it still on its way has landed; sent again only if not there",
                rec.alert_id,
                rec.channel,
                plan.attempts,
                detail,
                wait,
                plan.landed - posted_at,
            )
            return
        log.warning(
            "alerts: %s -> %s attempt %d failed (%s); next attempt in %.0fs",
            rec.alert_id,
            rec.channel,
            plan.attempts,
            detail,
            wait,
        )

    def _channel_waits(
        self, channel: str, wait: ChannelWait | None, err: NotifierError, skip: set[str], now: float
    ) -> None:
        """Make `channel`'s other rows wait as the retry stage decided (`schedule.channel_wait`), for every dispatcher
        on the store; this process skips the channel for the rest of the cycle. None: only the failed row waits."""
        if wait is None:
            return
        skip.add(channel)
        if wait.paused_until:  # the channel itself asked everyone to wait
            if wait.paused_until > self.paused.get(channel, 0.0):
                _say_paused(channel, wait.paused_until, now, err)
            self.paused[channel] = wait.paused_until
            self.store.defer_channel(channel, wait.paused_until, now, server_asked=True)
        self.store.defer_channel(channel, wait.until, now, hold_channel=wait.hold)

    def _unconfirmed(self, rec: DeliveryRecord, err: Unconfirmed, tally: Tally, skip: set[str]) -> None:
        """Handed over whole, no verdict, and the channel cannot be looked in: given up as unconfirmed, not sent
        again. Nothing twice: a retry would be a copy whenever the server had it (outside trial 11: 4 copies of one
        alert). Nothing lost unseen: it is `expired` and maybe delivered, which `alerts list --undelivered` and
        `status` show (status exits non-zero), for a person to look in the mailbox and re-send if it is not there."""
        tried = dataclasses.replace(rec, attempts=rec.attempts + 1, unsure=True)
        why = (
            f"{err.message}; not sent again, so that it cannot arrive twice: see whether it reached the mailbox, "
            f"and if not, re-send with `watchfloor alerts redeliver {rec.alert_id} --channel {rec.channel} --send`"
        )
        # A server that kept us waiting that long would keep the channel's next messages waiting too: they wait a
        # backoff (every dispatcher's), as after a failure of the whole channel, not data_timeout each in a row.
        # (Deferred while this row is still ours: no other dispatcher claims the next one in between.)
        skip.add(rec.channel)
        now = self.clock()
        self.store.defer_channel(rec.channel, now + self.schedule.delay(1), now, hold_channel=False)
        self._expire(tried, why, tally, says_how=True)

    def _expire(self, rec: DeliveryRecord, why: str, tally: Tally, *, ref: str = "", says_how: bool = False) -> None:
        self._settle(rec, given_up(why, rec.attempts, unsure=rec.unsure, ref=ref), tally, "expired")
        tally.expired += 1
        tally.expired_by_channel[rec.channel] = tally.expired_by_channel.get(rec.channel, 0) + 1
        if says_how:  # `why` gives the command already, after the look it asks for (outside trial 12, L4: twice)
            log.error("alerts: %s -> %s expired after %d attempt(s) (%s)", rec.alert_id, rec.channel, rec.attempts, why)
            return
        log.error(
            "alerts: %s -> %s expired after %d attempt(s) (%s); %s: watchfloor alerts redeliver %s --channel %s --send",
            rec.alert_id,
            rec.channel,
            rec.attempts,
            why,
            redeliver_advice(rec.unsure),
            rec.alert_id,
            rec.channel,
        )

    def _settle(
        self,
        rec: DeliveryRecord,
        outcome: Settlement,
        tally: Tally,
        event: str | None = None,
        attempts: int = 0,
        *,
        extra: Sequence[Event] = (),
        found: bool = False,
    ) -> None:
        now = self.clock()
        events: list[Event] = []
        if event is not None:
            delivery = Delivery(
                alert_id=rec.alert_id,
                channel=rec.channel,
                status=event,
                attempts=attempts or outcome.attempts,
                detail=outcome.detail[:2000],
                at=datetime.fromtimestamp(now, UTC),
                found=found,
            )
            events.append(delivery_event(delivery))
        events.extend(extra)
        try:
            kept = self.store.settle_delivery(rec.alert_id, rec.channel, self.owner, outcome, now, events)
        except StoreError:
            self._unsettled[(rec.alert_id, rec.channel)] = _Unsettled(
                rec, outcome, tuple(events), sent=outcome.status == "sent"
            )
            raise
        if not kept:
            tally.lost += 1
            log.warning(
                "alerts: %s -> %s: another dispatcher took this delivery over (the attempt took longer than the "
                "lease of %.0fs); its outcome is theirs to record",
                rec.alert_id,
                rec.channel,
                self.schedule.lease,
            )


NO_NOTIFIER = "no notifier configured for channel"
# How the ledger's detail of a delivery settled `sent` by a find ends (trial 33, L5): `alerts list` tells it apart.
FOUND_NOTE = "found already posted: an earlier attempt had got through; not posted again"


def _unchanged(rec: DeliveryRecord) -> Settlement:
    return Settlement(
        rec.status,
        rec.detail,
        attempts=rec.attempts,
        next_attempt_at=rec.next_attempt_at,
        not_before=rec.not_before,
        unsure=rec.unsure,
    )


def _digest_sent(digest: Digest, ref: str, now: float) -> DigestSent:
    """The log's record of a digest delivered (what `digest.sent` told before digests were in the ledger)."""
    return DigestSent(
        id=digest.id,
        subscription_id=digest.subscription_id,
        channel=digest.channel,
        slot=digest.slot,
        after_position=digest.after_position,
        through_position=digest.through_position,
        alert_ids=digest.alert_ids(),
        detail=ref[:2000],
        at=datetime.fromtimestamp(now, UTC),
    )


def _say_paused(channel: str, until: float, now: float, err: NotifierError) -> None:
    """One line when a channel's own Retry-After starts a pause (trial 19, M4: only `next attempt in 120s` was
    logged, which reads like a backoff of ours): which channel, until when, and that the server asked."""
    asked = f"Retry-After {err.retry_after:.0f}s" if err.retry_after is not None else "Retry-After"
    log.warning(
        "alerts: channel %s paused until %s (in %.0fs): the server asked to wait (%s: %s); none of its deliveries "
        "is attempted before then, by any dispatcher on the store (`watchfloor alerts resume %s` lifts the pause)",
        channel,
        datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC"),
        until - now,
        asked,
        err.message,
        channel,
    )
