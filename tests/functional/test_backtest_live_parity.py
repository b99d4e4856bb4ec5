"""`watchfloor backtest` read as the live pipeline reads (outside audit of the backtest): repeated ids, a file's
log order, JSON Feed files, event-time reports in a backtest's words, and wrong arguments refused up front.
Fixtures are short news items in our own words."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores import open_store

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[1] / "data"


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output


def item(id_: str, when: str, title: str, source: str = "Wire") -> dict[str, str]:
    return {"type": "news.article", "id": id_, "published_at": when, "source": source, "title": title}


def write_jsonl(path: Path, items: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return path


JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Border Desk",
    "items": [
        {
            "id": "bd-1",
            "url": "https://example.org/bd-1",
            "title": "North Korean soldiers killed in fighting in Kursk, Kyiv says",
            "date_published": "2024-11-01T09:00:00Z",
        }
    ],
}


# -- finding 3: JSON Feed files --------------------------------------------------------------------------------


def test_a_json_feed_file_is_read_as_a_feed_by_its_content(tmp_path: Path) -> None:
    feed = tmp_path / "border.json"
    feed.write_text(json.dumps(JSON_FEED, indent=2), encoding="utf-8")
    code, output = run(feed, "--received-at", "2024-12-01T00:00:00Z")
    assert code == 0, output
    assert "1 documents, 1 signals, 1 alerts" in output


def test_a_feed_read_as_json_lines_hints_at_source_kind(tmp_path: Path) -> None:
    feed = tmp_path / "border.txt"  # no feed name: read as JSON Lines
    feed.write_text(json.dumps(JSON_FEED, indent=2), encoding="utf-8")
    code, output = run(feed)
    assert code == 1 and "--source-kind rss" in output, output


def test_a_feed_without_a_valid_entry_names_the_entry_not_line_none(tmp_path: Path) -> None:
    feed = tmp_path / "undated.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>Desk</title><item><title>Troops seen near Kursk</title></item>'
        "</channel></rss>",
        encoding="utf-8",
    )
    code, output = run(feed)
    assert code == 1
    assert "line None" not in output and "no valid event in 1 entr(ies)" in output, output


# -- finding 4 and the unit of late reports --------------------------------------------------------------------


def test_late_reports_in_a_backtest_do_not_compare_with_a_backtest(tmp_path: Path) -> None:
    # Log order from a store: a report nine days behind the newest, with a signal, and one without a signal.
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    items = [
        item("lr-1", "2024-11-10T08:00:00+00:00", "Seoul markets close higher on chip exports"),
        item("lr-2", "2024-11-01T08:00:00+00:00", "North Korean soldiers killed in fighting in Kursk, Kyiv says"),
        item("lr-3", "2024-11-01T09:00:00+00:00", "Heavy rain floods roads in Busan"),
    ]
    st.append([document_event(parse_document(x)) for x in items])
    st.close()
    out = tmp_path / "out.json"
    code, output = run("--from-store", f"sqlite:///{tmp_path / 's.db'}", "--order", "log", "--json", out)
    assert code == 0, output
    assert "differ from a backtest" not in output and "--order event-time" in output, output
    # The same unit as a file backtest: documents with a signal (lr-3 says nothing a rule can take).
    assert json.loads(out.read_text())["stats"]["late_documents"] == 1
    assert "1 event-time reports of documents with a signal" in output


# -- finding 5: arguments refused before the replay ------------------------------------------------------------


def test_an_unwritable_report_path_is_refused_before_the_replay(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "e.jsonl", [item("w-1", "2024-11-01T09:00:00+00:00", "Troops move")])
    for option, target in (("--html", "/nonexistent/dir/r.html"), ("--json", str(tmp_path))):
        code, output = run(events, option, target)
        assert code == 1
        assert output.strip().splitlines() == [output.strip().splitlines()[0]], output  # one line, no replay
        assert output.startswith(f"error: {option} {target}:"), output


def test_a_missing_baseline_rule_file_says_error_and_baseline(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "e.jsonl", [item("w-1", "2024-11-01T09:00:00+00:00", "Troops move")])
    code, output = run(events, "--baseline-rules", tmp_path / "nonexist.yaml")
    assert code == 1
    assert output.startswith("error: --baseline-rules (the baseline): ") and "nonexist.yaml" in output, output
