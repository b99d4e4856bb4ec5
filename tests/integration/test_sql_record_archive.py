"""The RecordArchive contract on SqlStore: SQLite file, SQLite in memory, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.record_archive_contract import PersistentRecordArchiveContract, RecordArchiveContract
from watchfloor.stream_processors.stores.sql import SqlStore


class TestSqliteFileRecordArchive(PersistentRecordArchiveContract):
    @pytest.fixture
    def make_archive(self, tmp_path: Path) -> Callable[[], Any]:
        return lambda: SqlStore(f"sqlite:///{tmp_path / 'store.db'}")


class TestSqliteMemoryRecordArchive(RecordArchiveContract):
    @pytest.fixture
    def make_archive(self) -> Callable[[], Any]:
        return lambda: SqlStore("sqlite:///:memory:")


@pytest.mark.integration
class TestPostgresRecordArchive(PersistentRecordArchiveContract):
    @pytest.fixture
    def make_archive(self, pg_url: str) -> Callable[[], Any]:
        return lambda: SqlStore(pg_url)
