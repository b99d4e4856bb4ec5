"""`backtest FILE --config` where the config names FILE as a source: its corroboration setting is applied as `run`
applies it (outside trial 23, M2-5: with `aggregator: false` on a JSON Lines inbox, the backtest showed a confirmed
HIGH alert that `run` never raised). Records written for this test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional


def record(i: str, at: str, outlet: str, title: str) -> str:
    item = {"type": "news.article", "id": i, "published_at": at, "source": outlet, "title": title}
    return json.dumps({**item, "body": title + ", officials said."}) + "\n"


def alerts_of_run(channel: Path) -> list[tuple[str, str]]:
    return [(r["detection"]["severity"], r["detection"]["confidence"]) for r in map(json.loads, channel.open())]


@pytest.mark.parametrize("aggregator", [False, True])
def test_a_file_the_config_names_counts_its_sources_as_run_does(tmp_path: Path, aggregator: bool) -> None:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(
        record("x1", "2024-12-17T18:00:00+00:00", "Outlet A", "North Korean troops killed in Kursk fighting")
        + record("x2", "2024-12-18T06:00:00+00:00", "Outlet B", "North Korean soldiers killed in Kursk"),
        encoding="utf-8",
    )
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {inbox}, aggregator: {str(aggregator).lower()}}}]\n"
        f"channels: [{{type: file, name: desk, path: {tmp_path / 'a.jsonl'}}}]\nsubscriptions: [{{channel: desk}}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "bt.json"
    res = CliRunner().invoke(app, ["backtest", str(inbox), "--config", str(cfg), "--json", str(out)])
    said = " ".join(res.output.split())
    assert res.exit_code == 0, said
    note = f"note: {inbox} is a source of the config with `aggregator: false`: its records count as one source"
    assert (note in said) is not aggregator, said  # the default (true) is what a file backtest does: no note
    backtest = [(a["severity"], a["confidence"]) for a in json.loads(out.read_text())["alerts"]]
    # Two outlets of one inbox: corroboration by two sources only when the inbox is an aggregator.
    expected = [("medium", "unconfirmed")] + ([("high", "confirmed")] if aggregator else [])
    assert backtest == expected
    ran = CliRunner().invoke(app, ["run", "--config", str(cfg), "--once"])
    assert ran.exit_code == 0, ran.output
    assert alerts_of_run(tmp_path / "a.jsonl") == expected  # the backtest is the run's
