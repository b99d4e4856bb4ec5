"""A GDELT row's empty NumMentions, NumSources or NumArticles is not coded, as an empty AvgTone is (outside trial 82):
it was read as 0, which the metadata and `rules explain` stated as a fact of the event ("no sources, fewer than
min_sources 2"). Now None, said as "the event has no number of sources"; a min_sources (min_mentions, min_articles)
leaves the event out as it left the 0 out, so no alert changes. Our own rows (tests/fixtures/gdelt), a column
emptied."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.gdelt_coded import ROWS, coded_pack
from watchfloor.cli import app
from watchfloor.producers.gdelt import GdeltOptions, read_gdelt
from watchfloor.schemas.events import Document
from watchfloor.stream_processors.engine.compiled import GdeltTest
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor
from watchfloor.stream_processors.engine.gdelt import gdelt_facts, gdelt_miss

COLUMN = {"NumMentions": 31, "NumSources": 32, "NumArticles": 33}


def _rows(tmp_path: Path, column: str, value: str) -> Path:
    """The fixture's rows with `column` of the first two written as `value`."""
    lines = ROWS.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        fields = line.split("\t")
        if i < 2:
            fields[COLUMN[column]] = value
        out.append("\t".join(fields))
    path = tmp_path / f"{column}-{value or 'empty'}.export.CSV"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _documents(path: Path) -> list[Document]:
    return [x for _n, x in read_gdelt(path, options=GdeltOptions(min_mentions=0)) if isinstance(x, Document)]


@pytest.mark.parametrize(
    ("column", "key", "noun"),
    [
        ("NumSources", "sources", "source"),
        ("NumArticles", "articles", "article"),
        ("NumMentions", "mentions", "mention"),
    ],
)
def test_an_empty_count_is_not_coded(tmp_path: Path, column: str, key: str, noun: str) -> None:
    first = _documents(_rows(tmp_path, column, ""))[0]
    coded = first.metadata["gdelt"]
    assert coded[key] is None
    assert f"an unknown number of {noun}s" in first.body
    assert "0 " + noun not in first.body
    test = GdeltTest(**{f"min_{key}": 2})  # type: ignore[arg-type]
    assert gdelt_miss(test, first.metadata) == f"the event has no number of {noun}s"
    # a least of 0 asks nothing, of an uncoded count as of a coded one
    assert gdelt_miss(GdeltTest(**{f"min_{key}": 0}), first.metadata) is None  # type: ignore[arg-type]


def test_the_alert_attribute_leaves_an_uncoded_count_out(tmp_path: Path) -> None:
    first = _documents(_rows(tmp_path, "NumSources", ""))[0]
    assert gdelt_facts(first.metadata)["mentions"] == "12, 12 articles"


def test_a_coded_zero_is_still_a_number(tmp_path: Path) -> None:
    first = _documents(_rows(tmp_path, "NumSources", "0"))[0]
    assert first.metadata["gdelt"]["sources"] == 0
    assert gdelt_miss(GdeltTest(min_sources=2), first.metadata) == "0 sources, fewer than min_sources 2"


@pytest.mark.parametrize(
    ("column", "condition"),
    [("NumSources", {"min_sources": 1}), ("NumArticles", {"min_articles": 1}), ("NumMentions", {"min_mentions": 1})],
)
def test_a_min_count_leaves_an_uncoded_count_out_as_it_left_a_zero_out(
    tmp_path: Path, column: str, condition: dict[str, int]
) -> None:
    extractor = Extractor(compile_packs([coded_pack(condition)]))
    empty = [d.id for d in _documents(_rows(tmp_path, column, "")) if extractor.extract(d)]
    zero = [d.id for d in _documents(_rows(tmp_path, column, "0")) if extractor.extract(d)]
    assert empty == zero
    assert len(empty) == 5  # the two rows emptied are left out, the five others kept


def test_rules_explain_says_the_event_has_no_number_of_sources(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 2\nname: coded\nsignals:\n  coded:\n    match: GDELT event\n    gdelt: {min_sources: 2}\n"
        "detections:\n  - {id: coded, title: Coded, pattern: {any: coded}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), str(_rows(tmp_path, "NumSources", ""))])
    assert res.exit_code == 0, res.output
    assert "the event has no number of sources" in res.output, res.output
    assert "no sources, fewer than" not in res.output, res.output
