"""`watchfloor backtest --csv DIR`: alerts, labelled items, scores and the baseline diff as CSV files that agree
cell for cell with `--json`; UTF-8 with a BOM for Excel, CRLF rows, formula-like text neutralised, an unusable
DIR refused before the replay."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.report_csv import FORMULA_STARTS, cell

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS, LABELS, MAP = (DATA / n for n in ("events.jsonl", "labels.csv", "label_map.yaml"))
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert raw.count(b"\r\n") == raw.count(b"\n")  # RFC 4180 rows end in CRLF
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def plain(text: str) -> str:
    """A cell as the JSON has it: without the quote that neutralised a formula-like start."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def num(text: str) -> float | None:
    return float(text) if text else None


def same_time(csv_text: str, json_text: str | None) -> bool:
    if json_text is None:
        return csv_text == ""
    return csv_text.endswith("+00:00") and datetime.fromisoformat(csv_text) == datetime.fromisoformat(json_text)


def stricter_pack(tmp_path: Path) -> Path:
    """The bundled pack with a band taken for no deployment: the false alert goes (a diff with a removed alert)."""
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    old = 'none: ["to fight in ukraine if",'
    assert text.count(old) == 1
    p = tmp_path / "stricter.yaml"
    p.write_text(text.replace(old, 'none: [band, "to fight in ukraine if",'), encoding="utf-8")
    return p


