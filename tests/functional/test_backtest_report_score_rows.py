"""The HTML report's score table gives what the terminal and the JSON give: the repeats, each row's lead per event
and, when a label is answered by more than one rule, the per-item row (outside trial 53, point 3 and LOW-5)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.scoring import format_lead

DATA = Path(__file__).resolve().parents[1] / "data" / "score_window"
SECOND_RULE = """  - id: wagner-coup
    title: "Wagner coup reported"
    severity: medium
    labels: [WAGNER_MUTINY]
    pattern: {any: mutiny}
    realert: 1d
"""


def _rows(page: str) -> dict[str, list[str]]:
    """The score table's rows by their first cell, each cell's text without the intervals under the rates."""
    table = page[page.index('<table class="scores"') :]
    table = table[: table.index("</table>")]
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", re.sub(r"<small[^>]*>.*?</small>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_report_score_table_has_repeats_event_leads_and_the_per_item_row(tmp_path: Path) -> None:
    pack = tmp_path / "two_rules.yaml"
    pack.write_text((DATA / "pack.yaml").read_text(encoding="utf-8") + SECOND_RULE, encoding="utf-8")
    html, out = tmp_path / "r.html", tmp_path / "r.json"
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            str(DATA / "ev.jsonl"),
            "--rules",
            str(pack),
            "--labels",
            str(DATA / "labels.csv"),
            "--near-misses",
            "0",
            "--html",
            str(html),
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    scores = json.loads(out.read_text())["scores"]
    rows = _rows(html.read_text(encoding="utf-8"))
    assert rows["rule"] == [
        "positives",
        "TP",
        "FN",
        "alerts",
        "true",
        "FP",
        "repeats",
        "precision",
        "recall",
        "F1",
        "median lead",
        "median lead per event",
    ]
    o = scores["overall"]
    # 3 labelled items answered by two rules: 6 (item, rule) pairs overall, 3 items per item
    assert (o["positives"], o["items"], o["items_caught"]) == (6, 3, 3)
    for name, counts in (*scores["per_rule"].items(), ("overall", o)):
        row = rows[name]
        assert row[:7] == [
            str(counts[k]) for k in ("positives", "tp", "fn", "alerts", "true_alerts", "fp", "repeat_alerts")
        ]
        assert row[-1] == format_lead(counts["event_lead_time_s"]["median"])
    assert rows["wagner-mutiny"][6] == "1"  # a2 retold the mutiny a1 told
    item = rows["per item"]
    assert item[:3] == [str(o["items"]), str(o["items_caught"]), str(o["items"] - o["items_caught"])]
    assert item[8] == f"{o['item_recall']:.2f}"
    # the terminal's table has the repeats too
    assert re.search(r"wagner-mutiny\s+3\s+3\s+0\s+4\s+2\s+1\s+1\s+0\.50", res.output), res.output
