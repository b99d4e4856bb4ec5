"""`backtest builtin:samples/…` replays the bundled files as `run` reads a config's `builtin:` sources, with the same
alert ids (trial 36, LOW-4: refused, "JSON Lines file not found: builtin:…" and "unsupported URL scheme 'builtin'").
The ids depend on where a feed is: a feed entry with a bare guid has its feed's location in its document id, so a
backtest must read the file at the path `run` resolves the spelling to, not another spelling of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional
runner = CliRunner()

SOURCES = ["builtin:samples/dprk_russia_2024.jsonl", "builtin:samples/wire_feed.xml"]


def test_backtest_of_builtin_sources_gives_the_ids_run_gives(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {SOURCES[0]}}}\n  - {{kind: rss, url: {SOURCES[1]}}}\n"
        f"channels: [{{type: file, name: desk, path: {tmp_path / 'alerts.jsonl'}}}]\n"
        "subscriptions: [{channel: desk}]\n",
        encoding="utf-8",
    )
    env = {"WATCHFLOOR_STORE": ""}
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["alerts", "list", "--all", "--json", "--config", str(cfg)], env=env)
    assert res.exit_code == 0, res.output
    every = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    live = sorted({d["id"] for d in every if d.get("standing") is None})  # docs/backtest.md's jq filter
    # Of both sources: the feed's alerts are among them (a bare guid: their ids hold the feed's location).
    assert len(live) > 1 and any(e["url"] and "meridian" in e["url"] for d in every for e in d["evidence"])
    for extra in ([], ["--config", str(cfg)]):
        out = tmp_path / "bt.json"
        res = runner.invoke(app, ["backtest", *SOURCES, "--json", str(out), *extra], env=env)
        assert res.exit_code == 0, res.output
        assert "not found" not in res.output and "unsupported URL scheme" not in res.output, res.output
        backtest = sorted(a["id"] for a in json.loads(out.read_text(encoding="utf-8"))["alerts"])
        assert backtest == live, (extra, backtest, live)
