"""The shipped example (README, docs/backtest.md): the key-day captures scored with their hand labels through
examples/keydays/label_map.yaml, printing the score table; the bundled pack must keep catching the labelled
treaty steps and troop reports there without false alerts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.data

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "keydays"


def test_keydays_scored_as_the_readme_shows(shared_data: Path, tmp_path: Path) -> None:
    d = shared_data / "dprk_russia_2024"
    out = tmp_path / "keydays.json"
    html = tmp_path / "keydays.html"
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            str(d / "keydays.jsonl"),
            "--labels",
            str(d / "keydays.labels.csv"),
            "--label-map",
            str(EXAMPLE / "label_map.yaml"),
            "--timeline",
            str(EXAMPLE / "timeline.csv"),
            "--json",
            str(out),
            "--html",
            str(html),
            "--fail-under",
            "precision=0.8,recall=0.8",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "scores against" in res.output and "score thresholds met" in res.output
    header = next(line for line in res.output.splitlines() if line.split()[:2] == ["rule", "pos."])
    assert header.split() == ["rule", "pos.", "alerts", "TP", "FP", "FN", "prec.", "recall", "F1", "lead"]
    data = json.loads(out.read_text())
    scores = data["scores"]
    assert set(scores["per_rule"]) == {"treaty-signed", "treaty-ratified", "troops-deployed", "troop-engagement"}
    assert scores["overall"]["positives"] == 7 and scores["ignored_label_ids"] == 0
    timeline = {t["event"]: t["status"] for t in scores["timeline"]}
    assert timeline["treaty signed in Pyongyang"] == "found" and timeline["State Duma ratifies"] == "found"
    # Putin's refusal to confirm the troops is a negated deployment signal: a near miss, not an alert.
    assert any(m["modality"] == "negated" and m["signal"] == "troop_deployment" for m in data["near_misses"])
    assert html.stat().st_size > 0
