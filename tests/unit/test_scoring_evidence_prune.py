"""FullEvidence keeps, per busy `count` / `corroborate` group, the recent reports; keeping them must cost O(1)
per signal however long the stream (review: the stale front was pruned by rebuilding the whole list at
almost every signal of a windowed group, quadratic; a windowless one moved MAX_KEPT pointers per signal)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.scoring_packs import busy_pack
from watchfloor.schemas.events import Signal
from watchfloor.scoring.evidence import FullEvidence
from watchfloor.stream_processors.rulefile import load_rules

PACK = busy_pack("1d")
T0 = datetime(2025, 7, 1, tzinfo=UTC)


class Counting:
    """Counts the entries read by iteration and the deletions (the O(n) operations) on the kept entries."""

    visited = 0
    deletions = 0

    def __iter__(self) -> Any:
        for x in super().__iter__():  # type: ignore[misc]
            Counting.visited += 1
            yield x

    def __delitem__(self, i: Any) -> None:
        Counting.deletions += 1
        super().__delitem__(i)  # type: ignore[misc]


class CountingDeque(Counting, deque):  # type: ignore[type-arg]
    pass


class CountingList(Counting, list):  # type: ignore[type-arg]
    pass


def signal(i: int, hours: float) -> Signal:
    return Signal(
        id=f"d{i}:levee_breach:0",
        name="levee_breach",
        document_id=f"d{i}",
        source="s",
        published_at=T0 + timedelta(hours=hours),
        sentence="levee breach",
        sentence_index=0,
        modality="asserted",
    )


def evidence(tmp_path: Path, **kw: Any) -> FullEvidence:
    p = tmp_path / "pack.yaml"
    p.write_text(PACK, encoding="utf-8")
    fe = FullEvidence(load_rules([str(p)])[1], **kw)
    fe.observe([signal(0, 0.0)])
    for key, seen in list(fe._seen.items()):
        kept: Any = CountingDeque(seen, maxlen=seen.maxlen) if isinstance(seen, deque) else CountingList(seen)
        fe._seen[key] = kept
    Counting.visited = Counting.deletions = 0
    return fe


def test_a_busy_windowed_group_is_pruned_in_constant_work_per_signal(tmp_path: Path) -> None:
    fe = evidence(tmp_path)
    n = 20_000
    # one report a minute for ~2 weeks: the 1d window (kept 2 windows + lateness + 1 day) holds ~4400
    for i in range(1, n):
        fe.observe([signal(i, i / 60)])
    windowed = fe._seen[("windowed", "")]
    assert len(windowed) < 5000
    assert Counting.visited == 0 and Counting.deletions == 0  # no pass over the kept entries at all


def test_a_group_over_max_kept_is_capped_without_moving_the_kept_entries(tmp_path: Path) -> None:
    fe = evidence(tmp_path, max_kept=1000)
    for i in range(1, 5000):
        fe.observe([signal(i, i / 60)])
    kept = fe._seen[("windowed", "")]
    assert len(kept) == 1000 and kept[-1][1] == "d4999"
    assert Counting.deletions == 0 and Counting.visited == 0


def test_out_of_order_reports_are_kept_and_pruned_when_they_reach_the_front(tmp_path: Path) -> None:
    fe = evidence(tmp_path)
    for i in range(1, 6000):
        # every tenth report arrives three days late (log order, not time order)
        fe.observe([signal(i, i / 60 - (72 if i % 10 == 0 else 0))])
    windowed = fe._seen[("windowed", "")]
    assert len(windowed) < 5000
    assert windowed[0][0] >= (T0 + timedelta(hours=5999 / 60 - 2 * 24 - 1 - 24)).timestamp()
