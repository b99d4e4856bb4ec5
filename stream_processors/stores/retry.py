"""When a SQL store re-runs a write transaction the database aborted for a conflict, and how long it waits first.

PostgreSQL aborts one transaction of a lock cycle ("deadlock detected", SQLSTATE 40P01) and, at REPEATABLE READ or
SERIALIZABLE, one that read what another changed ("could not serialize access", 40001). Nothing of the aborted
transaction was written, and the other one goes on, so running the same transaction again is the documented cure
(PostgreSQL manual, 13.2.2/13.2.3): it is not a store outage. The store's lock order (SqlStore._lock_appends)
prevents the deadlocks we know of; this is defence in depth for the ones we do not. Pure: the store passes the
random draw in and does the sleeping.

SQLite has no such case for the store's writers: each takes the one write lock at BEGIN IMMEDIATE, waiting the busy
timeout (30 s) for it, so no two of them hold locks the other wants. "database is locked" after that wait means
another process kept the lock that long, which the caller treats as the store being unwritable ("locked"), not as
a conflict to re-run at once.
"""

from __future__ import annotations

from dataclasses import dataclass

RETRYABLE_SQLSTATES = {
    "40P01": "deadlock detected",
    "40001": "could not serialize access",
}


def conflict_of(e: BaseException) -> str | None:
    """The SQLSTATE of a conflict abort that `e` is, or was caused by (a StoreError wraps SQLAlchemy's error, which
    wraps psycopg's), else None."""
    seen: BaseException | None = e
    hops = 0
    while seen is not None and hops < 10:  # (a cycle of causes is possible in principle: bounded)
        for err in (seen, getattr(seen, "orig", None)):
            state = getattr(err, "sqlstate", None)
            if isinstance(state, str) and state in RETRYABLE_SQLSTATES:
                return state
        seen = seen.__cause__ or seen.__context__
        hops += 1
    return None


@dataclass(frozen=True)
class TransactionRetry:
    """How many times in all a write transaction aborted for a conflict is run, and the jittered backoff between
    runs: the n-th wait is `first_wait * 2**(n-1)`, capped at `max_wait`, times a factor drawn in [0.5, 1) (two
    transactions aborted together do not meet again at once)."""

    attempts: int = 5
    first_wait: float = 0.02
    max_wait: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if self.first_wait < 0 or self.max_wait < 0:
            raise ValueError("waits must not be negative")

    def wait_before(self, attempt: int, draw: float) -> float | None:
        """Seconds to wait before running the transaction again after its `attempt`-th run (from 1) was aborted
        for a conflict, with `draw` a uniform random number in [0, 1); None once all attempts are spent."""
        if attempt >= self.attempts:
            return None
        base = min(self.max_wait, self.first_wait * float(2 ** (attempt - 1)))
        return base * (0.5 + min(max(draw, 0.0), 1.0) / 2)


NO_RETRY = TransactionRetry(attempts=1)

__all__ = ["NO_RETRY", "RETRYABLE_SQLSTATES", "TransactionRetry", "conflict_of"]
