"""backtest --expect, --baseline-rules and --json on every report an alert rests on, end to end: the
expectations file is loaded (with the loaded rule ids) before the replay, `event_id` matches a report an
alert rests on but does not show, the baseline run is scored on all its reports, and the JSON result
carries `evidence_total` and `evidence_ids`, so `--baseline RESULT.json` scores the same."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

from .test_backtest_scoring_audit import FLOOD_PACK

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS = DATA / "events.jsonl"
KEYDAYS_MAP = Path(__file__).resolve().parents[2] / "examples" / "keydays" / "label_map.yaml"
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output + (repr(res.exception) if res.exception and res.exit_code not in (0, 1, 2) else "")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text,message",
    [
        ("must_fire:\n  - rul: treaty-signed\n", ":2:5: unknown key 'rul'"),
        ("must_fire: [treaty-signed]\n", ":1:13: must_fire entry 'treaty-signed'"),
        ("must_fire:\n  - {rule: treaty-signed\n", ":3:1: YAML syntax"),
        ("must_fire:\n  - rule: no-such-rule\n", ":2:11: unknown rule 'no-such-rule' (loaded rules: "),
    ],
)
def test_a_wrong_expectations_file_fails_before_the_replay_naming_the_file_once(
    tmp_path: Path, text: str, message: str
) -> None:
    exp = _write(tmp_path / "expect.yaml", text)
    out = tmp_path / "out.json"
    code, output = run(EVENTS, "--expect", exp, "--json", out)
    flat = " ".join(output.split())
    assert code == 1 and f"error: {exp}{message}" in flat, output
    assert flat.count(str(exp)) == 1, output  # not 'FILE: FILE:2:5: ...'
    # before any work: nothing replayed, printed or written
    assert "documents," not in flat and "missing" not in flat and not out.exists(), output


@pytest.mark.data
def test_keydays_a_wrong_expectations_file_fails_before_the_replay(tmp_path: Path) -> None:
    d = Path(os.environ.get("WATCHFLOOR_DATA", "../shared/data")) / "dprk_russia_2024"
    if not (d / "keydays.jsonl").exists():
        pytest.skip("the key-day captures are not here (WATCHFLOOR_DATA)")
    exp = _write(tmp_path / "expect.yaml", "must_fire:\n  - rule: treaty-sigend\n")
    code, output = run(
        d / "keydays.jsonl", "--labels", d / "keydays.labels.csv", "--label-map", KEYDAYS_MAP, "--expect", exp
    )
    flat = " ".join(output.split())
    assert code == 1 and f"error: {exp}:2:11: unknown rule 'treaty-sigend'" in flat, output
    assert "documents," not in flat and "near miss" not in flat.lower(), output


def _flood(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """14 reports of a levee breach, 6 h apart; a count of 12 fires on the 12th and shows ten of the twelve
    (lv-01 and lv-02 are among the two it does not show)."""
    pack = _write(tmp_path / "pack.yaml", FLOOD_PACK)
    t0 = datetime(2025, 7, 1, 6, tzinfo=UTC)
    events = _write(
        tmp_path / "events.jsonl",
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": f"lv-{i:02d}",
                    "published_at": (t0 + timedelta(hours=6 * i)).isoformat(),
                    "source": f"Desk {i}",
                    "title": f"A levee breach flooded farmland near mile {i}",
                }
            )
            + "\n"
            for i in range(14)
        ),
    )
    labels = _write(tmp_path / "labels.csv", "id,label\nlv-01,BREACH\nlv-02,BREACH\n")
    label_map = _write(tmp_path / "map.yaml", "BREACH: breaches-widespread\n")
    return pack, events, labels, label_map


def test_event_id_matches_a_report_the_alert_rests_on_but_does_not_show(tmp_path: Path) -> None:
    pack, events, _labels, _map = _flood(tmp_path)
    out = tmp_path / "out.json"
    exp = _write(tmp_path / "fire.yaml", "must_fire:\n  - {rule: breaches-widespread, event_id: lv-01}\n")
    code, output = run(events, "--rules", pack, "--expect", exp, "--json", out)
    (alert,) = json.loads(out.read_text())["alerts"]
    assert "lv-01" not in {e["event_id"] for e in alert["evidence"]}  # shown: ten of the twelve
    assert code == 0 and "expectations met" in output, output
    exp = _write(tmp_path / "not.yaml", "must_not_fire:\n  - {event_id: lv-02}\n")
    code, output = run(events, "--rules", pack, "--expect", exp)
    assert code == 1 and 'unexpected {"event_id": "lv-02"}' in " ".join(output.split()), output


def test_the_json_result_keeps_every_report_and_a_baseline_run_is_scored_on_them(tmp_path: Path) -> None:
    pack, events, labels, label_map = _flood(tmp_path)
    truth = ("--labels", labels, "--label-map", label_map)
    out = tmp_path / "out.json"
    code, output = run(events, "--rules", pack, *truth, "--json", out)
    assert code == 0, output
    (alert,) = json.loads(out.read_text())["alerts"]
    assert alert["evidence_total"] == 12 and len(alert["evidence"]) == 10
    assert alert["evidence_ids"] == [f"lv-{i:02d}" for i in range(12)]

    # --baseline-rules: the baseline run is scored on all its reports too (was tp 0, fn 2)
    both = tmp_path / "both.json"
    code, output = run(events, "--rules", pack, "--baseline-rules", pack, *truth, "--json", both)
    assert code == 0, output
    data = json.loads(both.read_text())
    base = data["baseline"]["scores"]["per_rule"]["breaches-widespread"]
    assert (base["tp"], base["fp"], base["fn"]) == (2, 0, 0)
    assert data["diff"]["scores"]["lost_true_positives"] == [] and data["diff"]["unchanged"] == 1

    # --baseline RESULT.json reads them back: the same scores as the run that wrote it
    again = tmp_path / "again.json"
    code, output = run(events, "--rules", pack, "--baseline", out, *truth, "--json", again)
    assert code == 0, output
    data = json.loads(again.read_text())
    base = data["baseline"]["scores"]["per_rule"]["breaches-widespread"]
    assert (base["tp"], base["fp"], base["fn"]) == (2, 0, 0)
    assert data["diff"]["scores"]["lost_true_positives"] == []


def test_an_alert_showing_all_its_reports_has_no_evidence_ids(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code, output = run(EVENTS, "--json", out)
    assert code == 0, output
    alerts = json.loads(out.read_text())["alerts"]
    assert alerts and all(a["evidence_total"] == len(a["evidence"]) for a in alerts)
    assert not any("evidence_ids" in a for a in alerts)


def test_a_forbidding_entry_that_can_never_match_fails_the_run(tmp_path: Path) -> None:
    """Research-analyst audit (HIGH-3): each of these forbade an alert that fired, and passed as "expectations
    met". A misspelt group name fails before the replay; an entity's name matches its id; an event id not among
    the replayed documents fails after it, by the same tap that finds labelled documents."""
    exp = _write(tmp_path / "typo.yaml", "must_not_fire:\n  - {rule: treaty-ratified, group: {prty: RUS}}\n")
    code, output = run(EVENTS, "--expect", exp)
    assert code == 1 and ":2:37: group: treaty-ratified's alerts carry no 'prty'" in output, output
    exp = _write(tmp_path / "name.yaml", "must_not_fire:\n  - {rule: treaty-ratified, group: {party: Russia}}\n")
    code, output = run(EVENTS, "--expect", exp)
    assert code == 1 and 'unexpected {"rule": "treaty-ratified", "group": {"party": "Russia"}}' in output, output
    exp = _write(tmp_path / "id.yaml", "must_not_fire:\n  - {event_id: 'sc-01 '}\n")
    code, output = run(EVENTS, "--expect", exp)
    assert code == 1 and "never matches" in output and "'sc-01 ' is not among the replayed documents" in output


def test_an_expectation_not_met_is_printed_as_written(tmp_path: Path) -> None:
    """Outside trial 7 (L7): `{party: КНДР}` came back as `\\u041a\\u041d\\u0414\\u0420`."""
    story = Path(__file__).resolve().parents[1] / "data" / "events" / "treaty_story.jsonl"
    expect = tmp_path / "expect.yaml"
    expect.write_text("must_not_fire:\n  - {rule: treaty-ratified, group: {party: КНДР}}\n", encoding="utf-8")
    code, output = run(story, "--rules", "builtin:dprk_russia", "--expect", expect)
    assert code == 1, output
    assert '{"rule": "treaty-ratified", "group": {"party": "КНДР"}}' in output and "\\u" not in output, output


def test_event_id_may_name_a_report_without_id_by_its_url_as_labels_do(tmp_path: Path) -> None:
    """Outside trial 20, H1: inputs without `id` are named by their `url` (as `--labels` accepts them); an entry
    naming such a report by its URL matched no alert, so `must_not_fire` passed while an alert rested on it."""
    pack, events, _labels, _map = _flood(tmp_path)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    for ev in lines:
        ev["url"] = f"https://desk.example/levee/{ev.pop('id')}"
    events.write_text("".join(json.dumps(ev) + "\n" for ev in lines), encoding="utf-8")
    url = "https://desk.example/levee/lv-03"
    exp = _write(tmp_path / "not.yaml", f"must_not_fire:\n  - {{rule: breaches-widespread, event_id: '{url}'}}\n")
    code, output = run(events, "--rules", pack, "--expect", exp)
    assert code == 1 and f'unexpected {{"rule": "breaches-widespread", "event_id": "{url}"}}' in " ".join(
        output.split()
    ), output
    exp = _write(tmp_path / "fire.yaml", f"must_fire:\n  - {{rule: breaches-widespread, event_id: '{url}'}}\n")
    code, output = run(events, "--rules", pack, "--expect", exp)
    assert code == 0 and "expectations met" in output, output
