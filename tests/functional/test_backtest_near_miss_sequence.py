"""A near miss that two detections read, one of them a sequence whose alert told the report later
(tests/data/near_miss_sequence, our own words; outside trial 34 had the same shape over a year of news).

A blockade is reported by three outlets: the corroborated `port-blockade` alerts on the first two, and holds back
the third (bk-03, 10:00) with its `realert`. The sequence `blockade-over` (the blockade, then its lifting) is
completed 19 hours later by another outlet's report (bk-05), whose one sentence gives both steps' signals: the
sequence fires there, citing a later blockade report (bk-04) for its first step.

The near miss of bk-03 read, on one line: "port-blockade alerted at … ; corroboration: met (…); its sequence was
completed by bk-05 and held back: sentence 0's blockade: the same alert as sentence 0's blockade_lifted of this
document, on which blockade-over fired; quiet for 1d (until …)": the sequence's reason read as port-blockade's,
"this document" was not bk-03, and nothing was held back (the sequence fired), least of all by a quiet window that
began 19 hours after bk-03. `rules explain` says of bk-03 "waiting for blockade_lifted to follow": true at its
time; the backtest sees what came later, and now says both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from watchfloor.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "near_miss_sequence"
EVENTS, LABELS, PACK = (DATA / n for n in ("events.jsonl", "labels.csv", "pack.yaml"))
runner = CliRunner()


def backtest(tmp_path: Path) -> tuple[str, dict[str, Any]]:
    out = tmp_path / "out.json"
    res = runner.invoke(
        app,
        ["backtest", str(EVENTS), "--rules", str(PACK), "--labels", str(LABELS), "--json", str(out),
         "--received-at", "2025-06-01T00:00:00Z"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(out.read_text())
    return res.output, data


def test_each_detection_says_its_own_reason_and_what_came_of_the_sequence(tmp_path: Path) -> None:
    output, data = backtest(tmp_path)
    over = next(a for a in data["alerts"] if a["rule"] == "blockade-over")
    assert [(e["event_id"], e["signal"]) for e in over["evidence"]] == [
        ("bk-04", "blockade"),
        ("bk-05", "blockade_lifted"),
    ]
    near = {m["document_id"]: m for m in data["near_misses"] if m["signal"] == "blockade"}
    reasons = {r["detection"]: r for r in near["bk-03"]["reasons"]}
    assert set(reasons) == {"port-blockade", "blockade-over"}
    assert reasons["port-blockade"]["kind"] == "realert"
    seq = reasons["blockade-over"]
    # The sequence fired on bk-05: bk-03 was told by that alert, not held back by a throttle.
    assert seq["kind"] == "sequence"
    assert seq["detail"] == (
        "waiting for blockade_lifted to follow at this report's time (what `rules explain` says of it); it followed "
        "later in the stream: blockade-over fired at 2025-05-11T05:00+00:00 on that document (bk-05), citing a later "
        "report of this step (bk-04): the alert told this one too"
    )
    assert "this document" not in seq["detail"] and "quiet for" not in seq["detail"]

    # On screen: the report, then one line per detection, each starting with its own name.
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if "2025-05-10 10:00 blockade asserted — Island Radio:" in line)
    assert lines[at + 1].strip().startswith("port-blockade alerted at 2025-05-10T09:00+00:00 (high); quiet for 3d")
    assert "blockade-over" not in lines[at + 1]
    assert lines[at + 2].strip().startswith("blockade-over: waiting for blockade_lifted to follow at this report's")
    assert "that document (bk-05)" in lines[at + 2]

    # The repeats it told uncited are the earlier blockade reports: not the one it cites for the step (bk-04), nor
    # the document it fired on (bk-05), whose blockade signal is "the same alert", not held back.
    assert sorted(over["repeat_ids"]) == ["bk-01", "bk-02", "bk-03"]
    # The scores are those of the alerts: bk-03 is covered by port-blockade's true alert.
    status = {e["id"]: e["status"] for e in data["scores"]["events"]}
    assert status == {"bk-01": "tp", "bk-03": "covered", "bk-05": "tp"}


def test_rules_explain_says_what_the_near_miss_says_at_the_reports_time(tmp_path: Path) -> None:
    """`rules explain` explains each report at its time: the lifting had not come. The near miss quotes it and
    says it is of the report's time before what followed."""
    res = runner.invoke(app, ["rules", "explain", str(EVENTS), "--rules", str(PACK), "--json"])
    assert res.exit_code == 0, res.output
    docs = {d["document_id"]: d for d in json.loads(res.stdout)["documents"]}
    said = {c["detection"]: c["reason"] for c in docs["bk-03"]["detections"]}
    assert said["blockade-over"] == "waiting for blockade_lifted to follow"
    _output, data = backtest(tmp_path)
    near = next(m for m in data["near_misses"] if m["document_id"] == "bk-03")
    seq = next(r for r in near["reasons"] if r["detection"] == "blockade-over")
    assert seq["detail"].startswith(f"{said['blockade-over']} at this report's time (what `rules explain` says of it)")