def test_every_csv_row_agrees_with_the_json_result(tmp_path: Path) -> None:
    out, target = tmp_path / "out.json", tmp_path / "csv"
    code, output = run(
        EVENTS, "--labels", LABELS, "--label-map", MAP, "--json", out, "--csv", target, "--baseline-rules",
        stricter_pack(tmp_path),
    )  # fmt: skip
    assert code == 0, output
    data = json.loads(out.read_text())
    assert sorted(p.name for p in target.iterdir()) == ["alerts.csv", "diff.csv", "labels.csv", "scores.csv"]
    s = data["scores"]

    # alerts.csv: one row per alert that stands, in the JSON's order, with the verdict the scores gave it.
    alerts = read(target / "alerts.csv")
    assert list(alerts[0]) == [
        "alert_id", "rule", "title", "severity", "confidence", "group", "attributes", "fired_at", "evidence_total",
        "first_event_id", "first_url", "first_source", "first_published_at", "verdict", "positives", "lead_time_s",
    ]  # fmt: skip
    assert [r["alert_id"] for r in alerts] == [a["id"] for a in data["alerts"]]
    verdicts = {v["id"]: v for v in s["verdicts"]}
    events = {(e["id"], e["rule"]): e for e in s["events"]}
    for row, a in zip(alerts, data["alerts"], strict=True):
        first = a["evidence"][0]
        assert (row["rule"], plain(row["title"]), row["severity"]) == (a["rule"], a["title"], a["severity"])
        assert row["confidence"] == (a["confidence"] or "")
        assert row["group"] == ";".join(f"{k}={v}" for k, v in sorted(a["group"].items()))
        assert same_time(row["fired_at"], a["fired_at"]) and int(row["evidence_total"]) == a["evidence_total"]
        assert (row["first_event_id"], plain(row["first_url"]), plain(row["first_source"])) == (
            first["event_id"], first["url"], first["source"],
        )  # fmt: skip
        assert same_time(row["first_published_at"], first["published_at"])
        assert row["verdict"] == verdicts[a["id"]]["verdict"]
        assert (row["verdict"] == "false") == (a["id"] in s["false_positives"])
        assert row["positives"].split() == [events[p, a["rule"]]["label_key"] for p in verdicts[a["id"]]["positives"]]
        caught = [e for e in s["events"] if e["alert"] == a["id"] and e["status"] == "tp"]
        assert num(row["lead_time_s"]) == (max(e["lead_time_s"] for e in caught) if caught else None)
    assert sorted(r["verdict"] for r in alerts) == ["false", "true", "true", "true", "true", "true"]
    # An article's javascript: URL is kept as text: the CSV has no links to neutralise, only formulas.
    assert "javascript:alert(document.cookie)" in {r["first_url"] for r in alerts}

    # labels.csv: a row per scored (positive, rule), as scores.events has it, and one per other labelled item.
    labels = read(target / "labels.csv")
    positives = [r for r in labels if r["positive"] == "true"]
    assert len(positives) == len(s["events"]) == 7
    for row in positives:
        e = events[row["id"], row["rule"]]
        assert (row["label_key"], row["status"], row["time_from"]) == (e["label_key"], e["status"], e["time_from"])
        assert row["rule_labels"].split(";") == e["labels"]
        assert row["alert"] == (e["alert"] or "") and num(row["lead_time_s"]) == e["lead_time_s"]
        assert same_time(row["time"], e["time"]) and same_time(row["fired_at"], e["fired_at"])
        assert row["why"] == e.get("why", "")
        assert row["cited_by"].split() == [
            v["id"] for v in s["verdicts"] if v["rule"] == e["rule"] and e["id"] in v["positives"]
        ]
    assert {r["id"]: r["status"] for r in positives}["sc-05"] == "covered"
    assert "no signal" in {r["id"]: r["why"] for r in positives}["sc-10"]
    others = {r["id"]: r["labels"] for r in labels if r["positive"] == "false"}
    assert others == {"sc-02": "CONTEXT", "sc-06": "TROOP_DEPLOYMENT_NONCONFIRMATION", "sc-07": "", "sc-08": ""}
    assert [r["id"] for r in labels] == sorted(r["id"] for r in labels)  # the labels file's order

    # scores.csv: per rule and overall, this run's and the baseline's, the numbers of the JSON.
    scores = read(target / "scores.csv")
    for run_name, js in (("current", s), ("baseline", data["baseline"]["scores"])):
        rows = {r["rule"] or "overall": r for r in scores if r["run"] == run_name}
        assert set(rows) == {*js["per_rule"], "overall"}
        for name, row in rows.items():
            c = js["overall"] if name == "overall" else js["per_rule"][name]
            assert row["scope"] == ("overall" if name == "overall" else "rule")
            for k in ("tp", "fp", "fn", "covered", "alerts", "positives", "true_alerts", "repeat_alerts", "events"):
                assert int(row[k]) == c[k], (name, k)
            for k in ("precision", "recall", "f1", "event_recall"):
                assert num(row[k]) == c[k], (name, k)
            lead = c["lead_time_s"] or {}
            assert [num(row[f"lead_time_{k}_s"]) for k in ("min", "median", "max")] == [
                lead.get(k) for k in ("min", "median", "max")
            ]
    assert num(next(r for r in scores if r["run"] == "current" and r["scope"] == "overall")["precision"]) == 5 / 6

    # diff.csv: the false alert the stricter baseline does not raise is "added" in this run.
    diff = read(target / "diff.csv")
    assert [(r["change"], r["alert_after"]) for r in diff] == [
        *(("added", a["id"]) for a in data["diff"]["added"]),
        *(("removed", "") for _ in data["diff"]["removed"]),
        *(("changed", c["after"]["id"]) for c in data["diff"]["changed"]),
    ]
    assert [r["alert_after"] for r in diff if r["change"] == "added"] == s["false_positives"]
    # ...and each side's verdict, as the JSON gives it (outside trial 63, MED-3: in no CSV before)
    assert [r["verdict_after"] for r in diff if r["change"] == "added"] == ["false"] * len(s["false_positives"])
    assert [(r["verdict_before"], r["verdict_after"]) for r in diff] == [
        *(("", a.get("verdict", "")) for a in data["diff"]["added"]),
        *((b.get("verdict", ""), "") for b in data["diff"]["removed"]),
        *((c["before"].get("verdict", ""), c["after"].get("verdict", "")) for c in data["diff"]["changed"]),
    ]


def test_without_labels_alerts_only_and_a_previous_runs_files_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "csv"
    assert run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--csv", target)[0] == 0
    assert (target / "labels.csv").exists() and (target / "scores.csv").exists()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    code, output = run(EVENTS, "--csv", target)
    assert code == 0, output
    # No labels: no verdict columns, and no labels.csv or scores.csv of the run before to mistake for this one's.
    assert sorted(p.name for p in target.iterdir()) == ["alerts.csv", "notes.txt"]
    rows = read(target / "alerts.csv")
    assert len(rows) == 6 and "verdict" not in rows[0]


