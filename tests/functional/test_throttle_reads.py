"""What a throttled channel's summary plan reads of the ledger each pass: the held rows after its last summary and,
for the withdrawals and revisions that leave one out, their threads from the first held row on, not each thread
whole (a long story's thread is thousands of rows, read at every pass while an alert of it is held)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.throttle import HELD
from watchfloor.schemas.config import parse_throttle
from watchfloor.schemas.events import Alert, Detection
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPEC = "2 per 1h"
THREAD = "ships-seen|port=RAJIN"


class ReadCounting:
    """A real store that counts the ledger rows its `deliveries` reads return."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.rows = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def deliveries(self, **kw: Any) -> list[DeliveryRecord]:
        got = self.store.deliveries(**kw)
        self.rows += len(got)
        return got


def row(key: str, seq: int, *, held: bool = False, **kw: Any) -> DeliveryRecord:
    det = Detection(
        id=key, rule="ships-seen", title="Ships seen", severity="high", group={"port": "RAJIN"}, fired_at=T0
    )
    payload: dict[str, Any] = {"alert": Alert(id=key, detection=det, channels=("desk",)).model_dump(mode="json")}
    payload["throttle"] = {"window": T0.isoformat(), "held": held, "spec": SPEC}
    status = HELD if held else "sent"
    return DeliveryRecord(key, "desk", status=status, payload=payload, thread_key=THREAD, seq=seq, **kw)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def test_the_summary_plan_reads_a_held_alert_s_thread_from_it_on(url: str) -> None:
    store = SqlStore(url)
    try:
        story = [row(f"early-{i}", i, kind="followup" if i > 1 else "alert") for i in range(1, 41)]  # the story so far
        withdrawal = DeliveryRecord(
            "r-1", "desk", status="suppressed", kind="retraction", thread_key=THREAD, parent_id="late-1", seq=45
        )
        store.enqueue([*story, row("late-1", 42, held=True), row("late-2", 43, held=True), withdrawal])
        counting = ReadCounting(store)
        dispatcher = AlertDispatcher(counting, {}, throttles={"desk": parse_throttle(SPEC)})  # type: ignore[arg-type]
        dispatcher._summarised_through["desk"] = 41  # (as if a summary listed through 41: nothing of it to read)
        held, after = dispatcher._held("desk", parse_throttle(SPEC))
        assert after == 41
        assert [(h.key, h.gone) for h in held] == [("late-1", "withdrawn"), ("late-2", "")]
        # the held rows (2), then their thread from the first of them on (the 2 and the withdrawal): not the 40 before
        assert counting.rows == 5
    finally:
        store.close()
