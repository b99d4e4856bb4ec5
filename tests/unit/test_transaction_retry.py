"""The SQL store's retry policy for transactions PostgreSQL aborts for a conflict (stores/retry.py): which errors
it runs again, how many times, and how long it waits between runs. Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import exc as sa_exc

from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.retry import NO_RETRY, TransactionRetry, conflict_of


class _PgError(Exception):
    """What psycopg raises: an exception with the server's SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _as_the_store_raises(orig: BaseException) -> StoreError:
    """psycopg's error, wrapped by SQLAlchemy, left as a StoreError by the store's guard (raise ... from)."""
    wrapped = sa_exc.OperationalError("UPDATE checkpoints ...", {}, orig)
    try:
        raise StoreError("postgresql://h/db", str(orig)) from wrapped
    except StoreError as e:
        return e


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [("40P01", "deadlock detected"), ("40001", "could not serialize access due to concurrent update")],
)
def test_a_deadlock_or_a_serialization_failure_is_a_conflict_however_wrapped(sqlstate: str, message: str) -> None:
    orig = _PgError(message, sqlstate)
    assert conflict_of(orig) == sqlstate
    assert conflict_of(sa_exc.OperationalError("stmt", {}, orig)) == sqlstate
    assert conflict_of(_as_the_store_raises(orig)) == sqlstate


@pytest.mark.parametrize(
    "orig",
    [
        _PgError("canceling statement due to lock timeout", "55P03"),
        _PgError("duplicate key value violates unique constraint", "23505"),
        _PgError("connection refused", None),
        _PgError("the database system is shutting down", "57P03"),
    ],
)
def test_other_failures_are_not_run_again(orig: BaseException) -> None:
    assert conflict_of(orig) is None
    assert conflict_of(_as_the_store_raises(orig)) is None


def test_sqlites_database_is_locked_is_no_conflict_to_run_again() -> None:
    # (a writer waited the busy timeout for BEGIN IMMEDIATE's lock: the store says "locked", an outage)
    locked = StoreError("sqlite:///x.db", "the database stayed locked by another process", "locked")
    assert conflict_of(locked) is None


def test_the_waits_double_from_the_first_up_to_the_cap_and_stop_after_the_last_attempt() -> None:
    policy = TransactionRetry(attempts=5, first_wait=0.02, max_wait=0.05)
    top = [policy.wait_before(n, 0.999999) for n in range(1, 6)]
    low = [policy.wait_before(n, 0.0) for n in range(1, 6)]
    assert low == [0.01, 0.02, 0.025, 0.025, None]
    assert top[:4] == pytest.approx([0.02, 0.04, 0.05, 0.05], rel=1e-5)
    assert top[4] is None


def test_one_attempt_runs_nothing_again() -> None:
    assert NO_RETRY.wait_before(1, 0.5) is None


def test_a_policy_of_no_attempt_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        TransactionRetry(attempts=0)


@given(
    attempts=st.integers(1, 20),
    first=st.floats(0, 1),
    cap=st.floats(0, 5),
    attempt=st.integers(1, 40),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_a_wait_is_jittered_within_half_to_all_of_its_capped_base(
    attempts: int, first: float, cap: float, attempt: int, draw: float
) -> None:
    wait = TransactionRetry(attempts=attempts, first_wait=first, max_wait=cap).wait_before(attempt, draw)
    if attempt >= attempts:
        assert wait is None
    else:
        base = min(cap, first * 2 ** (attempt - 1))
        assert wait is not None and base / 2 <= wait <= base


def test_every_write_of_the_sql_store_goes_through_its_retrying_transaction() -> None:
    """`SqlStore._write` (one run, no retry) is used by `_transaction` alone: a write path that opened it itself
    would surface a deadlock as a store outage again."""
    import ast
    from pathlib import Path

    from watchfloor.stream_processors.stores import sql

    users: list[str] = []
    for path in sorted(Path(sql.__file__).parent.glob("sql*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "_write"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "self"
                ):
                    users.append(f"{path.name}:{fn.name}")
    assert users == ["sql.py:_transaction"], users
