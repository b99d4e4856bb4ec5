"""`watchfloor backtest` after the outside research-analyst audit (audit6): what the terminal says is in the
JSON result too, and what is likely a mistake in the inputs is said. Fixtures: the scoring fixture's events
(tests/data/scoring, in our own words) and short files written here."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()
SCORING = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS = SCORING / "events.jsonl"
LABEL_MAP = SCORING / "label_map.yaml"


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- LOW-8: contradictory labels -------------------------------------------------------------------------------


def test_an_id_labelled_and_none_is_warned_of_with_both_lines(tmp_path: Path) -> None:
    labels = write(
        tmp_path / "labels.csv", "id,label\nsc-01,TREATY_SIGNED\nsc-04,TROOP_DEPLOYMENT_REPORT\nsc-01,NONE\n"
    )
    code, output = run(EVENTS, "--labels", labels, "--label-map", LABEL_MAP, "--near-misses", "0")
    assert code == 0, output
    assert (
        f"warning: {labels}:4: id 'sc-01' is labelled NONE, but {labels}:2 labels it TREATY_SIGNED: it is scored as "
        "a positive"
    ) in " ".join(output.split()), output


# -- LOW-2: the dead letters past the first five -----------------------------------------------------------------


def bad_lines(tmp_path: Path, n: int) -> Path:
    """One good report and `n` lines each missing its source."""
    good = {
        "type": "news.article",
        "id": "dl-0",
        "published_at": "2024-11-01T09:00:00+00:00",
        "source": "Harbour Gazette",
        "title": "Ferry timetable changes for the winter",
    }
    bad = [{**good, "id": f"dl-{i}", "source": None} for i in range(1, n + 1)]
    return write(tmp_path / "mixed.jsonl", "".join(json.dumps(x) + "\n" for x in [good, *bad]))


def test_the_dead_letters_past_the_first_five_are_counted_and_found(tmp_path: Path) -> None:
    events = bad_lines(tmp_path, 8)
    out = tmp_path / "out.json"
    code, output = run(events, "--json", out, "--near-misses", "0")
    assert code == 0, output
    assert output.count(f"{events}:") == 5, output
    assert f"… and 3 more dead letters: {out} lists all of them (dead_letters)" in output, output
    assert len(json.loads(out.read_text())["dead_letters"]) == 8
    code, output = run(events, "--near-misses", "0")
    assert "… and 3 more dead letters: --json FILE lists all of them (dead_letters)" in output, output
    code, output = run(bad_lines(tmp_path, 5), "--near-misses", "0")  # five: all are listed
    assert code == 0 and "5 bad records skipped" in output and "more dead letters" not in output, output


def test_rules_explain_counts_the_dead_letters_it_does_not_list(tmp_path: Path) -> None:
    res = runner.invoke(app, ["rules", "explain", str(bad_lines(tmp_path, 7))])
    assert res.exit_code == 0, res.output
    assert "… and 2 more dead letters: `watchfloor backtest` over the same files with --json OUT.json" in res.output
