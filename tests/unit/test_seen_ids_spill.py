"""SeenIds past its bound (--sort-run): the ids in memory spill to disk and the check stays exact. A backtest
with a bound of a few ids reads the same documents, counts the same repeats and writes the same dead letters
as one holding every id in memory. Short news items in our own words."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchfloor.backtest import FileReport, ReadReport, iter_event_blocks
from watchfloor.backtest_live import SeenIds
from watchfloor.producers.publish import conflict_reason
from watchfloor.schemas.events import Document
from watchfloor.schemas.inputs import CheckedInput, derive_id
from watchfloor.stream_processors.replay import Logged

TITLES = ["Troops seen near the border", "Grain prices rise", "Seoul markets close higher", "Rain floods Busan"]


def line(**fields: Any) -> str:
    base = {"type": "news.article", "published_at": "2024-11-01T09:00:00+00:00", "source": "Wire"}
    return json.dumps({**base, **fields})


def write(path: Path, rows: list[str]) -> str:
    path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def read(paths: list[str], limit: int | None, spill_dir: str | None = None, arrival: bool = False) -> tuple[Any, ...]:
    """What a backtest reads of the files: the documents (id, title), repeats, dead letters, ids not kept."""
    report = ReadReport()
    blocks = iter_event_blocks(paths, report=report, id_limit=limit, id_spill_dir=spill_dir, arrival=arrival)
    docs = [_doc(x) for block in blocks for x in block if x is not None]
    letters = [(dl.origin, dl.line, dl.reason) for dl in report.dead_letters]
    return docs, report.already_seen, report.dead_count, letters, report.ids_not_kept


def _doc(x: Any) -> Any:
    if isinstance(x, Logged):  # with `arrival`: the inputs in the ingest's order, with their file
        return (_doc(x.item), x.origin)
    return (x.build().id, x.title) if isinstance(x, CheckedInput) else getattr(x, "type", x)  # or the CaughtUp mark


def test_a_repeat_of_an_id_read_past_the_bound_is_found(tmp_path: Path) -> None:
    first = write(tmp_path / "a.jsonl", [line(id=f"sp-{k}", title=f"{TITLES[k % 4]} ({k})") for k in range(6)])
    again = write(
        tmp_path / "b.jsonl",
        [
            line(id="sp-5", title=f"{TITLES[1]} (5)"),  # the same line as the sixth id (past the bound): seen
            line(id="sp-4", title="North Korean soldiers killed in Kursk"),  # other content: a dead letter
            line(id="sp-0", title=f"{TITLES[0]} (0)"),  # the first id: seen
            line(id="sp-6", title="A new story"),
        ],
    )
    spill = tmp_path / "spill"
    spill.mkdir()
    bounded = read([first, again], limit=3, spill_dir=str(spill))
    docs, seen, dead, letters, not_kept = bounded
    assert (len(docs), seen, dead, not_kept) == (7, 2, 1, 0)
    assert letters == [(again, 2, conflict_reason("sp-4"))]
    assert bounded == read([first, again], limit=None)
    assert os.listdir(spill) == []  # the spilled ids are removed at the end


def test_the_ids_spill_to_disk_while_reading_and_go_at_the_end(tmp_path: Path) -> None:
    paths = [
        write(tmp_path / f"{k}.jsonl", [line(id=f"dk-{k}-{j}", title=TITLES[j]) for j in range(4)]) for k in (1, 2)
    ]
    spill = tmp_path / "spill"
    spill.mkdir()
    blocks = cast(
        Generator[list[Any], None, None],
        iter_event_blocks(paths, report=ReadReport(), id_limit=3, id_spill_dir=str(spill)),
    )
    next(blocks)  # the first file: 4 ids, past the bound of 3
    assert os.listdir(spill) == []  # held until more are read
    next(blocks)  # the second: the first's spilled before it is read
    (where,) = os.listdir(spill)
    assert os.listdir(spill / where)  # a run on disk
    blocks.close()  # a read stopped early removes them too
    assert os.listdir(spill) == []


def test_documents_named_by_their_url_keep_their_ids_when_spilled(tmp_path: Path) -> None:
    """A URL-named document spilled under its URL is found under the id derived from it once an explicit
    `doc-` id is read (as the log holds it)."""
    url = "https://example.org/grain"
    a = write(
        tmp_path / "a.jsonl",
        [line(url=url, title="Grain prices rise")] + [line(id=f"u-{k}", title=TITLES[k]) for k in range(4)],
    )
    b = write(
        tmp_path / "b.jsonl",
        [line(id=derive_id({"url": url}, "", "", ""), title="Grain prices fall"), line(url=url, title="Grain")],
    )
    bounded = read([a, b], limit=2)
    assert bounded == read([a, b], limit=None)
    assert bounded[2] == 2 and bounded[4] == 0  # both later versions are dead letters


def test_feed_documents_past_the_bound() -> None:
    from watchfloor.producers.publish import as_edition

    def doc(n: int, title: str) -> Document:
        at = datetime(2024, 11, 1, tzinfo=UTC)
        return Document(id=f"urn:desk:{n}", type="news.article", published_at=at, source={"name": "Desk"}, title=title)

    seen, report, fr = SeenIds(limit=2), ReadReport(), FileReport("feed.xml", "rss")
    try:
        assert len(seen.documents([doc(k, TITLES[k]) for k in range(4)], report, fr)) == 4
        assert seen.spilled is None  # past the bound, held until more are read
        # doc 2, spilled, comes again with another title: the feed edited it, so it is read as its edition.
        edition = as_edition(doc(2, "Grain prices fall"), datetime(2024, 11, 1, tzinfo=UTC) + timedelta(microseconds=1))
        assert seen.documents([doc(3, TITLES[3]), doc(2, "Grain prices fall"), doc(9, "New")], report, fr) == [
            edition,
            doc(9, "New"),
        ]
        assert seen.spilled is not None and list(seen.ids) == ["urn:desk:9", edition.id]  # the first four on disk
        assert report.already_seen == 1 and report.dead_count == 0 and seen.not_kept == 0
        # The same edit again, once the edition is on disk too: a repeat.
        seen.documents([doc(k, f"more {k}") for k in range(10, 12)], report, fr)
        assert seen.documents([doc(2, "Grain prices fall")], report, fr) == []
        assert report.already_seen == 2 and report.dead_count == 0
    finally:
        seen.close()


# An input line: how it names its document (an id, a URL, an explicit doc- id derived from a URL, nothing: a
# hash of its content), which of a few names, and which of a few contents.
_line = st.tuples(st.sampled_from(["id", "url", "derived", "none"]), st.integers(0, 5), st.integers(0, 2))


def _row(kind: str, name: int, content: int) -> str:
    title = TITLES[content]
    if kind == "id":
        return line(id=f"pp-{name}", title=title)
    url = f"https://example.org/story/{name}"
    if kind == "url":
        return line(url=url, title=title)
    if kind == "derived":
        return line(id=derive_id({"url": url}, "", "", ""), title=title)
    return line(title=f"{title} {name}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(
        st.tuples(st.sampled_from(["mixed", "id", "url"]), st.lists(_line, min_size=1, max_size=8)), max_size=5
    ),
    limit=st.integers(1, 6),
    arrival=st.booleans(),
)
def test_a_bounded_read_is_the_read_of_every_id_in_memory(
    files: list[tuple[str, list[tuple[str, int, int]]]], limit: int, arrival: bool
) -> None:
    """Files of lines of every kind, or of one (each kind has its fast path), read with a bound of a few ids
    and with none: the same documents, repeats and dead letters."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [
            write(Path(tmp) / f"f{k}.jsonl", [_row(kind if kind != "mixed" else r[0], *r[1:]) for r in rows])
            for k, (kind, rows) in enumerate(files)
        ]
        spill = Path(tmp) / "spill"
        spill.mkdir()
        bounded = read(paths, limit, str(spill), arrival=arrival)
        assert bounded == read(paths, None, arrival=arrival)
        assert bounded[4] == 0 and os.listdir(spill) == []
