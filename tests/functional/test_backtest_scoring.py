"""`watchfloor backtest` scored against labels, diffed against a baseline, gating CI; wrong input refused.

The fixture (tests/data/scoring, our own words) is built so that the bundled pack catches five of seven
labelled positives, raises one false alert (a military band is not a deployment), throttles a second
report of the same deployment (`realert`: covered by the true alert that held it back, a sixth caught), misses a
casualty report worded outside its phrases, and leaves a hedged signing and a denial as near misses."""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.backtest import ReadReport, documents_from_store, iter_events
from watchfloor.cli import app
from watchfloor.schemas.events import document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores import open_store

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS, LABELS, MAP, TIMELINE = (DATA / n for n in ("events.jsonl", "labels.csv", "label_map.yaml", "timeline.csv"))
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output


def scored(tmp_path: Path, *extra: str | Path, name: str = "out.json") -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / name
    code, output = run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--json", out, *extra)
    return code, output, json.loads(out.read_text()) if out.exists() else {}


def pack_variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    p = tmp_path / f"{name}.yaml"
    p.write_text(text.replace(old, new), encoding="utf-8")
    return p


def test_scores_per_rule_overall_lead_times_and_the_terminal_table(tmp_path: Path) -> None:
    code, output, data = scored(tmp_path, "--timeline", TIMELINE)
    assert code == 0, output
    s = data["scores"]
    per = {r: (v["tp"], v["fp"], v["fn"]) for r, v in s["per_rule"].items()}
    assert per == {
        "treaty-signed": (1, 0, 0),
        "treaty-ratified": (2, 0, 0),
        "troops-deployed": (2, 1, 0),
        "troop-engagement": (1, 0, 1),
    }
    o = s["overall"]
    assert (o["tp"], o["fp"], o["fn"], o["covered"], o["true_alerts"], o["alerts"]) == (6, 1, 1, 1, 5, 6)
    # precision over alerts (5 true of 6), recall over labelled items (6 of 7: one a covered repeat)
    assert o["precision"] == pytest.approx(5 / 6) and o["recall"] == pytest.approx(6 / 7)
    assert o["f1"] == pytest.approx(2 * (5 / 6) * (6 / 7) / (5 / 6 + 6 / 7))
    events = {(e["id"], e["rule"]): e for e in s["events"]}
    # The second report of the deployment, held back by the true alert's realert: the desk had been told.
    repeat = events["sc-05", "troops-deployed"]
    assert repeat["status"] == "covered" and repeat["alert"] == events["sc-04", "troops-deployed"]["alert"]
    assert sum(1 for c in s["per_rule"].values() for _ in range(c["covered"])) == 1
    assert events["sc-10", "troop-engagement"]["status"] == "fn"
    # The Duma's label carries its own time, half an hour before the report that the alert cites.
    assert events["sc-03", "treaty-ratified"]["lead_time_s"] == 1800.0
    assert events["sc-03", "treaty-ratified"]["time_from"] == "label"
    assert events["sc-01", "treaty-signed"]["lead_time_s"] == 0.0
    fp_alert = next(a for a in data["alerts"] if a["id"] in s["false_positives"])
    assert fp_alert["evidence"][0]["event_id"] == "sc-08"
    assert [(t["event"], t["status"]) for t in s["timeline"]] == [
        ("treaty signed", "found"),
        ("Duma ratifies", "found"),
        ("North Korea ratifies", "missed"),
        ("instruments exchanged", "missed"),
    ]
    assert s["timeline"][0]["lead_time_s"] == 3 * 3600.0
    # The terminal: the score table with the overall row, the missed and false items, the timeline.
    overall = next(line for line in output.splitlines() if line.strip().startswith("overall"))
    # items (pos., TP, FN), then alerts (alerts, true, FP): prec. 0.83 is true / alerts, 5 / 6, on the row itself
    assert overall.split()[1:10] == ["7", "6", "1", "6", "5", "1", "0.83", "0.86", "0.85"]
    # the caption names each column's unit and that alerts = true + FP here (no `event` column: no repeats)
    assert "labelled items: pos., TP (caught), FN (missed); recall = TP / pos." in output
    assert "alerts = true + FP (false); prec. = true / alerts" in output
    assert "1 of the TP are repeats held back by an alert that cites a positive" in " ".join(output.split())
    assert "missed sc-10 (COMBAT_REPORT_KURSK) for troop-engagement" in output
    assert "false alert troops-deployed" in output
    # why it is false, in its reports' labels (sc-08 is labelled, as no deployment)
    assert "labelled, none for troops-deployed" in " ".join(output.split())
    assert "expected events" in output and "missed" in output


