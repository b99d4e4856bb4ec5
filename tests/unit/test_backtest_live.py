"""Reading files as the live ingest reads them (watchfloor.backtest_live): the ids a backtest keys lines by
are the ids the log would hold, whatever a line names its document by, and the alignment of lines with items
survives blank and bad lines. Short news items in our own words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from watchfloor.backtest import ReadReport, iter_events
from watchfloor.producers.jsonl import read_jsonl_numbered
from watchfloor.producers.publish import ingest
from watchfloor.schemas.events import Document
from watchfloor.stream_processors.stores.memory import MemoryStore


def line(**fields: Any) -> str:
    base = {"type": "news.article", "published_at": "2024-11-01T09:00:00+00:00", "source": "Wire"}
    return json.dumps({**base, **fields})


def backtest_read(path: Path) -> tuple[list[Any], ReadReport]:
    report = ReadReport()
    return list(iter_events([str(path)], report=report)), report


def live_read(path: Path) -> tuple[int, int, list[tuple[int | None, str]]]:
    """What the live ingest makes of the file: new documents, duplicates, dead letters (line, reason)."""
    summary = ingest(MemoryStore(), read_jsonl_numbered(path), str(path))
    letters = [(dl.line, dl.reason) for dl in summary.dead_letters]
    return summary.accepted, summary.duplicates, letters


def test_ids_of_every_kind_repeat_as_the_log_would_hold_them(tmp_path: Path) -> None:
    p = tmp_path / "mixed.jsonl"
    rows = [
        line(id="  ax-1 ", title="Troops seen near the border"),  # an id is stripped
        line(id="ax-1", title="Troops seen near the border, officials say"),  # the same id, other content
        line(id=7, title="Seoul markets close higher"),  # an integer id
        line(id="7", title="Seoul markets close lower"),  # the same id, other content
        line(url="https://example.org/a", title="Grain prices rise"),  # named by its URL
        line(url="https://example.org/a", title="Grain prices fall"),  # the same URL, other content
        line(title="Rain floods roads in Busan"),  # named by a hash of its content
        line(title="Rain floods roads in Busan"),  # the same line: already seen
        line(id="ax-1", title="Troops seen near the border, officials say"),  # line 2 again: other content
    ]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    items, report = backtest_read(p)
    accepted, duplicates, letters = live_read(p)
    assert (len(items), report.already_seen) == (accepted, duplicates) == (4, 1)
    assert [(dl.line, dl.reason) for dl in report.dead_letters] == letters
    assert [line for line, _reason in letters] == [2, 4, 6, 9]


def test_the_same_document_written_otherwise_is_a_dead_letter_not_a_duplicate(tmp_path: Path) -> None:
    """The documented difference: the same content is the same line here. Live, a copy written with other
    spacing is a duplicate; here a dead letter. Either way the first version alone goes on."""
    p = tmp_path / "respaced.jsonl"
    first = line(id="rs-1", title="Troops seen near the border")
    p.write_text(first + "\n" + first.replace(", ", ",") + "\n", encoding="utf-8")
    items, report = backtest_read(p)
    accepted, duplicates, letters = live_read(p)
    assert (len(items), accepted) == (1, 1)
    assert (report.already_seen, report.dead_count, duplicates, letters) == (0, 1, 1, [])


def test_blank_and_bad_lines_keep_each_repeat_at_its_own_line(tmp_path: Path) -> None:
    p = tmp_path / "gaps.jsonl"
    rows = [
        line(id="gp-1", title="Troops seen near the border"),
        "",
        "   ",
        '{"type": "news.article", "broken',
        line(id="gp-2", title="Seoul markets close higher"),
        "\u00a0",
        line(id="gp-1", title="North Korean soldiers killed in Kursk"),
        line(id="gp-2", title="Seoul markets close higher"),
    ]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    items, report = backtest_read(p)
    conflicts = [dl for dl in report.dead_letters if dl.field == "id"]
    assert [dl.line for dl in conflicts] == [7] and "Kursk" in (conflicts[0].raw or "")
    assert report.already_seen == 1 and len(items) == 2
    _accepted, _duplicates, letters = live_read(p)
    assert (7, conflicts[0].reason) in letters  # the same line and reason as the live ingest


def test_a_crlf_file_and_its_lf_copy_are_the_same_lines(tmp_path: Path) -> None:
    rows = [line(id="cr-1", title="Troops seen near the border"), line(id="cr-2", title="Grain prices rise")]
    crlf, lf = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    crlf.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    lf.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = ReadReport()
    items = list(iter_events([str(crlf), str(lf)], report=report))
    assert (len(items), report.already_seen, report.dead_count) == (2, 2, 0)


def test_a_feed_document_is_compared_by_its_content(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from watchfloor.backtest import FileReport
    from watchfloor.backtest_live import SeenIds
    from watchfloor.producers.publish import edition_id

    def doc(title: str) -> Document:
        return Document(
            id="urn:desk:1",
            type="news.article",
            published_at=datetime(2024, 11, 1, tzinfo=UTC),
            source={"name": "Desk"},
            title=title,
        )

    seen, report, fr = SeenIds(), ReadReport(), FileReport("feed.xml", "rss")
    assert len(seen.documents([doc("Troops seen near the border")], report, fr)) == 1
    # Another title under the id: the feed edited it in place, so it is read as its edition (as live), once.
    (edition,) = seen.documents([doc("Troops seen near the border"), doc("Grain prices rise")], report, fr)
    assert edition.id == edition_id("urn:desk:1", "Grain prices rise", "") and edition.title == "Grain prices rise"
    assert edition.metadata == {"edition_of": "urn:desk:1", "entry_date": "2024-11-01T00:00:00+00:00"}
    # Dated just after the newest entry read before it (a backtest has no clock to date an edit by).
    assert edition.published_at == datetime(2024, 11, 1, tzinfo=UTC) + timedelta(microseconds=1)
    again = doc("Grain prices rise").model_copy(update={"published_at": datetime(2024, 11, 2, tzinfo=UTC)})
    assert seen.documents([again], report, fr) == []  # the same text with another date: a repeat
    assert report.already_seen == 2 and report.dead_letters == []
