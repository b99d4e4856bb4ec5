"""When to try a delivery again, and when to give it up: capped exponential backoff, a capped Retry-After, a
maximum age, and optionally a maximum number of attempts. Pure arithmetic on epoch seconds (the dispatcher's
clock), so tests need no waiting."""

from __future__ import annotations

from dataclasses import dataclass

from watchfloor.schemas.config import RetryPolicy


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
