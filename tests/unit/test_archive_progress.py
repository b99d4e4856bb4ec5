"""`watchfloor archive`'s lines count the correlate records it keeps for replay-workers (with no decoding of them)."""

from __future__ import annotations

import pytest

from watchfloor.cli.distributed import ArchiveProgress
from watchfloor.stream_processors.kafka.archive import ArchiveStats


def test_correlate_records_alone_are_news_and_are_counted_apart(capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    progress = ArchiveProgress(lambda: {"p.correlate": 3}, clock=lambda: now[0])
    progress.poll(ArchiveStats(correlate=40, kept=37))  # a burst of correlate records only
    progress.poll(ArchiveStats())  # its end
    said = capsys.readouterr().err
    assert "nothing new" not in said, said
    assert (
        "archived 0 new events (0 records read, 0 already in the store, 0 refused as dead letters, 0 watermarks not "
        "kept) and 37 correlate records kept for replay-workers (40 read, 3 already kept); 0 in all"
    ) in " ".join(said.split()), said
    progress.poll(ArchiveStats(records=5, archived=4, watermarks=1, correlate=2, kept=2))
    assert progress.totals() == (
        "archived 4 new events (5 records read, 0 already in the store, 0 refused as dead letters, 1 watermarks not "
        "kept) and 39 correlate records kept for replay-workers (42 read, 3 already kept)"
    )


def test_without_correlate_records_the_line_is_as_before() -> None:
    progress = ArchiveProgress(lambda: {}, clock=lambda: 0.0)
    progress.poll(ArchiveStats(records=3, archived=3))
    assert progress.totals() == (
        "archived 3 new events (3 records read, 0 already in the store, 0 refused as dead letters, 0 watermarks not "
        "kept)"
    )
