"""A file saved with a UTF-8 byte-order mark reads as the same file without it, whichever reader reads it: JSON Lines,
a feed, a labels CSV, a GDELT export (outside trial 85, F13: GDELT's lost its first row). Files written here."""

from __future__ import annotations

from pathlib import Path

from watchfloor.backtest import source_kind
from watchfloor.producers.gdelt import read_gdelt
from watchfloor.producers.jsonl import read_jsonl
from watchfloor.producers.rss import parse_feed
from watchfloor.schemas.events import Document
from watchfloor.scoring.truth import load_labels

BOM = b"\xef\xbb\xbf"

RECORDS = (
    b'{"id": "a-1", "type": "news.article", "published_at": "2024-11-12T08:00:00Z", "source": "Wire", '
    b'"title": "Pact ratified in Pyongyang"}\n'
    b'{"id": "a-2", "type": "news.article", "published_at": "2024-11-12T09:00:00Z", "source": "Wire", '
    b'"title": "Moscow confirms the exchange"}\n'
)
FEED = (
    b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title>'
    b"<link>https://wire.example/</link><item><title>Pact ratified</title><link>https://wire.example/1</link>"
    b"<pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item></channel></rss>"
)


def _both(tmp_path: Path, name: str, data: bytes) -> tuple[Path, Path]:
    plain, marked = tmp_path / name, tmp_path / f"bom-{name}"
    plain.write_bytes(data)
    marked.write_bytes(BOM + data)
    return plain, marked


def test_json_lines_with_a_byte_order_mark_read_as_without(tmp_path: Path) -> None:
    plain, marked = _both(tmp_path, "a.jsonl", RECORDS)
    assert source_kind(str(marked)) == "jsonl"
    got = [list(read_jsonl(p)) for p in (plain, marked)]
    assert [[getattr(x, "id", x) for x in g] for g in got] == [["a-1", "a-2"]] * 2


def test_a_feed_with_a_byte_order_mark_reads_as_without() -> None:
    plain, marked = (parse_feed(d, feed_url="https://wire.example/rss") for d in (FEED, BOM + FEED))
    assert marked.error is None and marked.warnings == plain.warnings == []
    assert [x.title for x in marked.items if isinstance(x, Document)] == ["Pact ratified"]


def test_a_labels_csv_with_a_byte_order_mark_reads_as_without(tmp_path: Path) -> None:
    plain, marked = _both(tmp_path, "labels.csv", b"id,label\na-1,TREATY\n")
    assert load_labels(marked).items == load_labels(plain).items


def test_a_gdelt_export_with_a_byte_order_mark_reads_as_without(tmp_path: Path) -> None:
    fields = [""] * 61
    fields[0], fields[1], fields[25:35] = "7", "20241021", ["1", "062", "062", "06", "2", "7.4", "8", "2", "8", "-2"]
    fields[59], fields[60] = "20241022101500", "https://wire.example/a"
    plain, marked = _both(tmp_path, "20241022101500.export.CSV", ("\t".join(fields) + "\n").encode())
    assert source_kind(str(marked)) == "gdelt"
    got = list(read_gdelt(marked))
    assert got == list(read_gdelt(plain)) and [type(x) for _n, x in got] == [Document]
