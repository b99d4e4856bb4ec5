"""When to try a delivery again, and when to give it up: capped exponential backoff, a capped Retry-After, a
maximum age, and optionally a maximum number of attempts; and the retry stage of a failed attempt (`after_failed`:
its row's next attempt, a post's landing window, what its channel's other rows wait, whether it is given up). Pure
arithmetic on epoch seconds handed in (`now`: the dispatcher's clock) and plain values, no I/O: the deliverer reads
the row and the notifier's error, and acts on what these decide (alerts.delivery), so tests need no waiting."""

from __future__ import annotations

from dataclasses import dataclass

from watchfloor.schemas.config import RetryPolicy
from watchfloor.stream_processors.ports import Settlement


@dataclass(frozen=True)
class Retry:
    """The schedule after a failed attempt: our backoff, and the channel's own wait when it asked for one."""

    next_attempt_at: float
    not_before: float


@dataclass(frozen=True)
class RetrySchedule:
    backoff: float = 2.0
    max_backoff: float = 600.0
    max_age: float = 86_400.0
    max_retry_after: float = 900.0
    lease: float = 120.0
    max_attempts: int | None = None  # retry.attempts: give up after this many failed attempts (None: no cap)

    @classmethod
    def from_policy(cls, policy: RetryPolicy) -> RetrySchedule:
        return cls(
            backoff=policy.backoff.total_seconds(),
            max_backoff=policy.max_backoff.total_seconds(),
            max_age=policy.max_age.total_seconds(),
            max_retry_after=policy.max_retry_after.total_seconds(),
            lease=policy.lease.total_seconds(),
            max_attempts=policy.attempts,
        )

    def delay(self, attempts: int) -> float:
        """Seconds to wait after `attempts` failed attempts (1-based): backoff, doubled each time, capped."""
        exponent = min(max(attempts - 1, 0), 60)  # 2**60 s is past any cap; keeps the float finite
        return max(min(self.backoff * 2.0**exponent, self.max_backoff), 0.0)

    def retry_after(self, seconds: float | None) -> float:
        """A channel's Retry-After, honoured up to max_retry_after (a hostile or broken server cannot park a
        delivery for days); 0 when there was none."""
        if seconds is None or seconds != seconds or seconds <= 0:
            return 0.0
        return min(seconds, self.max_retry_after)

    def after_failure(self, attempts: int, retry_after: float | None, now: float, created_at: float) -> Retry:
        """When to try again after failed attempt number `attempts`. Never later than the moment the delivery
        expires, so that it expires on time rather than at a far-off attempt."""
        wait = self.retry_after(retry_after)
        expires = created_at + self.max_age
        nxt = min(now + max(self.delay(attempts), wait), max(expires, now))
        return Retry(next_attempt_at=nxt, not_before=min(now + wait, max(expires, now)) if wait else 0.0)

    def expired(self, created_at: float, now: float) -> bool:
        return now >= created_at + self.max_age

    def out_of_attempts(self, attempts: int) -> bool:
        """True when `attempts` failed attempts are as many as `retry.attempts` allows (never without a cap)."""
        return self.max_attempts is not None and attempts >= self.max_attempts


# -- the retry stage of a failed attempt ------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedAttempt:
    """A failed attempt in plain values: its row as it was before it, and what the failure said."""

    attempts: int  # the row's failed attempts before this one
    created_at: float  # the row's (its expiry counts from it)
    unsure: bool = False  # the row's: an earlier attempt may have got through
    retry_after: float | None = None  # the channel's own wait (Retry-After), in seconds
    maybe_delivered: bool = False  # this attempt may have got through: the next one looks in the channel first
    # No answer came (a timeout, a connection cut, a gateway's 502/504): the post may still be on its way
    unanswered: bool = False
    whole_channel: bool = False  # the channel failed as a whole (channel-wide, or transient): its other rows wait
    posted_at: float | None = None  # when this attempt's post started (None: it posted nothing, or that is unknown)
    # Seconds from a post's start within which it has surely landed, in a channel that is looked in before a post is
    # sent again (Slack: 2 x its timeout); 0 where it is not looked for (sent again as it is: nothing to wait for)
    landing_window: float = 0.0


@dataclass(frozen=True)
class ChannelWait:
    """What a failed attempt asks of the other rows of its channel, for every dispatcher on the store."""

    until: float  # its rows back off until then (the failed row's retry; later when it waits for its post to land)
    hold: bool  # the failed row is retried: the channel itself backs off until then, rows raised meanwhile too
    paused_until: float = 0.0  # > 0: the channel asked everyone to wait (Retry-After), a pause until then


