"""`watchfloor backtest --score-from/--score-until`: the whole input is replayed, only the window is scored.

The fixture (tests/data/score_window, our own words): four alerts of one rule with a 1h realert; a mutiny first
alerted the evening before the labelled window (a1) and retold inside it (a2: a repeat), a second story inside it
(b1), and an unlabelled-for-the-rule analysis two days after it (n1: a false alert)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "score_window"
WINDOW = ("--score-from", "2023-06-23T00:00:00+00:00", "--score-until", "2023-06-26T03:00:00+03:00")
runner = CliRunner()


def backtest(tmp_path: Path, *extra: str, name: str = "out.json") -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / name
    res = runner.invoke(
        app,
        [
            "backtest",
            str(DATA / "ev.jsonl"),
            "--rules",
            str(DATA / "pack.yaml"),
            "--labels",
            str(DATA / "labels.csv"),
            "--near-misses",
            "0",
            "--json",
            str(out),
            *extra,
        ],
    )
    return res.exit_code, res.output, json.loads(out.read_text()) if out.exists() else {}


def test_a_window_scores_its_own_alerts_and_positives_over_the_same_replay(tmp_path: Path) -> None:
    code, _, whole = backtest(tmp_path, name="whole.json")
    assert code == 0
    code, output, window = backtest(tmp_path, *WINDOW, "--csv", str(tmp_path / "csv"))
    assert code == 0, output
    # The same replay: the same alerts, whatever is scored.
    assert [a["id"] for a in window["alerts"]] == [a["id"] for a in whole["alerts"]]
    w, o = window["scores"]["overall"], whole["scores"]["overall"]
    assert (o["alerts"], o["true_alerts"], o["repeat_alerts"], o["fp"], o["positives"]) == (4, 2, 1, 1, 3)
    # In the window: a2 (a repeat of the mutiny told the evening before) and b1 (true); n1's false alert after it
    # and a1's alert before it are not scored, a1 itself (dated before it) not counted.
    assert (w["alerts"], w["true_alerts"], w["repeat_alerts"], w["fp"], w["positives"], w["tp"]) == (2, 1, 1, 0, 2, 2)
    assert w["precision"] == pytest.approx(0.5) and w["recall"] == 1.0
    # 1 of 2: its 95 % Wilson interval (outside trial 53, MED-2)
    assert w["precision_interval"] == [0.0945, 0.9055] and w["recall_interval"] == [0.3424, 1.0]
    s = window["scores"]
    assert s["window"] == {"from": "2023-06-23T00:00:00+00:00", "until": "2023-06-26T00:00:00+00:00"}  # in UTC
    assert (s["unscored_alerts"], s["positives_outside_window"]) == (2, 1)
    assert s["false_positives"] == []
    verdicts = {v["id"]: v for v in s["verdicts"]}
    whole_verdicts = {v["id"]: v["verdict"] for v in whole["scores"]["verdicts"]}
    fired = {a["id"]: a["fired_at"][:10] for a in window["alerts"]}
    for alert_id, day in fired.items():
        if "2023-06-23" <= day < "2023-06-26":  # inside: the verdict the whole replay gives it
            assert verdicts[alert_id]["verdict"] == whole_verdicts[alert_id]
        else:
            assert verdicts[alert_id]["verdict"] == "unscored" and verdicts[alert_id]["outside_window"] is True
    assert sorted(whole_verdicts.values()) == ["false", "repeat", "true", "true"]
    assert "2 alerts of scored rules outside it unscored, 1 labelled item outside it not counted" in output
    with (tmp_path / "csv" / "alerts.csv").open(encoding="utf-8-sig") as f:
        assert sorted(r["verdict"] for r in csv.DictReader(f)) == ["repeat", "true", "unscored", "unscored"]


def test_the_html_report_says_what_the_window_left_out(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    code, output, _ = backtest(tmp_path, *WINDOW, "--html", str(html))
    assert code == 0, output
    said = "2 alerts of scored rules outside it unscored, 1 labelled item outside it not counted"
    page = html.read_text()
    assert said in page
    assert '<small class="ci" title="95 % Wilson interval">[0.09, 0.91]</small>' in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--score-from", "yesterday"), "--score-from: not an ISO-8601 timestamp"),
        (("--score-until", "2023-06-23T00:00:00"), "--score-until: timestamp has no UTC offset"),
        (
            ("--score-from", "2023-06-24T00:00:00Z", "--score-until", "2023-06-23T00:00:00Z"),
            "--score-until 2023-06-23T00:00:00Z is not after --score-from",
        ),
    ],
)
def test_a_bad_window_is_refused_naming_the_option(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, output, _ = backtest(tmp_path, *args)
    assert code != 0 and message in " ".join(output.split()), output


def test_a_window_without_labels_is_refused(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["backtest", str(DATA / "ev.jsonl"), "--rules", str(DATA / "pack.yaml"), "--score-from", WINDOW[1]]
    )
    assert res.exit_code != 0 and "--score-from and --score-until choose what --labels scores" in res.output


def test_a_labels_own_offset_is_given_in_utc_in_the_json_as_in_the_csv(tmp_path: Path) -> None:
    """Outside trial 53, LOW-6: the JSON kept `2023-06-24T13:00:00+03:00`, labels.csv `2023-06-24T10:00:00+00:00`."""
    labels = tmp_path / "labels.csv"
    labels.write_text(
        (DATA / "labels.csv")
        .read_text(encoding="utf-8")
        .replace("id,label,event", "id,label,event,time")
        .replace("voronezh\n", "voronezh,2023-06-24T13:00:00+03:00\n"),
        encoding="utf-8",
    )
    out = tmp_path / "o.json"
    res = runner.invoke(
        app,
        [
            "backtest",
            str(DATA / "ev.jsonl"),
            "--rules",
            str(DATA / "pack.yaml"),
            "--labels",
            str(labels),
            "--near-misses",
            "0",
            "--json",
            str(out),
            "--csv",
            str(tmp_path / "csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    b1 = next(e for e in json.loads(out.read_text())["scores"]["events"] if e["id"] == "b1")
    assert (b1["time"], b1["time_from"]) == ("2023-06-24T10:00:00+00:00", "label")
    with (tmp_path / "csv" / "labels.csv").open(encoding="utf-8-sig") as f:
        row = next(r for r in csv.DictReader(f) if r["id"] == "b1")
    assert (row["time"], row["fired_at"]) == (b1["time"], b1["fired_at"])


def test_an_alert_outside_the_window_citing_no_positive_is_still_false_for_the_timeline(tmp_path: Path) -> None:
    """n1's alert (28 June, outside the window, citing only a NONE item) finds the expected event of that day as the
    false alert it is, as without a window (it read as a true one: the scores had not called it false)."""
    timeline = tmp_path / "timeline.csv"
    timeline.write_text("event,time,rule\nmutiny aftermath,2023-06-28T12:00:00+00:00,wagner-mutiny\n", encoding="utf-8")
    code, output, data = backtest(tmp_path, *WINDOW, "--timeline", str(timeline), "--timeline-window", "1d")
    assert code == 0, output
    (row,) = data["scores"]["timeline"]
    n1_alert = next(a["id"] for a in data["alerts"] if a["evidence"][0]["event_id"] == "n1")
    assert (row["status"], row["alert"], row.get("false_alert")) == ("found", n1_alert, True), row