def test_json_shape_of_scores_and_diff_as_the_issue_and_docs_give_it(tmp_path: Path) -> None:
    """`scores.per_rule.RULE.{tp,fp,fn,precision,recall,f1}`, `scores.overall`, `scores.events` (one per
    positive, with its lead time from the label's time or else the item's published_at), and `diff.{added,
    removed,changed}` with the change in scores: the keys and values a CI script of a rules repository reads."""
    stricter = pack_variant(
        tmp_path, "stricter", 'none: ["to fight in ukraine if",', 'none: [band, "to fight in ukraine if",'
    )
    code, output, data = scored(tmp_path, "--baseline-rules", stricter)
    assert code == 0, output
    s = data["scores"]
    assert {"per_rule", "overall", "events"} <= set(s)
    metrics = ("tp", "fp", "fn", "precision", "recall", "f1")
    got = {rule: tuple(v[m] for m in metrics) for rule, v in s["per_rule"].items()}
    assert got == {
        "treaty-signed": (1, 0, 0, 1.0, 1.0, 1.0),
        "treaty-ratified": (2, 0, 0, 1.0, 1.0, 1.0),
        "troops-deployed": (2, 1, 0, 0.5, 1.0, pytest.approx(2 / 3)),
        "troop-engagement": (1, 0, 1, 1.0, 0.5, pytest.approx(2 / 3)),
    }
    assert set(metrics) <= set(s["overall"])
    # One entry per (positive, rule): 7 positives, each with its status and lead time.
    assert len(s["events"]) == 7
    keys = {"id", "label_key", "rule", "labels", "status", "time", "time_from", "alert", "fired_at", "lead_time_s"}
    keys |= {"cited_by"}  # every alert of the rule resting on it, as labels.csv (outside trial 63, LOW-2)
    assert all(set(e) == keys | ({"why"} if e["status"] == "fn" else set()) for e in s["events"]), s["events"]
    # A missed one says what kept it from an alert: here the rules made no signal of the casualty report.
    (missed,) = [e for e in s["events"] if e["status"] == "fn"]
    assert missed["id"] == "sc-10" and missed["why"].startswith("no signal: the rules made none of this item")
    published = {d["id"]: d["published_at"] for d in map(json.loads, EVENTS.read_text(encoding="utf-8").splitlines())}
    for e in s["events"]:
        if e["id"] == "sc-03":  # the label gives its own time
            assert (e["time_from"], e["time"]) == ("label", "2024-10-24T07:30:00+00:00")
        else:  # the item's published_at
            assert e["time_from"] == "published_at"
            assert e["time"] == published[e["id"]]
        if e["status"] == "tp":
            fired = next(a["fired_at"] for a in data["alerts"] if a["id"] == e["alert"])
            assert e["fired_at"] == fired
            assert (
                e["lead_time_s"] == (datetime.fromisoformat(fired) - datetime.fromisoformat(e["time"])).total_seconds()
            )
        elif e["status"] == "covered":  # a repeat: the alert that held it back, no lead time of its own
            assert e["id"] == "sc-05" and e["alert"] and e["lead_time_s"] is None
        else:
            assert (e["status"], e["alert"], e["lead_time_s"]) == ("fn", None, None)
    # The diff against a baseline and the change in every score.
    diff = data["diff"]
    assert {"added", "removed", "changed"} <= set(diff)
    assert [a["evidence"] for a in diff["added"]] == [["sc-08"]] and diff["removed"] == diff["changed"] == []
    for scope in [diff["scores"]["overall"], *diff["scores"]["per_rule"].values()]:
        # item_recall: trial 53, HIGH-1; repeat_alerts: trial 63, MED-4
        assert set(scope) == {*metrics, "alerts", "true_alerts", "repeat_alerts", "item_recall"}
        assert all(set(v) == {"before", "after", "change"} for v in scope.values())
    assert diff["scores"]["per_rule"]["troops-deployed"]["fp"] == {"before": 0.0, "after": 1.0, "change": 1.0}
    assert diff["scores"]["overall"]["precision"]["change"] == pytest.approx(5 / 6 - 1)
    # precision's change from its numerator's and denominator's: one more alert, no more true ones (5 / 6 from 5 / 5)
    overall = diff["scores"]["overall"]
    assert overall["alerts"] == {"before": 5.0, "after": 6.0, "change": 1.0}
    assert overall["true_alerts"] == {"before": 5.0, "after": 5.0, "change": 0.0}
    # The terminal's change table: the score table's units and order, items (TP, FN) then alerts (alerts, true, FP)
    # (outside trial 20, L3); the added false alert is +1 alert, +1 FP, and no change in true.
    lines = output.splitlines()
    below = lines[next(i for i, line in enumerate(lines) if "change against the baseline" in line) :]
    header = next(line for line in below if line.split()[:1] == ["rule"])
    assert header.split() == ["rule", "TP", "FN", "alerts", "true", "FP", "prec.", "recall", "F1"]
    row = next(line for line in below if line.strip().startswith("troops-deployed"))
    # right-justified: a cell ends where its column's name does, and starts after the column before it (the first
    # after the rule id)
    ends = [header.index(name) + len(name) for name in header.split()]
    ends[0] = row.index("troops-deployed") + len("troops-deployed")
    cells = {name: row[ends[k - 1] : ends[k]].strip() for k, name in enumerate(header.split()) if k}
    assert (cells["TP"], cells["FN"], cells["alerts"], cells["true"], cells["FP"]) == ("", "", "+1", "", "+1")
    assert (cells["prec."], cells["F1"]) == ("-0.50 1/1→1/2", "-0.33")  # with its counts (outside trial 53, MED-2)
    assert "labelled items: TP, FN; alerts: alerts, true, FP" in output


def test_near_misses_say_modality_cue_and_why(tmp_path: Path) -> None:
    code, output, data = scored(tmp_path)
    assert code == 0, output
    misses = {m["document_id"]: m for m in data["near_misses"]}
    assert set(misses) == {"sc-02", "sc-05", "sc-06"}
    assert (misses["sc-02"]["modality"], misses["sc-02"]["cue"]) == ("hedged", "could")
    assert misses["sc-02"]["reasons"][0]["kind"] == "modality"
    assert misses["sc-06"]["modality"] == "negated" and misses["sc-06"]["reasons"][0]["kind"] == "modality"
    why = misses["sc-05"]["reasons"][0]
    assert (why["kind"], why["detection"]) == ("realert", "troops-deployed")
    assert "alerted at 2024-10-18T10:00+00:00; quiet for 1d" in why["detail"]
    assert data["stats"]["near_misses"] == 3
    assert "3 near misses" in output


def test_fail_under_gates_ci(tmp_path: Path) -> None:
    code, output, _ = scored(tmp_path, "--fail-under", "precision=0.9,recall=0.5")
    assert code == 1
    assert "below threshold: precision = 0.833 < 0.9" in output
    code, output, _ = scored(tmp_path, "--fail-under", "precision=0.8,recall=0.7,treaty-ratified:recall=1")
    assert code == 0, output
    assert "score thresholds met" in output
    code, output, _ = scored(tmp_path, "--fail-under", "troops-deployed:f1=0.7")
    assert code == 1 and "troops-deployed:f1 = 0.667 < 0.7" in output
    code, output = run(EVENTS, "--fail-under", "precision=0.9")
    assert code == 1 and "score against --labels" in output
    code, output = run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--fail-under", "speed=1")
    assert code == 1 and "unknown metric 'speed'" in output


def test_baseline_rules_severity_edit_shows_changed_alerts(tmp_path: Path) -> None:
    louder = pack_variant(
        tmp_path,
        "louder",
        "severity: medium\n    tags: [troops, dprk-russia]",
        "severity: high\n    tags: [troops, dprk-russia]",
    )
    code, output, data = scored(tmp_path, "--rules", louder, "--baseline-rules", "builtin:dprk_russia")
    assert code == 0, output
    diff = data["diff"]
    assert diff["added"] == [] and diff["removed"] == []
    assert [(c["rule"], c["changes"], c["before"]["severity"], c["after"]["severity"]) for c in diff["changed"]] == [
        ("troops-deployed", ["severity"], "medium", "high"),
        ("troops-deployed", ["severity"], "medium", "high"),
    ]
    assert diff["unchanged"] == 4
    assert diff["scores"]["overall"]["precision"]["change"] == 0.0
    assert "0 added, 0 removed, 2 changed, 4 unchanged" in output


