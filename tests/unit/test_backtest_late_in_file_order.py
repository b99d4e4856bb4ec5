"""LateInFileOrder (watchfloor.backtest): the documents a file lists after one dated more than the lateness later,
counted block by block as the files are read, per file, with future-dated ones at their receive time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.unit.test_gdelt_producer import line, row
from watchfloor.backtest import LateInFileOrder, ReadReport, iter_event_blocks, late_in_export_order_note

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


def test_a_gdelt_sources_exports_count_against_the_exports_before_them_not_their_own_rows() -> None:
    """Outside trial 72, MED-1: a folder whose later export (name order, as `run` reads it) holds older events. An
    export is read whole in one poll, so its own rows out of order are none late; those more than the lateness behind
    an earlier export's newest are. Each GDELT read starts afresh (a source of its own)."""
    late = LateInFileOrder(2 * DAY, received=100 * DAY, skew=3600.0)
    late.start_gdelt_source()
    late.add_exports([10 * DAY, 1 * DAY, 9 * DAY], ["a.CSV"] * 3)  # one export: none late
    late.add_exports([5 * DAY, None, 9.5 * DAY, 20 * DAY], ["b.CSV"] * 4)  # the 5th, behind a.CSV's 10th
    late.add_exports([12 * DAY, 19 * DAY], ["c.CSV", "c.CSV"])  # the 12th, behind b.CSV's 20th; not the 19th
    assert (late.exports, late.count) == (2, 0)
    late.start_gdelt_source()
    late.add_exports([1 * DAY], ["a.CSV"])  # another source of the folder: its own event time
    late.add_exports([50_000 * DAY, 0.5 * DAY], ["z.CSV", "z.CSV"])  # a typo's year is at its receive time
    assert late.exports == 2


def test_a_gdelt_folder_read_by_a_backtest_counts_the_older_events_of_a_later_export(tmp_path: Path) -> None:
    """The reader counts them as it reads the folder (iter_event_blocks): the 2016 event of zz.export.CSV, read after
    the 2024 export, is one; the note says so."""
    folder = tmp_path / "gdelt"
    folder.mkdir()
    (folder / "20241001000000.export.CSV").write_text(
        line(row("1500000001", day="20241001", added="20241001000000")) + "\n", encoding="utf-8"
    )
    (folder / "zz.export.CSV").write_text(
        line(row("1500000002", day="20160728", added="20160728000000"))
        + "\n"
        + line(row("1500000003", day="20240930", added="20240930000000"))
        + "\n",
        encoding="utf-8",
    )
    late = LateInFileOrder(7 * DAY, received=None, skew=3600.0)
    report = ReadReport()
    docs = [x for block in iter_event_blocks([str(folder)], report=report, late_in_file_order=late) for x in block]
    assert len([d for d in docs if d is not None]) == 3 and report.errors == []
    assert (late.exports, late.count) == (1, 0)
    note = late_in_export_order_note(late.exports, timedelta(days=7))
    assert note is not None and note.startswith("note: 1 document of GDELT exports comes after an export of the same")
    assert late_in_export_order_note(0, timedelta(days=7)) is None
