"""The shipped example (README, docs/backtest.md): the key-day captures scored with their hand labels through
examples/keydays/label_map.yaml, printing the score table; the bundled pack must keep catching the labelled
treaty steps and troop reports there without false alerts. The README's command is run as written there
(its `$D` pointed at the shared data) and must print the table the README shows."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.test_backtest_report import Elements
from watchfloor.cli import app

pytestmark = pytest.mark.data

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "keydays"


def shipped_example(doc: Path) -> tuple[list[str], list[str]]:
    """The README's key-day command (argv after `watchfloor`, `$D` unexpanded) and the score table it shows."""
    text = doc.read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    at = next(k for k, (_lang, body) in enumerate(blocks) if "keydays.labels.csv" in body and "D=" in body)
    command = blocks[at][1].replace("\\\n", " ").splitlines()
    assert command[0].startswith("D=")
    argv = shlex.split(command[1])
    assert argv[:2] == ["watchfloor", "backtest"]
    table = [line for line in blocks[at + 1][1].splitlines() if re.match(r"\s+(overall|[a-z]+-[a-z-]+)\s+\d", line)]
    return argv[2:], table


def rows(lines: list[str]) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in lines}


def test_readme_example_runs_and_prints_the_table_it_shows(shared_data: Path, tmp_path: Path) -> None:
    args, table = shipped_example(REPO / "README.md")
    assert len(table) == 5  # four rules and the overall row
    d = str(shared_data / "dprk_russia_2024")
    argv = [a.replace("$D", d) for a in args]
    argv = [str(tmp_path / a) if a.endswith(".html") else a for a in argv]  # write the report into tmp
    argv = [str(REPO / a) if a.startswith("examples/") else a for a in argv]
    res = CliRunner().invoke(app, ["backtest", *argv])
    assert res.exit_code == 0, res.output
    printed = [line for line in res.output.splitlines() if re.match(r"\s+(overall|[a-z]+-[a-z-]+)\s+\d", line)]
    assert rows(printed) == rows(table)
    assert "7 alerts" in res.output and "1 near miss" in res.output
    # The README names the expected events the captures never reported.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for event in ("decree of 11 Nov", "both parties' ratification", "exchange of 4 Dec"):
        assert event in readme
    assert (tmp_path / "keydays.html").stat().st_size > 0
    # docs/backtest.md shows the same command.
    assert shipped_example(REPO / "docs" / "backtest.md")[0] == args


def test_keydays_scored_as_the_readme_shows(shared_data: Path, tmp_path: Path, chromium) -> None:
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
    assert header.split() == ["rule", "pos.", "TP", "FN", "alerts", "true", "FP", "prec.", "recall", "F1", "lead"]
    data = json.loads(out.read_text())
    scores = data["scores"]
    assert set(scores["per_rule"]) == {"treaty-signed", "treaty-ratified", "troops-deployed", "troop-engagement"}
    assert scores["overall"]["positives"] == 7 and scores["ignored_label_ids"] == 0
    timeline = {t["event"]: t["status"] for t in scores["timeline"]}
    assert [e for e, status in timeline.items() if status == "missed"] == [
        "Kim Jong-un's ratification decree",
        "both parties have ratified",
        "instruments of ratification exchanged",
    ]
    assert timeline["treaty signed in Pyongyang"] == "found" and timeline["State Duma ratifies"] == "found"
    # Putin's refusal to confirm the troops is a negated deployment signal: a near miss, not an alert.
    assert any(m["modality"] == "negated" and m["signal"] == "troop_deployment" for m in data["near_misses"])
    # The report of real captures in a real browser: every alert beside its labelled truth, the near miss.
    dom = Elements(chromium.dom(html.as_uri()))
    assert len(dom.having("a", class_="alert-mark")) == 7 and not dom.having("a", class_="fp")
    assert len(dom.having("path", class_="truth")) == 7 and not dom.having("path", class_="fn")
    assert len(dom.having("path", class_="expected")) == 6
    assert dom.text_of["shown"] == "7 of 7" and "deny" in dom.text_of["near-misses"]
    assert all(a["href"].startswith(("https://", "http://", "#")) for a in dom.having("a") if "href" in a)
