"""An ESC sequence in a feed's text never reaches the terminal of `backtest` or `rules explain` (security review,
finding 6): the document holds U+FFFD in its place, and the alert and its explanation still read. Text written for
this test."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional
runner = CliRunner()


def test_backtest_and_explain_print_no_escape_sequence(tmp_path: Path) -> None:
    line = {
        "type": "news.article",
        "id": "esc-1",
        "published_at": "2024-06-19T12:00:00Z",
        "source": "Wire\x1b[2J\x1b[31mFAKE",
        "title": "Russia and North Korea sign a strategic partnership treaty\x1b]8;;https://evil.example\x1b\\",
        "body": "Putin and Kim signed the treaty in Pyongyang on Wednesday.\x1b[2K",
    }
    events = tmp_path / "esc.jsonl"
    events.write_bytes(orjson.dumps(line) + b"\n")
    bt = runner.invoke(app, ["backtest", str(events)])
    assert bt.exit_code == 0, bt.output
    assert "treaty-signed" in bt.output and "Wire\ufffd[2J" in bt.output
    ex = runner.invoke(app, ["rules", "explain", "--rules", "builtin:dprk_russia", str(events)])
    assert ex.exit_code == 0, ex.output
    assert "treaty_signing" in ex.output and "\ufffd" in ex.output
    for out in (bt.output, ex.output):
        assert "\x1b" not in out
