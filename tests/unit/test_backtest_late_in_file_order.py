"""LateInFileOrder (watchfloor.backtest): the documents a file lists after one dated more than the lateness later,
counted block by block as the files are read, per file, with future-dated ones at their receive time."""

from __future__ import annotations

from watchfloor.backtest import LateInFileOrder

DAY = 86_400.0


def test_blocks_of_a_file_are_counted_against_the_newest_before_them() -> None:
    late = LateInFileOrder(2 * DAY, received=100 * DAY, skew=3600.0)
    late.start_file()
    late.add([1 * DAY, 12 * DAY])  # in order
    late.add([11 * DAY, 2 * DAY, None, 9.5 * DAY])  # 2 and 9.5 days: more than 2 days behind the 12th
    late.add([13 * DAY, 11.5 * DAY])  # within the lateness of the 13th
    assert late.count == 2


def test_late_documents_move_nothing_and_each_file_starts_afresh() -> None:
    late = LateInFileOrder(2 * DAY, received=100 * DAY, skew=3600.0)
    late.start_file()
    late.add([10 * DAY, 5 * DAY, 6 * DAY])  # both late against the 10th (the 5th does not lower the bar)
    late.start_file()
    late.add([1 * DAY, 2 * DAY])  # another file: its own source
    assert late.count == 2


def test_a_future_dated_document_is_never_the_newest() -> None:
    late = LateInFileOrder(2 * DAY, received=100 * DAY, skew=3600.0)
    late.start_file()
    late.add([50_000 * DAY])  # a typo's year: processed at its receive time, which moves no watermark
    late.add([1 * DAY, 2 * DAY])
    assert late.count == 0