def test_formula_like_text_from_articles_and_rules_is_neutralised(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        """\
version: 1
name: formulas
entities:
  RIV: {name: "=Riverton", kind: place, aliases: [Riverton]}
signals:
  flood:
    match: {any: [flood]}
    capture:
      city: {entities: [RIV], role: any}  # (the place flooded, not an actor: "reaches Riverton" has it as object)
detections:
  - id: flood-warning
    title: "+{city} flooded"
    severity: high
    pattern: {any: flood}
    group_by: [source]
""",
        encoding="utf-8",
    )
    events = tmp_path / "e.jsonl"
    doc = {
        "type": "news.article",
        "id": "@doc-1",
        "published_at": "2025-04-01T08:00:00+00:00",
        "source": "-Wire A",
        "url": "https://x.example/1?q=1,2",
        "title": "A flood reaches Riverton",
        "body": "",
    }
    events.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    target = tmp_path / "csv"
    code, output = run(events, "--rules", pack, "--csv", target, "--received-at", "2025-05-01T00:00:00Z")
    assert code == 0, output
    (row,) = read(target / "alerts.csv")
    # The rule's title and the article's id and source get the quote; a group value follows its name in its cell
    # (`source=-Wire A`), never at its start.
    assert row["title"] == "'+=Riverton flooded", row
    assert (row["first_event_id"], row["first_source"]) == ("'@doc-1", "'-Wire A")
    assert row["group"] == "source=-Wire A", row
    assert row["first_url"] == "https://x.example/1?q=1,2"  # a comma inside a cell is quoted, not a new cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_like_a_formula_gets_a_quote_numbers_do_not(start: str) -> None:
    assert cell(f'{start}HYPERLINK("http://evil")') == f'\'{start}HYPERLINK("http://evil")'
    assert cell("a=1") == "a=1" and cell(-1800.0) == -1800.0 and cell(None) == "" and cell(True) == "true"


def test_an_unusable_csv_dir_is_refused_in_one_line_before_the_replay(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    for target, problem in (
        (a_file, "not a directory"),
        (tmp_path / "no" / "csv", f"no such directory {tmp_path / 'no'}"),
    ):
        code, output = run(EVENTS, "--json", out, "--csv", target)
        assert code == 1
        assert output.strip() == f"error: --csv {target}: {problem}", output
        assert not out.exists()  # refused before the replay: nothing written


def test_the_timeline_has_a_csv_of_its_own_that_agrees_with_the_json(tmp_path: Path) -> None:
    # The expected events of --timeline were in no CSV: scores.csv's event columns count the labels' `event`
    # column, so a spreadsheet said nothing of the timeline's misses the terminal lists.
    target, out = tmp_path / "csv", tmp_path / "r.json"
    timeline = DATA / "timeline.csv"
    code, output = run(
        EVENTS, "--labels", LABELS, "--label-map", MAP, "--timeline", timeline, "--json", out, "--csv", target
    )
    assert code == 0, output
    expected = json.loads(out.read_text(encoding="utf-8"))["scores"]["timeline"]
    rows = read(target / "timeline.csv")
    assert [r["status"] for r in rows] == [t["status"] for t in expected] and "missed" in {r["status"] for r in rows}
    for r, t in zip(rows, expected, strict=True):
        assert (r["event"], r["rule"], r["alert"]) == (t["event"], t["rule"], t["alert"] or "")
        assert same_time(r["time"], t["time"]) and same_time(r["fired_at"], t["fired_at"])
        assert num(r["lead_time_s"]) == t["lead_time_s"]
        assert r["false_alert"] == ("true" if t.get("false_alert") else "false")
    # A run without the timeline removes the file, as it does the others'.
    assert run(EVENTS, "--labels", LABELS, "--label-map", MAP, "--csv", target)[0] == 0
    assert not (target / "timeline.csv").exists()
