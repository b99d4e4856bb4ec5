"""An alert resting on a report dated in the future fired when the report was received: `alerts list` and the status
page say so by its time, as Slack marks the report (trial 34, L2: the time was shown plainly)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.test_alert_reinstated import status_page_html
from watchfloor.cli import app

pytestmark = pytest.mark.functional

MARK = "(received: a report it rests on is dated in the future)"


class _Desk:
    def __init__(self, cfg: Path) -> None:
        self.cfg = cfg
        self.server = type("NoSlack", (), {"token": ""})()


def test_an_alert_on_a_report_dated_ahead_is_marked_in_the_list_and_on_the_page(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    reports = [
        {"type": "news.article", "id": "a", "published_at": (now - timedelta(minutes=20)).isoformat(),
         "source": "Kyiv Desk", "title": "North Korean troops killed in heavy fighting in Kursk, officials say"},
        {"type": "news.article", "id": "b", "published_at": "2099-06-01T09:00:00+00:00", "source": "Odd Wire",
         "title": "Dozens of North Korean troops killed in fighting in Kursk region, Ukrainian officials say"},
    ]  # fmt: skip
    inbox = tmp_path / "in.jsonl"
    inbox.write_text("".join(json.dumps(r) + "\n" for r in reports), encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {inbox}}}]\n"
        f"channels: [{{type: file, name: archive, path: {tmp_path / 'out.jsonl'}}}]\n"
        "subscriptions: [{channel: archive}]\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    listed = [
        json.loads(x)
        for x in runner.invoke(app, ["alerts", "list", "--json", "--config", str(cfg)]).stdout.splitlines()
    ]
    ahead = [d for d in listed if any(e["published_at"].startswith("2099") for e in d["evidence"])]
    plain = [d for d in listed if d not in ahead]
    assert ahead and plain, listed
    table = runner.invoke(app, ["alerts", "list", "--config", str(cfg)], env={"COLUMNS": "400"}).stdout
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.startswith("│")}
    for d in ahead:
        assert MARK in rows[d["id"]], table
    for d in plain:
        assert MARK not in rows[d["id"]], table
    page = status_page_html(_Desk(cfg))  # type: ignore[arg-type]
    for d in ahead:
        assert MARK in page.split(f'data-alert="{d["id"]}"')[1].split("</tr>")[0]
    for d in plain:
        assert MARK not in page.split(f'data-alert="{d["id"]}"')[1].split("</tr>")[0]
