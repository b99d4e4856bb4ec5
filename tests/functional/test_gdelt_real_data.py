"""The GDELT producer on real exports in $WATCHFLOOR_DATA/gdelt (README there): every row parses or is a dead letter."""

from __future__ import annotations

import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.producers.gdelt import GdeltOptions, looks_like_gdelt, read_gdelt
from watchfloor.schemas.events import DeadLetter, Document

pytestmark = pytest.mark.data

EVERY_ROW = GdeltOptions(root_only=False, min_mentions=0)

# file -> (rows, root events (the default options keep), documents per version, documents with a URL)
SAMPLES = {
    "spark-gdelt/events.csv": (100, 71, {2: 100}, 100),
    "spark-gdelt/eventsT.csv": (100, 68, {2: 100}, 100),
    "spark-gdelt/events1.csv": (100, 68, {1: 100}, 55),  # 40 backfile rows (57 columns), 60 daily (58)
    "gdelt1_daily_sample_20160728_reed9999.tsv": (710, 448, {1: 710}, 509),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_real_row_becomes_a_document(shared_data: Path, name: str) -> None:
    path = shared_data / "gdelt" / name
    rows, roots, versions, with_url = SAMPLES[name]
    assert looks_like_gdelt(str(path))
    items = [x for _n, x in read_gdelt(path, options=EVERY_ROW)]
    dead = [x for x in items if isinstance(x, DeadLetter)]
    assert dead == []
    docs = [x for x in items if isinstance(x, Document)]
    assert len(docs) == rows == sum(1 for x in path.read_bytes().splitlines() if x.strip())
    assert len({d.id for d in docs}) == rows
    assert Counter(d.metadata["gdelt"]["version"] for d in docs) == versions
    assert sum(d.url is not None for d in docs) == with_url
    assert all(d.title and d.body and d.language == "en" for d in docs)
    assert not any(" not " in f" {d.title.lower()} " for d in docs)  # no "not specified below" in a title
    assert len([x for _n, x in read_gdelt(path)]) == roots  # root_only, min_mentions 1: the defaults


def test_real_rows_read_as_expected(shared_data: Path) -> None:
    d = next(x for _n, x in read_gdelt(shared_data / "gdelt" / "gdelt1_daily_sample_20160728_reed9999.tsv"))
    assert isinstance(d, Document)
    assert d.id == "gdelt:564111644"
    assert d.title == "United States: Make statement (wtop.com)"
    # A 2016 article about a 2006 event: dated when GDELT saw it; the event's day is in the text and metadata.
    assert d.published_at == datetime(2016, 7, 28, tzinfo=UTC) and "event date 2006-07-31" in d.body
    v2 = [x for _n, x in read_gdelt(shared_data / "gdelt" / "spark-gdelt" / "events.csv")]
    assert isinstance(v2[0], Document)
    assert v2[0].id == "gdelt:410412348"  # the file's first row is not a root event: left out by default
    assert v2[0].published_at == datetime(2015, 2, 18, 23, 0, tzinfo=UTC)
    assert v2[0].source.name == "timesofindia.indiatimes.com"


def test_other_gdelt_tables_are_dead_lettered_with_a_reason(shared_data: Path) -> None:
    """The mentions and GKG tables are not event exports: each file is one dead letter naming its columns (not one
    per row: a misplaced file must not flood the dead-letter log)."""
    for name, columns in (("mentions.csv", 16), ("gkg.csv", 27)):
        path = shared_data / "gdelt" / "spark-gdelt" / name
        assert not looks_like_gdelt(str(path))
        [item] = [x for _n, x in read_gdelt(path)]
        assert isinstance(item, DeadLetter) and (item.field, item.line) == ("columns", 1)
        assert "not a GDELT event export: none of its first 10 rows has" in item.reason
        assert f"(they have {columns}); the file is not read" in item.reason


def test_a_real_export_zipped_reads_the_same(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "gdelt" / "spark-gdelt" / "eventsT.csv"
    archive = tmp_path / "20150218224500.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "20150218224500.export.CSV")
    assert [x for _n, x in read_gdelt(archive)] == [x for _n, x in read_gdelt(path)]


def test_a_daily_files_backfile_rows_of_old_years_and_max_event_age(shared_data: Path) -> None:
    """docs/gdelt.md, "Old events in a 1.0 daily file": the real 2016 daily sample holds root events of 1982 (57
    columns, no DATEADDED), dated by their own day; `max_event_age` leaves them out, as the doc says with these
    numbers (outside trial 82: the doc did not say they were there, nor what leaves them out)."""
    from tests.fixtures.gdelt_coded import coded_pack
    from watchfloor.stream_processors.engine.compiler import compile_packs
    from watchfloor.stream_processors.engine.extract import Extractor

    path = shared_data / "gdelt" / "gdelt1_daily_sample_20160728_reed9999.tsv"
    docs = [x for _n, x in read_gdelt(path) if isinstance(x, Document)]
    years = Counter(d.metadata["gdelt"]["sql_date"][:4] for d in docs)
    assert years == {"2016": 325, "1982": 118, "2015": 4, "2006": 1}
    old = [d for d in docs if d.metadata["gdelt"]["sql_date"].startswith("1982")]
    assert all(d.metadata["gdelt"]["date_added"] == "" and d.url is None for d in old)
    assert min(d.published_at for d in old) == datetime(1982, 1, 2, tzinfo=UTC)

    def kept(gdelt: dict[str, str]) -> Counter[str]:
        extractor = Extractor(compile_packs([coded_pack(gdelt)]))
        return Counter(d.metadata["gdelt"]["sql_date"][:4] for d in docs if extractor.extract(d))

    assert kept({"max_event_age": "30d"}) == {"2016": 325}
    assert kept({"max_event_age": "365d"}) == {"2016": 325, "2015": 4}
    doc = (Path(__file__).resolve().parents[2] / "docs" / "gdelt.md").read_text(encoding="utf-8")
    said = " ".join(doc.split("**Old events in a 1.0 daily file.**", 1)[-1].split("\n\n", 1)[0].split())
    assert "has 118 root events of 1982 among its 448 (beside 325 of 2016, 4 of 2015 and one of 2006)" in said
    assert "`max_event_age: 30d` keeps the 325 of 2016 and none of 1982 (`365d` keeps the 4 of 2015 too)" in said
