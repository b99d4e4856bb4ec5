"""The command line as a user meets it: exit codes, FILE:LINE:COL errors, backtest outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.watchfloor_process import WatchfloorProcess, command_env
from watchfloor.cli import app

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
runner = CliRunner()

GOOD_PACK = """\
version: 1
name: mini
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closure:
    match: {all: [closed, border]}
    mentions: {any: [ALPHA]}
detections:
  - id: border-closed
    title: border closed
    pattern: {any: closure}
    examples:
      - documents:
          - {type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
             title: "Alphaland closed the border"}
"""


def write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_rules_check_bundled_ok() -> None:
    res = runner.invoke(app, ["rules", "check", "builtin:dprk_russia"])
    assert res.exit_code == 0, res.output
    assert "6 detections" in res.output


def test_rules_test_bundled_examples_pass() -> None:
    res = runner.invoke(app, ["rules", "test", "builtin:dprk_russia"])
    assert res.exit_code == 0, res.output
    assert "0 failed" in res.output


@pytest.mark.parametrize(
    ("old", "new", "line", "col", "message"),
    [
        ("    pattern: {any: closure}", "    pattern: {any: closure}\n    colour: red", 13, 5, "unknown key 'colour'"),
        ("    title: border closed", "    title: border closed\n    realert: soon", 12, 14, "bad duration 'soon'"),
        ("pattern: {any: closure}", "pattern: {any: nosuch}", 12, 20, "unknown signal 'nosuch'"),
        ("mentions: {any: [ALPHA]}", "mentions: {any: [OMEGA]}", 8, 22, "unknown entity 'OMEGA'"),
        ("match: {all: [closed, border]}", 'match: {regex: "(a)\\\\1"}', 7, 20, "not a linear-time (RE2)"),
        ("match: {all: [closed, border]}", "match: {every: [closed]}", 7, 13, "unknown key 'every'"),
        ("name: mini", "name: mini\nname: again", 3, 1, 'duplicate key "name"'),
    ],
)
def test_rules_check_reports_file_line_col(
    tmp_path: Path, old: str, new: str, line: int, col: int, message: str
) -> None:
    assert old in GOOD_PACK
    p = write(tmp_path, GOOD_PACK.replace(old, new))
    res = runner.invoke(app, ["rules", "check", str(p)])
    assert res.exit_code == 1, res.output
    first = res.output.strip().splitlines()[0]
    assert first.startswith(f"{p}:{line}:{col}: "), first
    assert message in first


def test_rules_test_reports_failing_example(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD_PACK.replace("Alphaland closed the border", "Alphaland opened the border"))
    res = runner.invoke(app, ["rules", "test", str(p)])
    assert res.exit_code == 1
    assert "FAIL border-closed" in res.output


def test_backtest_json_html_and_expectations(tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "alerts.json", tmp_path / "report.html"
    res = runner.invoke(
        app,
        [
            "backtest",
            str(EVENTS / "treaty_story.jsonl"),
            "--rules",
            "builtin:dprk_russia",
            "--json",
            str(out_json),
            "--html",
            str(out_html),
            "--expect",
            str(EVENTS / "treaty_story.expect.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out_json.read_text())
    rules = sorted({a["rule"] for a in data["alerts"]})
    assert rules == sorted(
        [
            "treaty-signed",
            "treaty-ratified",
            "treaty-ratified-by-both",
            "troops-deployed",
            "ratification-exchange",
            "troop-engagement",
        ]
    )
    alert = data["alerts"][0]
    assert set(alert) >= {"rule", "fired_at", "group", "severity", "evidence"}
    assert set(alert["evidence"][0]) >= {"event_id", "source", "url", "published_at", "sentence"}
    html = out_html.read_text()
    assert "<svg" in html and "treaty-ratified-by-both" in html


def test_backtest_unmet_expectation_exits_1(tmp_path: Path) -> None:
    exp = write(tmp_path, json.dumps({"must_fire": [{"rule": "treaty-ratified", "severity": "critical"}]}), "exp.json")
    res = runner.invoke(app, ["backtest", str(EVENTS / "treaty_story.jsonl"), "--expect", str(exp)])
    assert res.exit_code == 1
    assert "missing" in res.output


def test_backtest_keeps_good_records_around_bad_ones(tmp_path: Path) -> None:
    out_json = tmp_path / "a.json"
    res = runner.invoke(app, ["backtest", str(EVENTS / "with_errors.jsonl"), "--json", str(out_json)])
    assert res.exit_code == 0, res.output
    data = json.loads(out_json.read_text())
    assert data["stats"]["documents"] == 2
    assert [d["line"] for d in data["dead_letters"]] == [2, 3, 4]
    assert {a["rule"] for a in data["alerts"]} == {"treaty-ratified", "troops-deployed"}


def test_ingest_reports_dead_letters_with_lines_and_is_idempotent(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    res = runner.invoke(app, ["ingest", str(EVENTS / "with_errors.jsonl"), "--store", store])
    assert res.exit_code == 0, res.output
    assert "2 new documents" in res.output
    assert "with_errors.jsonl:2" in res.output and "offset" in res.output
    assert "with_errors.jsonl:3" in res.output
    again = runner.invoke(app, ["ingest", str(EVENTS / "with_errors.jsonl"), "--store", store])
    assert "0 new documents, 2 already in the log" in again.output
    # The same bad lines are counted, not printed again (outside audit: every cron run re-printed them all).
    assert "3 dead letters (3 seen before, not shown again)" in again.output
    assert "with_errors.jsonl:2" not in again.output


def test_ingest_missing_file_exits_1(tmp_path: Path) -> None:
    res = runner.invoke(app, ["ingest", str(tmp_path / "nope.jsonl"), "--store", "memory://"])
    assert res.exit_code == 1
    assert "nope.jsonl" in res.output


def test_schemas_export(tmp_path: Path) -> None:
    res = runner.invoke(app, ["schemas", "export", str(tmp_path)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "rule-pack.schema.json" in names and "input-document.schema.json" in names
    schema = json.loads((tmp_path / "rule-pack.schema.json").read_text())
    assert "detections" in schema["properties"]


def test_run_once_with_config_then_alerts_list(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: file, name: file, path: alerts.jsonl}}
subscriptions:
  - {{channel: file, min_severity: high}}
""",
        "watchfloor.yaml",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    sent = [json.loads(x) for x in lines]
    assert sent and all(a["detection"]["severity"] in ("high", "critical") for a in sent)
    # A second run sends nothing again.
    res2 = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res2.exit_code == 0
    assert (tmp_path / "alerts.jsonl").read_text().splitlines() == lines
    listed = runner.invoke(app, ["alerts", "list", "--config", str(cfg), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(x) for x in listed.output.splitlines() if x.startswith("{")]
    assert len(rows) == 8
    assert any(r["deliveries"] == {"file": "sent"} for r in rows)


def test_live_run_keeps_the_heartbeat_that_health_reads(tmp_path: Path) -> None:
    """A docs walk: docs/architecture.md says long-running commands touch $WATCHFLOOR_HEARTBEAT every cycle, but
    `run` never did, so `watchfloor health` called a running pipeline dead (no heartbeat)."""
    cfg = write(
        tmp_path,
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        "watchfloor.yaml",
    )
    beat = tmp_path / "hb" / "beat"
    env = command_env(WATCHFLOOR_HEARTBEAT=str(beat))
    with WatchfloorProcess(["run", "--config", str(cfg), "--interval", "0.2"], tmp_path, env) as proc:
        deadline = time.monotonic() + 120  # a bound on a slow machine, not a measurement
        while not beat.exists() and proc.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert beat.exists(), f"no heartbeat at {beat} (run exited {proc.proc.poll()})"
        health = subprocess.run(
            [sys.executable, "-m", "watchfloor", "health", "--heartbeat", str(beat)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert health.returncode == 0 and "alive" in health.stdout, health.stdout + health.stderr


def test_config_errors_name_the_place(tmp_path: Path) -> None:
    cfg = write(tmp_path, "store: memory://\nchannels:\n  - {type: pager, name: x}\n", "bad.yaml")
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 1
    assert f"{cfg}:3:" in res.output


def test_usage_lines_name_arguments_in_capitals_without_braces() -> None:
    """Trial 6 L7: `ingest --help` said `Usage: … ingest [OPTIONS] {sources}...`. Every command's usage line
    names its arguments as command lines do: SOURCES... when required, [ALERT_IDS]... when not."""
    import re

    usages = {}
    for path in (["ingest"], ["alerts", "redeliver"], ["subscriptions", "add"], ["topics", "create"], ["backtest"]):
        res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        [usages[" ".join(path)]] = [" ".join(x.split()) for x in res.output.splitlines() if "Usage:" in x]
    assert usages["ingest"].endswith("ingest [OPTIONS] SOURCES..."), usages
    assert usages["alerts redeliver"].endswith("alerts redeliver [OPTIONS] [ALERT_IDS]..."), usages
    assert usages["subscriptions add"].endswith("subscriptions add [OPTIONS] CHANNEL"), usages
    assert not any(re.search(r"[{}]", u) for u in usages.values()), usages
