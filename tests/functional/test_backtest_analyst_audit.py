"""`watchfloor backtest` after the outside research-analyst audit (audit6): what the terminal says is in the
JSON result too, and what is likely a mistake in the inputs is said. Fixtures: the scoring fixture's events
(tests/data/scoring, in our own words) and short files written here."""

from __future__ import annotations

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