@dataclass(frozen=True)
class AfterFailure:
    """What the retry stage decided for a failed attempt."""

    attempts: int  # the row's failed attempts, this one counted
    unsure: bool  # the row's next attempt looks in the channel first
    given_up: bool  # as many attempts as retry.attempts allows: expired, not retried
    retry: Retry  # when the row is tried again (not before its post's landing window, when it waits for one)
    landed: float  # > 0: a post of this attempt may still land until then, which the next attempt waits for
    channel: ChannelWait | None  # None: only this row waits

    def outstanding(self, detail: str, ref: str = "") -> Settlement:
        """The row's settlement when it is retried."""
        return Settlement(
            "outstanding",
            detail,
            ref=ref,
            attempts=self.attempts,
            next_attempt_at=self.retry.next_attempt_at,
            not_before=self.retry.not_before,
            unsure=self.unsure,
        )


def landed_by(schedule: RetrySchedule, failed: FailedAttempt, retry: Retry, now: float) -> float:
    """When a post of a failed attempt that got no answer and may still be on its way (`unanswered`: a timeout) has
    surely landed, if that is after `retry` and the next attempt looks in the channel first: the post's start plus
    the channel's landing window (Slack: 2 x its `timeout`), the same the take-over of a dead process's claims waits
    (AlertDispatcher._landed_by); never past the delivery's expiry. Else 0. (The service's own 5xx is an answer:
    whatever it did with the post is done, and the look after the backoff sees it; a gateway's 502/504 in front of it
    is not, and is `unanswered`.)"""
    if failed.posted_at is None or not (failed.unanswered and failed.maybe_delivered) or failed.landing_window <= 0:
        return 0.0
    expires = failed.created_at + schedule.max_age
    landed = min(failed.posted_at + failed.landing_window, max(expires, now))
    return landed if landed > retry.next_attempt_at else 0.0


def channel_wait(
    schedule: RetrySchedule,
    attempts: int,
    created_at: float,
    retry_after: float | None,
    now: float,
    *,
    retried: bool = True,
    landed: float = 0.0,
) -> ChannelWait:
    """What the channel's other rows wait after a failure of the whole channel (server down, bad token, a
    Retry-After): as long as the failed row (failed attempt number `attempts`), so that a broken channel costs one
    attempt per backoff period, not one per alert. When that row is retried (`retried`), the channel itself backs off
    until then, and a row raised meanwhile does not go before it; at `now` of the row's own retry, so the backoff ends
    exactly when it is due again, never later; later when it waits for its post to land (`landed`). A row given up has
    no retry for the channel to wait for. A Retry-After also pauses the channel until it ends."""
    retry = schedule.after_failure(attempts, retry_after, now, created_at)
    return ChannelWait(until=max(retry.next_attempt_at, landed), hold=retried, paused_until=retry.not_before)


def after_failed(schedule: RetrySchedule, failed: FailedAttempt, now: float) -> AfterFailure:
    """The retry stage of a failed attempt at `now`: when its row is tried again (the backoff, the channel's
    Retry-After; for a post that got no answer, not before its landing window is over, kept in `not_before`, which a
    process started meanwhile keeps to as well: trial 54, HIGH-1), whether it is given up (retry.attempts), and what
    its channel's other rows wait (the channel waits with a landing row, so that nothing goes before it)."""
    attempts = failed.attempts + 1
    retry = schedule.after_failure(attempts, failed.retry_after, now, failed.created_at)
    landed = landed_by(schedule, failed, retry, now)
    given_up = schedule.out_of_attempts(attempts)
    channel = None
    if failed.whole_channel:
        # (from the backoff's retry: the landing window is added by `landed`, the Retry-After pause is the channel's)
        channel = channel_wait(
            schedule, attempts, failed.created_at, failed.retry_after, now, retried=not given_up, landed=landed
        )
    if landed:
        retry = Retry(next_attempt_at=landed, not_before=max(retry.not_before, landed))
    return AfterFailure(
        attempts=attempts,
        unsure=failed.unsure or failed.maybe_delivered,
        given_up=given_up,
        retry=retry,
        landed=landed,
        channel=channel,
    )


def out_of_attempts_why(detail: str, attempts: int) -> str:
    """Why a row out of attempts is given up (retry.attempts), after its last failure's `detail`."""
    return f"{detail}; {attempts} attempts, as many as retry.attempts allows"


def given_up(why: str, attempts: int, *, unsure: bool = False, ref: str = "") -> Settlement:
    """The settlement of a row given up (past its age, out of attempts, unreadable, unconfirmed): `expired`, with
    what its last attempt left (`ref`: a reply posted whose thread update failed), and whether it may have got
    through (`unsure`)."""
    return Settlement("expired", f"given up: {why}", ref=ref, attempts=attempts, unsure=unsure)


def redeliver_advice(unsure: bool) -> str:
    """What the log line of an expiry advises before its `alerts redeliver` command: a row whose last attempt may
    have got through is looked for first (outside trial 23, M3-5: "re-send" of a post that had landed)."""
    if unsure:
        return "it may have got through (not confirmed): look in the channel; redeliver looks there before sending"
    return "re-send with"