def test_baseline_result_file_and_a_lost_true_positive_fail_ci(tmp_path: Path) -> None:
    _code, _out, before = scored(tmp_path, name="before.json")
    # An edit that refuses "thousands": the first deployment report is no longer caught, the second fires.
    breaking = pack_variant(
        tmp_path, "breaking", 'none: ["to fight in ukraine if",', 'none: [thousands, "to fight in ukraine if",'
    )
    code, output, data = scored(
        tmp_path, "--rules", breaking, "--baseline", tmp_path / "before.json", "--fail-on-removed-true-positive"
    )
    assert code == 1, output
    assert "lost true positive: sc-04 (troops-deployed)" in output
    diff = data["diff"]
    assert [a["evidence"] for a in diff["removed"]] == [["sc-04"]]
    assert [a["evidence"] for a in diff["added"]] == [["sc-05"]]
    assert diff["scores"]["lost_true_positives"] == [{"id": "sc-04", "label_key": "sc-04", "rule": "troops-deployed"}]
    # sc-05 was caught before too: a repeat the first alert held back (covered); now its own alert cites it
    assert diff["scores"]["new_true_positives"] == []
    assert data["baseline"]["source"] == str(tmp_path / "before.json")
    assert data["baseline"]["alerts"] == len(before["alerts"])
    # Without the flag the same comparison passes: it is reported, not gated.
    code, output, _ = scored(tmp_path, "--rules", breaking, "--baseline", tmp_path / "before.json")
    assert code == 0, output


def test_a_stricter_edit_removes_the_false_alert_and_keeps_every_true_positive(tmp_path: Path) -> None:
    stricter = pack_variant(
        tmp_path, "stricter", 'none: ["to fight in ukraine if",', 'none: [band, "to fight in ukraine if",'
    )
    code, output, data = scored(
        tmp_path, "--rules", stricter, "--baseline-rules", "builtin:dprk_russia", "--fail-on-removed-true-positive"
    )
    assert code == 0, output
    assert [a["evidence"] for a in data["diff"]["removed"]] == [["sc-08"]]
    delta = data["diff"]["scores"]["per_rule"]["troops-deployed"]
    assert delta["fp"] == {"before": 1.0, "after": 0.0, "change": -1.0}
    assert delta["precision"]["change"] == pytest.approx(0.5)
    assert "no true positive of the baseline lost" in output
    change = next(
        line for line in output.splitlines() if line.strip().startswith("troops-deployed") and "+0.50" in line
    )
    # alerts, FP, precision (with its counts), F1
    assert change.split() == ["troops-deployed", "-1", "-1", "+0.50", "1/2→1/1", "+0.33"]


