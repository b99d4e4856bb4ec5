"""What the command line prints is the text as written: errors are never read as Rich markup, and a feed's bad
entry (no line number) is named without a ":None"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional

DATA = Path(__file__).resolve().parents[1] / "data"
runner = CliRunner()

UNDATED_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Wire [test]</title><link>https://example.org/</link>
<item><link>https://example.org/a</link><pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item>
<item><title>Dated</title><link>https://example.org/b</link><pubDate>Mon, 04 Nov 2024 10:00:00 GMT</pubDate>
<description>Russia ratified the treaty.</description></item>
</channel></rss>
"""


def test_an_error_naming_brackets_shows_them() -> None:
    # The bundled pack declares no `labels:`, so the labels need a map; the error says how one is written.
    res = runner.invoke(
        app,
        ["backtest", str(DATA / "eventtime" / "keydays.jsonl"), "--labels", str(DATA / "scoring" / "labels.csv"),
         "--rules", "builtin:dprk_russia"],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "Give --label-map MAP.yaml (LABEL: [rule-id])" in " ".join(res.output.split()), res.output


def test_what_a_user_typed_is_repeated_as_typed(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n", encoding="utf-8")
    res = runner.invoke(app, ["silences", "add", "treaty-[bold]ratified", "--config", str(cfg)])
    assert res.exit_code == 1 and "unknown rule treaty-[bold]ratified (did you mean" in res.output, res.output


def test_backtest_names_a_bad_feed_entry_without_a_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(UNDATED_FEED, encoding="utf-8")
    res = runner.invoke(app, ["backtest", str(feed), "--rules", "builtin:dprk_russia"])
    assert res.exit_code == 0, res.output
    assert "1 bad record skipped" in res.output
    assert f"  {feed}: entry 'https://example.org/a': field 'body'" in res.output, res.output
    assert ":None" not in res.output
