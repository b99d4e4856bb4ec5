"""`--source-kind auto` given one table file that is neither a GDELT export nor JSON Lines (trial 48, MED-1).

`ingest` of the GDELT reduced CSV read it as JSON Lines: 94,007 dead letters, one per line, a 40 MB store, exit 0 (the
BBC news CSV, gzipped: 1,491). A folder of the same files was refused in one line; now the file is too, before anything
is written, naming it and the kinds auto reads.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()
CSV = "Date,Source,Target,Tone\n20171126,USA,RUS,-2.5\n20171126,PRK,RUS,1.0\n"


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_ingest_refuses_a_csv_that_is_no_gdelt_export_before_writing_anything(tmp_path: Path) -> None:
    table = tmp_path / "reduced.csv"
    table.write_text(CSV, encoding="utf-8")
    db = tmp_path / "wf.db"
    res = runner.invoke(app, ["ingest", "--store", f"sqlite:///{db}", str(table)])
    assert res.exit_code == 1, res.output
    said = _flat(res.output)
    assert f"{table}: not a file auto can read" in said
    assert "first row: 1 tab-separated column(s)" in said and "auto reads JSON Lines" in said
    assert "dead letter" not in said and "malformed JSON" not in said
    assert not db.exists()  # refused before the store was opened


def test_a_gzipped_csv_too_and_a_named_kind_still_reads_it(tmp_path: Path) -> None:
    table = tmp_path / "news_train.csv.gz"
    table.write_bytes(gzip.compress(CSV.encode()))
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    res = runner.invoke(app, ["ingest", "--store", store, str(table)])
    assert res.exit_code == 1 and f"{table}: not a file auto can read" in _flat(res.output)
    # named as JSON Lines, it is read as such: each line its dead letter, as asked
    res = runner.invoke(app, ["ingest", "--store", store, "--source-kind", "jsonl", str(table)])
    assert res.exit_code == 0 and "3 dead letters" in _flat(res.output)


def test_json_lines_under_a_table_name_are_still_read(tmp_path: Path) -> None:
    lines = tmp_path / "export.txt"
    doc = (
        '{"type": "news.article", "id": "t-1", "published_at": "2025-03-03T10:00:00Z", '
        '"source": {"name": "Desk"}, "title": "Ferry resumes", "body": "The first crossing left at dawn."}\n'
    )
    lines.write_text(doc + "not json\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", "--store", f"sqlite:///{tmp_path / 'wf.db'}", str(lines)])
    assert res.exit_code == 0, res.output
    assert "1 new document" in res.output and "1 dead letter" in res.output


def test_backtest_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    table = tmp_path / "reduced.csv"
    table.write_text(CSV, encoding="utf-8")
    pack = Path(__file__).resolve().parents[2] / "examples" / "gdelt" / "dprk_russia_gdelt.yaml"
    res = runner.invoke(app, ["backtest", "--rules", str(pack), str(table)])
    said = _flat(res.output)
    assert f"{table}: not a file auto can read" in said and "malformed JSON" not in said
