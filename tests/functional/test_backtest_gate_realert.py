"""The removed-true-positive gate on the key-day captures (outside trial 9, F4): a 30-day realert on
`troops-deployed` removes the 23 Oct alert and the only Kursk alert (28 Oct). Their reports still count as caught,
as repeats the 18 Oct alert held back; the key-day labels have no `event` column, so that cannot tell a retelling
from a new event held back, and the gate fails naming both instead of saying nothing was lost. With events, only a
new event's report is lost."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.data

REPO = Path(__file__).resolve().parents[2]
MAP = REPO / "examples" / "keydays" / "label_map.yaml"
KURSK, MORE_TROOPS, FIRST = "mt-1401996", "mt-1374165", "mt-1347763"
# The line the bundled pack's troops-deployed rule sets its realert on (asserted present below).
REALERT = "      any: troop_deployment\n    realert: 1d"


def gate(tmp_path: Path, shared_data: Path, labels: Path) -> tuple[int, str, dict]:
    pack = (REPO / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    assert pack.count(REALERT) == 1
    edited = tmp_path / "edited.yaml"
    edited.write_text(pack.replace(REALERT, REALERT.replace("1d", "30d")), encoding="utf-8")
    out = tmp_path / "result.json"
    d = shared_data / "dprk_russia_2024"
    res = CliRunner().invoke(
        app,
        [
            "backtest", str(d / "keydays.jsonl"), "--rules", str(edited), "--baseline-rules", "builtin:dprk_russia",
            "--labels", str(labels), "--label-map", str(MAP), "--fail-on-removed-true-positive",
            "--fail-under", "recall=0.9", "--json", str(out), "--html", str(tmp_path / "report.html"),
        ],
    )  # fmt: skip
    return res.exit_code, " ".join(res.output.split()), json.loads(out.read_text(encoding="utf-8"))


def with_events(tmp_path: Path, shared_data: Path, events: dict[str, str]) -> Path:
    """The key-day labels with an `event` column: the given items' events, every other item its own."""
    with (shared_data / "dprk_russia_2024" / "keydays.labels.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    path = tmp_path / "labels_with_events.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "event"])
        w.writeheader()
        for row in rows:
            w.writerow({**row, "event": events.get(row["id"], row["id"])})
    return path


def test_without_events_the_gate_fails_on_alerted_positives_now_only_covered(tmp_path: Path, shared_data: Path) -> None:
    code, output, data = gate(tmp_path, shared_data, shared_data / "dprk_russia_2024" / "keydays.labels.csv")
    assert code == 1, output
    assert data["scores"]["overall"]["recall"] == 1.0  # every positive still counts as caught
    verdict = data["gates"]["fail_on_removed_true_positive"]
    assert verdict["met"] is False and verdict["lost"] == []
    assert [(x["id"], x["labels"]) for x in verdict["only_covered_now"]] == [
        (MORE_TROOPS, ["TROOP_DEPLOYMENT_REPORT"]),
        (KURSK, ["TROOP_DEPLOYMENT_REPORT_KURSK"]),
    ]
    assert [x["id"] for x in data["diff"]["scores"]["only_covered_now"]] == [MORE_TROOPS, KURSK]
    assert f"true positive no longer alerted: {KURSK} TROOP_DEPLOYMENT_REPORT_KURSK (troops-deployed)" in output
    assert "the labels have no `event` column" in output
    assert "no true positive of the baseline lost" not in output
    assert "a new event held back counts as such a repeat too" in output
    html = " ".join((tmp_path / "report.html").read_text(encoding="utf-8").split())
    assert f"{KURSK} no longer alerted: only held back as a repeat now" in html
    assert f"only held back as repeats now: {MORE_TROOPS} (troops-deployed), {KURSK} (troops-deployed)" in html


def test_with_events_only_the_new_event_is_lost(tmp_path: Path, shared_data: Path) -> None:
    labels = with_events(tmp_path, shared_data, {FIRST: "deployment", MORE_TROOPS: "deployment", KURSK: "kursk"})
    code, output, data = gate(tmp_path, shared_data, labels)
    assert code == 1, output
    verdict = data["gates"]["fail_on_removed_true_positive"]
    assert [x["id"] for x in verdict["lost"]] == [KURSK] and verdict["only_covered_now"] == []
    assert f"lost true positive: {KURSK} (troops-deployed)" in output and "no longer alerted" not in output
    # One story told three times: the edit's two fewer alerts lose nothing.
    labels = with_events(tmp_path, shared_data, {FIRST: "deployment", MORE_TROOPS: "deployment", KURSK: "deployment"})
    code, output, data = gate(tmp_path, shared_data, labels)
    assert code == 0, output
    assert "no true positive of the baseline lost" in output
