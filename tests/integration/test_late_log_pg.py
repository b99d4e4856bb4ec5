"""The LateLog contract on a PostgreSQL store's row (stream_processors.kafka.late.StoreLateLog)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.late_log_contract import PersistentLateLogContract
from watchfloor.stream_processors.kafka.late import LateLog, StoreLateLog
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration


class TestStoreLateLogOnPostgres(PersistentLateLogContract):
    @pytest.fixture
    def make_log(self, pg_url: str) -> Callable[[], LateLog]:
        return lambda: StoreLateLog(lambda: SqlStore(pg_url), "wf-worker")