def test_labels_declared_in_the_pack_and_labels_keyed_by_url(tmp_path: Path) -> None:
    labelled = pack_variant(
        tmp_path,
        "labelled",
        "  - id: troops-deployed\n",
        "  - id: troops-deployed\n    labels: [TROOP_DEPLOYMENT_REPORT]\n",
    )
    by_url = tmp_path / "labels.csv"
    by_url.write_text(
        "id,label\nhttps://gazette.example/4,TROOP_DEPLOYMENT_REPORT\nsc-05,TROOP_DEPLOYMENT_REPORT\nsc-08,NONE\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.json"
    code, output = run(EVENTS, "--rules", labelled, "--labels", by_url, "--json", out)
    assert code == 0, output
    s = json.loads(out.read_text())["scores"]
    assert list(s["per_rule"]) == ["troops-deployed"]
    assert {(e["id"], e["status"]) for e in s["events"]} == {("sc-04", "tp"), ("sc-05", "covered")}
    assert s["label_map"] == "rule packs"


def test_a_false_alert_says_why_and_unlabelled_reports_are_named_as_the_cause(tmp_path: Path) -> None:
    """Outside trial 21, L12: with a first, partial set of labels, an alert on a real report nobody labelled is a false
    alert, and the labelled report its realert held back is missed; the terminal said neither why nor what to do.
    Here sc-04 (the deployment the alert cites) is left unlabelled, sc-05 (its repeat) labelled: the alert on sc-04
    says its report is not labelled, the one on sc-08 that its report is labelled otherwise, and one note says
    what to do."""
    labelled = pack_variant(
        tmp_path,
        "labelled",
        "  - id: troops-deployed\n",
        "  - id: troops-deployed\n    labels: [TROOP_DEPLOYMENT_REPORT]\n",
    )
    partial = tmp_path / "labels.csv"
    partial.write_text("id,label\nsc-05,TROOP_DEPLOYMENT_REPORT\nsc-08,NONE\n", encoding="utf-8")
    out = tmp_path / "o.json"
    code, output = run(EVENTS, "--rules", labelled, "--labels", partial, "--json", out)
    assert code == 0, output
    flat = " ".join(output.split())
    assert "its report is not labelled" in flat and "its report labelled, none for troops-deployed" in flat
    assert "note: 1 of the 2 false alerts rests only on reports the labels do not name" in flat
    verdicts = json.loads(out.read_text())["scores"]["verdicts"]
    assert sorted(v["unlabelled_reports"] for v in verdicts if v["verdict"] == "false") == [0, 1]
    # The labelled repeat its realert held back says that the alert holding it was false (outside trial 61, M5: the
    # missed reports said only "realert: … quiet for 30d", hiding that a false alert silenced the real event).
    false_ids = {v["id"] for v in verdicts if v["verdict"] == "false"}
    missed = next(o for o in json.loads(out.read_text())["scores"]["events"] if o["id"] == "sc-05")
    assert missed["status"] == "fn" and missed["why"].startswith("realert: "), missed
    held = missed["why"].split("held back by a false alert (", 1)[1].split(":", 1)[0]
    assert held in false_ids and "so a false alert silenced this report" in missed["why"], missed
    assert "held back by a false alert" in flat
    # with every report labelled, no note
    code, output = run(EVENTS, "--labels", LABELS, "--label-map", MAP)
    assert code == 0 and "rest only on reports the labels do not name" not in output


def test_timeline_alone(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    code, output = run(EVENTS, "--timeline", TIMELINE, "--json", out)
    assert code == 0, output
    assert [t["status"] for t in json.loads(out.read_text())["scores"]["timeline"]] == [
        "found",
        "found",
        "missed",
        "missed",
    ]


# -- wrong input ------------------------------------------------------------------------------------


def test_a_csv_given_as_events_is_an_error(tmp_path: Path) -> None:
    code, output = run(LABELS)
    assert code == 4
    # refused before it is read (trial 48, MED-1: read as JSON Lines it was one dead letter per line)
    assert f"{LABELS}: not a file auto can read — this looks like a CSV file" in output
    assert "--labels" in output


def test_an_empty_events_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    code, output = run(empty)
    assert code == 4 and "no events in it" in output


def test_a_jsonl_file_with_no_valid_line_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "news.article", "title": "no date"}\nnot json\n{"title": 3}\n', encoding="utf-8")
    code, output = run(bad)
    assert code == 4
    assert f"{bad}: no valid event in 3 lines (first: line 1: field 'published_at': is required)" in output
    assert f"{bad}:2: malformed JSON" in output  # each bad line with its place and reason


def test_records_in_a_feed_archives_own_fields_point_to_mapping_them(tmp_path: Path) -> None:
    # Outside trial 13 (L1): the raw 2023 corpus said only "field 'type': is required", 18 times.
    raw = tmp_path / "quay_post.jsonl"
    raw.write_text(
        '{"title": "Harbour at Lindo closed", "link": "https://example.org/1", '
        '"date_published": "2023-05-02 08:00:00+00:00", "description": "Pilots said so."}\n',
        encoding="utf-8",
    )
    code, output = run(raw)
    assert code == 4
    first = "line 1: field 'type': is required (news.article or official.statement)"
    assert f"{raw}: no valid event in 1 line (first: {first})" in output
    assert "not in the input format" in output and "benchmarks/prepare_rss2023.py" in output


def test_bad_files_do_not_hide_the_good_ones(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    code, _output = run(EVENTS, LABELS, "--json", out)
    assert code == 4  # the CSV is reported, the events are still replayed and written
    assert json.loads(out.read_text())["stats"]["documents"] == 11


def test_labels_that_match_no_event_are_an_error(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,label\nx-1,TREATY_SIGNED\nx-2,NONE\n", encoding="utf-8")
    code, output = run(EVENTS, "--labels", wrong, "--label-map", MAP)
    assert code == 1
    assert "none of its 2 ids matches an event (e.g. x-1, x-2)" in output
    partly = tmp_path / "partly.csv"
    partly.write_text("id,label\nx-1,TREATY_SIGNED\nsc-01,TREATY_SIGNED\n", encoding="utf-8")
    code, output = run(EVENTS, "--labels", partly, "--label-map", MAP)
    assert code == 0, output
    assert "1 of 2 labelled ids are not among the events" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--labels", str(LABELS)], "Give --label-map MAP.yaml"),
        (["--labels", str(LABELS), "--label-map", str(TIMELINE)], "a label map is a mapping"),
        (["--labels", str(MAP), "--label-map", str(MAP)], "needs the columns id, label"),
        (["--baseline", str(LABELS)], "not a backtest JSON result"),
        (["--baseline-rules", "builtin:dprk_russia", "--baseline", str(LABELS)], "not both"),
        (["--fail-on-removed-true-positive"], "compares with a baseline"),
        (["--timeline", str(LABELS)], "needs the columns event, rule"),
    ],
)
def test_wrong_truth_files_are_clear_errors(args: list[str], message: str) -> None:
    code, output = run(EVENTS, *args)
    assert code == 1, output
    assert message in output


def test_order_random_runs_seeded_and_reports_late_signals(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run(EVENTS, "--order", "random", "--seed", "3", "--json", a)[0] == 0
    assert run(EVENTS, "--order", "random", "--seed", "3", "--json", b)[0] == 0
    one, two = json.loads(a.read_text()), json.loads(b.read_text())
    assert one["alerts"] == two["alerts"] and one["stats"]["order"] == "random"
    assert one["stats"]["late_documents"] > 0  # out-of-order reports past the pack's lateness
    code, output = run(EVENTS, "--order", "sideways")
    assert code == 2 and "sideways" in output


def test_a_future_dated_item_is_reported_not_counted_as_late(tmp_path: Path) -> None:
    # Outside audit: a 2099 item passed a file backtest unnoticed (counted under late_signals, nothing printed),
    # while `watchfloor run` reports it.
    typo = tmp_path / "typo.jsonl"
    typo.write_text(
        '{"type": "news.article", "id": "typo-1", "published_at": "2099-01-01T00:00:00Z", "source": "Typo Wire", '
        '"title": "North Korean troops killed in Kursk, officials say"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    code, output = run(EVENTS, typo, "--json", out)
    assert code == 0, output
    stats = json.loads(out.read_text())["stats"]
    assert (stats["future_dated"], stats["late_documents"]) == (1, 0)
    assert "1 dated in the future" in output and "dated in the future: document typo-1" in output


def test_order_random_spilling_replays_the_baseline_in_the_same_order(tmp_path: Path) -> None:
    """Both passes of a --baseline-rules run see one permutation, also when the shuffle spills: the same rules
    then differ in nothing, whatever the seed."""
    for seed in ("1", "5"):
        code, output, data = scored(
            tmp_path, "--order", "random", "--seed", seed, "--sort-run", "3", "--baseline-rules", "builtin:dprk_russia"
        )
        assert code == 0, output
        diff = data["diff"]
        assert diff["added"] == diff["removed"] == diff["changed"] == []
        assert diff["unchanged"] == len(data["alerts"]) and data["stats"]["sort"]["runs_spilled"] > 0
        assert all(m["change"] in (0.0, None) for m in diff["scores"]["overall"].values())


def test_a_tiny_sort_run_spills_and_gives_the_same_alerts(tmp_path: Path) -> None:
    small, big = tmp_path / "small.json", tmp_path / "big.json"
    assert run(EVENTS, "--sort-run", "3", "--json", small, "--spill-dir", tmp_path)[0] == 0
    assert run(EVENTS, "--json", big)[0] == 0
    s, b = json.loads(small.read_text()), json.loads(big.read_text())
    assert s["stats"]["sort"]["runs_spilled"] == 3 and s["stats"]["sort"]["peak_in_memory"] == 3
    assert b["stats"]["sort"]["runs_spilled"] == 0
    assert s["alerts"] == b["alerts"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("watchfloor-sort-")]  # spill files removed


# -- progress: what the bars count --------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_reading_reports_every_byte_of_the_file(tmp_path: Path, gz: bool) -> None:
    raw = EVENTS.read_bytes() * 50
    p = tmp_path / ("e.jsonl.gz" if gz else "e.jsonl")
    p.write_bytes(gzip.compress(raw) if gz else raw)
    got: list[int] = []
    report = ReadReport()
    items = list(iter_events([str(p)], report=report, on_bytes=got.append))
    assert sum(got) == p.stat().st_size
    # Every line is read; the 49 repeats of each document are already seen (the live ingest skips them).
    assert report.files[0].accepted == 550 and len(items) == 11 and report.already_seen == 539


def test_reading_a_store_reports_records(tmp_path: Path) -> None:
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    st.append([document_event(parse_document(json.loads(line))) for line in lines])
    assert st.count() == len(lines)
    got: list[int] = []
    docs = list(documents_from_store(st, batch=4, on_records=got.append))
    st.close()
    assert len(docs) == sum(got) == len(lines) and got[0] == 4


@pytest.mark.parametrize(("kind", "unit"), [("bytes", "MB"), ("records", "/")])
def test_progress_bars_show_the_total_and_an_eta(kind: str, unit: str) -> None:
    from io import StringIO

    from rich.console import Console

    from watchfloor.cli.backtest import progress

    buf = StringIO()
    console = Console(file=buf, force_terminal=True, width=160)
    with progress(kind, console) as prog:
        task = prog.add_task("reading", total=4_000_000)
        prog.advance(task, 1_000_000)
        prog.refresh()
    text = buf.getvalue()
    assert "reading" in text and "25%" in text and "ETA" in text and unit in text


def test_expectations_in_yaml_as_documented(tmp_path: Path) -> None:
    exp = tmp_path / "expect.yaml"
    exp.write_text(
        "description: the fixture story\n"
        "must_fire:\n"
        "  - {rule: treaty-ratified, group: {party: RUS}, event_id: sc-03}\n"
        "  - {rule: troop-engagement, severity: medium}\n"
        "must_not_fire:\n"
        "  - {event_id: sc-07}\n",
        encoding="utf-8",
    )
    code, output = run(EVENTS, "--expect", exp)
    assert code == 0 and "expectations met" in output, output
    exp.write_text("must_not_fire:\n  - {rule: troops-deployed, event_id: sc-08}\n", encoding="utf-8")
    code, output = run(EVENTS, "--expect", exp)
    assert code == 1 and "unexpected" in output


def test_labels_by_url_find_lines_whose_writer_escaped_the_slashes(tmp_path: Path) -> None:
    # PHP-style JSON writes "https:\/\/..."; a labelled line that no rule could match must still come
    # through the line gate as a document (else its label would be "not among the events").
    quiet = (
        '{"type": "news.article", "published_at": "2024-10-20T09:00:00+00:00", "source": "Harbour Gazette", '
        '"url": "https:\\/\\/gazette.example\\/weather\\/sunny-weekend", "title": "Sunny weekend ahead"}'
    )
    events = tmp_path / "escaped.jsonl"
    events.write_text(EVENTS.read_text(encoding="utf-8") + quiet + "\n", encoding="utf-8")
    _loaded, rules = load_rules(["builtin:dprk_russia"])
    report = ReadReport()
    plain = list(iter_events([str(events)], report=report, gate=rules.json_gate))
    assert plain[-1].__class__ is float  # without the label, the rules' gate reduces it to its time
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "id,label\nhttps://gazette.example/weather/sunny-weekend,NONE\nhttps://gazette.example/4,TROOP_DEPLOYMENT_REPORT\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.json"
    code, output = run(events, "--labels", labels, "--label-map", MAP, "--json", out)
    assert code == 0, output
    assert "not among the events" not in output
    s = json.loads(out.read_text())["scores"]
    assert s["ignored_label_ids"] == 0
    assert [(e["id"], e["status"]) for e in s["events"]] == [("sc-04", "tp")]


@pytest.mark.parametrize(
    ("key", "word"),
    [
        ("sc-04", "sc-04"),
        ("https://gazette.example/weather/sunny-weekend", "sunny-weekend"),
        # the slug, not the query string (in thousands of lines of the same feed) nor the host
        (
            "https://news.example/world/2023/01/01/kim-pledges-nuclear-buildup-to-take-on-rivals?utm_source=rss",
            "dges-nuclear-buildup-to-take-on-rivals"[-32:],
        ),
        ("https://news.example/world/asia/ab12/", "world"),
        ("https://news.example/", "news.example"),
        # outside trial 53, LOW-9: a short slug with a number is the article's; else a number of the query, not a
        # section of the site (`International`) that thousands of lines hold
        ("https://www.bbc.co.uk/news/world-65996531?at_medium=RSS&at_campaign=KARANGA", "world-65996531"),
        ("https://abcnews.go.com/International/story?id=100335756", "100335756"),
        # any scheme with a host is a URL: never the query (`…at_campaign=KARANGA` is in every BBC line)
        ("http1xs://www.bbc.co.uk/news/world-65996531?at_medium=RSS&at_campaign=KARANGA", "world-65996531"),
    ],
)
def test_gate_word_of_a_label_key(key: str, word: str) -> None:
    from watchfloor.backtest import gate_word

    assert gate_word(key) == word
    assert "/" not in gate_word(key)


@pytest.mark.parametrize("sort_run", ["3", "1000000"])
def test_future_dated_inputs_sort_at_their_receive_time_as_the_canonical_replay(tmp_path: Path, sort_run: str) -> None:
    """A report dated past its receive time (+ skew) counts at the receive time: the external sort puts it
    there, by id among its kind, exactly as replay(order="event-time") orders it in memory."""
    from datetime import UTC, datetime

    from watchfloor.stream_processors.engine import Engine
    from watchfloor.stream_processors.replay import replay

    future = [
        {"type": "news.article", "id": f"fut-{k}", "published_at": when, "source": src, "title": title}
        for k, (when, src, title) in enumerate(
            [
                ("2099-01-01T00:00:00+00:00", "Wire Z", "North Korean troops arrived in Russia, officials say"),
                ("2031-05-05T00:00:00+00:00", "Wire Y", "North Korean soldiers were sent to Russia again"),
                ("2030-01-01T00:00:00+00:00", "Wire X", "A quiet weekend in the capital"),
                # within the skew of the receive time: not clamped, so it sorts after the clamped ones
                ("2025-01-01T00:30:00+00:00", "Wire W", "North Korean troops have arrived in Russia"),
            ]
        )
    ]
    events = tmp_path / "events.jsonl"
    events.write_text(
        EVENTS.read_text(encoding="utf-8") + "".join(json.dumps(f) + "\n" for f in future), encoding="utf-8"
    )
    received = "2025-01-01T00:00:00+00:00"
    out = tmp_path / "o.json"
    code, output = run(events, "--received-at", received, "--sort-run", sort_run, "--json", out)
    assert code == 0, output
    got = [a["id"] for a in json.loads(out.read_text())["alerts"]]
    _loaded, rules = load_rules(["builtin:dprk_russia"])
    report = ReadReport()
    docs = list(iter_events([str(events)], report=report, gate=rules.json_gate))
    expected = replay(docs, Engine(rules), order="event-time", received_at=datetime(2025, 1, 1, tzinfo=UTC))
    data = json.loads(out.read_text())
    assert got == [d.id for d in expected.detections]
    assert any(e["event_id"] == "fut-0" for a in data["alerts"] for e in a["evidence"])
    # In canonical order nothing is revised: the clamped reports came in at their receive time, not at the end.
    assert data["stats"]["revisions"] == 0 and "raised" not in data


def test_an_edit_that_deletes_a_rule_is_scored_not_refused(tmp_path: Path) -> None:
    # Outside audit: with the shared label map naming the deleted rule, the comparison stopped at
    # "label_map.yaml:…: unknown rule 'troops-deployed'"; the deletion is what the gate is for.
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: troops-deployed")
    end = text.index("  - id: ", start + 1)
    without = tmp_path / "without.yaml"
    without.write_text(text[:start] + text[end:], encoding="utf-8")
    code, output, data = scored(
        tmp_path, "--rules", without, "--baseline-rules", "builtin:dprk_russia", "--fail-on-removed-true-positive"
    )
    assert code == 1, output  # the gate: true positives of the baseline are lost
    assert "lost true positive" in output and "(troops-deployed)" in output
    assert data["diff"]["removed"] and all(a["rule"] == "troops-deployed" for a in data["diff"]["removed"])


def test_a_missed_positive_says_what_kept_it_from_an_alert(tmp_path: Path) -> None:
    """Research-analyst audit (MEDIUM-3): a missed item was listed without why; the reason sat among the near
    misses, to be joined by hand. Labelled a deployment, the denial (sc-06) is missed for its modality."""
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nsc-04,TROOP_DEPLOYMENT_REPORT\nsc-06,TROOP_DEPLOYMENT_REPORT\n", encoding="utf-8")
    out = tmp_path / "o.json"
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--json", out)
    assert code == 0, output
    (missed,) = [e for e in json.loads(out.read_text())["scores"]["events"] if e["status"] == "fn"]
    assert missed["id"] == "sc-06" and missed["why"].startswith("modality: the signal is negated"), missed
    assert "missed sc-06 (TROOP_DEPLOYMENT_REPORT) for troops-deployed — modality: the signal is negated" in " ".join(
        output.split()
    )
    # The reason is kept for labelled items whatever --near-misses says (re-check N5: 0 dropped every reason).
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--json", out, "--near-misses", "0")
    (missed,) = [e for e in json.loads(out.read_text())["scores"]["events"] if e["status"] == "fn"]
    assert code == 0 and missed["why"].startswith("modality: the signal is negated"), missed


def test_a_missed_positive_never_gives_another_rules_reason_as_its_own(tmp_path: Path) -> None:
    """Outside trial 8 (M1): an item labelled for one rule whose only signal fed another rule (held back there by its
    realert) was said missed "realert: …" — the other rule's reason. It says the rule read no signal of it."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 2\nname: two-rules\n"
        "signals:\n  landing: {match: {any: [troops landed]}}\n  pact: {match: {any: [pact signed]}}\n"
        "detections:\n"
        "  - {id: landing-rule, title: Troops landed, severity: high, pattern: {any: landing}, realert: 1d}\n"
        "  - {id: pact-rule, title: Pact signed, severity: high, pattern: {any: pact}}\n",
        encoding="utf-8",
    )
    events = tmp_path / "events.jsonl"
    rows = [
        ("t-1", "09:00", "Troops landed on the island at dawn"),
        ("t-2", "10:00", "Troops landed again as the pact talks went on"),
    ]
    events.write_text(
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": i,
                    "published_at": f"2024-06-19T{at}:00+00:00",
                    "source": "Gazette",
                    "title": title,
                    "body": "",
                }
            )
            + "\n"
            for i, at, title in rows
        ),
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nt-1,LANDING\nt-2,PACT\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("LANDING: landing-rule\nPACT: pact-rule\n", encoding="utf-8")
    out = tmp_path / "out.json"
    code, output = run(events, "--rules", pack, "--labels", labels, "--label-map", mapping, "--json", out)
    assert code == 0, output
    (missed,) = [e for e in json.loads(out.read_text())["scores"]["events"] if e["status"] == "fn"]
    assert missed["rule"] == "pact-rule"
    assert missed["why"].startswith("no signal for pact-rule: the rules made none of this item that pact-rule reads"), (
        missed["why"]
    )
    assert "its signals went to landing-rule, realert:" in missed["why"]


def test_a_late_reports_revision_scores_in_log_order_as_in_event_time(tmp_path: Path) -> None:
    """Outside trial 32, H1: three reports of one deployment stamped at the same minute, read in two polls; the one
    with the smallest id comes in the second, so (live, and `--order log`) the alert raised on the first poll's is
    revised onto it. The reports the first alert told, and the one it held back, still stand: caught in log order as
    in event time (they were "missed … no signal" and "missed … realert": recall 1/3 against 3/3, same alert)."""
    docs = [
        ("dp-2", "Wire B", "North Korean troops have been deployed to Russia, officials said."),
        ("dp-3", "Wire C", "North Korean soldiers have been sent to Russia, an official said."),
        ("dp-1", "Wire A", "North Korean troops have been deployed to Russia, according to officials."),
    ]
    first, later = tmp_path / "first.jsonl", tmp_path / "later.jsonl"  # (two polls: two files, in this order)
    for path, part in ((first, docs[:2]), (later, docs[2:])):
        lines = [
            {"type": "news.article", "id": i, "published_at": "2024-10-18T09:00:00+00:00", "source": src, "title": t}
            for i, src, t in part
        ]
        path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\n" + "".join(f"{i},TROOP_DEPLOYMENT_REPORT\n" for i, _s, _t in docs), encoding="utf-8")
    recall = {}
    for order in ("event-time", "log"):
        out = tmp_path / f"{order}.json"
        code, output = run(first, later, "--labels", labels, "--label-map", MAP, "--order", order, "--json", out)
        assert code == 0, output
        data = json.loads(out.read_text())
        per = data["scores"]["per_rule"]["troops-deployed"]
        recall[order] = (per["tp"], per["fn"])
        assert "no signal" not in output, output
        if order == "log":  # the alert, then its revision
            assert [a.get("revises") is not None for a in data["raised"]] == [False, True], data["raised"]
    assert recall == {"event-time": (3, 0), "log": (3, 0)}, recall


def test_a_mis_spelt_label_is_warned_of_with_the_one_meant(tmp_path: Path) -> None:
    # Outside trial 32, M2: `pow_swap` for the pack's POW_SWAP scored its item as a negative (a true alert became a
    # false one) and nothing said so. A letter off is a warning (the file may hold other packs' labels, spelt close);
    # a difference of case alone is an error (below).
    labels = tmp_path / "labels.csv"
    text = LABELS.read_text(encoding="utf-8").replace("sc-05,TROOP_DEPLOYMENT_REPORT", "sc-05,TROOP_DEPLOYMENT_REPRT")
    assert text != LABELS.read_text(encoding="utf-8")
    labels.write_text(text, encoding="utf-8")
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP)
    assert code == 0, output
    said = " ".join(output.split())
    assert (
        f"{labels}:" in said
        and "no rule answers the label 'TROOP_DEPLOYMENT_REPRT' (did you mean TROOP_DEPLOYMENT_REPORT?)" in said
    ), said
    # a label no rule answers and none is spelt like: said once, with the others (not taken for a typo)
    assert "no rule answers the labels CONTEXT, TROOP_DEPLOYMENT_NONCONFIRMATION:" in said, said


def test_a_label_that_differs_only_in_case_or_dash_is_an_error_before_the_replay(tmp_path: Path) -> None:
    # Outside trial 53, LOW-4: `wagner_mutiny` for WAGNER_MUTINY was a warning with exit 0, and the scores (and a
    # --fail-under gate) went on with its items as negatives.
    labels = tmp_path / "labels.csv"
    original = LABELS.read_text(encoding="utf-8")
    text = original.replace("sc-05,TROOP_DEPLOYMENT_REPORT", "sc-05,troop_deployment_report")
    text = text.replace("sc-01,TREATY_SIGNED", "sc-01,TREATY-SIGNED")
    assert text.count("troop_deployment_report") == 1 and "TREATY-SIGNED" in text
    labels.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    line_05 = next(n for n, ln in enumerate(lines, 1) if ln.startswith("sc-05,"))
    line_01 = next(n for n, ln in enumerate(lines, 1) if ln.startswith("sc-01,"))
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--fail-under", "recall=0")
    said = " ".join(output.split())
    assert code == 1, output
    assert (
        f"{labels}:{line_05}: the label 'troop_deployment_report' differs from TROOP_DEPLOYMENT_REPORT, which a rule "
        "answers, only in case or '-'/'_'" in said
    ), said
    assert f"{labels}:{line_01}: the label 'TREATY-SIGNED' differs from TREATY_SIGNED" in said, said
    assert "documents," not in said  # nothing was replayed


def test_a_fail_under_rule_that_cannot_be_scored_fails_before_the_replay(tmp_path: Path) -> None:
    # Outside trial 32, L6: a misspelt rule in --fail-under was said only after the whole replay, with no hint.
    code, output = run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--fail-under", "troops-deployd:recall=1")
    said = " ".join(output.split())
    assert code == 1 and "no rule 'troops-deployd' in the packs (did you mean troops-deployed?)" in said, said
    assert "documents," not in said  # nothing was replayed
    # a rule of the packs that no label of the map answers: never scored, so never met
    code, output = run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--fail-under", "ratification-exchange:f1=0.5")
    said = " ".join(output.split())
    assert code == 1 and "no label maps to 'ratification-exchange'" in said and "documents," not in said, said
    code, output = run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--fail-under", "troops-deployed:recall=0.5")
    assert code == 0, output


def test_the_html_report_says_the_events_caught(tmp_path: Path) -> None:
    # Outside trial 32, M1: the terminal and JSON said "events: 2 of 3 caught", the figure a briefing quotes; the HTML
    # report said neither it nor the labels' events.
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "id,label,event\nsc-01,TREATY_SIGNED,the signing\nsc-04,TROOP_DEPLOYMENT_REPORT,first deployment report\n"
        "sc-05,TROOP_DEPLOYMENT_REPORT,first deployment report\nsc-10,COMBAT_REPORT_KURSK,combat in Kursk\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.html"
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--html", report)
    assert code == 0, output
    terminal = re.search(r"events: (\d+) of (\d+) caught", output)
    assert terminal is not None, output
    html = report.read_text(encoding="utf-8")
    assert f"Events: {terminal[1]} of {terminal[2]} caught" in html
    rows = re.findall(r"<tr data-rule=\"([^\"]+)\"><td>([^<]+)</td>.*?<td class=\"(tp|fn)\">", html)
    assert ("troops-deployed", "first deployment report", "tp") in rows, rows
    assert ("troop-engagement", "combat in Kursk", "fn") in rows, rows
    assert ("treaty-signed", "the signing", "tp") in rows, rows


def test_a_count_rules_miss_says_its_count_though_another_rules_alert_cites_the_report(tmp_path: Path) -> None:
    # Outside trial 32, L1: a lone report that a `count` rule (2 documents) could not take, but an `any` rule of the
    # same signal alerted on, was "missed … its signals went to an alert of <the other rule>", not "1 of 2".
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        """version: 2
name: strikes
language: en
signals:
  port_strike:
    match: {all: [{any: [dockworkers]}, {any: [strike]}]}
detections:
  - id: port-strike
    title: "Port strike"
    severity: medium
    labels: [PORT_STRIKE]
    pattern: {any: port_strike}
  - id: port-strike-spreads
    title: "Port strikes spread"
    severity: high
    labels: [PORT_STRIKE]
    pattern: {count: {signal: port_strike, at_least: 2, distinct: document}}
    within: 2d
""",
        encoding="utf-8",
    )
    events = tmp_path / "events.jsonl"
    doc = {"type": "news.article", "id": "ps-1", "published_at": "2024-03-01T08:00:00+00:00", "source": "Quay Post",
           "title": "Dockworkers at the northern harbour begin a strike over pay"}  # fmt: skip
    events.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nps-1,PORT_STRIKE\n", encoding="utf-8")
    code, output = run(events, "--rules", pack, "--labels", labels)
    said = " ".join(output.split())
    assert code == 0, said
    assert "missed ps-1 (PORT_STRIKE) for port-strike-spreads — count: 1 of 2 distinct documents within 2d" in said, (
        said
    )


def test_a_labels_group_column_counts_only_an_alert_about_that_party(tmp_path: Path) -> None:
    """Outside trial 61, M4: the labels could not say whose story an item is, so an alert naming the wrong country
    ("Ukraine quit the grain deal" on a report of Russia quitting) scored as a true alert and its event as caught.
    A `group` cell (a timeline's syntax) counts only an alert that carries it."""
    text = LABELS.read_text(encoding="utf-8")
    right = tmp_path / "right.csv"
    right.write_text(
        text.replace("id,label,time,note", "id,label,time,note,group").replace(
            "sc-03,TREATY_RATIFICATION_DUMA,2024-10-24T07:30:00+00:00,the vote came half an hour before the report",
            "sc-03,TREATY_RATIFICATION_DUMA,2024-10-24T07:30:00+00:00,the Duma's vote,party=RUS",
        ),
        encoding="utf-8",
    )
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(right.read_text(encoding="utf-8").replace("party=RUS", "party=PRK"), encoding="utf-8")
    bare = tmp_path / "bare.csv"
    bare.write_text(right.read_text(encoding="utf-8").replace("party=RUS", "Russia"), encoding="utf-8")
    per = {}
    for name, labels in (("plain", LABELS), ("right", right), ("wrong", wrong), ("bare", bare)):
        out = tmp_path / f"{name}.json"
        code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--json", out)
        assert code == 0, output
        s = json.loads(out.read_text())["scores"]
        per[name] = (s["per_rule"]["treaty-ratified"]["tp"], s["per_rule"]["treaty-ratified"]["fn"])
        per[name + " sc-03"] = next(e["status"] for e in s["events"] if e["id"] == "sc-03")
    assert per["right"] == per["plain"] == per["bare"] and per["right sc-03"] == "tp", per
    # The alert about Russia's ratification does not catch a report labelled as North Korea's.
    assert per["wrong sc-03"] == "fn" and per["wrong"][0] == per["plain"][0] - 1, per
    # ...and every view says why: the group, not "no signal" nor the label map (outside trial 63, HIGH-1/2, MED-1).
    s = json.loads((tmp_path / "wrong.json").read_text())["scores"]
    missed = next(e for e in s["events"] if e["id"] == "sc-03")
    assert missed["group"] == "party=PRK", missed
    assert missed["why"].startswith("no alert of treaty-ratified carries party=PRK: "), missed
    assert missed["why"].endswith("(party=RUS) cites it in vain (the labels' group, line 4)"), missed
    [false] = [v for v in s["verdicts"] if v.get("labelled_for_another_group")]
    assert false["verdict"] == "false" and false["labelled_for_another_group"] == [
        {"id": "sc-03", "group": "party=PRK"}
    ]
    code, output = run(EVENTS, "--labels", wrong, "--label-map", MAP)
    flat = " ".join(output.split())
    assert (
        "its report labelled for treaty-ratified as the story of party=PRK (the labels' group), and this alert "
        "carries party=RUS" in flat
    ), flat
    assert "none for treaty-ratified" not in flat


def test_a_labels_group_naming_what_no_alert_can_carry_is_an_error_at_its_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label,group\nsc-03,TREATY_RATIFICATION_DUMA,prty=RUS\nsc-04,NONE,\n", encoding="utf-8")
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP)
    assert code != 0
    flat = " ".join(output.split())
    assert f"{labels}:2: column 'group': the alerts of treaty-ratified carry no 'prty'" in flat, output


def test_a_repeat_held_back_by_an_alert_about_another_place_says_the_group_is_why_it_is_not_covered(
    tmp_path: Path,
) -> None:
    """Outside trial 63, HIGH-1's second case: a report held back by a realert is covered by the alert that held it,
    unless the labels' group says it is another story; then its `why` said only the realert."""
    text = LABELS.read_text(encoding="utf-8").replace("id,label,time,note", "id,label,time,note,group")
    text = text.replace(
        "sc-05,TROOP_DEPLOYMENT_REPORT,,a second outlet half an hour later",
        "sc-05,TROOP_DEPLOYMENT_REPORT,,a second outlet half an hour later,place=DONBAS",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text(text, encoding="utf-8")
    out = tmp_path / "o.json"
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--json", out)
    assert code == 0, output
    missed = next(e for e in json.loads(out.read_text())["scores"]["events"] if e["id"] == "sc-05")
    assert missed["status"] == "fn" and missed["why"].startswith("realert: "), missed
    assert "does not carry place=DONBAS (the labels' group), so it does not cover it" in missed["why"], missed


def test_a_misspelt_group_name_on_a_negative_row_is_an_error_too(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label,group\nsc-03,TREATY_RATIFICATION_DUMA,\nsc-07,NONE,prty=XYZ\n", encoding="utf-8")
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP)
    flat = " ".join(output.split())
    assert code != 0 and f"{labels}:3: column 'group': no rule's alerts carry 'prty'" in flat, output


def test_the_labels_group_and_the_false_alerts_reason_are_in_the_csv_and_the_report_as_in_the_json(
    tmp_path: Path,
) -> None:
    """Outside trial 63: the JSON gave a missed item's `group` and a false alert's reason, but labels.csv had no
    `group` column, the report's missed list no group and its false alert a bare badge (MED-1, HIGH-2 there); and
    labels.csv's `cited_by` was in no JSON (LOW-2), where the docs say the CSV is the JSON's cell for cell."""
    text = LABELS.read_text(encoding="utf-8").replace("id,label,time,note", "id,label,time,note,group")
    text = text.replace(
        "sc-03,TREATY_RATIFICATION_DUMA,2024-10-24T07:30:00+00:00,the vote came half an hour before the report",
        "sc-03,TREATY_RATIFICATION_DUMA,2024-10-24T07:30:00+00:00,the Duma's vote,party=PRK",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text(text, encoding="utf-8")
    out, page, csv_dir = tmp_path / "o.json", tmp_path / "o.html", tmp_path / "csv"
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP, "--json", out, "--html", page, "--csv", csv_dir)
    assert code == 0, output
    s = json.loads(out.read_text())["scores"]
    [false] = [v for v in s["verdicts"] if v.get("labelled_for_another_group")]
    reason = (
        "its report labelled for treaty-ratified as the story of party=PRK (the labels' group), and this alert "
        "carries party=RUS"
    )
    assert false["why"] == reason, false
    html_text = page.read_text(encoding="utf-8")
    row = html_text[html_text.index(f'<tr id="{false["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert f"false alert: {reason.replace(chr(39), '&#x27;')}" in row, row
    missed = html_text[html_text.index("<h3>Missed") :]
    missed = missed[: missed.index("</ul>")]
    assert "sc-03" in missed and "labelled group <code>party=PRK</code>" in missed, missed
    with (csv_dir / "labels.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    [sc03] = [r for r in rows if r["id"] == "sc-03"]
    assert sc03["group"] == "party=PRK" and sc03["status"] == "fn", sc03
    assert all(r["group"] == "" for r in rows if r["id"] != "sc-03")
    by_pair = {(e["id"], e["rule"]): e for e in s["events"]}
    for r in rows:
        if r["positive"] == "true":
            assert r["cited_by"] == " ".join(by_pair[(r["id"], r["rule"])]["cited_by"]), r
    assert any(e["cited_by"] for e in s["events"]) and all("cited_by" in e for e in s["events"])
