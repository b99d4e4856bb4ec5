"""The RecordArchive contract on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.record_archive_contract import RecordArchiveContract
from watchfloor.stream_processors.stores.memory import MemoryStore


class TestMemoryRecordArchive(RecordArchiveContract):
    @pytest.fixture
    def make_archive(self) -> Callable[[], Any]:
        return MemoryStore
