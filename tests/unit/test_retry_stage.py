"""The retry stage of a failed attempt (alerts.schedule.after_failed), a table of plain values: the row's next
attempt, an unanswered post's landing window, what its channel's other rows wait, and giving up."""

from __future__ import annotations

import pytest

from watchfloor.alerts.schedule import (
    AfterFailure,
    ChannelWait,
    FailedAttempt,
    Retry,
    RetrySchedule,
    after_failed,
    channel_wait,
    given_up,
    out_of_attempts_why,
    redeliver_advice,
)

NOW = 1_730_000_000.0
CREATED = NOW - 100
SCHEDULE = RetrySchedule(backoff=2, max_backoff=60, max_age=3_600, max_retry_after=300, max_attempts=5)
TIMEOUT = {"unanswered": True, "maybe_delivered": True, "whole_channel": True}  # Slack: a timeout, a 504

CASES = {
    # a payload the channel refuses: only this row waits, its backoff
    "permanent, one row": (
        FailedAttempt(attempts=0, created_at=CREATED),
        AfterFailure(1, False, False, Retry(NOW + 2, 0.0), 0.0, None),
    ),
    # the third failure: the backoff doubled twice; an earlier attempt that may have got through stays unsure
    "backoff doubles, unsure kept": (
        FailedAttempt(attempts=2, created_at=CREATED, unsure=True),
        AfterFailure(3, True, False, Retry(NOW + 8, 0.0), 0.0, None),
    ),
    # Slack down: the channel's other rows wait as long, and the channel backs off with the row
    "whole channel": (
        FailedAttempt(attempts=0, created_at=CREATED, whole_channel=True),
        AfterFailure(1, False, False, Retry(NOW + 2, 0.0), 0.0, ChannelWait(NOW + 2, True)),
    ),
    # a Retry-After: the row and the channel wait for it, and the channel is paused until it ends
    "retry-after": (
        FailedAttempt(attempts=0, created_at=CREATED, retry_after=30, whole_channel=True),
        AfterFailure(1, False, False, Retry(NOW + 30, NOW + 30), 0.0, ChannelWait(NOW + 30, True, NOW + 30)),
    ),
    # a Retry-After past retry.max_retry_after is capped
    "retry-after capped": (
        FailedAttempt(attempts=0, created_at=CREATED, retry_after=10**9, whole_channel=True),
        AfterFailure(1, False, False, Retry(NOW + 300, NOW + 300), 0.0, ChannelWait(NOW + 300, True, NOW + 300)),
    ),
    # a timeout of a post started 10 s ago, landing window 20 s: not looked for before it has landed (trial 54, HIGH-1)
    "unanswered post: landing window": (
        FailedAttempt(attempts=0, created_at=CREATED, posted_at=NOW - 10, landing_window=20, **TIMEOUT),
        AfterFailure(1, True, False, Retry(NOW + 10, NOW + 10), NOW + 10, ChannelWait(NOW + 10, True)),
    ),
    # with a Retry-After shorter than the window: the pause is the channel's, the row waits for the window
    "unanswered post, short retry-after": (
        FailedAttempt(attempts=0, created_at=CREATED, posted_at=NOW, landing_window=20, retry_after=5, **TIMEOUT),
        AfterFailure(1, True, False, Retry(NOW + 20, NOW + 20), NOW + 20, ChannelWait(NOW + 20, True, NOW + 5)),
    ),
    # the backoff (attempt 4: 16 s) ends after the window (started 10 s ago, 20 s): nothing more to wait for
    "unanswered post, backoff longer": (
        FailedAttempt(attempts=3, created_at=CREATED, posted_at=NOW - 10, landing_window=20, **TIMEOUT),
        AfterFailure(4, True, False, Retry(NOW + 16, 0.0), 0.0, ChannelWait(NOW + 16, True)),
    ),
    # a channel that is not looked in (window 0): the post is sent again as it is, after the backoff
    "unanswered post, not looked in": (
        FailedAttempt(attempts=0, created_at=CREATED, posted_at=NOW, **TIMEOUT),
        AfterFailure(1, True, False, Retry(NOW + 2, 0.0), 0.0, ChannelWait(NOW + 2, True)),
    ),
    # Slack's own 5xx is an answer: maybe posted (looked for first), but nothing on its way: the backoff
    "answered 5xx": (
        FailedAttempt(attempts=0, created_at=CREATED, posted_at=NOW, landing_window=20, maybe_delivered=True),
        AfterFailure(1, True, False, Retry(NOW + 2, 0.0), 0.0, None),
    ),
    # a failure that posted nothing (the look before a resend, a thread update): no post to wait for
    "unanswered, no post": (
        FailedAttempt(attempts=0, created_at=CREATED, landing_window=20, **TIMEOUT),
        AfterFailure(1, True, False, Retry(NOW + 2, 0.0), 0.0, ChannelWait(NOW + 2, True)),
    ),
    # the window reaches past the delivery's expiry: it waits until the expiry, no later
    "landing capped at expiry": (
        FailedAttempt(attempts=0, created_at=NOW - 3_590, posted_at=NOW, landing_window=20, **TIMEOUT),
        AfterFailure(1, True, False, Retry(NOW + 10, NOW + 10), NOW + 10, ChannelWait(NOW + 10, True)),
    ),
    # the fifth failed attempt with retry.attempts 5: given up; the channel waits its backoff but does not hold for it
    "out of attempts": (
        FailedAttempt(attempts=4, created_at=CREATED, whole_channel=True),
        AfterFailure(5, False, True, Retry(NOW + 32, 0.0), 0.0, ChannelWait(NOW + 32, False)),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_after_a_failed_attempt(case: str) -> None:
    failed, expected = CASES[case]
    assert after_failed(SCHEDULE, failed, NOW) == expected


def test_no_cap_on_attempts_unless_asked_for() -> None:
    endless = RetrySchedule(backoff=2, max_backoff=60, max_age=10**9)
    assert not after_failed(endless, FailedAttempt(attempts=10**6, created_at=NOW), NOW).given_up


def test_the_outstanding_settlement_carries_the_decision() -> None:
    failed = FailedAttempt(attempts=0, created_at=CREATED, posted_at=NOW, landing_window=20, **TIMEOUT)
    got = after_failed(SCHEDULE, failed, NOW).outstanding("timed out", ref="C1:1.0")
    assert (got.status, got.detail, got.ref, got.attempts) == ("outstanding", "timed out", "C1:1.0", 1)
    assert (got.next_attempt_at, got.not_before, got.unsure) == (NOW + 20, NOW + 20, True)


def test_a_held_call_defers_its_channel_without_holding_it() -> None:
    assert channel_wait(SCHEDULE, 1, CREATED, None, NOW, retried=False) == ChannelWait(NOW + 2, False)


def test_given_up() -> None:
    got = given_up(out_of_attempts_why("HTTP 500", 5), 5, unsure=True, ref="C1:2.0")
    assert (got.status, got.ref, got.attempts, got.unsure) == ("expired", "C1:2.0", 5, True)
    assert got.detail == "given up: HTTP 500; 5 attempts, as many as retry.attempts allows"
    assert redeliver_advice(False) == "re-send with"
    assert redeliver_advice(True).startswith("it may have got through (not confirmed)")
