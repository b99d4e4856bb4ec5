"""The intake's backlog counted between looks (web.metrics.IntakeWatch), and `count(up_to=)`, on PostgreSQL: the same
checks as on the memory store and SQLite (tests/unit/test_intake_watch.py)."""

from __future__ import annotations

import pytest

from tests.unit.test_intake_watch import test_count_up_to_a_position as count_up_to
from tests.unit.test_intake_watch import test_the_counts_between_looks_are_those_of_a_full_count as counts
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration


def test_the_counts_between_looks_are_those_of_a_full_count_on_postgresql(pg_store: SqlStore) -> None:
    counts(pg_store)


def test_count_up_to_a_position_on_postgresql(pg_store: SqlStore) -> None:
    count_up_to(pg_store)
